"""Small numpy measurements of audio, used by the voice checks, the tests and the renderer."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np

# Reported for digital silence instead of -inf, so values stay JSON- and metadata-friendly.
SILENCE_DB = -120.0


def read_wav(path: Path | str) -> tuple[np.ndarray, int]:
    """(mono float32 samples in [-1, 1], sample rate) of a PCM WAV; channels are averaged."""
    with wave.open(str(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    if width == 1:  # 8-bit WAV is unsigned
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        samples = ints.astype(np.float32) / float(1 << 23)
    elif width == 4:
        samples = (np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        raise ValueError(f"{path}: unsupported sample width {width} bytes")
    if channels > 1:
        samples = samples[: len(samples) - len(samples) % channels].reshape(-1, channels).mean(axis=1)
    return samples.astype(np.float32, copy=False), rate


def to_db(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0 else SILENCE_DB


def rms(samples: np.ndarray) -> float:
    if len(samples) == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))


def peak_dbfs(samples: np.ndarray) -> float:
    """Peak level in dB relative to full scale (0 = full scale; SILENCE_DB for silence)."""
    if len(samples) == 0:
        return SILENCE_DB
    return to_db(float(np.max(np.abs(samples))))


def _frame_rms(samples: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """RMS of samples[bounds[i]:bounds[i+1]] for every i (empty spans give 0)."""
    cs = np.concatenate(([0.0], np.cumsum(np.square(samples, dtype=np.float64))))
    sums = cs[bounds[1:]] - cs[bounds[:-1]]
    counts = np.maximum(bounds[1:] - bounds[:-1], 1)
    return np.sqrt(np.maximum(sums, 0.0) / counts)


def loudness_envelope(samples: np.ndarray, sample_rate: int, fps: int = 30) -> np.ndarray:
    """RMS per video frame (frame i covers [i/fps, (i+1)/fps)); drives mouth openness."""
    frames = math.ceil(len(samples) * fps / sample_rate)
    bounds = np.minimum(np.round(np.arange(frames + 1) * sample_rate / fps).astype(np.int64), len(samples))
    return _frame_rms(samples, bounds).astype(np.float32)


def longest_silence(samples: np.ndarray, sr: int, threshold_db: float = -45.0) -> float:
    """Seconds of the longest run of 10 ms frames quieter than `threshold_db` (RMS, dBFS)."""
    hop = max(1, sr // 100)
    frames = math.ceil(len(samples) / hop)
    if frames == 0:
        return 0.0
    bounds = np.minimum(np.arange(frames + 1) * hop, len(samples))
    quiet = _frame_rms(samples, bounds) < 10 ** (threshold_db / 20)
    # longest run of True: positions where runs start and end
    padded = np.concatenate(([False], quiet, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) == 0:
        return 0.0
    longest = int((ends - starts).max())
    return min(longest * hop, len(samples)) / sr


def pitch_estimate(samples: np.ndarray, sample_rate: int, fmin: float = 60.0, fmax: float = 500.0) -> float:
    """Median F0 (Hz) over voiced frames, by normalised autocorrelation; 0.0 when nothing is voiced.

    Coarse but robust enough to show two voices differ: 40 ms Hann frames every 10 ms, voiced when
    loud (within 30 dB of the loudest frame) and periodic (autocorrelation peak above 0.5).
    """
    frame = int(0.04 * sample_rate)
    hop = int(0.01 * sample_rate)
    if len(samples) < frame:
        return 0.0
    x = samples.astype(np.float64)
    count = 1 + (len(x) - frame) // hop
    window = np.hanning(frame)
    nfft = 1 << (2 * frame - 1).bit_length()
    # The window's own autocorrelation; dividing by it removes the bias towards short lags.
    w_ac = np.fft.irfft(np.abs(np.fft.rfft(window, nfft)) ** 2, nfft)[:frame]
    w_ac = w_ac / w_ac[0]
    lo, hi = int(sample_rate / fmax), min(int(sample_rate / fmin), frame - 2)
    f0s: list[np.ndarray] = []
    # frame energies via cumulative sums (fast for long tracks)
    starts = np.arange(count) * hop
    cs = np.concatenate(([0.0], np.cumsum(x * x)))
    energies = (cs[starts + frame] - cs[starts]) / frame
    gate = energies.max() * 10 ** (-30 / 10)
    loud = np.flatnonzero(energies > max(gate, 1e-10))
    for chunk in np.array_split(loud, max(1, len(loud) // 1024 + 1)):
        if len(chunk) == 0:
            continue
        idx = starts[chunk][:, None] + np.arange(frame)[None, :]
        frames = x[idx]
        frames = (frames - frames.mean(axis=1, keepdims=True)) * window
        ac = np.fft.irfft(np.abs(np.fft.rfft(frames, nfft, axis=1)) ** 2, nfft, axis=1)[:, :frame]
        ac = ac / np.maximum(ac[:, :1], 1e-12) / np.maximum(w_ac, 1e-6)
        seg = ac[:, lo : hi + 1]
        strength = seg.max(axis=1)
        # The first local peak close to the highest one: a periodic frame also peaks at 2x, 3x its
        # period, and picking those would report a sub-octave.
        peaks = np.zeros_like(seg, dtype=bool)
        peaks[:, 1:-1] = (seg[:, 1:-1] >= seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
        peaks |= seg >= strength[:, None]
        best = np.argmax(peaks & (seg >= 0.85 * strength[:, None]), axis=1)
        lag = best + lo
        # parabolic interpolation around the peak for sub-sample precision
        left = ac[np.arange(len(ac)), np.maximum(lag - 1, 0)]
        mid = ac[np.arange(len(ac)), lag]
        right = ac[np.arange(len(ac)), np.minimum(lag + 1, frame - 1)]
        denom = left - 2 * mid + right
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
        voiced = strength > 0.5
        f0s.append(sample_rate / (lag[voiced] + np.clip(shift[voiced], -0.5, 0.5)))
    values = np.concatenate(f0s) if f0s else np.array([])
    return float(np.median(values)) if len(values) else 0.0
