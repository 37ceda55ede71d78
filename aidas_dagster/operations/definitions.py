"""The operations Definitions: the production report, the jobs, the daily and hourly schedules, the
sensors (new series, alerts, dead runs, automation) and the step executor every launched run uses."""

from __future__ import annotations

import dagster as dg

from aidas_dagster.operations.assets import production_report
from aidas_dagster.operations.jobs import episode_job, preproduction_job, report_job, step_executor
from aidas_dagster.operations.schedules import daily_production, production_report_schedule
from aidas_dagster.operations.sensors import pool_watch, run_failure_alerts, series_config_sensor, studio_automation, studio_health


def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[production_report],
        jobs=[preproduction_job, episode_job, report_job],
        schedules=[daily_production, production_report_schedule],
        sensors=[series_config_sensor, run_failure_alerts, studio_health, pool_watch, studio_automation],
        # Steps fork from a server that already imported the project (also for sensor, automation
        # and UI runs), instead of paying a fresh interpreter and every import per step.
        executor=step_executor,
    )
