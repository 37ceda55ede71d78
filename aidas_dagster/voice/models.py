"""Typed records of the voice booth: one synthesised line, and the laid-out dialogue track."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from aidas_dagster.core.storage import Storage


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WordTiming(_Model):
    text: str
    start: float = Field(ge=0, description="seconds from the start of the line's audio")
    end: float = Field(ge=0)


class SynthesizedLine(_Model):
    """What a speech provider returns for one line (before it is placed on the track)."""

    wav_path: str = Field(description="mono 16-bit PCM WAV, cached by content")
    duration: float = Field(gt=0)
    words: list[WordTiming] = Field(default_factory=list)
    provider: str
    cache_hit: bool = False


class TrackLine(_Model):
    """One line placed on the episode's dialogue track (times in seconds on that track)."""

    index: int = Field(ge=0, description="0-based position of the line in the script")
    scene: int = Field(ge=1)
    speaker: str = Field(description="character id")
    speaker_name: str
    text: str
    emotion: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    wav_path: str
    words: list[WordTiming] = Field(default_factory=list, description="times relative to the track")
    provider: str
    start_sample: int | None = Field(default=None, ge=0, description="exact start on the track's sample grid")
    end_sample: int | None = Field(default=None, ge=0)


class TrackScene(_Model):
    number: int = Field(ge=1)
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class AudioTrack(_Model):
    """The dialogue track of one episode: where every line sits, and the mixed WAV."""

    series_id: str
    episode_number: int
    sample_rate: int
    dialogue_wav: str
    duration: float = Field(gt=0)
    scenes: list[TrackScene]
    lines: list[TrackLine]
    fingerprint: str = Field(description="hash of everything that shaped this track, where its lines sit included")
    target_seconds: float | None = Field(default=None, description="the length the pauses were stretched toward")
    lead_in: float = Field(default=0.0, ge=0)
    total_samples: int | None = Field(default=None, gt=0)


def load_track(storage: Storage, series_id: str, episode: int) -> AudioTrack:
    files = storage.episode(series_id, episode)
    return files.load(files.track, AudioTrack)
