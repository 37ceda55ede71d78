"""Operations schedules: the daily production plan and the hourly production report."""


import datetime as dt
from pathlib import Path

import dagster as dg

from aidas_dagster.core.budget import daily_gate
from aidas_dagster.core.run_tags import BUDGET_MODE_TAG, PLAN_DAY_TAG, PUBLISH_AT_TAG
from aidas_dagster.operations.progress import requested_on, studio_progress
from aidas_dagster.operations.schedule_plan import DailySettings, plan_daily_episodes, production_day
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.resources import StudioResource
from aidas_dagster.publish.resources import Channel
from aidas_dagster.operations.jobs import episode_job, report_job


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


production_report_schedule = dg.ScheduleDefinition(
    name="hourly_production_report",
    job=report_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh the production report every hour.",
)
