"""Operations: the jobs that produce series and episodes, the daily schedule, the sensors that find
new series and raise alerts, and the production report."""


import datetime as dt
import json
from pathlib import Path

import dagster as dg

from aidas_dagster.core.storage import write_bytes, write_text
from aidas_dagster.ops.alerts import (
    AlertChannels,
    HealthThresholds,
    deliver,
    due_alerts,
    evaluate_health,
    run_failure_alert,
    scrub,
)
from aidas_dagster.core.budget import daily_gate
from aidas_dagster.core.run_tags import BUDGET_MODE_TAG, PLAN_DAY_TAG, PUBLISH_AT_TAG
from aidas_dagster.ops.progress import (
    health_snapshot,
    materialised_since,
    requested_on,
    run_rows,
    step_rows,
    studio_progress,
)
from aidas_dagster.ops.recovery import recover_dead_runs, release_finished_reservations, report_pool_waits, sweep_storage
from aidas_dagster.ops.registry import scan
from aidas_dagster.ops.report import build_report
from aidas_dagster.ops.schedule_plan import DailySettings, plan_daily_episodes, production_day
from aidas_dagster.partitions import EPISODE, SERIES, EpisodePartition, episode_partitions, series_partitions
from aidas_dagster.picture.assets import avatar_clips, final_cut
from aidas_dagster.publish.assets import youtube_video
from aidas_dagster.resources import StudioResource
from aidas_dagster.publish.resources import Channel
from aidas_dagster.story.assets import character_roster, episode_script, series_bible
from aidas_dagster.voice.assets import audio_track

# Launched runs execute each step in its own process. Forking them from a server that has already
# imported the project saves a fresh interpreter and every import per step (seconds each).
# (`execute_in_process` ignores it; the Celery test swaps in Dagster's Celery executor.)
step_executor = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["aidas_dagster.definitions"]}}}, name="forked_steps"
)

preproduction_job = dg.define_asset_job(
    "preproduction",
    selection=dg.AssetSelection.assets(series_bible, character_roster),
    partitions_def=series_partitions,
    executor_def=step_executor,
    description="Write a series' bible and cast.",
)

EPISODE_ASSETS = dg.AssetSelection.assets(episode_script, audio_track, avatar_clips, final_cut, youtube_video)

episode_job = dg.define_asset_job(
    "produce_episode",
    selection=EPISODE_ASSETS,
    partitions_def=episode_partitions,
    executor_def=step_executor,
    description="Write, voice, animate, edit and publish one episode.",
)


@dg.sensor(
    job=preproduction_job,
    minimum_interval_seconds=30,
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


@dg.schedule(
    name="daily_production",
    job=episode_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every morning (06:00 Asia/Seoul): the next episodes of every active series, round-robin, up to the "
        "daily target (AIDAS_DAILY_EPISODES, default 10), within the budget, each tagged with its release slot."
    ),
)
def daily_production(context: dg.ScheduleEvaluationContext, studio: StudioResource, channel: Channel):
    now = context.scheduled_execution_time or dt.datetime.now(dt.timezone.utc)
    day = production_day(now)
    mode, budget_sentence = daily_gate(studio.budget)
    if mode == "exhausted":
        return dg.SkipReason(budget_sentence)
    settings = DailySettings.from_env()
    target = min(settings.target, settings.economy_target) if mode == "economy" else settings.target
    progress, skipped = studio_progress(context.instance, Path(studio.series_dir), studio.storage)
    for series_id, why in sorted(skipped.items()):
        context.log.info(f"{series_id}: not scheduled, {why}")
    already = requested_on(context.instance, day)
    plan = plan_daily_episodes(
        progress,
        day=day,
        target=target,
        already_requested=already,
        publish_hour=channel.publish_hour,
        slot_minutes=settings.slot_minutes,
    )
    if not plan:
        if already >= target:
            return dg.SkipReason(f"{day}: {already} episode(s) already requested today (target {target})")
        return dg.SkipReason(f"{day}: no active series has an episode ready to make ({budget_sentence})")
    context.log.info(f"{day}: requesting {len(plan)} episode(s); {budget_sentence}")
    return [
        dg.RunRequest(
            run_key=item.run_key,
            partition_key=EpisodePartition(item.series_id, item.episode).key,
            tags={PLAN_DAY_TAG: day.isoformat(), PUBLISH_AT_TAG: item.publish_at.isoformat(), BUDGET_MODE_TAG: mode},
        )
        for item in plan
    ]


@dg.run_failure_sensor(
    name="run_failure_alerts",
    minimum_interval_seconds=30,
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
    import os

    return os.environ.get(name) or None


@dg.sensor(
    name="studio_health",
    minimum_interval_seconds=300,
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


@dg.asset(
    group_name="ops",
    kinds={"pandas", "markdown"},
    description=(
        "Today's production (UTC): episodes produced, in progress and failed, average time per stage, "
        "API usage and cost by service; written to storage/reports/."
    ),
)
def production_report(context: dg.AssetExecutionContext, studio: StudioResource) -> dg.MaterializeResult:
    now = dt.datetime.now(dt.timezone.utc)
    day_start = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.timezone.utc)
    runs = run_rows(context.instance, day_start)
    report = build_report(
        day=now.date().isoformat(),
        produced_keys=materialised_since(context.instance, "youtube_video", day_start),
        runs=runs,
        steps=step_rows(context.instance, [row["run_id"] for row in runs if row["job"] != context.job_name]),
        ledger_entries=studio.ledger.entries(now.date().isoformat()),
    )
    folder = studio.storage.root / "reports"
    chart_path = write_bytes(folder / f"{report.day}-stages.png", report.chart_png)
    # Scrub the text (a failure table may quote an error), then put the chart in: base64 looks like a token.
    chart_slot = "@@chart@@"
    text = scrub(report.markdown(chart=chart_slot))
    report_path = write_text(folder / f"{report.day}.md", text.replace(chart_slot, f"![average seconds per stage]({chart_path.name})"))
    context.log.info(f"report for {report.day}: {len(report.produced)} produced, {len(report.failed)} failed, ${report.total_cost_usd:.2f}")
    return dg.MaterializeResult(
        metadata={
            "episodes_produced_today": len(report.produced),
            "episodes_in_progress": len(report.in_progress),
            "runs_failed_today": len(report.failed),
            "cost_today_usd": dg.MetadataValue.float(report.total_cost_usd),
            "report": dg.MetadataValue.md(text.replace(chart_slot, report.chart_markdown())),
            "path": dg.MetadataValue.path(str(report_path)),
        }
    )


@dg.sensor(
    name="pool_watch",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Runs of this machine whose process is gone are marked failed and their pool slots freed (and budget "
        "reservations of ended runs released); a step "
        "waiting for a pool gets a line in its run's log saying which pool and which run holds it; "
        "half-written files of dead processes are swept from storage every 10 minutes."
    ),
)
def pool_watch(context: dg.SensorEvaluationContext, studio: StudioResource) -> dg.SensorResult:
    import time

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
    minimum_interval_seconds=30,
    description="Declarative automation: an episode's changed script re-makes that episode's downstream assets.",
)


report_job = dg.define_asset_job(
    "production_report_job", selection=dg.AssetSelection.assets(production_report), description="Refresh the production report."
)

production_report_schedule = dg.ScheduleDefinition(
    name="hourly_production_report",
    job=report_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the production report every hour.",
)

ops_jobs = [preproduction_job, episode_job, report_job]
ops_sensors = [series_config_sensor, run_failure_alerts, studio_health, pool_watch, studio_automation]
