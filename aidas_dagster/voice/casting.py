"""Casting: every character gets a voice of their own, locked for the life of the series.

Offline voices are espeak-ng variants (timbre) plus a base pitch, pitch range and speaking rate.
The choice is seeded by the character id, so recasting the same roster gives the same voices, and
no two characters of a roster share a (variant, pitch) pair.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from aidas_dagster.story.models import AgeGroup, Gender, Importance, VoiceCasting, VoiceProfile

# espeak-ng variants that sound clearly male or female with the Korean voice.
OFFLINE_VARIANTS: dict[Gender, list[str]] = {
    "male": ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "Gene", "Mr serious"],
    "female": ["f1", "f2", "f3", "f4", "f5", "Annie", "linda", "belinda", "steph", "aunty"],
}

# Base pitch (espeak 0-99) by gender and age: older voices sit lower.
BASE_PITCH: dict[tuple[Gender, AgeGroup], int] = {
    ("male", "young"): 50,
    ("male", "young_adult"): 44,
    ("male", "adult"): 38,
    ("male", "middle_age"): 32,
    ("male", "senior"): 26,
    ("female", "young"): 66,
    ("female", "young_adult"): 60,
    ("female", "middle_age"): 50,
    ("female", "adult"): 55,
    ("female", "senior"): 44,
}

# Speaking rate (words per minute) by style keyword; espeak's default is 175.
STYLE_RATE = {
    "energetic": 178,
    "casual": 170,
    "confident": 165,
    "shy": 150,
    "thoughtful": 150,
    "gentle": 150,
    "formal": 148,
    "calculating": 155,
    "articulate": 160,
    "assertive": 165,
}


def _seed(char_id: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{char_id}:{salt}".encode()).digest()[:4], "big")


def cast_offline_voice(char_id: str, profile: VoiceProfile, taken: set[tuple[str, int]]) -> VoiceCasting:
    """A unique offline voice for one character; `taken` holds (variant, pitch) pairs already cast."""
    variants = OFFLINE_VARIANTS[profile.gender]
    start = _seed(char_id, "variant") % len(variants)
    base = BASE_PITCH[(profile.gender, profile.age_group)]
    jitter = _seed(char_id, "pitch") % 7 - 3
    for attempt in range(len(variants) * 8):
        variant = variants[(start + attempt) % len(variants)]
        pitch = max(5, min(95, base + jitter + (attempt // len(variants)) * 3))
        if (variant, pitch) not in taken:
            break
    else:  # pragma: no cover - 80 combinations per gender; rosters are far smaller
        raise ValueError(f"{char_id}: no unique offline voice left for {profile.gender}")
    taken.add((variant, pitch))
    rate = STYLE_RATE.get(profile.speaking_style, 160) + (_seed(char_id, "rate") % 11 - 5)
    pitch_range = 40 + _seed(char_id, "range") % 40
    backup = variants[(variants.index(variant) + 1) % len(variants)]
    return VoiceCasting(
        provider="offline",
        voice_id=variant,
        pitch=pitch,
        pitch_range=pitch_range,
        rate=rate,
        backup_voice_id=backup,
    )


def cast_voices(characters: Iterable[tuple[str, VoiceProfile, Importance]]) -> dict[str, VoiceCasting]:
    """Cast a whole roster at once (leads first, so they get first pick)."""
    order = {"main": 0, "major_supporting": 1, "supporting": 2, "minor": 3}
    taken: set[tuple[str, int]] = set()
    cast: dict[str, VoiceCasting] = {}
    for char_id, profile, _importance in sorted(characters, key=lambda c: (order[c[2]], c[0])):
        cast[char_id] = cast_offline_voice(char_id, profile, taken)
    return cast
