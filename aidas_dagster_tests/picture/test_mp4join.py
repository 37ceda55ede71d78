"""The join copies the segments' kept samples and the soundtrack into one MP4: it decodes exactly as
ffmpeg's concat demuxer joins the same files, and what it cannot join it refuses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from aidas_dagster.picture.encoder import encode_frames
from aidas_dagster.picture.mp4join import JoinError, join, read_video_segment
from aidas_dagster.picture.probe import ffmpeg_exe, probe
from aidas_dagster.picture.yuv import FRAME_BYTES, H, W


def _frame(level: int) -> bytes:
    frame = np.full(FRAME_BYTES, 128, np.uint8)
    frame[: W * H] = level
    frame[W * 300 : W * 340] = np.random.default_rng(level).integers(16, 235, 40 * W, dtype=np.uint8)
    return frame.tobytes()


def _decoded(path: Path, stream: str) -> list[str]:
    out = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-map", f"0:{stream}", "-f", "framemd5", "-"],
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if not line.startswith("#")]


@pytest.fixture(scope="module")
def pieces(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("join")
    segments = []
    # (frames encoded, frames kept): a spare frame dropped, a segment kept whole, one cut short past a keyframe
    for k, (n, kept) in enumerate([(30, 29), (20, 20), (90, 70)]):
        path = tmp / f"seg{k}.mp4"
        runs = [(_frame(30 + 60 * k), n // 2), (_frame(60 + 60 * k), n - n // 2)]
        encode_frames(runs, n, path, preset="veryfast", crf=23, fps=30)
        segments.append((path, kept))
    aac = tmp / "audio.aac"
    seconds = sum(kept for _p, kept in segments) / 30
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                    "-c:a", "aac", "-b:a", "160k", "-f", "adts", str(aac)], check=True)  # fmt: skip
    return tmp, segments, aac


def test_the_join_decodes_as_ffmpeg_concat_joins_the_same_segments(pieces):
    tmp, segments, aac = pieces
    ours = tmp / "ours.mp4"
    said = join(segments, aac, ours, 30)
    listing = tmp / "list.txt"
    listing.write_text("ffconcat version 1.0\n" + "".join(
        f"file '{p}'\nduration {kept / 30:.6f}\n" + (f"outpoint {(kept - 0.5) / 30:.6f}\n" if kept < len(read_video_segment(p).sizes) else "")
        for p, kept in segments))  # fmt: skip
    theirs = tmp / "theirs.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(aac), "-map", "0:v:0",
                    "-map", "1:a:0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(theirs)], check=True)  # fmt: skip
    frames = sum(kept for _p, kept in segments)
    info = probe(ours)
    assert (info["video_codec"], info["audio_codec"], info["width"], info["height"]) == ("h264", "aac", W, H)
    assert info["video_frames"] == frames and info["fps"] == pytest.approx(30.0)
    assert float(info["duration"]) == pytest.approx(float(probe(theirs)["duration"]), abs=1e-3)
    assert said == (pytest.approx(float(info["duration"]), abs=1e-3), W, H)  # what the render checks, as ffprobe reads it
    assert _decoded(ours, "v") == _decoded(theirs, "v") and len(_decoded(ours, "v")) == frames
    assert _decoded(ours, "a") == _decoded(theirs, "a")
    data = ours.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # fast start: playable while it downloads


def test_a_segment_unlike_the_encoders_is_refused(pieces):
    tmp, segments, aac = pieces
    bframes = tmp / "bframes.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=30:duration=1",
                    "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-pix_fmt", "yuv420p", str(bframes)], check=True)  # fmt: skip
    with pytest.raises(JoinError, match="bframes.mp4"):
        join([segments[0], (bframes, 30)], aac, tmp / "no.mp4", 30)
    with pytest.raises(JoinError, match="too short"):
        join([(segments[1][0], 21)], aac, tmp / "no.mp4", 30)
