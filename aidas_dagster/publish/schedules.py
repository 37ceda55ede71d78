"""Publish stage schedules: retry uploads deferred for quota, collect viewers' feedback daily."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from aidas_dagster.core.storage import read_json
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.publish.assets import FEEDBACK_DAYS, viewer_feedback, youtube_video
from aidas_dagster.publish.local_channel import PublishedVideo
from aidas_dagster.publish.quota import pacific_day
from aidas_dagster.resources import StudioResource


@dg.schedule(
    name="deferred_uploads",
    target=[youtube_video],
    cron_schedule="15 0 * * *",
    execution_timezone="America/Los_Angeles",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Just after YouTube's quota resets (midnight Pacific): retry the uploads deferred for quota.",
)
def deferred_uploads(context: dg.ScheduleEvaluationContext, studio: StudioResource):
    now = context.scheduled_execution_time or dt.datetime.now(dt.timezone.utc)
    today = pacific_day(now)
    requests = []
    for files in studio.storage.episodes(having="publish_deferred"):
        until = dt.date.fromisoformat(read_json(files.publish_deferred)["until"])
        if until <= today:
            requests.append(_episode_run(f"deferred-upload:{until.isoformat()}", files.series_id, files.number))
    return requests or dg.SkipReason(f"{today}: no upload is waiting for quota")


@dg.schedule(
    name="viewer_feedback_daily",
    target=[viewer_feedback],
    cron_schedule="0 12 * * *",
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at noon (Asia/Seoul): collect feedback for episodes released in the last 14 days.",
)
def viewer_feedback_daily(context: dg.ScheduleEvaluationContext, studio: StudioResource):
    now = context.scheduled_execution_time or dt.datetime.now(dt.timezone.utc)
    requests = []
    for files in studio.storage.episodes(having="publish"):
        record = files.load(files.publish, PublishedVideo)
        released = dt.datetime.fromisoformat(record.metadata.publish_at or record.uploaded_at)
        if released <= now and now - released <= dt.timedelta(days=FEEDBACK_DAYS):
            requests.append(_episode_run(f"feedback:{now.date().isoformat()}", record.series_id, record.episode_number))
    return requests or dg.SkipReason("no episode released in the last 14 days")


def _episode_run(reason: str, series_id: str, episode: int) -> dg.RunRequest:
    """One episode's run, keyed by why and when it is asked, so a schedule tick never asks twice."""
    return dg.RunRequest(run_key=f"{reason}:{series_id}:{episode:03d}", partition_key=EpisodePartition(series_id, episode).key)
