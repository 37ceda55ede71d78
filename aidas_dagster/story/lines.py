"""The offline writer's line library: Korean line templates and the text tables around them.

The text is data: assets_data/story/lines/*.yaml (validated by story.library on load, once per
process); this module only gives the writer its tables under their names. Lines are written in
polite speech (해요체) and turned into 반말 where the pair speaks so; placeholders are those of the
writer ({L}, {you}, {T}, {K}, ...; see story.writer).
"""

from __future__ import annotations

from aidas_dagster.story.library import EMOTIONS, line_library

_LIB = line_library()

# move -> (default emotion, templates); a template may start with "@emotion " to override.
LINES: dict[str, tuple[str, tuple[str, ...]]] = {
    move: (ml.emotion, tuple(ml.lines)) for move, ml in _LIB.dialogue.moves.items()
}
# Cliffhanger lines by type; the last line of every episode.
CLIFF_LINES: dict[str, tuple[str, tuple[str, ...]]] = {
    kind: (ml.emotion, tuple(ml.lines)) for kind, ml in _LIB.cliffhangers.lines.items()
}
CLIFF_DESCRIPTIONS: dict[str, str] = dict(_LIB.cliffhangers.descriptions)
# Short follow-ups that extend a brief statement in the same mood (the offline voice needs ~25 syllables a line).
TAILS: dict[str, tuple[str, ...]] = {emotion: tuple(t) for emotion, t in _LIB.tails.tails.items()}
# Calm follow-ups about the speaker (the listener-directed ones only follow supporting lines).
CALM_SELF_TAILS: tuple[str, ...] = tuple(_LIB.tails.calm_self)
REACTIONS: dict[str, tuple[str, ...]] = {emotion: tuple(r) for emotion, r in _LIB.emotions.reactions.items()}
EMOTION_WORDS: dict[str, str] = dict(_LIB.emotions.words)
DEVELOPMENT_LINES: dict[str, str] = dict(_LIB.emotions.developments)
ATMOSPHERES: dict[str, tuple[str, ...]] = {job: tuple(a) for job, a in _LIB.scenes.atmospheres.items()}
THRILLER_ATMOSPHERES: tuple[str, ...] = tuple(_LIB.scenes.thriller_atmospheres)
TIMES: tuple[str, ...] = tuple(_LIB.scenes.times)
JOURNEYS: dict[str, tuple[str, ...]] = {flavor: tuple(j) for flavor, j in _LIB.scenes.journeys.items()}
BEAT_JOURNEYS: dict[str, str] = dict(_LIB.scenes.beat_journeys)

__all__ = [
    "ATMOSPHERES",
    "BEAT_JOURNEYS",
    "CALM_SELF_TAILS",
    "CLIFF_DESCRIPTIONS",
    "CLIFF_LINES",
    "DEVELOPMENT_LINES",
    "EMOTIONS",
    "EMOTION_WORDS",
    "JOURNEYS",
    "LINES",
    "REACTIONS",
    "TAILS",
    "THRILLER_ATMOSPHERES",
    "TIMES",
]
