"""The offline story engine: writes the bible, the cast and each episode's Korean script.

Deterministic by construction: every choice comes from `random.Random` seeded with the series id
and episode, and nothing iterates over an unordered set, so the same inputs give byte-identical
output (the pipeline caches on it).

A facade over the writers' room modules, which the engine registry (story.engine) calls:
story.bible (the series bible), story.cast (roster and the state before episode 1),
story.writer (episode scripts) and story.reviser (rule-based revision). Grammar helpers are in
story.korean, the line library in story.lines, the move rules in story.moves, the worlds in story.world.
"""

from __future__ import annotations

from aidas_dagster.story.bible import write_bible
from aidas_dagster.story.cast import initial_state, write_roster
from aidas_dagster.story.reviser import revise_script
from aidas_dagster.story.writer import write_script

__all__ = ["initial_state", "revise_script", "write_bible", "write_roster", "write_script"]
