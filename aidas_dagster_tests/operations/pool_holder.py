"""A run that takes a pool slot and holds it: the process a test SIGKILLs.

    python -m aidas_dagster_tests.operations.pool_holder POOL MARKER_FILE SECONDS

Executes like `aidas produce` does (the CLI's watched in-process execution, pid/host tags) with
DAGSTER_HOME from the environment; writes MARKER_FILE once its step holds the slot.
"""



import sys
import time
from pathlib import Path

import dagster as dg

from aidas_dagster.core.storage import write_text


def holding_job(pool: str, marker: Path | None, seconds: float) -> dg.JobDefinition:
    @dg.op(pool=pool)
    def hold_slot(context: dg.OpExecutionContext) -> None:
        if marker is not None:
            # Whole or not at all (atomic): the test polls for the file and reads the run id at once.
            write_text(marker, context.run_id)
        time.sleep(seconds)

    @dg.job(name=f"hold_{pool}")
    def hold() -> None:
        hold_slot()

    return hold


def main() -> int:
    from aidas_dagster.operations.recovery import execute_watched

    pool, marker, seconds = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    with dg.DagsterInstance.get() as instance:
        result = execute_watched(holding_job(pool, marker, seconds), instance, print, raise_on_error=False)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
