"""Asset checks of the voice stage."""


from pathlib import Path

import dagster as dg

from aidas_dagster.partitions import episode_partitions, parse_episode_partition
from aidas_dagster.resources import StudioResource
from aidas_dagster.voice.assets import audio_track, load_track
from aidas_dagster.voice.validation import track_problems


@dg.asset_check(asset=audio_track, partitions_def=episode_partitions, blocking=True)
def every_line_voiced(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    part = parse_episode_partition(context.partition_key)
    track = load_track(studio, part.series_id, part.episode)
    problems = track_problems(track, Path(track.dialogue_wav))
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems[:10]) if problems else "every line has plausible, unclipped audio",
        metadata={"problems": len(problems), "lines": len(track.lines)},
    )


voice_checks = [every_line_voiced]
