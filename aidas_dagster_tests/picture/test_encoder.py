"""The segment encoder pipes and encodes each distinct frame once and holds it with skipped frames
(h264.py): every planned frame comes out, in order, each held frame an exact copy of the picture it
holds, the stream valid to a strict decoder, as close to the source as x264 encoding every frame,
with a keyframe at least every GOP frames wherever the picture changes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from aidas_dagster.picture.encoder import GOP, encode_frames
from aidas_dagster.picture.h264 import Sps, check_holdable
from aidas_dagster.picture.mp4join import read_video_segment
from aidas_dagster.picture.probe import probe
from aidas_dagster.picture.probe import ffmpeg_exe
from aidas_dagster.picture.yuv import FRAME_BYTES, H, W, RenderError


def _frame(level: int, seed: int) -> bytes:
    frame = np.full(FRAME_BYTES, 128, np.uint8)
    frame[: W * H] = level
    rows = np.random.default_rng(seed).integers(16, 235, (64, W), dtype=np.uint8)  # texture: x264 must code it
    frame[W * 500 : W * 564] = rows.ravel()
    return frame.tobytes()


def _framemd5(path: Path) -> list[str]:
    out = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-f", "framemd5", "-"],
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if not line.startswith("#")]


def _decoded(path: Path) -> bytes:
    return subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                          check=True, capture_output=True).stdout  # fmt: skip


def _psnr(decoded: bytes, source: bytes) -> float:
    a, b = np.frombuffer(decoded, np.uint8).astype(np.float64), np.frombuffer(source, np.uint8).astype(np.float64)
    return float(10 * np.log10(255**2 / np.mean((a - b) ** 2)))


def test_held_frames_copy_their_picture_exactly_and_every_planned_frame_comes_out(tmp_path):
    a, b, c = _frame(40, 1), _frame(120, 2), _frame(200, 3)
    # Held runs, a one-frame run, a run continuing with the same picture, and a held last frame.
    runs = [(a, 3), (b, 1), (a, 2), (a, 4), (c, 1), (b, 7)]
    n = sum(count for _f, count in runs)
    target = tmp_path / "seg.mp4"
    encode_frames(runs, n, target, preset="veryfast", crf=23, fps=30)

    got = _framemd5(target)
    assert len(got) == n
    held = [(0, 3), (3, 1), (4, 6), (10, 1), (11, 7)]  # the pictures: (first frame, frames), the continued run joined
    assert [len(set(got[i : i + k])) for i, k in held] == [1] * len(held)  # a held picture decodes the same every frame
    assert all(got[i] != got[i - 1] for i, _k in held[1:])  # and each next picture is another
    # The decoded luma follows the runs: each picture for exactly as many frames as planned.
    decoded = _decoded(target)
    levels = [int(np.median(np.frombuffer(decoded, np.uint8, W * 400, i * FRAME_BYTES))) for i in range(n)]
    expected = [level for level, count in zip([40, 120, 40, 40, 200, 120], [k for _f, k in runs]) for _ in range(count)]
    assert [abs(x - y) <= 2 for x, y in zip(levels, expected)] == [True] * n

    # Faithful to the source. (This noise is x264's hardest case; on an episode's drawn lines held
    # frames came out at 51 dB where encoding every frame gave 48 dB, measured on two segments.)
    source = b"".join(frame for frame, count in runs for _ in range(count))
    assert _psnr(decoded, source) >= 40.0


def test_the_held_stream_passes_a_strict_decoder_and_its_header_parser(tmp_path):
    pictures = [_frame(30 + 20 * k, k) for k in range(4)]
    runs = [(pictures[k % 4], 1 + 5 * (k % 3)) for k in range(12)]
    n = sum(count for _f, count in runs)
    target = tmp_path / "seg.mp4"
    encode_frames(runs, n, target, preset="veryfast", crf=23, fps=30)
    strict = subprocess.run([ffmpeg_exe(), "-v", "error", "-xerror", "-err_detect", "explode", "-i", str(target), "-f", "null", "-"],
                            capture_output=True, text=True)  # fmt: skip
    assert strict.returncode == 0 and strict.stderr == ""
    # ffmpeg's bitstream reader parses every parameter set and slice header, both PPSs included.
    traced = subprocess.run([ffmpeg_exe(), "-v", "trace", "-i", str(target), "-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-"],
                            capture_output=True, text=True)  # fmt: skip
    assert traced.returncode == 0, traced.stderr[-2000:]
    slices = [line for line in traced.stderr.splitlines() if "pic_parameter_set_id" in line]
    assert {line.rsplit("=", 1)[1].strip() for line in slices} == {"0", "1"}
    info = probe(target)
    assert (info["video_frames"], info["fps"], info["width"], info["height"]) == (n, 30.0, W, H)


def test_a_keyframe_comes_on_the_first_new_picture_gop_frames_after_the_last(tmp_path):
    # Ten pictures held 20 frames each, then one held 130 frames, then one more.
    pictures = [_frame(20 + 15 * k, k) for k in range(12)]
    runs = [(pictures[k], 20) for k in range(10)] + [(pictures[10], 130), (pictures[11], 5)]
    n = sum(count for _f, count in runs)
    target = tmp_path / "seg.mp4"
    encode_frames(runs, n, target, preset="veryfast", crf=23, fps=30)
    keyframes = read_video_segment(target).sync
    assert keyframes == [0, 60, 120, 180, 330]  # none inside a hold: its frames are copies
    assert GOP == 60


def test_a_stream_that_held_frames_would_break_is_refused():
    progressive = Sps(100, 1, 8, 8, 4, 2, 1, 8160, True)
    check_holdable(progressive)
    for broken in (Sps(100, 1, 8, 8, 4, 0, 1, 8160, True), Sps(100, 1, 8, 8, 4, 2, 3, 8160, True), Sps(100, 1, 8, 8, 4, 2, 1, 8160, False)):
        with pytest.raises(RenderError, match="held frames need one reference frame"):
            check_holdable(broken)
