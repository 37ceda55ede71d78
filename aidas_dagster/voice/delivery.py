"""How a line is delivered: the line's emotion and the scene's atmosphere move the cast voice
(spec 4.2.1 `calculate_modulation`), expressed once and translated for every provider.

The adjustments are in provider-neutral steps: a pitch offset on espeak's 0-99 scale (about +6 is
the spec's +10 %, i.e. ~1.65 semitones), relative speed and volume deltas (+0.1 = 10 % more) and an
intonation-range offset (how expressive the line is). Each provider maps them onto its own knobs:
espeak parameters offline, speakingRate/pitch for Google, voice_settings speed/stability/style for
ElevenLabs (which has no pitch control). Volume is applied by the track mixer for every provider.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# emotion -> (pitch offset on espeak's 0-99 scale, speed delta, volume delta, range offset).
# Speed and volume deltas follow the spec's relative adjustments (+0.1 = 10 % more); the spec's
# +10 % pitch is about +6 on espeak's scale. Emotions missing from the spec follow the brief:
# shy/worried softer and a little slower, tense faster, calm slower.
EMOTION_ADJUSTMENTS: dict[str, tuple[int, float, float, int]] = {
    "neutral": (0, 0.0, 0.0, 0),
    "happy": (6, 0.05, 0.10, 8),
    "excited": (8, 0.12, 0.15, 12),
    "sad": (-6, -0.10, -0.15, -12),
    "angry": (-3, 0.10, 0.20, 15),
    "surprised": (10, 0.15, 0.15, 12),
    "fear": (8, 0.20, -0.05, 6),
    "shy": (2, -0.05, -0.20, -6),
    "worried": (3, -0.05, -0.12, -4),
    "tense": (2, 0.10, -0.05, -4),
    "calm": (-3, -0.08, -0.05, -8),
}

# Atmosphere keywords (Korean scene descriptions as the writers' room produces them, plus the
# spec's English keys) -> (speed delta, volume delta, range offset). Every matching group applies.
ATMOSPHERE_ADJUSTMENTS: list[tuple[tuple[str, ...], float, float, int]] = [
    # spec: tense -> speed +0.1, volume -0.1
    (("긴장", "팽팽", "불길", "불안", "서늘", "숨이 멎", "tense", "suspense"), 0.10, -0.10, 0),
    # hushed scenes are spoken softer and a little slower
    (("조용", "고요", "정적", "은밀", "조심", "quiet", "hushed"), -0.05, -0.15, -4),
    # spec: romantic -> speed -0.05, more expressive
    (("설레", "로맨", "묘한", "romantic"), -0.05, 0.0, 6),
    # crowds talk over each other: a little faster and louder
    (("왁자", "떠들썩", "술렁", "수다", "lively"), 0.05, 0.10, 4),
    # heavy or warm scenes slow down
    (("무거", "차분", "느긋", "따뜻", "정겨", "calm", "warm"), -0.04, 0.0, -3),
]

# One espeak pitch step in semitones: +6 steps ~ +10 % ~ 1.65 semitones.
SEMITONES_PER_STEP = 12 * math.log2(1.1) / 6


@dataclass(frozen=True)
class Delivery:
    """How one line moves away from the cast voice."""

    pitch_steps: int  # espeak 0-99 scale
    speed: float  # relative delta
    volume: float  # relative delta
    range_steps: int  # intonation / expressiveness, espeak 0-99 scale

    @property
    def pitch_semitones(self) -> float:
        return self.pitch_steps * SEMITONES_PER_STEP


def delivery(emotion: str, atmosphere: str = "") -> Delivery:
    """The line's emotion plus every atmosphere group its scene description matches."""
    pitch, speed, volume, range_off = EMOTION_ADJUSTMENTS.get(emotion.strip().lower(), (0, 0.0, 0.0, 0))
    mood = atmosphere.lower()
    for keywords, a_speed, a_volume, a_range in ATMOSPHERE_ADJUSTMENTS:
        if any(k in mood for k in keywords):
            speed += a_speed
            volume += a_volume
            range_off += a_range
    return Delivery(pitch_steps=pitch, speed=round(speed, 4), volume=round(volume, 4), range_steps=range_off)


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
