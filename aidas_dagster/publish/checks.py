"""Asset checks of the publish stage."""


import dagster as dg

from aidas_dagster.core.storage import read_json
from aidas_dagster.partitions import episode_partitions, parse_episode_partition, series_partitions
from aidas_dagster.publish.assets import outline_adjustments, youtube_video
from aidas_dagster.publish.local_channel import load_publish_record
from aidas_dagster.publish.metadata import metadata_problems
from aidas_dagster.resources import StudioResource
from aidas_dagster.publish.resources import Channel
from aidas_dagster.story.adjustments import apply_adjustments, load_adjustments
from aidas_dagster.story.models import load_bible, load_roster


@dg.asset_check(asset=youtube_video, partitions_def=episode_partitions)
def metadata_within_youtube_limits(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    part = parse_episode_partition(context.partition_key)
    files = studio.storage.episode(part.series_id, part.episode)
    if not files.publish.exists():
        marker = files.publish_deferred
        if marker.exists():
            until = read_json(marker)["until"]
            return dg.AssetCheckResult(passed=True, description=f"upload deferred until {until}; nothing sent yet")
        return dg.AssetCheckResult(passed=False, description="no publish record and no deferral: the upload left nothing")
    meta = load_publish_record(studio.storage, part.series_id, part.episode).metadata
    problems = metadata_problems(meta.title, meta.description, meta.tags)
    if not (meta.contains_synthetic_media and meta.made_for_kids is False and meta.category_id == "24"):
        problems.append("synthetic media, made-for-kids or category flags are wrong")
    if meta.publish_at and meta.privacy_status != "private":
        problems.append("a scheduled release must be private until publishAt")
    return dg.AssetCheckResult(passed=not problems, description="; ".join(problems) or "within limits")


@dg.asset_check(asset=outline_adjustments, partitions_def=series_partitions)
def adjustments_within_bounds(
    context: dg.AssetCheckExecutionContext, studio: StudioResource, channel: Channel
) -> dg.AssetCheckResult:
    """Only known characters, at most the configured number of unwritten outlines, and a bible that still validates."""
    series_id = context.partition_key
    storage = studio.storage
    adjustments = load_adjustments(storage, series_id)
    roster_ids = {c.id for c in load_roster(studio.storage, series_id).characters}
    problems = [
        f"episode {a.episode}: {a.focus.character_id} is not in the cast"
        for a in adjustments.adjustments
        if a.focus and a.focus.character_id not in roster_ids
    ]
    pending = [a.episode for a in adjustments.adjustments if not storage.episode(series_id, a.episode).script.exists()]
    limit = channel.adjustment_settings().max_future_episodes
    if len(pending) > limit:
        problems.append(f"{len(pending)} unwritten outlines adjusted (limit {limit})")
    try:
        bible = apply_adjustments(load_bible(studio.storage, series_id), adjustments)
        type(bible).model_validate(bible.model_dump())
    except ValueError as exc:
        problems.append(f"the adjusted bible does not validate: {exc}")
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems) or f"{len(adjustments.adjustments)} adjustment(s), {len(pending)} for unwritten episodes",
    )


publish_checks = [metadata_within_youtube_limits, adjustments_within_bounds]
