"""Asset checks of the publish stage."""


import dagster as dg

from aidas_dagster.partitions import episode_partitions, parse_episode_partition
from aidas_dagster.publish.assets import load_publish_record, youtube_video
from aidas_dagster.publish.metadata import DESCRIPTION_MAX_BYTES, TAGS_MAX_CHARS, TITLE_MAX_CHARS
from aidas_dagster.resources import StudioResource


@dg.asset_check(asset=youtube_video, partitions_def=episode_partitions)
def metadata_within_youtube_limits(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    part = parse_episode_partition(context.partition_key)
    meta = load_publish_record(studio, part.series_id, part.episode).metadata
    problems = []
    if len(meta.title) > TITLE_MAX_CHARS:
        problems.append(f"title is {len(meta.title)} characters")
    if len(meta.description.encode()) > DESCRIPTION_MAX_BYTES:
        problems.append(f"description is {len(meta.description.encode())} bytes")
    if sum(len(t) for t in meta.tags) + max(0, len(meta.tags) - 1) > TAGS_MAX_CHARS:
        problems.append("tags exceed 500 characters")
    if any(ch in meta.title + meta.description for ch in "<>"):
        problems.append("angle brackets in title or description")
    if not (meta.contains_synthetic_media and meta.made_for_kids is False and meta.category_id == "24"):
        problems.append("synthetic media, made-for-kids or category flags are wrong")
    return dg.AssetCheckResult(passed=not problems, description="; ".join(problems) or "within limits")


publish_checks = [metadata_within_youtube_limits]
