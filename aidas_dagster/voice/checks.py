"""Asset checks of the voice stage: every line voiced, plausible durations, clean audio, distinct voices."""


from collections.abc import Callable
from pathlib import Path

import dagster as dg

from aidas_dagster.partitions import episode_partitions, parse_episode_partition
from aidas_dagster.resources import StudioResource
from aidas_dagster.story.models import load_roster
from aidas_dagster.voice import validation
from aidas_dagster.voice.assets import audio_track
from aidas_dagster.voice.models import AudioTrack, load_track


def _result(problems: list[str], ok: str, **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems[:10]) if problems else ok,
        metadata={"problems": len(problems), **metadata},
    )


def _track(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> AudioTrack:
    part = parse_episode_partition(context.partition_key)
    return load_track(studio.storage, part.series_id, part.episode)


def _run(
    context: dg.AssetCheckExecutionContext, studio: StudioResource, find: Callable[[AudioTrack], list[str]], ok: str
) -> dg.AssetCheckResult:
    track = _track(context, studio)
    return _result(find(track), ok, lines=len(track.lines))


@dg.asset_check(asset=audio_track, partitions_def=episode_partitions, blocking=True)
def every_line_voiced(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    """Every line of the script has an audio file with sound in it."""
    return _run(context, studio, validation.missing_audio, "every line has audio")


@dg.asset_check(asset=audio_track, partitions_def=episode_partitions, blocking=True)
def line_durations_plausible(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    """Each line lasts as long as its Korean text takes to say (syllables per second within bounds)."""
    low, high = validation.SYLLABLES_PER_SECOND
    return _run(context, studio, validation.implausible_durations, f"every line speaks {low}-{high} syllables a second")


@dg.asset_check(asset=audio_track, partitions_def=episode_partitions, blocking=True)
def no_clipping_or_long_silence(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    """No clipped line or mix, no long silence inside a line, no dead air on the track."""
    return _run(
        context, studio, lambda t: validation.clipping_and_silences(t, Path(t.dialogue_wav)),
        "no clipping; no silence over "
        f"{validation.MAX_LINE_SILENCE_SECONDS} s in a line or {validation.MAX_SILENCE_SECONDS} s on the track",
    )  # fmt: skip


@dg.asset_check(asset=audio_track, partitions_def=episode_partitions, blocking=True)
def distinct_voices(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    """No two characters of the series share a voice (voice + modulation) on any provider."""
    part = parse_episode_partition(context.partition_key)
    roster = load_roster(studio.storage, part.series_id)
    track = load_track(studio.storage, part.series_id, part.episode)
    voiced_by = sorted({line.provider for line in track.lines})
    return _result(
        validation.shared_voice_problems(roster),
        f"{len(roster.characters)} characters, each with a voice of their own",
        characters=len(roster.characters),
        providers=", ".join(voiced_by),
    )


voice_checks = [every_line_voiced, line_durations_plausible, no_clipping_or_long_silence, distinct_voices]
