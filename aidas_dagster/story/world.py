"""Story worlds: the concrete material the offline engine writes a series in.

A story world holds the cast, how the characters address each other, the pool of conflicts that
become plot threads, subplots, titles and places. It is built from story data: a built-in world
(assets_data/story/worlds/*.yaml, every role named) or a setting with the names chosen for it
(`world_from_data`). Korean text may hold `{key}` or `{key|이/가}` placeholders (a cast key, with
the particle chosen by the engine).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story import library
from aidas_dagster.story.genres import FALLBACK_GENRE, TEMPLATES, GenreTemplate, genre_key
from aidas_dagster.story.korean import fill, josa
from aidas_dagster.story.library import ConflictData, SettingData
from aidas_dagster.story.models import AgeGroup, Gender, Importance, Location, SeriesBible


@dataclass(frozen=True)
class CastSpec:
    key: str
    name: str
    given: str  # what friends call them
    role: str
    importance: Importance
    gender: Gender
    age: int
    occupation: str
    personality: tuple[str, ...]
    background: str
    goals: tuple[str, ...]
    secrets: tuple[str, ...]
    speech_style: str
    age_group: AgeGroup
    tone: str
    speaking_style: str
    home: str  # where they are usually found
    home_short: str  # the same place as said in dialogue
    work: str  # what keeps them busy, said in dialogue ("웹툰 마감")
    title: str = ""  # how people outside their circle address them; "" → given name + 씨
    family: str = ""  # family group; members address each other as family
    tics: tuple[str, ...] = ()  # interjections that open some of their lines
    detective: bool = False  # asks the questions in investigation scenes


@dataclass(frozen=True)
class AddressSpec:
    """How `speaker` addresses `listener`; after `close_at` intimacy the close form is used."""

    speaker: str
    listener: str
    vocative: str
    reference: str
    banmal: bool
    close_at: int = 101
    close_vocative: str = ""
    close_reference: str = ""
    close_banmal: bool = True


@dataclass(frozen=True)
class RelationSpec:
    a: str
    b: str
    type: str
    intimacy: int
    arc: str


@dataclass(frozen=True)
class ConflictSpec:
    keyword: str  # the noun phrase said in dialogue; also the thread's key
    description: str
    chars: tuple[str, ...]  # cast keys involved
    resolution: str  # how it is partly resolved


@dataclass(frozen=True)
class SubplotSpec:
    title: str
    chars: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class StoryWorld:
    key: str
    logline: str
    main_conflict: ConflictSpec
    cast: tuple[CastSpec, ...]
    addresses: tuple[AddressSpec, ...]
    relations: tuple[RelationSpec, ...]
    conflicts: tuple[ConflictSpec, ...]
    subplots: tuple[SubplotSpec, ...]
    titles: tuple[str, ...]
    places: tuple[tuple[str, str], ...]  # shared places: (location, said in dialogue)
    objects: tuple[str, ...]  # things that turn up in flavour lines
    cliffhangers: tuple[str, ...]  # cliffhanger types used in rotation
    lead_pair_type: str = "연인 후보"
    place_kinds: dict[str, str] = field(default_factory=dict)  # place name (shared or home) → backdrop kind


@dataclass(frozen=True)
class RoleChoice:
    """What the composer chose for one role of a setting; None → the role's first alternative."""

    name: str
    given: str
    occupation: str | None = None
    age: int | None = None
    personality: tuple[str, ...] | None = None
    background: str | None = None
    work: str | None = None


def age_group(age: int) -> AgeGroup:
    """The voice age band of an age (used when the data gives none)."""
    if age < 20:
        return "young"
    if age < 30:
        return "young_adult"
    if age < 45:
        return "adult"
    if age < 56:
        return "middle_age"
    return "senior"


_TEXT_PLACEHOLDER = re.compile(r"\{(\w+)(?:\|([^}]*))?\}")


def _fill_known(text: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders named in `values`; leave the others ({theme}, {lead_m}, ...) for later."""

    def sub(m: re.Match[str]) -> str:
        key, forms = m.group(1), m.group(2)
        if key not in values:
            return m.group(0)
        return josa(values[key], forms) if forms else values[key]

    return _TEXT_PLACEHOLDER.sub(sub, text)


def world_from_data(
    data: SettingData,
    cast: Mapping[str, RoleChoice] | None = None,
    *,
    logline: int = 0,
    main_conflict: int = 0,
    institution: int = 0,
) -> StoryWorld:
    """The runtime story world of a setting or built-in world.

    `cast` gives the chosen name (and optionally occupation, age, ...) per role key; a role not in it
    keeps its fixed `name`/`given` (built-in worlds) and the first of each list of alternatives.
    Every role is in the cast, in the data's order. `{institution}` is filled here with the chosen
    institution; cast keys, {theme}, {title}, ... stay for the bible to fill."""
    cast = cast or {}
    specs = []
    for role in data.roles:
        choice = cast.get(role.key) or RoleChoice(role.name, role.given)
        if not (choice.name and choice.given):
            raise ValueError(f"setting {data.key!r}: role {role.key!r} has no fixed name; choose one in `cast`")
        age = choice.age if choice.age is not None else role.age[0]
        specs.append(
            CastSpec(
                key=role.key,
                name=choice.name,
                given=choice.given,
                role=role.role,
                importance=role.importance,
                gender=role.gender,
                age=age,
                occupation=choice.occupation or role.occupations[0],
                personality=choice.personality or tuple(role.personality[:3]),
                background=choice.background or role.backgrounds[0],
                goals=tuple(role.goals),
                secrets=tuple(role.secrets),
                speech_style=role.speech_style,
                age_group=role.age_group or age_group(age),
                tone=role.voice_tone,
                speaking_style=role.speaking_style,
                home=role.home.name,
                home_short=role.home.said,
                work=choice.work or role.work[0],
                title=role.title,
                family=role.family,
                tics=tuple(role.tics),
                detective=role.detective,
            )
        )
    names = {s.key: s.given for s in specs}
    known = {"institution": data.institutions[institution % len(data.institutions)]}

    def text(value: str) -> str:
        return _fill_known(value, known)

    def conflict(c: ConflictData) -> ConflictSpec:
        return ConflictSpec(c.keyword, text(c.description), tuple(c.chars), text(c.resolution))

    kinds = {loc.name: loc.kind for loc in data.locations}
    for role in data.roles:
        kinds.setdefault(role.home.name, role.home.kind)
    return StoryWorld(
        key=data.key,
        logline=text(data.loglines[logline % len(data.loglines)]),
        main_conflict=conflict(data.main_conflicts[main_conflict % len(data.main_conflicts)]),
        cast=tuple(specs),
        addresses=tuple(
            AddressSpec(
                a.speaker,
                a.listener,
                _fill_known(a.vocative, {**names, **known}),
                _fill_known(a.reference, {**names, **known}),
                a.banmal,
                close_at=a.close_at,
                close_vocative=_fill_known(a.close_vocative, {**names, **known}),
                close_reference=_fill_known(a.close_reference, {**names, **known}),
                close_banmal=a.close_banmal,
            )
            for a in data.addresses
        ),
        relations=tuple(RelationSpec(r.a, r.b, r.type, r.intimacy, text(r.arc)) for r in data.relations),
        conflicts=tuple(conflict(c) for c in data.conflicts),
        subplots=tuple(SubplotSpec(s.title, tuple(s.chars), text(s.description)) for s in data.subplots),
        titles=tuple(data.titles),
        places=tuple((loc.name, loc.said) for loc in data.locations),
        objects=tuple(data.props),
        cliffhangers=tuple(data.cliffhangers),
        lead_pair_type=data.lead_pair_type,
        place_kinds=kinds,
    )


def locations(world: StoryWorld) -> list[Location]:
    """Every place of the world with its backdrop kind: the shared places, then the homes."""
    said = dict(world.places)
    for c in world.cast:
        said.setdefault(c.home, c.home_short)
    return [Location(name=name, said=s, kind=world.place_kinds.get(name, "generic")) for name, s in said.items()]


@functools.cache
def _world(key: str) -> StoryWorld:
    return world_from_data(library.world_data(key))


class _Worlds(Mapping[str, StoryWorld]):
    """The built-in story worlds by key, read from the library on first use."""

    def __getitem__(self, key: str) -> StoryWorld:
        if key not in library.worlds():
            raise KeyError(key)
        return _world(key)

    def __iter__(self) -> Iterator[str]:
        return iter(library.worlds())

    def __len__(self) -> int:
        return len(library.worlds())


WORLDS: Mapping[str, StoryWorld] = _Worlds()

# TEMPORARY, until the composer writes a config without `world:` from its premise: the built-in
# world each genre wrote in before the worlds became data (a genre not listed: the drama's world).
GENRE_WORLDS = {
    "romance": "first_love",
    "romantic_comedy": "first_love",
    "thriller": "gallery_case",
    "comedy": "happy_arcade",
    "drama": "printing_house",
}


def world_key(config: SeriesConfig, genre: str) -> str:
    """The built-in world a series is written in: the config's `world`, else its genre's (temporary)."""
    return config.world or GENRE_WORLDS.get(genre, GENRE_WORLDS[FALLBACK_GENRE])


def cast_ids(world: StoryWorld) -> dict[str, str]:
    """Cast key -> character id, in cast order (CHAR001, CHAR002, ...): the one numbering both bible and roster use."""
    return {c.key: f"CHAR{i:03d}" for i, c in enumerate(world.cast, 1)}


def world_of(bible: SeriesBible) -> tuple[GenreTemplate, StoryWorld]:
    key = bible.genre_key if bible.genre_key in TEMPLATES else genre_key(bible.config.genre)
    return TEMPLATES[key], WORLDS[world_key(bible.config, key)]


def given_names(world: StoryWorld) -> dict[str, str]:
    """Cast key -> the given name used in synopses."""
    return {c.key: c.given for c in world.cast}


def thread_text(conflict: ConflictSpec, names: dict[str, str]) -> str:
    return f"{conflict.keyword}: {fill(conflict.description, names)}"
