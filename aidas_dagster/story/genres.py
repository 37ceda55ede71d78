"""Genre templates (spec 7.1): how a series of a genre is paced.

A genre template says its acts, the beats that must happen and where (by progress through the
series), the tone, the dialogue flavours and the cliffhangers it rotates. The templates are data:
assets_data/story/genres/*.yaml (story.library.GenreData), loaded once on first use. Korean text may
hold `{key}` or `{key|이/가}` placeholders (a cast key, with the particle chosen by the engine).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from aidas_dagster.story import library
from aidas_dagster.story.library import GenreData

FALLBACK_GENRE = "drama"  # a genre no word of the library names


@dataclass(frozen=True)
class BeatSpec:
    name: str
    progress: float  # 0.0 = first episode, 1.0 = last
    description: str
    title: str = ""  # episode title used when this beat lands in an episode


@dataclass(frozen=True)
class ArcSpec:
    name: str
    end: float  # fraction of the series at which this part ends
    description: str


@dataclass(frozen=True)
class GenreTemplate:
    key: str
    label: str
    structure: tuple[tuple[str, str], ...]  # act -> description, as in the spec
    required_elements: tuple[str, ...]
    pacing: tuple[tuple[str, float], ...]
    min_characters: int
    character_roles: tuple[str, ...]
    beats: tuple[BeatSpec, ...]
    arc: tuple[ArcSpec, ArcSpec, ArcSpec, ArcSpec]
    tone: str
    themes: tuple[str, ...]
    flavors: tuple[str, ...]  # dialogue flavours the engine mixes in
    cliffhangers: tuple[str, ...]  # cliffhanger types used in rotation (a world may bring its own)
    comedy_beats_per_episode: int = 0


def template_from_data(data: GenreData) -> GenreTemplate:
    beats = tuple(BeatSpec(b.name, b.progress, b.description, b.title) for b in data.beats)
    arc = tuple(ArcSpec(a.name, a.end, a.description) for a in data.arc)
    return GenreTemplate(
        key=data.key,
        label=data.label,
        structure=tuple((act, text) for act, text in data.structure),
        required_elements=tuple(data.required_elements) or tuple(b.name for b in beats),
        pacing=tuple(data.pacing.items()),
        min_characters=data.min_characters,
        character_roles=tuple(data.character_roles),
        beats=beats,
        arc=(arc[0], arc[1], arc[2], arc[3]),
        tone=data.tone,
        themes=tuple(data.themes),
        flavors=tuple(data.flavors),
        cliffhangers=tuple(data.cliffhangers),
        comedy_beats_per_episode=data.comedy_beats_per_episode,
    )


@functools.cache
def _templates() -> dict[str, GenreTemplate]:
    return {key: template_from_data(data) for key, data in library.genres().items()}


class _Templates(Mapping[str, GenreTemplate]):
    """The genre templates by key, read from the library on first use (a bad file fails there, naming itself)."""

    def __getitem__(self, key: str) -> GenreTemplate:
        return _templates()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(_templates())

    def __len__(self) -> int:
        return len(_templates())


TEMPLATES: Mapping[str, GenreTemplate] = _Templates()


def _compact(text: str) -> str:
    return re.sub(r"[\s\-_/·,.&+()]", "", text.lower())


def genre_match(genre: str, library_genres: Mapping[str, GenreData] | None = None) -> tuple[str, list[str]]:
    """The genre key a free-text genre (Korean or English) names, and the library words that matched.

    A genre matches when one of its `words` occurs in the text, or when every genre it `blend`s matches
    (로맨스 + 코미디 → romantic comedy). Of several, the highest `priority` wins, then the longest word.
    Text no genre's words match is the fallback genre (drama), with no words. `library_genres`: the
    genres to choose from (default: the library's)."""
    text = _compact(genre)
    data = library.genres() if library_genres is None else library_genres
    found = {key: [w for w in g.words if _compact(w) and _compact(w) in text] for key, g in data.items()}
    ranked: list[tuple[int, int, str, list[str]]] = []
    for key, g in data.items():
        words = found[key]
        if not words and g.blend and all(found.get(b) for b in g.blend):
            words = [w for b in g.blend for w in found[b]]
        if words:
            ranked.append((-g.priority, -max(len(_compact(w)) for w in words), key, words))
    if not ranked:
        return (FALLBACK_GENRE if FALLBACK_GENRE in data else next(iter(data))), []
    _p, _l, key, words = min(ranked)
    return key, words


def genre_key(genre: str) -> str:
    """Map a free-text genre (Korean or English) to a template key; unknown genres are `drama`."""
    return genre_match(genre)[0]


# The spec names some required elements in the plural or by their purpose; the beat that fulfils them.
ELEMENT_BEATS = {
    "red_herrings": "red_herring",
    "clue_revelations": "clue_revelation",
    "true_villain_reveal": "final_twist",
    "misunderstandings": "misunderstanding",
    "running_gags": "running_gag",
    "slapstick_moments": "slapstick_moment",
}


def missing_elements(template: GenreTemplate, placed_beats: list[str]) -> list[str]:
    """The template's required elements (spec 7.1) that no placed beat fulfils."""
    placed = set(placed_beats)
    return [e for e in template.required_elements if ELEMENT_BEATS.get(e, e) not in placed]


def template_for(genre: str) -> GenreTemplate:
    """The template for a free-text genre or a template key."""
    return TEMPLATES[genre] if genre in TEMPLATES else TEMPLATES[genre_key(genre)]


def episode_at(progress: float, total_episodes: int) -> int:
    """The episode at a point of the series (0.0 → 1, 1.0 → last); rounds half up, never banker's."""
    return max(1, min(total_episodes, math.floor(progress * total_episodes + 0.5)))


def place_beats(template: GenreTemplate, total_episodes: int) -> list[tuple[BeatSpec, int]]:
    return [(beat, episode_at(beat.progress, total_episodes)) for beat in template.beats]


def arc_episodes(template: GenreTemplate, total_episodes: int) -> list[list[int]]:
    """Split episodes 1..N into the four arc parts; every episode in exactly one part.

    With four or more episodes every part gets at least one; shorter series leave a part empty.
    """
    n = total_episodes
    ends: list[int] = []
    prev = 0
    for i, part in enumerate(template.arc):
        end = n if i == 3 else math.floor(part.end * n + 0.5)
        if n >= 4:
            end = max(end, prev + 1)  # each part non-empty
            end = min(end, n - (3 - i))  # leave room for the parts after it
        end = max(prev, min(end, n))
        ends.append(end)
        prev = end
    parts, start = [], 1
    for end in ends:
        parts.append(list(range(start, end + 1)))
        start = end + 1
    return parts
