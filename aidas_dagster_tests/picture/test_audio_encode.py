"""The episode's AAC audio encoded in parallel chunks: same length, no delay, no seam at the cuts."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from aidas_dagster.picture.audio_encode import AAC_FRAME, ROLL_FRAMES, AacEncode, AudioEncodeError, adts_frames, plan_chunks
from aidas_dagster.picture.probe import ffmpeg_exe

RATE = 48000


def _wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.clip(samples * 32767, -32768, 32767).astype("<i2").tobytes())
    return path


def _decode(path: Path) -> np.ndarray:
    pcm = subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768


def test_chunks_cover_every_frame_once():
    chunks = plan_chunks(AAC_FRAME * 5000 + 17, parts=3)
    assert [c.first for c in chunks] == [0, 1667, 3334]
    assert sum(c.count for c in chunks) == 5001
    assert chunks[0].lead == 0 and all(c.lead == ROLL_FRAMES for c in chunks[1:])
    assert plan_chunks(AAC_FRAME * 100, parts=4)[0].count == 100  # too short to split


def test_parallel_chunks_decode_like_the_signal_with_no_delay_or_seam(tmp_path: Path):
    seconds = 40.0
    t = np.arange(int(seconds * RATE)) / RATE
    # A chirp with bursts: any misplaced or missing frame shows as a large error right at a cut.
    signal = 0.3 * np.sin(2 * np.pi * (200 + 20 * t) * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
    source = _wav(tmp_path / "mix.wav", signal)
    encode = AacEncode(source, tmp_path / "audio.aac", ffmpeg_exe(), parts=3)
    cuts = [c.first * AAC_FRAME for c in encode.chunks[1:]]
    assert len(cuts) == 2
    out = encode.finish()
    decoded = _decode(out)
    assert abs(len(decoded) - len(signal)) < AAC_FRAME  # the whole track, nothing doubled or lost
    n = min(len(decoded), len(signal))
    # No delay: the decoded audio lines up with the input sample for sample.
    lags = range(-64, 65)
    best = max(lags, key=lambda lag: float(np.dot(signal[4096:n - 4096], decoded[4096 + lag : n - 4096 + lag])))
    assert best == 0
    error = decoded[:n] - signal[:n]
    overall = np.sqrt(np.mean(error[AAC_FRAME:] ** 2))
    assert overall < 0.01  # AAC at 160 kb/s on a clean tone: far below the signal (~0.2 rms)
    for cut in cuts:
        around = error[cut - 2 * AAC_FRAME : cut + 2 * AAC_FRAME]
        assert np.sqrt(np.mean(around**2)) < 2 * overall, f"a seam at sample {cut}"
    assert not list(tmp_path.glob(".aac-*")), "chunk files are cleaned up"


def test_a_damaged_stream_is_named():
    with pytest.raises(AudioEncodeError, match="no ADTS frame header at byte 0"):
        adts_frames(b"not audio at all", "part0.aac")
