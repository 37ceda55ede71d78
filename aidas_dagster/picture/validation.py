"""Plain checks of a finished cut against what the episode should be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aidas_dagster.picture.backdrops import resolve_kind
from aidas_dagster.picture.fonts import missing_glyphs
from aidas_dagster.picture.models import FinalCut
from aidas_dagster.picture.probe import MediaToolError, probe
from aidas_dagster.story.models import EpisodeScript
from aidas_dagster.voice.models import AudioTrack

DURATION_TOLERANCE = 0.5  # seconds
WIDTH, HEIGHT, FPS = 1920, 1080, 30


def cut_problems(cut: FinalCut, track: AudioTrack) -> tuple[list[str], dict[str, Any]]:
    """Problems with the cut's file, and what ffprobe said about it.

    The cut must be an MP4 with 1920×1080 30 fps H.264 video and AAC audio, as long as the dialogue
    track it was built from plus its intro and outro cards (within DURATION_TOLERANCE), with audio
    that lasts as long as the picture."""
    path = Path(cut.video_path)
    if not path.exists():
        return [f"{path} is missing"], {}
    try:
        info = probe(path)
    except MediaToolError as exc:
        return [f"{path} is not a readable video: {exc}"], {}
    problems = []
    if "mp4" not in str(info.get("format") or ""):
        problems.append(f"container {info.get('format')}, expected mp4")
    if info.get("video_codec") is None:
        problems.append("no video stream")
    elif info.get("video_codec") != "h264":
        problems.append(f"video codec {info.get('video_codec')}, expected h264")
    if (info.get("width"), info.get("height")) != (WIDTH, HEIGHT):
        problems.append(f"resolution {info.get('width')}x{info.get('height')}, expected {WIDTH}x{HEIGHT}")
    if abs(float(info.get("fps") or 0) - FPS) > 0.01:
        problems.append(f"frame rate {info.get('fps')}, expected {FPS}")
    if info.get("audio_codec") is None:
        problems.append("no audio stream")
    elif info.get("audio_codec") != "aac":
        problems.append(f"audio codec {info.get('audio_codec')}, expected aac")
    if cut.track_fingerprint is not None and cut.track_fingerprint != track.fingerprint:
        problems.append("the cut was built from an older dialogue track")
    expected = cut.intro_seconds + track.duration + cut.outro_seconds
    duration = float(info.get("duration") or 0)
    if abs(duration - expected) > DURATION_TOLERANCE:
        problems.append(
            f"duration {duration:.2f} s, expected {expected:.2f} s (dialogue track {track.duration:.2f} s "
            f"+ intro {cut.intro_seconds:.1f} s + outro {cut.outro_seconds:.1f} s)"
        )
    video_s, audio_s = info.get("video_duration"), info.get("audio_duration")
    if video_s is not None and audio_s is not None and abs(video_s - audio_s) > DURATION_TOLERANCE:
        problems.append(f"audio lasts {audio_s:.2f} s but the picture {video_s:.2f} s")
    return problems, info


def subtitle_text(script: EpisodeScript) -> str:
    """Every character the subtitles (and the title cards) will draw."""
    return script.title + "".join(line.text for _scene, line in script.lines())


def missing_subtitle_glyphs(script: EpisodeScript, font_path: Path) -> list[str]:
    """Characters of the script that the subtitle font cannot draw (they would show as tofu)."""
    return sorted(missing_glyphs(subtitle_text(script), font_path))


def generic_places(script: EpisodeScript, kinds: dict[str, str]) -> list[str]:
    """Scene places neither the bible's kinds nor the keyword rule know: drawn as the generic fallback."""
    return sorted({sc.location for sc in script.scenes if resolve_kind(sc.location, kinds) == "generic"})
