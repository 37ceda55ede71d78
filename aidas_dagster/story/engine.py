"""The story engine contract, and the offline engine behind it.

A story engine writes the bible, the roster and each episode's script from the continuity
context. The offline engine is deterministic: the same inputs give the same script.
"""

from __future__ import annotations

from typing import Protocol

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story import offline_engine
from aidas_dagster.story.models import EpisodeScript, Roster, SeriesBible, StoryState, VoiceCaster


class StoryEngine(Protocol):
    name: str

    def write_bible(self, config: SeriesConfig) -> SeriesBible: ...

    def write_roster(self, config: SeriesConfig, bible: SeriesBible, cast_voices: VoiceCaster) -> Roster: ...

    def initial_state(self, bible: SeriesBible, roster: Roster) -> StoryState: ...

    def write_script(self, bible: SeriesBible, roster: Roster, previous: StoryState, episode: int) -> EpisodeScript: ...

    def revise_script(
        self, bible: SeriesBible, roster: Roster, previous: StoryState, script: EpisodeScript, problems: list[str]
    ) -> EpisodeScript: ...


class OfflineStoryEngine:
    """Genre templates and a Korean line library; no network, no randomness beyond seeded choice."""

    name = "offline-v1"

    def write_bible(self, config: SeriesConfig) -> SeriesBible:
        return offline_engine.write_bible(config)

    def write_roster(self, config: SeriesConfig, bible: SeriesBible, cast_voices: VoiceCaster) -> Roster:
        return offline_engine.write_roster(config, bible, cast_voices)

    def initial_state(self, bible: SeriesBible, roster: Roster) -> StoryState:
        return offline_engine.initial_state(bible, roster)

    def write_script(self, bible: SeriesBible, roster: Roster, previous: StoryState, episode: int) -> EpisodeScript:
        return offline_engine.write_script(bible, roster, previous, episode)

    def revise_script(
        self, bible: SeriesBible, roster: Roster, previous: StoryState, script: EpisodeScript, problems: list[str]
    ) -> EpisodeScript:
        return offline_engine.revise_script(bible, roster, previous, script, problems)
