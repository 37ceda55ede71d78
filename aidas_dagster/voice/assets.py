"""Voice stage asset: every line voiced in the character's own voice, laid on one dialogue track."""


import time
from collections import Counter

import dagster as dg

from aidas_dagster.core.stamps import is_fresh, mark_fresh
from aidas_dagster.core.storage import fingerprint, read_json
from aidas_dagster.partitions import episode_partitions
from aidas_dagster.resources import StudioResource
from aidas_dagster.voice.resources import VoiceBooth
from aidas_dagster.story.assets import episode_script, load_roster, load_script
from aidas_dagster.voice.models import AudioTrack
from aidas_dagster.voice.track import build_track

# Intro and outro cards carry no dialogue; the track fills the rest of the episode's length.
CARD_SECONDS = 3.0


def load_track(studio: StudioResource, series_id: str, episode: int) -> AudioTrack:
    return AudioTrack.model_validate(read_json(studio.storage.audio_manifest_path(series_id, episode)))


@dg.asset(
    partitions_def=episode_partitions,
    deps=[episode_script],
    group_name="voice",
    kinds={"python", "wav"},
    pool="tts",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
    automation_condition=dg.AutomationCondition.eager(),
    description="One audio file per line (cached by content), a timing table, and the mixed dialogue track.",
)
def audio_track(context: dg.AssetExecutionContext, studio: StudioResource, voice_booth: VoiceBooth) -> dg.MaterializeResult:
    config, part = studio.episode(context.partition_key)
    storage = studio.storage
    script = load_script(studio, part.series_id, part.episode)
    roster = load_roster(studio, part.series_id)
    # The failover chain of the configured providers; every line (paid, offline or cached) is entered
    # in the studio's cost ledger, and paid calls ask the budget first.
    provider = voice_booth.provider(
        ledger=studio.ledger, budget=studio.budget, series_id=part.series_id, episode=part.episode
    )
    manifest = storage.audio_manifest_path(part.series_id, part.episode)
    target = max(1.0, config.episode_seconds - 2 * CARD_SECONDS)
    inputs = fingerprint(script, [c.voice for c in roster.characters], provider.name, provider.model, target)
    started = time.monotonic()
    if is_fresh(manifest, inputs):
        track = AudioTrack.model_validate(read_json(manifest))
        context.log.info(f"{part.series_id} ep {part.episode}: dialogue track unchanged; reusing {manifest}")
    else:
        track = build_track(
            script, roster, provider, storage.cache_dir("audio"), storage.audio_dir(part.series_id, part.episode), target
        )
        mark_fresh(manifest, inputs)
        context.log.info(
            f"{part.series_id} ep {part.episode}: voiced {len(track.lines)} lines with {provider.name}, "
            f"track {track.duration:.1f} s in {time.monotonic() - started:.1f} s"
        )
    speakers = sorted({line.speaker_name for line in track.lines})
    voiced_by = Counter(line.provider for line in track.lines)
    return dg.MaterializeResult(
        metadata={
            "lines": len(track.lines),
            "duration_seconds": round(track.duration, 2),
            "speakers": ", ".join(speakers),
            "provider": provider.name,
            "voiced_by": ", ".join(f"{name} {count}" for name, count in sorted(voiced_by.items())),
            "dialogue_wav": dg.MetadataValue.path(track.dialogue_wav),
            "timing_table": dg.MetadataValue.path(str(storage.audio_dir(part.series_id, part.episode) / "timing.csv")),
        },
        data_version=dg.DataVersion(track.fingerprint),
    )
