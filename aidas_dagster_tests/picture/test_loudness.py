"""The in-process BS.1770 meter agrees with ffmpeg's ebur128 filter (which prints a tenth of a LU)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aidas_dagster.picture import loudness
from aidas_dagster.picture.probe import ffmpeg_exe
from aidas_dagster.picture.soundtrack import RATE, measure_loudness, to_pcm16


def _signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(20 * RATE) / RATE
    syllables = np.clip(np.sin(2 * np.pi * 3.1 * t), 0, None) ** 2 * (np.sin(2 * np.pi * 0.23 * t) > -0.3)
    return {
        "1 kHz tone": 0.1 * np.sin(2 * np.pi * 1000 * t),  # -20 dBFS: -23.0 LUFS by definition
        "low hum, weighted down": 0.5 * np.sin(2 * np.pi * 45 * t),
        "speech-like bursts over quiet music": 0.3 * syllables * np.sin(2 * np.pi * 210 * t * (1 + 0.1 * np.sin(2 * np.pi * 2 * t)))
        + 0.02 * np.sin(2 * np.pi * 440 * t) + rng.normal(0, 0.003, len(t)),
        "noise with long silences (both gates at work)": rng.normal(0, 0.1, len(t)) * ((t % 5) < 1.5) + rng.normal(0, 0.0004, len(t)),
        "bright chord": sum(0.12 * np.sin(2 * np.pi * f * t + k) for k, f in enumerate((2500, 3300, 6100, 9000))),
    }


@pytest.mark.parametrize("name", list(_signals()))
def test_integrated_loudness_and_true_peak_match_ffmpeg_ebur128(name):
    pcm = to_pcm16(_signals()[name].astype(np.float32))
    lufs, peak = measure_loudness(pcm, ffmpeg_exe(), true_peak=True)
    assert loudness.integrated_lufs(pcm, RATE) == pytest.approx(lufs, abs=0.1)
    assert loudness.true_peak_db(pcm) == pytest.approx(peak, abs=0.2)


def test_the_reference_tone_and_an_inter_sample_peak():
    t = np.arange(10 * RATE) / RATE
    assert loudness.integrated_lufs(0.1 * np.sin(2 * np.pi * 1000 * t), RATE) == pytest.approx(-23.0, abs=0.02)
    # A quarter-rate sine sampled 45 degrees off its crests: every sample is 3 dB under the true peak.
    x = 0.5 * np.sin(2 * np.pi * (RATE / 4) * t + math.pi / 4)
    assert 20 * math.log10(np.max(np.abs(x))) == pytest.approx(20 * math.log10(0.5) - 3.01, abs=0.01)
    assert loudness.true_peak_db(x) == pytest.approx(20 * math.log10(0.5), abs=0.1)
    assert loudness.integrated_lufs(np.zeros(5 * RATE), RATE) == -math.inf
    assert loudness.integrated_lufs(np.ones(RATE // 4), RATE) == -math.inf  # shorter than one 400 ms block
