"""Voice stage asset: every line voiced in the character's own voice, laid on one dialogue track."""


import time
from collections import Counter

import dagster as dg

from aidas_dagster.core.stamps import reuse_or_make
from aidas_dagster.core.storage import fingerprint
from aidas_dagster.partitions import episode_partitions
from aidas_dagster.resources import StudioResource
from aidas_dagster.steps import remade_when_upstream_changes, step_retry
from aidas_dagster.voice.resources import VoiceBooth
from aidas_dagster.story.assets import episode_script
from aidas_dagster.story.models import load_roster, load_script
from aidas_dagster.voice.models import AudioTrack
from aidas_dagster.voice.track import build_track

# Intro and outro cards carry no dialogue; the track fills the rest of the episode's length.
CARD_SECONDS = 3.0


@dg.asset(
    partitions_def=episode_partitions,
    deps=[episode_script],
    group_name="voice",
    kinds={"python", "wav"},
    pool="tts",
    retry_policy=step_retry(delay_seconds=5),
    automation_condition=remade_when_upstream_changes(),
    description="One audio file per line (cached by content), a timing table, and the mixed dialogue track.",
)
def audio_track(context: dg.AssetExecutionContext, studio: StudioResource, voice_booth: VoiceBooth) -> dg.MaterializeResult:
    config, part = studio.episode(context.partition_key)
    storage = studio.storage
    script = load_script(studio.storage, part.series_id, part.episode)
    roster = load_roster(studio.storage, part.series_id)
    # The failover chain of the configured providers; every line (paid, offline or cached) is entered
    # in the studio's cost ledger, and paid calls ask the budget first.
    provider = voice_booth.provider(
        ledger=studio.ledger, budget=studio.budget, series_id=part.series_id, episode=part.episode
    )
    files = storage.episode(part.series_id, part.episode)
    manifest = files.track
    target = max(1.0, config.episode_seconds - 2 * CARD_SECONDS)
    inputs = fingerprint(script, [c.voice for c in roster.characters], provider.name, provider.model, target)
    started = time.monotonic()
    track, reused = reuse_or_make(
        manifest, inputs,
        load=lambda: files.load(manifest, AudioTrack),
        # build_track writes the line files, the timing table and the manifest (last) itself.
        make=lambda: build_track(script, roster, provider, storage.cache_dir("audio"), files.audio_dir, target),
    )  # fmt: skip
    if reused:
        context.log.info(f"{part.series_id} ep {part.episode}: dialogue track unchanged; reusing {manifest}")
    else:
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
            "timing_table": dg.MetadataValue.path(str(files.timing_table)),
        },
        data_version=dg.DataVersion(track.fingerprint),
    )
