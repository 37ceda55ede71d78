"""Typed records of the picture stage: the visual plan of every line, and the finished cut."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aidas_dagster.core.storage import Storage, file_digest, fingerprint


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Cutaway(_Model):
    """A short listener reaction shot at the end of a line (spec 4.3 shot/reverse-shot): the
    speaker keeps talking off screen while the listener reacts."""

    character: str = Field(description="the listener's character id")
    sprite: str = Field(description="the listener's closed-mouth front sprite")
    reaction: str = Field(default="", description="the script's reaction text, e.g. '얼굴이 빨개진다'")
    seconds: float = Field(gt=0, description="how long the cutaway lasts, at the end of the line")


class LineClip(_Model):
    """How one line looks on screen.

    `kind="sprite"`: the offline renderer draws the speaker from `sprite_paths` (one PNG per mouth
    state: closed, half, open) and switches them per video frame as `mouth` says.
    `kind="card"`: a voice-only line: a contextual card (portrait, name, role) over the backdrop.
    `external_clip`: a provider-rendered video of the line (e.g. HeyGen, lip-synced to the line's
    audio) shown instead of the drawn picture; the subtitle is burned over it in the same pass.
    The drawn plan stays beside it, so a missing clip can fall back to it.
    """

    index: int = Field(ge=0)
    scene: int = Field(ge=1)
    speaker: str
    strategy: Literal["full_avatar", "partial_avatar", "voice_only"]
    kind: Literal["sprite", "card"]
    shot: Literal["single", "over_shoulder", "group", "card"] = "single"
    sprite_paths: list[str] = Field(default_factory=list)
    listener: str | None = None
    listener_sprite: str | None = None
    group_sprites: list[str] = Field(
        default_factory=list, description="group shot: closed-mouth sprites of the others present, in stage order"
    )
    portrait: str | None = Field(default=None, description="card: the speaker's front sprite, shown small as an icon")
    cutaway: Cutaway | None = None
    external_clip: str | None = Field(default=None, description="an MP4 of this line from an avatar provider")
    mouth: str = Field(default="", description="one digit per video frame of the line: 0 closed, 1 half, 2 open")
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class ClipPlan(_Model):
    series_id: str
    episode_number: int
    fps: int
    clips: list[LineClip]
    fingerprint: str

    def with_external_clips(self, clips_by_line: dict[int, str]) -> ClipPlan:
        """The plan with provider clips for some lines (line index → MP4 path). The fingerprint
        takes in each clip's content, so a cut made before the clips arrived is not reused."""
        clips = [c.model_copy(update={"external_clip": clips_by_line.get(c.index, c.external_clip)}) for c in self.clips]
        used = sorted((c.index, file_digest(Path(c.external_clip))) for c in clips if c.external_clip)
        return self.model_copy(update={"clips": clips, "fingerprint": fingerprint(self.fingerprint, used) if used else self.fingerprint})


class FinalCut(_Model):
    series_id: str
    episode_number: int
    video_path: str
    srt_path: str
    thumbnail_path: str
    duration: float
    width: int
    height: int
    fps: int
    segments: list[str] = Field(description="content-addressed encoded segments joined by stream copy")
    segments_encoded: int = Field(description="segments encoded in this run (others came from the cache)")
    audio_pieces: int = Field(default=0, description="AAC pieces the soundtrack is joined from")
    audio_pieces_encoded: int = Field(default=0, description="audio pieces encoded in this run (others came from the cache)")
    audio_frames_encoded: int = Field(default=0, description="AAC frames encoded in this run, roll excluded")
    audio_frames: int = Field(default=0, description="AAC frames in the soundtrack")
    loudness_lufs: float | None = Field(default=None, description="integrated loudness of the mix (ebur128)")
    audio_gain_db: float | None = Field(default=None, description="gain that brought the mix to the loudness target")
    render_seconds: float
    fingerprint: str
    intro_seconds: float = Field(default=3.0, description="title card before the dialogue track")
    outro_seconds: float = Field(default=3.0, description="end card after the dialogue track")
    track_duration: float | None = Field(default=None, description="length of the dialogue track the cut was built from")
    track_fingerprint: str | None = Field(default=None, description="fingerprint of that dialogue track")


def load_plan(storage: Storage, series_id: str, episode: int) -> ClipPlan:
    files = storage.episode(series_id, episode)
    return files.load(files.clips, ClipPlan)


def load_final(storage: Storage, series_id: str, episode: int) -> FinalCut:
    files = storage.episode(series_id, episode)
    return files.load(files.final, FinalCut)
