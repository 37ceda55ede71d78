"""The segment encoder pipes each distinct frame once (a timestamped Matroska stream, held by the fps
filter): every planned frame comes out, in order, exactly as piping every frame raw encodes it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from aidas_dagster.picture.encoder import GOP, STILL_X264_PARAMS, encode_frames
from aidas_dagster.picture.probe import ffmpeg_exe
from aidas_dagster.picture.yuv import FRAME_BYTES, H, W


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


def test_distinct_frames_encode_every_planned_frame_as_a_raw_pipe_does(tmp_path):
    a, b, c = _frame(40, 1), _frame(120, 2), _frame(200, 3)
    # Held runs, a one-frame run, a run continuing with the same picture, and a held last frame.
    runs = [(a, 3), (b, 1), (a, 2), (a, 4), (c, 1), (b, 7)]
    n = sum(count for _f, count in runs)
    target = tmp_path / "seg.mp4"
    encode_frames(runs, n, target, preset="veryfast", crf=23, fps=30)

    reference = tmp_path / "raw.mp4"
    proc = subprocess.Popen(
        [ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{W}x{H}", "-r", "30", "-i", "-",
         "-c:v", "libx264", "-threads", "1", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", str(GOP),
         "-x264-params", STILL_X264_PARAMS, "-r", "30", "-video_track_timescale", "15360", "-f", "mp4", str(reference)],
        stdin=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None
    for frame, count in runs:
        for _ in range(count):
            proc.stdin.write(frame)
    proc.stdin.close()
    assert proc.wait() == 0

    got = _framemd5(target)
    assert len(got) == n
    assert got == _framemd5(reference)  # the same pictures, frame for frame
    assert target.read_bytes() == reference.read_bytes()  # and the same file: cached segments stay valid
    # The decoded luma follows the runs: each picture for exactly as many frames as planned.
    decoded = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(target), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
                             check=True, capture_output=True).stdout  # fmt: skip
    levels = [int(np.median(np.frombuffer(decoded, np.uint8, W * 400, i * FRAME_BYTES))) for i in range(n)]
    expected = [level for level, count in zip([40, 120, 40, 40, 200, 120], [k for _f, k in runs]) for _ in range(count)]
    assert [abs(x - y) <= 2 for x, y in zip(levels, expected)] == [True] * n
