"""Plain checks of a finished cut against what the episode should be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aidas_dagster.picture.models import FinalCut
from aidas_dagster.picture.probe import probe
from aidas_dagster.voice.models import AudioTrack

CARD_SECONDS_TOTAL_TOLERANCE = 0.5


def cut_problems(cut: FinalCut, track: AudioTrack, cards_seconds: float = 6.0) -> tuple[list[str], dict[str, Any]]:
    """Problems with the cut's file, and what ffprobe said about it."""
    path = Path(cut.video_path)
    if not path.exists():
        return [f"{path} is missing"], {}
    info = probe(path)
    problems = []
    if info.get("video_codec") != "h264":
        problems.append(f"video codec {info.get('video_codec')}, expected h264")
    if (info.get("width"), info.get("height")) != (1920, 1080):
        problems.append(f"resolution {info.get('width')}x{info.get('height')}, expected 1920x1080")
    if abs(float(info.get("fps") or 0) - 30.0) > 0.01:
        problems.append(f"frame rate {info.get('fps')}, expected 30")
    if info.get("audio_codec") != "aac":
        problems.append(f"audio codec {info.get('audio_codec')}, expected aac")
    expected = track.duration + cards_seconds
    duration = float(info.get("duration") or 0)
    if abs(duration - expected) > CARD_SECONDS_TOTAL_TOLERANCE:
        problems.append(f"duration {duration:.2f} s, expected {expected:.2f} s (dialogue track + intro/outro)")
    return problems, info
