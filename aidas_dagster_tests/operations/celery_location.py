"""The project's definitions with Dagster's Celery executor, as a module workers can reconstruct.

Workers import this module to rebuild the job of each step they are given; the studio resource
reads AIDAS_STORAGE_ROOT / AIDAS_SERIES_DIR, so every worker writes to the same shared storage.
"""

from __future__ import annotations

import dagster as dg
from dagster_celery import celery_executor

from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.jobs import EPISODE_ASSETS
from aidas_dagster.partitions import episode_partitions


# The production episode job, its steps sent to Celery workers instead of local processes.
celery_job = dg.define_asset_job(
    "produce_episode_on_celery", selection=EPISODE_ASSETS, partitions_def=episode_partitions, executor_def=celery_executor
)


def celery_definitions() -> dg.Definitions:
    return dg.Definitions.merge(build_definitions(), dg.Definitions(jobs=[celery_job]))


def celery_episode_job() -> dg.JobDefinition:
    return celery_definitions().resolve_job_def("produce_episode_on_celery")
