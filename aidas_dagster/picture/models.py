"""Typed records of the picture stage: the visual plan of every line, and the finished cut."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineClip(_Model):
    """How one line looks on screen.

    `kind="sprite"`: the offline renderer draws the speaker from `sprite_paths` (one PNG per mouth
    state: closed, half, open) and switches them per video frame as `mouth` says.
    `kind="video"`: a provider-rendered clip (e.g. HeyGen) at `video_path`.
    """

    index: int = Field(ge=0)
    scene: int = Field(ge=1)
    speaker: str
    strategy: Literal["full_avatar", "partial_avatar", "voice_only"]
    kind: Literal["sprite", "video", "card"]
    shot: Literal["single", "over_shoulder", "group", "card"] = "single"
    sprite_paths: list[str] = Field(default_factory=list)
    listener: str | None = None
    listener_sprite: str | None = None
    group_sprites: list[str] = Field(
        default_factory=list, description="group shot: closed-mouth sprites of the others present, in stage order"
    )
    video_path: str | None = None
    mouth: str = Field(default="", description="one digit per video frame of the line: 0 closed, 1 half, 2 open")
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class ClipPlan(_Model):
    series_id: str
    episode_number: int
    fps: int
    clips: list[LineClip]
    fingerprint: str


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
    render_seconds: float
    fingerprint: str
