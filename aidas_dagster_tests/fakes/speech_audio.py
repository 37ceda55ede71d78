"""Audio the fake speech services return: a tone per voice, so a track shows who spoke."""

from __future__ import annotations

import numpy as np

SECONDS_PER_CHAR = 0.15  # the fake services speak ~6-7 Korean syllables a second


def tone(seconds: float, freq: float, rate: int) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2").tobytes()


def voice_freq(voice: str) -> float:
    """Each voice of the fake services has its own pitch, so the audio shows who spoke."""
    return 110.0 + sum(voice.encode()) % 150
