"""Typed records of the writers' room: bible, roster, scripts and the story state between episodes.

These models are the contract between the story engines (offline and LLM) and every later stage;
the JSON files under the storage root are their `model_dump_json` form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.core.storage import Storage

Importance = Literal["main", "major_supporting", "supporting", "minor"]
AvatarStrategy = Literal["full_avatar", "partial_avatar", "voice_only"]
Gender = Literal["male", "female"]
AgeGroup = Literal["young", "young_adult", "adult", "middle_age", "senior"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VoiceProfile(_Model):
    gender: Gender
    age_group: AgeGroup
    tone: str
    speaking_style: str


class VoiceCasting(_Model):
    """The voice a character keeps for the life of the series.

    `provider`/`voice_id` name the character's primary voice. Every character also holds a fixed
    voice on each lower provider (Google, then offline espeak-ng), so a failover keeps them
    recognisable. `pitch`, `pitch_range` and `rate` are the offline (espeak-ng) modulation.
    """

    provider: str = Field(description="primary provider: elevenlabs | google | offline")
    voice_id: str = Field(description="primary provider's voice id; for offline, an espeak-ng variant such as 'f3'")
    pitch: int = Field(ge=0, le=99, description="offline base pitch (espeak scale 0-99)")
    pitch_range: int = Field(ge=0, le=99, description="offline intonation range (espeak scale 0-99)")
    rate: int = Field(ge=80, le=450, description="offline words per minute")
    backup_voice_id: str = Field(default="", description="second espeak-ng variant if the first is missing")
    elevenlabs_voice_id: str = Field(default="", description="ElevenLabs voice id; empty when not cast on ElevenLabs")
    elevenlabs_speed: float = Field(default=1.0, ge=0.7, le=1.2, description="ElevenLabs voice_settings.speed")
    elevenlabs_stability: float = Field(default=0.5, ge=0.0, le=1.0, description="ElevenLabs voice_settings.stability")
    google_voice: str = Field(default="", description="Google Cloud TTS voice name, e.g. ko-KR-Wavenet-C")
    google_pitch: float = Field(default=0.0, ge=-20.0, le=20.0, description="Google pitch, semitones")
    google_rate: float = Field(default=1.0, ge=0.25, le=2.0, description="Google speakingRate")
    offline_voice_id: str = Field(default="", description="espeak-ng variant; empty means voice_id (offline rosters)")


# The voice stage owns casting (voice/casting.py); the story stage asks it, through the voice
# stage's resource, to cast a roster it writes: (id, profile, importance) in, a casting per id out.
VoiceCaster = Callable[[Iterable[tuple[str, VoiceProfile, Importance]]], dict[str, VoiceCasting]]


class CastsVoices(Protocol):
    """The voice stage's voice_booth resource, as the story stage's roster asset sees it."""

    def cast_voices(self, characters: Iterable[tuple[str, VoiceProfile, Importance]]) -> dict[str, VoiceCasting]: ...


class Appearance(_Model):
    """What the procedural avatar looks like; seeded by the character id so it never drifts."""

    skin: str  # hex colours
    hair: str
    hair_style: Literal["short", "side_part", "long", "bob", "ponytail", "bald", "curly"]
    outfit: str
    outfit_style: Literal["suit", "casual", "dress", "hoodie", "apron", "cardigan"]
    eye: str
    accessory: Literal["none", "glasses", "earrings", "cap", "tie", "beard"]


class Character(_Model):
    id: str = Field(pattern=r"^CHAR\d{3}$")
    name: str
    role: str
    importance: Importance
    gender: Gender
    age: int = Field(ge=5, le=100)
    occupation: str
    personality: list[str] = Field(min_length=1)
    background: str
    goals: list[str] = Field(min_length=1)
    secrets: list[str] = Field(default_factory=list)
    speech_style: str = Field(description="e.g. 반말, 존댓말, 사투리")
    voice_profile: VoiceProfile
    appearance: Appearance
    avatar_strategy: AvatarStrategy
    voice: VoiceCasting


class Relationship(_Model):
    a: str = Field(description="character id")
    b: str = Field(description="character id")
    type: str = Field(description="e.g. 연인 후보, 절친, 라이벌, 가족, 전 연인, 동료")
    intimacy: int = Field(ge=0, le=100)
    potential_arc: str


class Roster(_Model):
    series_id: str
    characters: list[Character] = Field(min_length=1)
    relationships: list[Relationship]

    def by_id(self) -> dict[str, Character]:
        return {c.id: c for c in self.characters}

    def character(self, char_id: str) -> Character:
        for c in self.characters:
            if c.id == char_id:
                return c
        raise KeyError(f"character {char_id!r} is not in the roster of {self.series_id}")


class ArcPart(_Model):
    name: str
    episodes: list[int]
    description: str


class Subplot(_Model):
    title: str
    characters: list[str]
    episodes: list[int]
    description: str


class GenreBeat(_Model):
    beat: str = Field(description="e.g. first_meeting, confession, major_crisis")
    episode: int
    description: str


class EpisodeOutline(_Model):
    episode_number: int = Field(ge=1)
    title: str
    arc_phase: str
    main_event: str
    sub_events: list[str]
    character_focus: list[str] = Field(description="character ids")
    emotional_journey: str
    cliffhanger_type: str
    beats: list[str] = Field(default_factory=list, description="genre beats placed in this episode")


class CastPlanEntry(_Model):
    """Who the bible's story needs, before the cast is written in full (keeps names consistent)."""

    id: str
    name: str
    role: str
    importance: Importance


class Location(_Model):
    """A place of the series: `name` as scenes write it, `said` as characters say it in dialogue,
    `kind` the kind of place the picture stage draws (one of story.place_kinds.BACKDROP_KINDS)."""

    name: str
    said: str
    kind: str


class PremiseMatch(_Model):
    """One conclusion of the premise analysis and the config words that led to it."""

    value: str
    words: list[str] = Field(default_factory=list, description="config words that matched")


class Premise(_Model):
    """What the offline premise analysis read from the config, and why (the matched words)."""

    settings: list[PremiseMatch] = Field(description="setting keys, best first; empty when nothing matched")
    genre: PremiseMatch = Field(description="genre key of the pacing template")
    roles: list[PremiseMatch] = Field(default_factory=list, description="the protagonists' roles (occupations)")
    conflict: str = Field(default="", description="the central conflict in the config's words")
    tone: str = ""
    nouns: list[str] = Field(default_factory=list, description="the config's own content words")
    composed_from_config: bool = Field(default=False, description="no setting matched: composed from the config's words")
    notes: list[str] = Field(default_factory=list, description="what the analysis decided, for the log")


class SeriesBible(_Model):
    series_id: str
    config: SeriesConfig
    genre_key: str = Field(description="template used: romance, thriller, comedy, romantic_comedy, drama")
    logline: str
    themes: list[str]
    tone: str
    arc: list[ArcPart] = Field(min_length=4, max_length=4)
    main_conflict: str
    subplots: list[Subplot] = Field(min_length=2, max_length=3)
    genre_beats: list[GenreBeat]
    outlines: list[EpisodeOutline]
    cast_plan: list[CastPlanEntry] = Field(default_factory=list, description="filled by writers that plan the cast in the bible")
    premise: Premise | None = Field(default=None, description="the premise analysis the bible was written from")
    setting: str = Field(default="", description="setting key of the story library, or '' (built-in world / composed)")
    locations: list[Location] = Field(default_factory=list, description="every place of the series with its kind")

    def outline(self, episode: int) -> EpisodeOutline:
        for o in self.outlines:
            if o.episode_number == episode:
                return o
        raise KeyError(f"series {self.series_id} has no outline for episode {episode}")


class Line(_Model):
    speaker: str = Field(description="character id")
    text: str = Field(min_length=1)
    emotion: str = Field(description="neutral, happy, sad, angry, surprised, shy, worried, excited, calm, tense")
    listener: str | None = Field(default=None, description="character id of who is addressed")
    reaction: str = Field(default="", description="the listener's visible reaction")


class Scene(_Model):
    number: int = Field(ge=1)
    location: str
    time_of_day: str
    atmosphere: str
    characters: list[str] = Field(description="character ids present")
    lines: list[Line] = Field(min_length=1)


class CharacterState(_Model):
    emotional_state: str
    location: str
    active_goals: list[str]
    status: Literal["active", "absent", "dead"] = "active"


class StoryState(_Model):
    """Where the story stands after an episode: the next episode is written from this."""

    after_episode: int = Field(ge=0)
    character_states: dict[str, CharacterState]
    relationships: dict[str, int] = Field(description="'CHAR001-CHAR002' -> intimacy 0-100")
    key_events: list[str]
    open_threads: list[str]
    resolved_threads: list[str]
    summaries: list[str] = Field(description="one summary per episode so far, oldest first")


class EpisodeScript(_Model):
    series_id: str
    episode_number: int = Field(ge=1)
    title: str
    scenes: list[Scene] = Field(min_length=1)
    summary: str
    key_events: list[str]
    new_conflict: str
    partly_resolved: str
    cliffhanger: str
    character_developments: dict[str, str] = Field(default_factory=dict)
    relationship_changes: dict[str, int] = Field(default_factory=dict, description="pair -> intimacy delta")
    state_after: StoryState
    writer: str = Field(default="offline", description="which engine wrote it, or 'override'")

    def lines(self) -> list[tuple[Scene, Line]]:
        return [(scene, line) for scene in self.scenes for line in scene.lines]

    @property
    def line_count(self) -> int:
        return sum(len(s.lines) for s in self.scenes)


def load_bible(storage: Storage, series_id: str) -> SeriesBible:
    files = storage.series(series_id)
    return files.load(files.bible, SeriesBible)


def load_roster(storage: Storage, series_id: str) -> Roster:
    files = storage.series(series_id)
    return files.load(files.roster, Roster)


def load_script(storage: Storage, series_id: str, episode: int) -> EpisodeScript:
    files = storage.episode(series_id, episode)
    return files.load(files.script, EpisodeScript)
