"""One paid episode's writing and voicing in its own process, as a parallel run would do it.

    python -m aidas_dagster_tests.operations.paid_episode SERIES ELEVENLABS_LIMIT_USD GATE_DIR

Environment: DAGSTER_HOME, AIDAS_STORAGE_ROOT, AIDAS_SERIES_DIR, ELEVENLABS_API_KEY and
ELEVENLABS_BASE_URL (a local server). Pre-production (offline, free) first; then it waits at
GATE_DIR until every process is ready, so the paid parts start together; then episode 1's
script and audio track. Prints one JSON line: success and the failure messages.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import dagster as dg


def main() -> int:
    from aidas_dagster.definitions import build_definitions
    from aidas_dagster.operations.recovery import execute_watched, release_finished_reservations
    from aidas_dagster.operations.registry import register
    from aidas_dagster.partitions import EpisodePartition
    from aidas_dagster.resources import StudioResource

    series, limit, gate = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])
    studio = StudioResource(provider_budgets_usd={"openai": 50.0, "elevenlabs": limit, "heygen": 30.0})
    defs = build_definitions(studio=studio)
    from aidas_dagster.cli import _instance

    with _instance() as instance:  # as `aidas produce` opens it (one process at a time on a fresh instance)
        register(instance, Path(studio.series_dir))
        pre = execute_watched(defs.resolve_job_def("preproduction"), instance, print, partition_key=series, raise_on_error=False)
        assert pre.success, "pre-production failed"
        (gate / series).touch()
        deadline = time.monotonic() + 120
        while len(list(gate.iterdir())) < int(sys.argv[4]) and time.monotonic() < deadline:
            time.sleep(0.05)
        result = execute_watched(
            defs.resolve_job_def("produce_episode"), instance, print,
            partition_key=EpisodePartition(series, 1).key,
            asset_selection=[dg.AssetKey("episode_script"), dg.AssetKey("audio_track")],
            raise_on_error=False,
        )  # fmt: skip
        release_finished_reservations(instance, studio.budget)
        failures = [
            e.message for e in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_FAILURE) if e.message
        ]
        failures += [
            str(e.dagster_event.step_failure_data.error.message)
            for e in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
            if e.dagster_event and e.dagster_event.step_failure_data and e.dagster_event.step_failure_data.error
        ]
    print("RESULT " + json.dumps({"series": series, "success": result.success, "run_id": result.run_id, "failures": failures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
