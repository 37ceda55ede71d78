"""Loudness by ITU-R BS.1770-4 (EBU R 128) in numpy: integrated loudness and true peak of a mix.

The soundtrack is measured once per gain it tries (soundtrack.normalised_mix); piping a
10-minute mix through ffmpeg's ebur128 filter cost ~1.3 s of CPU a time, which a re-cut paid too.
This is the same meter: K-weighting (the standard's two biquads, coefficients derived for the rate
as libebur128 and ffmpeg do), mean square over 400 ms blocks every 100 ms, the absolute gate at
-70 LUFS and the relative gate 10 LU below; true peak as the largest sample of the signal
oversampled 4x. test_loudness compares it with ffmpeg's ebur128.

The IIR filters run as an FFT convolution with their impulse response (numpy has no recursive
filter): the slowest pole (the 38 Hz high-pass) decays below 1e-9 within IMPULSE samples (the
tail left out holds 6e-19 of the response's energy).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

IMPULSE = 1 << 12  # samples of the K-weighting's impulse response kept (its tail: < 1e-9 at 48 kHz)
K_FFT = 1 << 15  # the K-weighting's FFT size: 31 % less CPU than 2**16 with the longer impulse, the same LUFS
BLOCK_SECONDS, STEP_SECONDS = 0.4, 0.1
ABSOLUTE_GATE, RELATIVE_GATE = -70.0, -10.0
OVERSAMPLE = 4


def _biquads(rate: int) -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """The K-weighting: a high shelf (the head) then a high-pass (RLB), as (b, a) for `rate`."""
    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10 ** (gain / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0), (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    highpass = (1.0, -2.0, 1.0), (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    return [shelf, highpass]


@functools.cache
def k_impulse(rate: int, n: int = IMPULSE) -> np.ndarray:
    """The K-weighting's impulse response, its first n samples (the recursion run in plain Python once)."""
    x = [1.0] + [0.0] * (n - 1)
    for (b0, b1, b2), (_a0, a1, a2) in _biquads(rate):
        y, x1, x2, y1, y2 = [], 0.0, 0.0, 0.0, 0.0
        for v in x:
            out = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            x2, x1, y2, y1 = x1, v, y1, out
            y.append(out)
        x = y
    return np.asarray(x, dtype=np.float64)


def filtered(x: np.ndarray, h: np.ndarray, scale: float = 1.0, step: int = 1, fft_size: int = 1 << 16) -> Iterator[np.ndarray]:
    """x * h (a causal filter, as long as x) in consecutive float64 chunks of a multiple of `step`
    samples, by overlap-add FFTs: a 10-minute mix is never held whole in float64 (230 MB)."""
    hop = (fft_size - len(h) + 1) // step * step
    spectrum = np.fft.rfft(h * scale, fft_size)
    tail = np.zeros(fft_size - hop)
    for lo in range(0, len(x), hop):
        chunk = x[lo : lo + hop]
        y = np.fft.irfft(np.fft.rfft(chunk, fft_size) * spectrum, fft_size)
        y[: len(tail)] += tail
        tail = y[hop:]
        yield y[: len(chunk)]


def _full_scale(samples: np.ndarray) -> float:
    """The factor to full scale: 16-bit integers are read as /32768, floats as they are."""
    return 1 / 32768 if samples.dtype.kind == "i" else 1.0


THREADS = 2  # numpy's FFTs let go of the GIL: the mix is measured in this many stretches at once


def _step_energies(samples: np.ndarray, rate: int, first: int, stop: int, step: int) -> np.ndarray:
    """Sum of squares of the K-weighted signal per step, for steps [first, stop): filtered from a
    whole number of steps at least IMPULSE samples earlier, so a stretch comes out as it would
    within the whole."""
    lead = min(first, -(-IMPULSE // step))
    x = samples[(first - lead) * step : stop * step]
    energy = np.concatenate([
        np.einsum("ij,ij->i", w := chunk.reshape(-1, step), w) for chunk in filtered(x, k_impulse(rate), _full_scale(samples), step, K_FFT)
    ])  # fmt: skip
    return energy[lead:]


def step_samples(rate: int) -> int:
    """Samples in one 100 ms step of the meter."""
    return round(STEP_SECONDS * rate)


def step_energies(samples: np.ndarray, rate: int, first: int = 0) -> np.ndarray:
    """The K-weighted sum of squares of every whole 100 ms step of the samples from step `first`
    on (the steps before it only warm the filter up), THREADS stretches at once."""
    step = step_samples(rate)
    steps = len(samples) // step
    if steps <= first:
        return np.zeros(0)
    cuts = [first + (steps - first) * k // THREADS for k in range(THREADS + 1)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        parts = pool.map(lambda k: _step_energies(samples, rate, cuts[k], cuts[k + 1], step), range(THREADS))
        return np.concatenate(list(parts))


def lufs_of_steps(energy: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) from the step energies: 400 ms blocks, both gates."""
    step = step_samples(rate)
    per_block = round(BLOCK_SECONDS / STEP_SECONDS)
    if len(energy) < per_block:
        return -math.inf
    csum = np.concatenate([[0.0], np.cumsum(energy)])
    blocks = (csum[per_block:] - csum[:-per_block]) / (per_block * step)  # mean square per 400 ms block
    gated = blocks[blocks > 10 ** ((ABSOLUTE_GATE + 0.691) / 10)]
    if not len(gated):
        return -math.inf
    relative = 10 ** ((-0.691 + 10 * math.log10(float(np.mean(gated))) + RELATIVE_GATE + 0.691) / 10)
    kept = gated[gated > relative]
    return -0.691 + 10 * math.log10(float(np.mean(kept))) if len(kept) else -math.inf


def integrated_lufs(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) of mono samples (float at full scale 1.0, or 16-bit integers)."""
    return lufs_of_steps(step_energies(samples, rate), rate)


@functools.cache
def _oversampling_phases(factor: int = OVERSAMPLE, taps_per_phase: int = 12) -> np.ndarray:
    """A windowed-sinc interpolator split into `factor` phases (BS.1770-4 annex 2: 48 taps, 4 phases)."""
    n = factor * taps_per_phase
    t = (np.arange(n) - (n - 1) / 2) / factor
    h = np.sinc(t) * np.kaiser(n, 8.0)
    return h.reshape(taps_per_phase, factor).T * factor / h.sum()


def true_peak_db(samples: np.ndarray) -> float:
    """True peak (dBTP): the largest magnitude of the signal oversampled 4x, and of the samples."""
    if not len(samples):
        return -math.inf
    scale = _full_scale(samples)
    peak = float(np.max(np.abs(samples))) * scale
    for phase in _oversampling_phases():
        for chunk in filtered(samples, phase, scale):
            peak = max(peak, float(np.max(np.abs(chunk))))
    return 20 * math.log10(peak) if peak > 0 else -math.inf
