"""The offline series bible: logline, arc, genre beats, subplots and an outline per episode."""

from __future__ import annotations

import logging
import random

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story.composer import compose
from aidas_dagster.story.genres import arc_episodes, place_beats
from aidas_dagster.story.korean import fill
from aidas_dagster.story.lines import BEAT_JOURNEYS, JOURNEYS
from aidas_dagster.story.models import ArcPart, EpisodeOutline, GenreBeat, SeriesBible, Subplot
from aidas_dagster.story.world import ConflictSpec, StoryWorld, cast_ids, given_names, thread_text

log = logging.getLogger(__name__)

def _conflict_for_episode(world: StoryWorld, episode: int) -> ConflictSpec:
    """The conflict an episode introduces; the first two of the pool are open before episode 1."""
    return world.conflicts[(episode + 1) % len(world.conflicts)]


def _focus(world: StoryWorld, episode: int, total: int) -> list[str]:
    """Leads, the people of this episode's conflicts and subplot, and a rotating third of the rest.

    The rotation guarantees that every character is in focus at least every third episode.
    """
    ids = cast_ids(world)
    leads = [ids[c.key] for c in world.cast if c.importance == "main"]
    others = [ids[c.key] for c in world.cast if c.importance != "main"]
    group = [cid for i, cid in enumerate(others) if i % 3 == (episode - 1) % 3]
    new = _conflict_for_episode(world, episode).chars
    resolved = world.conflicts[(episode - 1) % len(world.conflicts)].chars
    subplot = [k for i, sp in enumerate(world.subplots) if episode in _subplot_episodes(i, total) for k in sp.chars]
    focus: list[str] = []
    for cid in leads + [ids[k] for k in new + resolved] + [ids[k] for k in subplot] + group:
        if cid not in focus:
            focus.append(cid)
    return focus


def _subplot_episodes(index: int, total: int) -> list[int]:
    """Every third episode; a series too short for that still gives each subplot one episode."""
    return [e for e in range(1, total + 1) if e % 3 == (index + 2) % 3] or [min(total, index + 1)]


def write_bible(config: SeriesConfig) -> SeriesBible:
    """Logline, arc, conflict, subplots, genre beats and an outline for every episode."""
    # composer: the world the premise composes (setting x genre x the config's words), logged as such
    comp = compose(config)
    template, world, key = comp.template, comp.world, comp.template.key
    premise = comp.premise.model_copy(update={"notes": [*comp.premise.notes, *comp.notes]})
    for note in premise.notes:
        log.info("%s: premise: %s", config.series_id, note)
    names = given_names(world)
    n = config.total_episodes
    rng = random.Random(f"{config.series_id}:bible")

    parts = arc_episodes(template, n)
    arc = [
        ArcPart(name=spec.name, episodes=eps, description=spec.description) for spec, eps in zip(template.arc, parts)
    ]
    phase_of = {e: (i, spec.name) for i, (spec, eps) in enumerate(zip(template.arc, parts)) for e in eps}
    placed = place_beats(template, n)
    genre_beats = [GenreBeat(beat=b.name, episode=e, description=fill(b.description, names)) for b, e in placed]
    main = world.main_conflict
    main_conflict = thread_text(main, names)
    subplots = [
        Subplot(
            title=sp.title,
            characters=[cast_ids(world)[k] for k in sp.chars],
            episodes=_subplot_episodes(i, n),
            description=fill(sp.description, names),
        )
        for i, sp in enumerate(world.subplots)
    ]
    confession_ep = next((e for b, e in placed if b.name == "confession"), 0)
    cliffhangers = world.cliffhangers or template.cliffhangers
    cliff_offset = rng.randrange(len(cliffhangers))
    flavor = template.flavors[0]
    used_titles: set[str] = set()
    outlines = []
    for e in range(1, n + 1):
        beats = [b for b, be in placed if be == e]
        phase_index, phase_name = phase_of[e]
        new = _conflict_for_episode(world, e)
        resolving = world.conflicts[(e - 1) % len(world.conflicts)]
        # composer: a composed series titles its episodes from its own pool; built-in worlds keep beat titles
        title = next((b.title for b in beats if b.title and b.title not in used_titles), "") if config.world else ""
        if not title:
            pool = [t for t in world.titles if t not in used_titles]
            title = pool[(e - 1) % len(pool)] if pool else f"{new.keyword} ({e}화)"
        if title in used_titles:
            title = f"{title} ({e}화)"
        used_titles.add(title)
        if e == n:
            main_event = fill(beats[0].description if beats else main.resolution, names)
        elif beats:
            main_event = fill(beats[0].description, names)
        else:
            main_event = fill(new.description, names)
        sub_events = [f"부분 해결 — {resolving.keyword}: {fill(resolving.resolution, names)}"]
        if e == n:
            sub_events.append(f"결말 — {main.keyword}: {fill(main.resolution, names)}")
        sub_events.append(f"새 갈등 — {thread_text(new, names)}")
        sub_events += [f"서브플롯 — {sp.title}" for i, sp in enumerate(world.subplots) if e in _subplot_episodes(i, n)]
        journey = next((BEAT_JOURNEYS[b.name] for b in beats if b.name in BEAT_JOURNEYS), JOURNEYS[flavor][phase_index])
        if e == n:
            cliff = "여운"
        elif "romance" in template.flavors and e == confession_ep - 1:
            cliff = "고백 직전"
        else:
            cliff = cliffhangers[(e + cliff_offset) % len(cliffhangers)]
        outlines.append(
            EpisodeOutline(
                episode_number=e,
                title=title,
                arc_phase=phase_name,
                main_event=main_event,
                sub_events=sub_events,
                character_focus=_focus(world, e, n),
                emotional_journey=journey,
                cliffhanger_type=cliff,
                beats=[b.name for b in beats],
            )
        )
    audience = fill("{a|을/를}", {"a": config.target_audience})
    duration = f"{float(config.episode_duration):g}"
    return SeriesBible(
        series_id=config.series_id,
        config=config,
        genre_key=key,
        logline=fill(world.logline, {**names, "theme": config.main_theme, "episodes": str(n), "genre": comp.genre_label})
        .rstrip(".")
        + ".",
        themes=list(dict.fromkeys([config.main_theme, *template.themes])),
        tone=f"{premise.tone or template.tone}. {audience} 겨냥해 회당 {duration}분 안에 웃음과 긴장을 담는다.",
        arc=arc,
        main_conflict=main_conflict,
        subplots=subplots,
        genre_beats=genre_beats,
        outlines=outlines,
        premise=premise,
        setting=comp.setting,
        locations=list(comp.locations),
    )
