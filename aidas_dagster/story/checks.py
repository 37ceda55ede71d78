"""Asset checks of the story stage. Script checks block: a bad script would waste voice and render."""


import dagster as dg

from aidas_dagster.partitions import episode_partitions, parse_episode_partition, series_partitions
from aidas_dagster.resources import StudioResource
from aidas_dagster.story.assets import character_roster, episode_script, load_bible, load_roster, load_script, series_bible
from aidas_dagster.story.validation import bible_problems, roster_problems, script_problems


def _result(problems: list[str], **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        description="; ".join(problems[:10]) if problems else "ok",
        metadata={"problems": len(problems), **metadata},
    )


@dg.asset_check(asset=series_bible, partitions_def=series_partitions, blocking=True)
def bible_covers_every_episode(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    bible = load_bible(studio, context.partition_key)
    return _result(bible_problems(bible), outlines=len(bible.outlines))


@dg.asset_check(asset=character_roster, partitions_def=series_partitions, blocking=True)
def roster_has_ten_distinct_voices(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    roster = load_roster(studio, context.partition_key)
    return _result(roster_problems(roster), characters=len(roster.characters))


@dg.asset_check(asset=episode_script, partitions_def=episode_partitions, blocking=True)
def script_structure(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    part = parse_episode_partition(context.partition_key)
    config = studio.series_config(part.series_id)
    script = load_script(studio, part.series_id, part.episode)
    roster = load_roster(studio, part.series_id)
    return _result(script_problems(script, roster, config), lines=script.line_count, scenes=len(script.scenes))


story_checks = [bible_covers_every_episode, roster_has_ten_distinct_voices, script_structure]
