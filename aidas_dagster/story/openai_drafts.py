"""Filled drafts into the project's models, and a script back into a draft (for revision turns).

Fields a model should not invent are filled by the same deterministic helpers the offline engine
uses: genre template placement of arc and beats, voice casting (the voice stage's, through the
story floor's VoiceCaster), avatar looks, the story-state bookkeeping. A draft that parses but
cannot become a model raises DraftProblems, each problem naming its field, for a repair turn.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story.cast import characters_with_voices, pair_key
from aidas_dagster.story.genres import arc_episodes, place_beats, template_for
from aidas_dagster.story.models import (
    ArcPart,
    CharacterState,
    EpisodeOutline,
    EpisodeScript,
    GenreBeat,
    Line,
    Relationship,
    Roster,
    Scene,
    SeriesBible,
    StoryState,
    Subplot,
    VoiceCaster,
    VoiceProfile,
)
from aidas_dagster.story.openai_schemas import (
    BibleDraft,
    CharacterUpdateDraft,
    LineDraft,
    OutlineDraft,
    RelationshipChangeDraft,
    RosterDraft,
    SceneDraft,
    ScriptDraft,
)
from aidas_dagster.story.validation import MIN_CHARACTERS, bible_problems, roster_problems, script_problems

MAX_KEY_EVENTS = 40  # the story state keeps the latest key events, like the offline engine
MAX_ACTIVE_GOALS = 4
NEW_ACQUAINTANCE = 20  # intimacy of a pair the roster did not relate


class DraftProblems(ValueError):
    """A draft that parsed but cannot become the project's model; each problem names its field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


# =============================================================================================
# Conversions between drafts and the project's models
# =============================================================================================


def validation_problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        path = ".".join(str(part) for part in err["loc"]) or "(top level)"
        out.append(f"{path}: {err['msg']}")
    return out


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def bible_from_draft(config: SeriesConfig, draft: BibleDraft, genre: str = "") -> SeriesBible:
    """The series bible; arc episode ranges and genre-beat placement come from the genre template
    (`genre`: a template key, by default the one the config's genre words name)."""
    template = template_for(genre or config.genre)
    n = config.total_episodes
    problems: list[str] = []
    plan_ids = [entry.id for entry in draft.cast_plan]
    if len(draft.cast_plan) < MIN_CHARACTERS:
        problems.append(f"cast_plan: {len(draft.cast_plan)} characters; at least {MIN_CHARACTERS} are needed")
    if len(set(plan_ids)) != len(plan_ids):
        problems.append("cast_plan: character ids must be unique")
    known = set(plan_ids)

    def ids_ok(path: str, ids: list[str]) -> None:
        for k, cid in enumerate(ids):
            if cid not in known:
                problems.append(f"{path}.{k}: {cid!r} is not an id in cast_plan")

    parts = arc_episodes(template, n)
    arc = [
        ArcPart(name=part.name, episodes=episodes, description=part.description)
        for part, episodes in zip(draft.arc, parts)
    ]
    phase_of = {e: part.name for part in arc for e in part.episodes}

    subplots = []
    for i, sp in enumerate(draft.subplots):
        ids_ok(f"subplots.{i}.characters", sp.characters)
        outside = [e for e in sp.episodes if not 1 <= e <= n]
        if outside:
            problems.append(f"subplots.{i}.episodes: {outside} are outside 1-{n}")
        subplots.append(
            Subplot(
                title=sp.title,
                characters=_dedupe(sp.characters),
                episodes=sorted(set(sp.episodes)),
                description=sp.description,
            )
        )

    placed = place_beats(template, n)
    described = {b.beat.strip(): b.description for b in draft.genre_beats}
    genre_beats = []
    for beat, episode in placed:
        if beat.name not in described:
            problems.append(f"genre_beats: no description for beat {beat.name!r} (episode {episode})")
        genre_beats.append(GenreBeat(beat=beat.name, episode=episode, description=described.get(beat.name, "")))

    by_episode: dict[int, OutlineDraft] = {}
    for i, o in enumerate(draft.outlines):
        if not 1 <= o.episode_number <= n:
            problems.append(f"outlines.{i}.episode_number: {o.episode_number} is outside 1-{n}")
        elif o.episode_number in by_episode:
            problems.append(f"outlines.{i}.episode_number: episode {o.episode_number} has two outlines")
        else:
            by_episode[o.episode_number] = o
        ids_ok(f"outlines.{i}.character_focus", o.character_focus)
    missing = [e for e in range(1, n + 1) if e not in by_episode]
    if missing:
        problems.append(f"outlines: no outline for episode(s) {missing}; write one for every episode 1-{n}")
    if problems:
        raise DraftProblems(problems)

    outlines = [
        EpisodeOutline(
            episode_number=e,
            title=by_episode[e].title,
            arc_phase=phase_of.get(e, arc[-1].name),
            main_event=by_episode[e].main_event,
            sub_events=by_episode[e].sub_events,
            character_focus=_dedupe(by_episode[e].character_focus),
            emotional_journey=by_episode[e].emotional_journey,
            cliffhanger_type=by_episode[e].cliffhanger_type,
            beats=[beat.name for beat, be in placed if be == e],
        )
        for e in range(1, n + 1)
    ]
    fields: dict[str, Any] = {}
    if "cast_plan" in SeriesBible.model_fields:  # keep the plan where the bible model can store it
        fields["cast_plan"] = [entry.model_dump() for entry in draft.cast_plan]
    bible = SeriesBible(
        series_id=config.series_id,
        config=config,
        genre_key=template.key,
        logline=draft.logline,
        themes=_dedupe([config.main_theme, *draft.themes]),
        tone=draft.tone,
        arc=arc,
        main_conflict=draft.main_conflict,
        subplots=subplots,
        genre_beats=genre_beats,
        outlines=outlines,
        **fields,
    )
    problems = bible_problems(bible)
    if problems:
        raise DraftProblems(problems)
    return bible


def roster_from_draft(config: SeriesConfig, bible: SeriesBible, draft: RosterDraft, cast_voices: VoiceCaster) -> Roster:
    """The cast; voices (by the voice stage's `cast_voices`), avatar looks and avatar strategy are cast
    deterministically, never by the model."""
    problems: list[str] = []
    ids = [c.id for c in draft.characters]
    duplicates = sorted({cid for cid in ids if ids.count(cid) > 1})
    if duplicates:
        problems.append(f"characters: ids {duplicates} are used more than once")
    known = set(ids)
    referenced = sorted(
        {cid for sp in bible.subplots for cid in sp.characters}
        | {cid for o in bible.outlines for cid in o.character_focus}
    )
    absent = [cid for cid in referenced if cid not in known]
    if absent:
        problems.append(f"characters: the bible refers to {absent}, which are missing")
    relationships = []
    seen: set[str] = set()
    for i, r in enumerate(draft.relationships):
        for side in ("a", "b"):
            if getattr(r, side) not in known:
                problems.append(f"relationships.{i}.{side}: {getattr(r, side)!r} is not a character id")
        if r.a == r.b:
            problems.append(f"relationships.{i}: a character cannot be related to themselves")
        key = pair_key(r.a, r.b)
        if key in seen:
            continue  # a repeated pair adds nothing; the first one stands
        seen.add(key)
        relationships.append(
            Relationship(a=r.a, b=r.b, type=r.type, intimacy=r.intimacy, potential_arc=r.potential_arc)
        )
    if problems:
        raise DraftProblems(problems)

    profiles = {
        c.id: VoiceProfile(gender=c.gender, age_group=c.age_group, tone=c.voice_tone, speaking_style=c.speaking_style)
        for c in draft.characters
    }
    people = [(c.id, c, profiles[c.id]) for c in sorted(draft.characters, key=lambda c: c.id)]
    characters = characters_with_voices(config.series_id, people, cast_voices)
    roster = Roster(series_id=config.series_id, characters=characters, relationships=relationships)
    problems = roster_problems(roster)
    if problems:
        raise DraftProblems(problems)
    return roster


def initial_state(bible: SeriesBible, roster: Roster) -> StoryState:
    """Before episode 1: everyone calm at the start, the main conflict and the subplots open."""
    return StoryState(
        after_episode=0,
        character_states={
            c.id: CharacterState(emotional_state="평온", location="첫 등장 전", active_goals=list(c.goals[:3]))
            for c in roster.characters
        },
        relationships={pair_key(r.a, r.b): r.intimacy for r in roster.relationships},
        key_events=[],
        open_threads=_dedupe([bible.main_conflict] + [f"{sp.title}: {sp.description}" for sp in bible.subplots]),
        resolved_threads=[],
        summaries=[],
    )


def _thread_key(thread: str) -> str:
    head = thread.split(":", 1)[0].strip()
    return head if ":" in thread else thread.strip()


def match_thread(thread: str, open_threads: list[str]) -> str | None:
    """The open thread a model's `thread` names: the same text, or the same "keyword:" when only one
    open thread has it (models often copy the keyword and paraphrase the rest)."""
    wanted = thread.strip()
    for candidate in open_threads:
        if candidate.strip() == wanted:
            return candidate
    same_key = [c for c in open_threads if _thread_key(c) == _thread_key(wanted)]
    return same_key[0] if len(same_key) == 1 else None


def script_from_draft(
    bible: SeriesBible, roster: Roster, previous: StoryState, episode: int, draft: ScriptDraft, writer: str
) -> EpisodeScript:
    """The episode script and the story state after it, computed from the previous state and the
    changes the model reports (intimacy steps bounded, threads closed only if they were open)."""
    known = roster.by_id()
    problems: list[str] = []

    def check(path: str, cid: str) -> bool:
        if cid in known:
            return True
        problems.append(f"{path}: {cid!r} is not a character id of the roster")
        return False

    def was_dead(cid: str) -> bool:
        state = previous.character_states.get(cid)
        return state is not None and state.status == "dead"

    scenes: list[Scene] = []
    for i, sd in enumerate(draft.scenes):
        present = [cid for k, cid in enumerate(sd.characters) if check(f"scenes.{i}.characters.{k}", cid)]
        lines = []
        for j, ld in enumerate(sd.lines):
            where = f"scenes.{i}.lines.{j}"
            if not ld.text.strip():
                problems.append(f"{where}.text: empty line")
                continue
            if check(f"{where}.speaker", ld.speaker) and was_dead(ld.speaker):
                problems.append(f"{where}.speaker: {known[ld.speaker].name} died earlier and cannot speak")
            listener = ld.listener.strip() or None
            if listener is not None and not check(f"{where}.listener", listener):
                listener = None
            if listener == ld.speaker:
                listener = None
            lines.append(
                Line(
                    speaker=ld.speaker,
                    text=ld.text.strip(),
                    emotion=ld.emotion,
                    listener=listener,
                    reaction=ld.reaction if listener else "",
                )
            )
            # Whoever speaks or is spoken to is in the scene, even if the model forgot to list them.
            present += [cid for cid in (ld.speaker, listener) if cid in known]
        scenes.append(
            Scene(
                number=i + 1,
                location=sd.location,
                time_of_day=sd.time_of_day,
                atmosphere=sd.atmosphere,
                characters=_dedupe(present),
                lines=lines,
            )
        )

    resolved: list[str] = []
    for k, thread in enumerate(draft.resolved_threads):
        match = match_thread(thread, previous.open_threads)
        if match is not None:
            if match not in resolved:
                resolved.append(match)
        else:
            problems.append(
                f"resolved_threads.{k}: {thread!r} is not one of the unresolved plots; copy one of them exactly"
            )

    states = dict(previous.character_states)
    developments: dict[str, str] = {}
    for k, update in enumerate(draft.character_updates):
        if not check(f"character_updates.{k}.id", update.id):
            continue
        if was_dead(update.id) and update.status != "dead":
            problems.append(f"character_updates.{k}.status: {known[update.id].name} died earlier and stays dead")
        states[update.id] = CharacterState(
            emotional_state=update.emotional_state,
            location=update.location,
            active_goals=update.active_goals[-MAX_ACTIVE_GOALS:],
            status=update.status,
        )
        if update.development.strip():
            developments[update.id] = update.development.strip()
    updated = {u.id for u in draft.character_updates}
    for scene in scenes:  # present but not updated: they still moved to where the scene is
        for cid in scene.characters:
            if cid not in updated and cid in states:
                states[cid] = states[cid].model_copy(update={"location": scene.location})

    relationships = dict(previous.relationships)
    changes: dict[str, int] = {}
    for k, change in enumerate(draft.relationship_changes):
        ok_a = check(f"relationship_changes.{k}.a", change.a)
        ok_b = check(f"relationship_changes.{k}.b", change.b)
        if not (ok_a and ok_b) or change.a == change.b:
            continue
        key = pair_key(change.a, change.b)
        before = relationships.get(key, NEW_ACQUAINTANCE)
        after = max(0, min(100, before + change.delta))
        relationships[key] = after
        if after != before:
            changes[key] = changes.get(key, 0) + after - before
    if problems:
        raise DraftProblems(problems)

    new_conflict = draft.new_conflict.strip()
    open_threads = _dedupe(
        [t for t in previous.open_threads if t not in resolved]
        + [new_conflict]
        + [t.strip() for t in draft.new_threads if t.strip()]
    )
    key_events = [e.strip() for e in draft.key_events if e.strip()]
    state = StoryState(
        after_episode=episode,
        character_states={cid: states[cid] for cid in sorted(states)},
        relationships=relationships,
        key_events=(previous.key_events + key_events)[-MAX_KEY_EVENTS:],
        open_threads=open_threads,
        resolved_threads=previous.resolved_threads + resolved,
        summaries=previous.summaries + [draft.summary.strip()],
    )
    script = EpisodeScript(
        series_id=bible.series_id,
        episode_number=episode,
        title=draft.title,
        scenes=scenes,
        summary=draft.summary.strip(),
        key_events=key_events,
        new_conflict=new_conflict,
        partly_resolved=draft.partly_resolved,
        cliffhanger=draft.cliffhanger,
        character_developments=developments,
        relationship_changes=changes,
        state_after=state,
        writer=writer,
    )
    problems = script_problems(script, roster, bible.config)
    if problems:
        raise DraftProblems(problems)
    return script


def script_to_draft(script: EpisodeScript, previous: StoryState) -> ScriptDraft:
    """A stored script in the shape the model writes, so it can be asked to revise it."""
    after = script.state_after
    updates = [
        CharacterUpdateDraft(
            id=cid,
            emotional_state=state.emotional_state,
            location=state.location,
            active_goals=state.active_goals,
            status=state.status,
            development=script.character_developments.get(cid, ""),
        )
        for cid, state in after.character_states.items()
        if previous.character_states.get(cid) != state or cid in script.character_developments
    ]
    return ScriptDraft(
        title=script.title,
        summary=script.summary,
        scenes=[
            SceneDraft(
                location=s.location,
                time_of_day=s.time_of_day,
                atmosphere=s.atmosphere,
                characters=s.characters,
                lines=[
                    LineDraft(
                        speaker=ln.speaker,
                        text=ln.text,
                        emotion=ln.emotion,  # type: ignore[arg-type]
                        listener=ln.listener or "",
                        reaction=ln.reaction,
                    )
                    for ln in s.lines
                ],
            )
            for s in script.scenes
        ],
        key_events=script.key_events,
        new_conflict=script.new_conflict,
        partly_resolved=script.partly_resolved,
        resolved_threads=[t for t in after.resolved_threads if t not in previous.resolved_threads],
        new_threads=[
            t for t in after.open_threads if t not in previous.open_threads and t != script.new_conflict
        ],
        cliffhanger=script.cliffhanger,
        character_updates=updates,
        relationship_changes=[
            RelationshipChangeDraft(a=key.split("-")[0], b=key.split("-")[1], delta=delta)
            for key, delta in script.relationship_changes.items()
        ],
    )
