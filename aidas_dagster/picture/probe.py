"""Where ffmpeg/ffprobe are, and what ffprobe says about a media file."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any


class MediaToolError(RuntimeError):
    pass


@functools.cache
def ffmpeg_exe() -> str:
    """The system ffmpeg, else the one bundled with imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # pragma: no cover - depends on the machine
        raise MediaToolError("ffmpeg not found: install Debian 'ffmpeg' or the imageio-ffmpeg package") from exc


@functools.cache
def ffprobe_exe() -> str:
    found = shutil.which("ffprobe")
    if not found:
        raise MediaToolError("ffprobe not found: install Debian 'ffmpeg'")
    return found


def _rate(text: str | None) -> float | None:
    if not text or text in ("0/0", "N/A"):
        return None
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None


def probe(path: Path | str) -> dict[str, Any]:
    """Duration (s), size in bytes, video codec/width/height/fps/frames and audio codec/rate/channels."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: cannot probe a missing file")
    cmd = [ffprobe_exe(), "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise MediaToolError(f"ffprobe failed on {path}: {done.stderr.strip()[-800:]}")
    data = json.loads(done.stdout or "{}")
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), {})
    audio = next((s for s in streams if s.get("codec_type") == "audio"), {})
    fmt = data.get("format", {})
    duration = fmt.get("duration")
    return {
        "duration": float(duration) if duration not in (None, "N/A") else None,
        "size_bytes": int(fmt["size"]) if fmt.get("size") else None,
        "format": fmt.get("format_name"),
        "video_codec": video.get("codec_name"),
        "width": video.get("width"),
        "height": video.get("height"),
        "pix_fmt": video.get("pix_fmt"),
        "fps": _rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")),
        "video_frames": int(video["nb_frames"]) if str(video.get("nb_frames", "")).isdigit() else None,
        "video_duration": float(video["duration"]) if video.get("duration") not in (None, "N/A") else None,
        "audio_codec": audio.get("codec_name"),
        "audio_sample_rate": int(audio["sample_rate"]) if audio.get("sample_rate") else None,
        "audio_channels": audio.get("channels"),
        "audio_duration": float(audio["duration"]) if audio.get("duration") not in (None, "N/A") else None,
    }
