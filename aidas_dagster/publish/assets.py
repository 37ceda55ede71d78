"""Publish stage: the episode's video on the channel (local by default, YouTube with a token), what
viewers said about it, and the outline adjustments their feedback suggests for later episodes."""


import datetime as dt
from pathlib import Path

import dagster as dg

from aidas_dagster.core.estimate import actual_spend, comparison
from aidas_dagster.core.run_tags import PUBLISH_AT_TAG
from aidas_dagster.core.storage import file_digest, read_json, write_json
from aidas_dagster.partitions import EpisodePartition, episode_partitions, series_of_episode, series_partitions
from aidas_dagster.picture.assets import final_cut
from aidas_dagster.picture.models import load_final
from aidas_dagster.publish.adjustments import compute_adjustments, load_feedback_reports
from aidas_dagster.publish.feedback import analyse_feedback
from aidas_dagster.publish.local_channel import LocalChannel, PublishedVideo, load_publish_record
from aidas_dagster.publish.metadata import build_metadata, build_playlist_metadata, next_release
from aidas_dagster.publish.quota import QuotaDeferred
from aidas_dagster.publish.youtube import MetadataRefused
from aidas_dagster.resources import StudioResource
from aidas_dagster.steps import remade_when_upstream_changes, step_retry
from aidas_dagster.publish.resources import Channel
from aidas_dagster.story.adjustments import load_adjustments, save_adjustments
from aidas_dagster.story.assets import character_roster, series_bible
from aidas_dagster.story.models import load_bible, load_roster, load_script
from aidas_dagster.voice.models import load_track

FEEDBACK_DAYS = 14  # the daily feedback run reads episodes released in the last two weeks
# How the description's "각본: AI (…)" and "음성: AI (…)" name the engines (spec 4.5.2).
VOICE_LABELS = {"offline": "espeak-ng", "elevenlabs": "ElevenLabs", "google": "Google TTS"}


def _credits(studio: StudioResource, script, series_id: str, episode: int) -> tuple[str, str]:
    """(writer, voice) for the description: the script's engine and the voices actually heard."""
    writer = {"offline": "offline story engine", "override": "AI, edited by the producer"}.get(
        script.writer, script.writer.removeprefix("openai:")
    )
    voice = "offline speech"
    if studio.storage.episode(series_id, episode).track.exists():
        track = load_track(studio.storage, series_id, episode)
        used = sorted({name for line in track.lines for name in line.provider.split(">")})
        voice = ", ".join(VOICE_LABELS.get(name, name) for name in used) or voice
    return writer, voice


def _release_slot(context: dg.AssetExecutionContext, studio: StudioResource, channel: Channel, part: EpisodePartition, now: dt.datetime) -> dt.datetime:
    """The daily schedule's slot for this run if it gave one, else the next free daily slot of the series."""
    tagged = context.run.tags.get(PUBLISH_AT_TAG) if context.run else None
    if tagged:
        try:
            slot = dt.datetime.fromisoformat(tagged)
            if slot.tzinfo and slot > now:
                return slot
        except ValueError:
            context.log.warning(f"run tag {PUBLISH_AT_TAG}={tagged!r} is not an ISO time; using the next daily slot")
    previous = None
    if part.episode > 1 and studio.storage.episode(part.series_id, part.episode - 1).publish.exists():
        earlier = load_publish_record(studio.storage, part.series_id, part.episode - 1).metadata.publish_at
        previous = dt.datetime.fromisoformat(earlier) if earlier else None
    return next_release(now, channel.publish_hour, channel.publish_timezone, previous)


@dg.asset(
    partitions_def=episode_partitions,
    deps=[final_cut],
    group_name="publish",
    kinds={"youtube"},
    pool="youtube",
    automation_condition=remade_when_upstream_changes(),
    retry_policy=step_retry(delay_seconds=10, max_retries=3),
    description=(
        "The published video id, with title/description/tags from the templates, scheduled release and thumbnail. "
        "Uploaded exactly once; an upload that does not fit today's YouTube quota is deferred, not failed."
    ),
)
def youtube_video(context: dg.AssetExecutionContext, studio: StudioResource, channel: Channel) -> dg.MaterializeResult:
    config, part = studio.episode(context.partition_key)
    storage = studio.storage
    script = load_script(studio.storage, part.series_id, part.episode)
    roster = load_roster(studio.storage, part.series_id)
    cut = load_final(studio.storage, part.series_id, part.episode)
    publisher = channel.publisher(storage, studio.ledger)
    existing = publisher.find(part.series_id, part.episode)
    now = dt.datetime.now(dt.timezone.utc)
    # Keep the first scheduled slot on re-publish, so an edit never moves a release date.
    publish_at = (
        dt.datetime.fromisoformat(existing.metadata.publish_at)
        if existing and existing.metadata.publish_at
        else _release_slot(context, studio, channel, part, now)
    )
    writer, voice = _credits(studio, script, part.series_id, part.episode)
    metadata = build_metadata(
        config,
        script,
        character_names=[c.name for c in roster.characters if c.importance in ("main", "major_supporting")],
        writer=writer,
        voice=voice,
        publish_at=publish_at,
        hour=channel.publish_hour,
    )
    deferred_marker = storage.episode(part.series_id, part.episode).publish_deferred
    try:
        srt = Path(cut.srt_path)
        record, changed = publisher.publish(
            part.series_id, part.episode, Path(cut.video_path), Path(cut.thumbnail_path), metadata,
            captions=srt if srt.exists() else None,
            playlist=build_playlist_metadata(config, hour=channel.publish_hour),
        )
    except QuotaDeferred as deferred:
        # Not a failure: the deferred_uploads schedule asks again once the quota is back.
        write_json(deferred_marker, {"until": deferred.until.isoformat(), "reason": str(deferred)})
        context.log.warning(f"{part.series_id} ep {part.episode}: {deferred}")
        return dg.MaterializeResult(
            metadata={
                "status": "deferred",
                "deferred_until": deferred.until.isoformat(),
                "reason": str(deferred),
                "channel": publisher.name,
            },
            data_version=dg.DataVersion(f"deferred:{deferred.until.isoformat()}"),
        )
    except MetadataRefused as refused:
        raise dg.Failure(description=f"{part.series_id} ep {part.episode}: {refused}", allow_retries=False) from refused
    write_json(storage.episode(part.series_id, part.episode).publish, record)
    extras_wait = getattr(publisher, "deferred_until", None)
    if extras_wait:
        # The video is up; the deferred_uploads schedule runs this partition again for what waits.
        write_json(deferred_marker, {"until": extras_wait.isoformat(), "reason": "thumbnail, captions or playlist slot wait for quota"})
    else:
        deferred_marker.unlink(missing_ok=True)
    for note in getattr(publisher, "notes", []):
        context.log.info(f"{part.series_id} ep {part.episode}: {note}")
    kept = getattr(publisher, "kept_after_release", None)
    if kept:
        context.log.warning(f"{part.series_id} ep {part.episode}: {kept}")
    elif record.video_digest != file_digest(Path(cut.video_path)):
        context.log.warning(
            f"{part.series_id} ep {part.episode}: {record.video_id} is not the latest cut yet (its replacement waits); "
            "the next run goes on with it"
        )
    context.log.info(
        f"{part.series_id} ep {part.episode}: {'published' if changed else 'already published, unchanged'} "
        f"as {record.video_id} on the {publisher.name} channel (revision {record.revision}, release {record.metadata.publish_at})"
    )
    return dg.MaterializeResult(
        metadata={
            "status": "published",
            "video_id": record.video_id,
            "channel": publisher.name,
            "title": record.metadata.title,
            "publish_at": record.metadata.publish_at or "",
            "revision": record.revision,
            "cut_revision": record.cut_revision,
            "latest_cut_on_channel": not kept and record.video_digest == file_digest(Path(cut.video_path)),
            "uploaded_now": changed,
            "url": dg.MetadataValue.url(record.url),
            **_cost_against_estimate(studio, part.series_id, part.episode),
        },
        data_version=dg.DataVersion(f"{record.video_id}:{record.video_digest}"),
    )


def _cost_against_estimate(studio: StudioResource, series_id: str, episode: int) -> dict:
    """The episode's actual spend (the ledger) against the estimate made when its run started."""
    path = studio.storage.episode(series_id, episode).estimate
    estimate = read_json(path).get("usd", {}) if path.exists() else {}
    return comparison(estimate, actual_spend(studio.ledger, series_id, episode))


def _feedback_publisher(studio: StudioResource, channel: Channel, record: PublishedVideo):
    """The channel the video is on: the local channel's videos never need a YouTube token."""
    if record.channel == LocalChannel.name:
        return LocalChannel(studio.storage.channel_dir())
    publisher = channel.publisher(studio.storage, studio.ledger)
    if publisher.name != record.channel:
        raise dg.Failure(
            description=f"video {record.video_id} is on the {record.channel} channel, but no YouTube token is configured "
            "(set AIDAS_YOUTUBE_TOKEN)",
            allow_retries=False,
        )
    return publisher


@dg.asset(
    partitions_def=episode_partitions,
    deps=[youtube_video],
    group_name="publish",
    kinds={"youtube"},
    pool="youtube",
    retry_policy=step_retry(delay_seconds=30),
    description=(
        "Viewers' response to the episode: statistics, comment sentiment (offline Korean lexicon), character "
        "popularity, loved and disliked elements, pacing complaints and suggestions. Collected daily for episodes "
        "released in the last two weeks by the viewer_feedback_daily schedule."
    ),
)
def viewer_feedback(context: dg.AssetExecutionContext, studio: StudioResource, channel: Channel) -> dg.MaterializeResult:
    _config, part = studio.episode(context.partition_key)
    if not studio.storage.episode(part.series_id, part.episode).publish.exists():
        context.log.info(f"{part.series_id} ep {part.episode}: not published yet; no feedback to collect")
        return dg.MaterializeResult(metadata={"status": "not published yet"})
    record = load_publish_record(studio.storage, part.series_id, part.episode)
    roster = load_roster(studio.storage, part.series_id)
    publisher = _feedback_publisher(studio, channel, record)
    try:
        collected = publisher.fetch_feedback(record.video_id, channel.feedback_max_comments, part.series_id, part.episode)
    except QuotaDeferred as deferred:
        context.log.warning(f"{part.series_id} ep {part.episode}: feedback {deferred}")
        return dg.MaterializeResult(metadata={"status": "deferred", "deferred_until": deferred.until.isoformat()})
    report = analyse_feedback(
        collected,
        roster,
        series_id=part.series_id,
        episode=part.episode,
        video_id=record.video_id,
        channel=record.channel,
        collected_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    path = write_json(studio.storage.episode(part.series_id, part.episode).feedback, report)
    if report.note:
        context.log.info(f"{part.series_id} ep {part.episode}: {report.note}")
    ranking = sorted(report.character_popularity.items(), key=lambda kv: kv[1].score, reverse=True)
    table = "\n".join(
        f"| {p.name} | {p.mentions} | {p.positive} | {p.negative} | {p.score:+.2f} |" for _cid, p in ranking[:10]
    )
    return dg.MaterializeResult(
        metadata={
            "status": "collected",
            "source": report.source,
            "views": report.statistics.get("views", 0),
            "likes": report.statistics.get("likes", 0),
            "comments_analysed": report.comments_analysed,
            "overall_sentiment": report.overall_sentiment,
            "loved": ", ".join(report.loved_elements) or "-",
            "disliked": ", ".join(report.disliked_elements) or "-",
            "suggestions": len(report.suggestions),
            "characters": dg.MetadataValue.md(
                "| character | mentions | + | − | score |\n|---|---|---|---|---|\n" + table if table else "no character mentioned"
            ),
            "path": dg.MetadataValue.path(str(path)),
        }
    )


@dg.asset(
    partitions_def=series_partitions,
    deps=[
        dg.AssetDep(viewer_feedback, partition_mapping=series_of_episode),
        series_bible,
        character_roster,
    ],
    group_name="publish",
    kinds={"python", "json"},
    # Any new feedback of the series; not eager, which would wait for every episode to have feedback.
    automation_condition=(
        dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ),
    description=(
        "Bounded changes to the outlines of episodes not yet written (character focus, pacing), from recent viewer "
        "feedback; read by episode_script at run time. Comment text never reaches an outline."
    ),
)
def outline_adjustments(context: dg.AssetExecutionContext, studio: StudioResource, channel: Channel) -> dg.MaterializeResult:
    series_id = context.partition_key
    config = studio.series_config(series_id)
    storage = studio.storage
    bible = load_bible(studio.storage, series_id)
    roster = load_roster(studio.storage, series_id)
    episodes = range(1, config.total_episodes + 1)
    produced = {n for n in episodes if storage.episode(series_id, n).script.exists()}
    reports = load_feedback_reports(storage, series_id, episodes)
    result = compute_adjustments(
        bible, roster, reports, produced, load_adjustments(storage, series_id), channel.adjustment_settings()
    )
    path = save_adjustments(storage, result)
    names = {c.id: c.name for c in roster.characters}
    rows = "\n".join(
        f"| {a.episode} | {f'{a.focus.direction} {names.get(a.focus.character_id, a.focus.character_id)}' if a.focus else '-'} "
        f"| {a.pacing or '-'} | {a.basis} |"
        for a in result.adjustments
    )
    summary = f"{len(result.adjustments)} outline(s) adjusted" + (f"; {result.skipped_reason}" if result.skipped_reason else "")
    context.log.info(f"{series_id}: {summary}")
    return dg.MaterializeResult(
        metadata={
            "adjusted_outlines": len(result.adjustments),
            "comments_considered": result.comments_considered,
            "based_on_episodes": ", ".join(map(str, result.based_on_episodes)) or "-",
            "skipped_reason": result.skipped_reason or "-",
            "adjustments": dg.MetadataValue.md(
                "| ep | focus | pacing | basis |\n|---|---|---|---|\n" + rows if rows else "none"
            ),
            "path": dg.MetadataValue.path(str(path)),
        }
    )
