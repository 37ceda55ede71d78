"""Story stage assets: the series bible, the cast, and each episode's script.

The sensor that watches producers' edited scripts is in `sensors.py`.
"""


import contextlib
from collections.abc import Iterator

import dagster as dg

from aidas_dagster.core.ledger import BudgetExceeded
from aidas_dagster.core.paid_call import OutOfCredit, ProviderError
from aidas_dagster.core.stamps import reuse_or_make
from aidas_dagster.core.storage import file_digest, fingerprint, load_model, read_json, write_json
from aidas_dagster.core.budget import ensure_budget
from aidas_dagster.partitions import episode_partitions, series_of_episode, series_partitions
from aidas_dagster.resources import StudioResource
from aidas_dagster.story.adjustments import apply_adjustments, load_adjustments
from aidas_dagster.story.resources import WritersRoom
from aidas_dagster.steps import step_retry
from aidas_dagster.story.models import CastsVoices, EpisodeScript, Roster, SeriesBible, StoryState, load_bible, load_roster
from aidas_dagster.core.estimate import AvatarSettings, VoiceSettings, still_to_spend
from aidas_dagster.story.estimate import estimate_for
from aidas_dagster.story.quality import QualityReport, forgotten_window, load_recent_scripts, write_checked_script
from aidas_dagster.story.overrides import OverrideError, flag_followers, load_override

STORY_RETRY = step_retry(delay_seconds=2)


def _engine(context: dg.AssetExecutionContext, studio: StudioResource, writers_room: WritersRoom):
    """The writer for this run; a paid writer is checked against the budget before it starts."""
    engine = writers_room.engine(ledger=studio.ledger, budget=studio.budget, cache_dir=studio.storage.cache_dir("llm"))
    if writers_room.mode != "offline":
        with provider_failures():
            ensure_budget(studio.budget, "openai", log=context.log.warning)
    return engine


def reserve_episode(context, studio, writers_room, voice_booth, avatar_studio, part):
    """Estimate the episode with the configured providers and reserve what it still has to spend
    for this run (released when the run ends); BudgetExceeded ends the run before any paid call."""
    estimate = estimate_for(studio, writers_room, voice_booth, avatar_studio, part.series_id, part.episode)
    write_json(studio.storage.episode(part.series_id, part.episode).estimate, {
        "usd": estimate.paid(), "total_usd": round(estimate.total, 6), "basis": estimate.basis, "mix": estimate.mix,
    })  # fmt: skip
    todo = still_to_spend(estimate, studio.ledger)
    if todo:
        with provider_failures():
            studio.budget.reserve_many(todo, what=f"{part.series_id} episode {part.episode}")
        context.log.info(
            f"{part.series_id} ep {part.episode}: reserved ${sum(todo.values()):.2f} of the budget "
            f"({', '.join(f'{p} ${v:.2f}' for p, v in sorted(todo.items()))}); estimate ${estimate.total:.2f}"
        )
    return estimate, todo


@contextlib.contextmanager
def provider_failures() -> Iterator[None]:
    """Failures that retrying the step cannot fix (no credit, budget spent, refused key) end the run
    with their message; the provider has already retried what was worth retrying."""
    try:
        yield
    except (OutOfCredit, BudgetExceeded) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    except ProviderError as exc:
        if exc.step_may_retry:
            raise
        raise dg.Failure(description=str(exc), allow_retries=False) from exc


@dg.asset(
    partitions_def=series_partitions,
    group_name="story",
    kinds={"python", "json"},
    retry_policy=STORY_RETRY,
    description="Logline, themes, tone, four-part arc, subplots, genre beats and an outline for every episode.",
)
def series_bible(
    context: dg.AssetExecutionContext, studio: StudioResource, writers_room: WritersRoom
) -> dg.MaterializeResult:
    series_id = context.partition_key
    config = studio.series_config(series_id)
    engine = _engine(context, studio, writers_room)
    files = studio.storage.series(series_id)
    path = files.bible

    def write() -> SeriesBible:
        with provider_failures():
            return engine.write_bible(config)

    bible, reused = reuse_or_make(
        path, fingerprint(config, engine.name),
        load=lambda: files.load(path, SeriesBible), make=write, write=lambda made: write_json(path, made),
    )  # fmt: skip
    if reused:
        context.log.info(f"{series_id}: bible unchanged since its config; reusing {path}")
    else:
        context.log.info(f"{series_id}: wrote the bible ({len(bible.outlines)} episode outlines) with {engine.name}")
        for note in bible.premise.notes if bible.premise else []:  # what the premise analysis decided, and why
            context.log.info(f"{series_id}: premise: {note}")
    outline_preview = "\n".join(f"| {o.episode_number} | {o.title} | {o.arc_phase} | {o.main_event} |" for o in bible.outlines)
    return dg.MaterializeResult(
        metadata={
            "title": config.title,
            "genre": f"{config.genre} ({bible.genre_key})",
            "setting": bible.setting or (config.world and f"world {config.world}") or "composed from the config's words",
            "logline": bible.logline,
            "episodes": len(bible.outlines),
            "subplots": len(bible.subplots),
            "engine": engine.name,
            "path": dg.MetadataValue.path(str(path)),
            "outlines": dg.MetadataValue.md("| ep | title | phase | main event |\n|---|---|---|---|\n" + outline_preview),
        },
        data_version=dg.DataVersion(fingerprint(bible)),
    )


@dg.asset(
    partitions_def=series_partitions,
    deps=[series_bible],
    group_name="story",
    kinds={"python", "json"},
    retry_policy=STORY_RETRY,
    description="The cast (10+ characters in tiers), voice casting, avatar strategy and relationship matrix.",
)
def character_roster(
    context: dg.AssetExecutionContext,
    studio: StudioResource,
    writers_room: WritersRoom,
    # The voice stage's resource casts the voices (voice owns casting); typed by the story floor's
    # contract, so story imports no voice module.
    voice_booth: dg.ResourceParam[CastsVoices],
) -> dg.MaterializeResult:
    series_id = context.partition_key
    config = studio.series_config(series_id)
    bible = load_bible(studio.storage, series_id)
    engine = _engine(context, studio, writers_room)
    files = studio.storage.series(series_id)
    path = files.roster

    def write() -> Roster:
        with provider_failures():
            return engine.write_roster(config, bible, voice_booth.cast_voices)

    roster, reused = reuse_or_make(
        path, fingerprint(config, bible, engine.name),
        load=lambda: files.load(path, Roster), make=write, write=lambda made: write_json(path, made),
    )  # fmt: skip
    if reused:
        context.log.info(f"{series_id}: cast unchanged; reusing {path}")
    else:
        context.log.info(f"{series_id}: cast {len(roster.characters)} characters with {engine.name}")
    table = "\n".join(
        f"| {c.id} | {c.name} | {c.role} | {c.importance} | {c.age} | {c.voice.voice_id} p{c.voice.pitch} | {c.avatar_strategy} |"
        for c in roster.characters
    )
    return dg.MaterializeResult(
        metadata={
            "characters": len(roster.characters),
            "relationships": len(roster.relationships),
            "path": dg.MetadataValue.path(str(path)),
            "cast": dg.MetadataValue.md(
                "| id | name | role | tier | age | voice | avatar |\n|---|---|---|---|---|---|---|\n" + table
            ),
        },
        data_version=dg.DataVersion(fingerprint(roster)),
    )


def _quality_record(report: QualityReport, passes: int) -> dict:
    return {**report.metadata(), "passes": passes, "problems": report.problems[:20], "blocking": report.blocking[:20]}


def previous_state(studio: StudioResource, engine, bible: SeriesBible, roster: Roster, series_id: str, episode: int) -> tuple[StoryState, str]:
    """The story state the episode starts from, and a fingerprint of where it came from.

    Dagster cannot make a dynamic-partitioned asset depend on its own earlier partition, so the
    previous episode's stored script is read here, at run time.
    """
    if episode == 1:
        return engine.initial_state(bible, roster), "start"
    path = studio.storage.episode(series_id, episode - 1).script
    if not path.exists():
        raise dg.Failure(
            description=(
                f"episode {episode} of {series_id!r} continues from episode {episode - 1}, whose script is missing "
                f"({path}); materialise episode_script for partition {episode - 1:03d}|{series_id} first"
            ),
            allow_retries=False,
        )
    prev = load_model(path, EpisodeScript)
    return prev.state_after, fingerprint(prev.state_after)


@dg.asset(
    partitions_def=episode_partitions,
    deps=[
        dg.AssetDep(series_bible, partition_mapping=series_of_episode),
        dg.AssetDep(character_roster, partition_mapping=series_of_episode),
    ],
    group_name="story",
    kinds={"python", "json"},
    retry_policy=STORY_RETRY,
    pool="llm",
    description=(
        "Scenes and lines written from the continuity context, plus the story state after the episode. "
        "A producer's edited script in overrides/ replaces the written one."
    ),
)
def episode_script(
    context: dg.AssetExecutionContext,
    studio: StudioResource,
    writers_room: WritersRoom,
    # The whole-episode estimate reads the voice and picture stages' provider settings, typed by the
    # common floor's contracts (core/estimate.py), so story imports none of their modules.
    voice_booth: dg.ResourceParam[VoiceSettings],
    avatar_studio: dg.ResourceParam[AvatarSettings],
) -> dg.MaterializeResult:
    config, part = studio.episode(context.partition_key)
    storage = studio.storage
    # The whole episode's estimate is reserved before anything is paid for, so two runs that would
    # together pass a limit cannot both start: one is refused here, before spending.
    estimate, reserved = reserve_episode(context, studio, writers_room, voice_booth, avatar_studio, part)
    # Viewer feedback may have shifted future outlines (character focus, pacing), within bounds.
    base_bible = load_bible(studio.storage, part.series_id)
    adjustments = load_adjustments(storage, part.series_id)
    bible = apply_adjustments(base_bible, adjustments)
    roster = load_roster(studio.storage, part.series_id)
    engine = _engine(context, studio, writers_room)
    state, state_fp = previous_state(studio, engine, bible, roster, part.series_id, part.episode)
    files = storage.episode(part.series_id, part.episode)
    path, override = files.script, files.override
    source = f"override {override}" if override.exists() else engine.name
    # The override's bytes are an input: editing it makes the script stale, deleting it returns to the writer.
    # Only this episode's own adjustment is an input: feedback about later outlines never makes an
    # already written (maybe published) episode stale.
    inputs = fingerprint(
        base_bible, roster, state_fp, engine.name,
        file_digest(override) if override.exists() else None,
        adjustments.for_episode(part.episode),
    )  # fmt: skip

    def write() -> tuple[EpisodeScript, dict]:
        if override.exists():
            # Validated before anything is written: a bad edit fails naming the file and field.
            try:
                return load_override(override, roster, part.series_id, part.episode), {"passes": 0, "source": "producer's edit"}
            except OverrideError as exc:
                raise dg.Failure(description=str(exc), allow_retries=False) from exc
        # Spec 7.6: write, score, and revise below the threshold (at most 3 passes in all).
        recent = load_recent_scripts(lambda n: storage.episode(part.series_id, n).script, part.episode, forgotten_window(config))
        with provider_failures():
            script, report, passes = write_checked_script(engine, bible, roster, state, part.episode, config, recent_scripts=recent)
        if report.blocking:
            context.log.warning(
                f"{part.series_id} ep {part.episode}: after {passes} pass(es) the script still has "
                f"{len(report.blocking)} blocking problem(s); the script checks will stop it"
            )
        return script, _quality_record(report, passes)

    def store(made: tuple[EpisodeScript, dict]) -> None:
        write_json(path, made[0])
        write_json(files.quality, made[1])
        write_json(files.context, {"previous_state": state_fp, "source": source})

    (script, quality), reused = reuse_or_make(
        path, inputs,
        load=lambda: (files.load(path, EpisodeScript), read_json(files.quality)),
        make=write, write=store, also_required=(files.quality,),
    )  # fmt: skip
    if reused:
        context.log.info(f"{part.series_id} ep {part.episode}: script unchanged; reusing {path}")
    else:
        context.log.info(
            f"{part.series_id} ep {part.episode}: wrote '{script.title}' "
            f"({len(script.scenes)} scenes, {script.line_count} lines) from {source}"
        )
    # Later episodes written from an older version of this episode's ending are flagged, not rewritten.
    flagged = flag_followers(storage, part.series_id, part.episode, fingerprint(script.state_after))
    if flagged:
        context.log.warning(
            f"{part.series_id}: episode(s) {', '.join(map(str, flagged))} were written from an earlier version of "
            f"episode {part.episode}'s ending; review them (see {files.series.continuity_flags}) "
            "and re-materialise their episode_script if they should follow the new story"
        )
    names = roster.by_id()
    first_lines = "\n".join(
        f"- **{names[line.speaker].name}** ({line.emotion}): {line.text}" for _scene, line in script.lines()[:8]
    )
    return dg.MaterializeResult(
        metadata={
            "title": script.title,
            "scenes": len(script.scenes),
            "lines": script.line_count,
            "speakers": len({line.speaker for _s, line in script.lines()}),
            "open_threads": len(script.state_after.open_threads),
            "cliffhanger": script.cliffhanger,
            "writer": script.writer,
            "source": source,
            **{k: v for k, v in quality.items() if isinstance(v, (int, float)) and not isinstance(v, bool)},
            "later_episodes_flagged": ", ".join(map(str, flagged)) or "none",
            "cost_estimate_usd": dg.MetadataValue.float(float(round(estimate.total, 4))),
            "cost_reserved_usd": dg.MetadataValue.float(float(round(sum(reserved.values()), 4))),
            "cost_estimate": dg.MetadataValue.md(f"```\n{estimate.text()}\n```"),
            "path": dg.MetadataValue.path(str(path)),
            "opening": dg.MetadataValue.md(first_lines),
        },
        data_version=dg.DataVersion(fingerprint(script)),
    )
