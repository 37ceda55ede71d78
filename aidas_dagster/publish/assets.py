"""Publish stage asset: the episode's video id on the channel (local by default, YouTube with a token)."""


from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from aidas_dagster.core.storage import read_json, write_json
from aidas_dagster.partitions import episode_partitions
from aidas_dagster.picture.assets import final_cut, load_final
from aidas_dagster.publish.local_channel import PublishedVideo
from aidas_dagster.publish.metadata import build_metadata, next_publish_slot
from aidas_dagster.resources import Channel, StudioResource
from aidas_dagster.story.assets import load_roster, load_script


def load_publish_record(studio: StudioResource, series_id: str, episode: int) -> PublishedVideo:
    return PublishedVideo.model_validate(read_json(studio.storage.publish_record_path(series_id, episode)))


@dg.asset(
    partitions_def=episode_partitions,
    deps=[final_cut],
    group_name="publish",
    kinds={"youtube"},
    pool="youtube",
    automation_condition=dg.AutomationCondition.eager(),
    retry_policy=dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
    description="The published video id, with title/description/tags from the templates, scheduled release and thumbnail.",
)
def youtube_video(context: dg.AssetExecutionContext, studio: StudioResource, channel: Channel) -> dg.MaterializeResult:
    config, part = studio.episode(context.partition_key)
    storage = studio.storage
    script = load_script(studio, part.series_id, part.episode)
    roster = load_roster(studio, part.series_id)
    cut = load_final(studio, part.series_id, part.episode)
    publisher = channel.publisher(storage)
    existing = publisher.find(part.series_id, part.episode)
    # Keep the first scheduled slot on re-publish, so an edit never moves a release date.
    publish_at = (
        datetime.fromisoformat(existing.metadata.publish_at)
        if existing and existing.metadata.publish_at
        else next_publish_slot(datetime.now(timezone.utc), channel.publish_hour)
    )
    metadata = build_metadata(
        config,
        script,
        character_names=[c.name for c in roster.characters if c.importance in ("main", "major_supporting")],
        publish_at=publish_at,
        hour=channel.publish_hour,
    )
    record, changed = publisher.publish(part.series_id, part.episode, Path(cut.video_path), Path(cut.thumbnail_path), metadata)
    write_json(storage.publish_record_path(part.series_id, part.episode), record)
    context.log.info(
        f"{part.series_id} ep {part.episode}: {'published' if changed else 'already published, unchanged'} "
        f"as {record.video_id} on the {publisher.name} channel (revision {record.revision}, release {metadata.publish_at})"
    )
    return dg.MaterializeResult(
        metadata={
            "video_id": record.video_id,
            "channel": publisher.name,
            "title": metadata.title,
            "publish_at": metadata.publish_at or "",
            "revision": record.revision,
            "uploaded_now": changed,
            "url": dg.MetadataValue.url(record.url),
        },
        data_version=dg.DataVersion(f"{record.video_id}:{record.video_digest}"),
    )
