"""Asset checks of the story stage.

Pre-production (spec 7.0) blocks the bible and the cast: no episode is written for a series with
something missing. Script structure, speakers and continuity block: a broken script would waste
voice, avatar and render money (continuity only warns on a producer's override: their call).
Phrasing and the quality score warn: the write loop has already
tried to improve them, and a clumsy line is not worth stopping the daily episode for.
"""


import dagster as dg

from aidas_dagster.partitions import episode_partitions, parse_episode_partition, series_partitions
from aidas_dagster.resources import StudioResource
from aidas_dagster.story.resources import WritersRoom
from aidas_dagster.story.assets import character_roster, episode_script, previous_state, series_bible
from aidas_dagster.story.models import load_bible, load_roster, load_script
from aidas_dagster.story.quality import (
    DEFAULT_THRESHOLD,
    bible_readiness_problems,
    continuity_problems,
    forgotten_window,
    load_recent_scripts,
    phrasing_problems,
    preproduction_problems,
    quality_score,
    speaker_problems,
)
from aidas_dagster.story.validation import script_problems


def _result(
    problems: list[str], severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, **metadata
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        severity=severity,
        description="; ".join(problems[:10]) + (f" (+{len(problems) - 10} more)" if len(problems) > 10 else "")
        if problems
        else "ok",
        metadata={
            "problems": len(problems),
            **({"found": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))} if problems else {}),
            **metadata,
        },
    )


@dg.asset_check(asset=series_bible, partitions_def=series_partitions, blocking=True)
def bible_ready_for_production(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    """Spec 7.0, story half: four-part arc over every episode, every outline complete, subplots placed,
    the genre's required beats placed."""
    bible = load_bible(studio.storage, context.partition_key)
    return _result(bible_readiness_problems(bible), outlines=len(bible.outlines), beats=len(bible.genre_beats))


@dg.asset_check(asset=character_roster, partitions_def=series_partitions, blocking=True)
def series_ready_for_production(
    context: dg.AssetCheckExecutionContext, studio: StudioResource
) -> dg.AssetCheckResult:
    """Spec 7.0 in full, before episode 1: the bible plus 10+ complete characters with distinct voices,
    avatars, relationships, and a place in some episode's focus."""
    bible = load_bible(studio.storage, context.partition_key)
    roster = load_roster(studio.storage, context.partition_key)
    return _result(
        preproduction_problems(bible, roster),
        characters=len(roster.characters),
        relationships=len(roster.relationships),
    )


def _episode(context: dg.AssetCheckExecutionContext, studio: StudioResource):
    part = parse_episode_partition(context.partition_key)
    config = studio.series_config(part.series_id)
    return part, config, load_script(studio.storage, part.series_id, part.episode), load_roster(studio.storage, part.series_id)


@dg.asset_check(asset=episode_script, partitions_def=episode_partitions, blocking=True)
def script_structure(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    _part, config, script, roster = _episode(context, studio)
    return _result(script_problems(script, roster, config), lines=script.line_count, scenes=len(script.scenes))


@dg.asset_check(asset=episode_script, partitions_def=episode_partitions, blocking=True)
def script_speakers_in_roster(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    """Every speaker and listener is a cast member present in the scene: each needs a voice and a face."""
    _part, _config, script, roster = _episode(context, studio)
    return _result(speaker_problems(script, roster), speakers=len({line.speaker for _s, line in script.lines()}))


@dg.asset_check(asset=episode_script, partitions_def=episode_partitions, blocking=False)
def script_phrasing(context: dg.AssetCheckExecutionContext, studio: StudioResource) -> dg.AssetCheckResult:
    """The spec's unnatural-phrasing patterns, translationese, and 반말/존댓말 mixed between the same two people."""
    _part, _config, script, roster = _episode(context, studio)
    return _result(phrasing_problems(script, roster), dg.AssetCheckSeverity.WARN, lines=script.line_count)


def _continuity_inputs(context: dg.AssetCheckExecutionContext, studio: StudioResource, writers_room: WritersRoom):
    part, config, script, roster = _episode(context, studio)
    bible = load_bible(studio.storage, part.series_id)
    state, _fp = previous_state(studio, writers_room.engine(), bible, roster, part.series_id, part.episode)
    recent = load_recent_scripts(
        lambda n: studio.storage.script_path(part.series_id, n), part.episode, forgotten_window(config)
    )
    return config, script, roster, state, recent, bible


@dg.asset_check(asset=episode_script, partitions_def=episode_partitions, blocking=True)
def script_continuity(
    context: dg.AssetCheckExecutionContext, studio: StudioResource, writers_room: WritersRoom
) -> dg.AssetCheckResult:
    """Against the stored state of the previous episode: nobody dead or absent speaks, relationships move
    gradually, open threads are carried or resolved and said on screen, nobody is forgotten."""
    config, script, roster, state, recent, _bible = _continuity_inputs(context, studio, writers_room)
    problems = continuity_problems(script, roster, state, recent, config)
    part = parse_episode_partition(context.partition_key)
    edited = studio.storage.script_override_path(part.series_id, part.episode).exists()
    if edited and problems:  # a producer's edit is their call: flagged for review, not blocked
        problems = ["producer's override — review: " + problems[0], *problems[1:]]
    return _result(
        problems,
        dg.AssetCheckSeverity.WARN if edited else dg.AssetCheckSeverity.ERROR,
        producer_override=edited,
        continued_from=state.after_episode,
        open_threads_before=len(state.open_threads),
        open_threads_after=len(script.state_after.open_threads),
    )


@dg.asset_check(asset=episode_script, partitions_def=episode_partitions, blocking=False)
def script_quality_score(
    context: dg.AssetCheckExecutionContext, studio: StudioResource, writers_room: WritersRoom
) -> dg.AssetCheckResult:
    """The spec's six criteria as a 0-100 score; warns below the threshold the write loop aims for."""
    config, script, roster, state, recent, bible = _continuity_inputs(context, studio, writers_room)
    report = quality_score(script, roster, state, config, recent, bible)
    below = [] if report.score >= DEFAULT_THRESHOLD else [f"quality {report.score:.1f} < {DEFAULT_THRESHOLD:g}"]
    return _result(
        below + report.problems[:9] if below else [],
        dg.AssetCheckSeverity.WARN,
        threshold=DEFAULT_THRESHOLD,
        problems_found=len(report.problems),
        **report.metadata(),
    )


story_checks = [
    bible_ready_for_production,
    series_ready_for_production,
    script_structure,
    script_speakers_in_roster,
    script_phrasing,
    script_continuity,
    script_quality_score,
]
