"""Operations sensors: new series configs, run-failure and health alerts, dead runs and pool waits,
and the declarative-automation sensor."""


import datetime as dt
import json
import os
import time
from pathlib import Path

import dagster as dg

from aidas_dagster.core.intervals import sensor_interval
from aidas_dagster.operations.alerts import (
    AlertChannels,
    HealthThresholds,
    deliver,
    due_alerts,
    evaluate_health,
    run_failure_alert,
    scrub,
)
from aidas_dagster.operations.progress import health_snapshot
from aidas_dagster.operations.recovery import recover_dead_runs, release_finished_reservations, report_pool_waits, sweep_storage
from aidas_dagster.operations.registry import scan
from aidas_dagster.partitions import EPISODE, SERIES, episode_partitions, series_partitions
from aidas_dagster.resources import StudioResource
from aidas_dagster.operations.jobs import preproduction_job


@dg.sensor(
    job=preproduction_job,
    minimum_interval_seconds=sensor_interval(30),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A config dropped in assets_data/series/ becomes a series partition and starts pre-production.",
)
def series_config_sensor(context: dg.SensorEvaluationContext, studio: StudioResource) -> dg.SensorResult:
    series_dir = Path(studio.series_dir)
    found = scan(series_dir)
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    for error in found.errors:
        if seen.get(str(error.path)) != "invalid":
            context.log.error(str(error))
            seen[str(error.path)] = "invalid"
    known_series = set(context.instance.get_dynamic_partitions(SERIES))
    known_episodes = set(context.instance.get_dynamic_partitions(EPISODE))
    new_series, new_episodes = found.new_partition_keys(known_series, known_episodes)
    requests = []
    if new_episodes:
        requests.append(episode_partitions.get_partitions_def_for_dimension(EPISODE).build_add_request(new_episodes))
    if new_series:
        requests.append(series_partitions.build_add_request(new_series))
    runs = []
    for config in found.valid:
        digest = found.digests.get(config.series_id, "")
        if seen.get(config.series_id) != digest:
            # A new or edited config: (re)write the bible and cast; unchanged outputs are reused.
            runs.append(dg.RunRequest(partition_key=config.series_id, run_key=f"{config.series_id}:{digest}"))
            seen[config.series_id] = digest
            context.log.info(f"series {config.series_id!r} ({config.title}): pre-production requested")
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=requests, cursor=json.dumps(seen))


@dg.run_failure_sensor(
    name="run_failure_alerts",
    minimum_interval_seconds=sensor_interval(30),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A failed run becomes a critical alert on Slack and/or email (AIDAS_SLACK_WEBHOOK_URL, AIDAS_ALERT_EMAIL_*).",
)
def run_failure_alerts(context: dg.RunFailureSensorContext):
    run = context.dagster_run
    step_errors = [
        (event.step_key or "run", _root_message(event.step_failure_data.error)) for event in context.get_step_failure_events()
    ]
    if not step_errors and context.failure_event.message:
        step_errors = [("run", context.failure_event.message)]
    alert = run_failure_alert(
        run.job_name, run.run_id, run.tags.get("dagster/partition"), step_errors, ui_url=_env_text("AIDAS_UI_URL")
    )
    channels = AlertChannels.from_env()
    outcome = deliver(alert, channels)
    context.log.info(scrub(f"alert {alert.key}: {outcome or 'no alert channel configured'}"))


def _root_message(error) -> str:
    """The message of the error that started it all (Dagster wraps user errors in its own)."""
    if error is None:
        return ""
    while error.cause is not None:
        error = error.cause
    return error.message


def _env_text(name: str):
    return os.environ.get(name) or None


@dg.sensor(
    name="studio_health",
    minimum_interval_seconds=sensor_interval(300),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Spec 9.2 rules every 5 minutes: error rate, quota left, disk, processing time, cost against the budget; "
        "each condition alerted once (again after AIDAS_ALERT_REPEAT_AFTER_HOURS while it lasts)."
    ),
)
def studio_health(context: dg.SensorEvaluationContext, studio: StudioResource) -> dg.SensorResult:
    thresholds = HealthThresholds.from_env()
    now = dt.datetime.now(dt.timezone.utc)
    snapshot = health_snapshot(context.instance, studio.storage, studio.budget, now)
    alerts = evaluate_health(snapshot, thresholds)
    remembered: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    due, memory = due_alerts(alerts, remembered, now, thresholds.repeat_after_hours)
    channels = AlertChannels.from_env()
    for alert in due:
        outcome = deliver(alert, channels)
        if channels.configured and not any(result == "sent" for result in outcome.values()):
            # Nobody heard it: forget it was sent so the next tick tries again.
            memory.pop(alert.key, None)
        context.log.warning(alert.text() + f" [{outcome or 'no alert channel configured'}]")
    summary = f"{len(alerts)} condition(s) active, {len(due)} alert(s) sent" if alerts else "all healthy"
    return dg.SensorResult(cursor=json.dumps(memory, sort_keys=True), skip_reason=summary)


@dg.sensor(
    name="pool_watch",
    minimum_interval_seconds=sensor_interval(30),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Runs of this machine whose process is gone are marked failed and their pool slots freed (and budget "
        "reservations of ended runs released); a step "
        "waiting for a pool gets a line in its run's log saying which pool and which run holds it; "
        "half-written files of dead processes are swept from storage every 10 minutes."
    ),
)
def pool_watch(context: dg.SensorEvaluationContext, studio: StudioResource) -> dg.SensorResult:
    memory = json.loads(context.cursor) if context.cursor else {}
    # Say what waits and who holds it first (the log then names the dead holder), then free it.
    said = report_pool_waits(context.instance, memory.get("said", {}), log=context.log.info)
    recovered = recover_dead_runs(context.instance, log=context.log.warning)
    release_finished_reservations(context.instance, studio.budget, log=context.log.info)
    swept_at = float(memory.get("swept_at", 0.0))
    swept = []
    if time.time() - swept_at > 600:
        swept = sweep_storage(context.instance, studio.storage.root, log=context.log.warning)
        swept_at = time.time()
    summary = f"{len(recovered)} dead run(s) released, {len(said)} step(s) waiting for a pool, {len(swept)} file(s) swept"
    return dg.SensorResult(cursor=json.dumps({"said": said, "swept_at": swept_at}), skip_reason=summary)


# Dagster's implicit automation sensor starts stopped; the studio runs unattended, so ours starts running.
studio_automation = dg.AutomationConditionSensorDefinition(
    "studio_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=sensor_interval(30),
    description="Declarative automation: an episode's changed script re-makes that episode's downstream assets.",
)
