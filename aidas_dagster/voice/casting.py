"""Casting: every character gets a voice of their own, locked for the life of the series (spec 4.2.2).

Leads and major supporting characters are cast on the premium provider (ElevenLabs) from a table of
Korean-capable voices; everyone else on the backup (Google Cloud TTS ko-KR voices) with a pitch and
rate of their own. Every character also gets a fixed voice on each lower provider, so a failover
keeps them recognisable: a lead holds an ElevenLabs voice, a Google voice and an offline voice.

The offline (espeak-ng) voice is a variant (timbre) plus a base pitch chosen to land on a target
speaking pitch: the characters of one gender are spread evenly across a natural F0 range, youngest
highest, so no two of them sit on the same pitch. Seeds come from the character id, so recasting the
same roster gives the same voices. No two characters share a (provider voice + modulation) on any
provider.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from aidas_dagster.story.models import AgeGroup, Gender, Importance, VoiceCasting, VoiceProfile

AGE_ORDER: dict[AgeGroup, int] = {"young": 0, "young_adult": 1, "adult": 2, "middle_age": 3, "senior": 4}
IMPORTANCE_ORDER: dict[Importance, int] = {"main": 0, "major_supporting": 1, "supporting": 2, "minor": 3}
PREMIUM_TIERS: frozenset[str] = frozenset({"main", "major_supporting"})

# -- premium: ElevenLabs ------------------------------------------------------------------------


@dataclass(frozen=True)
class PremiumVoice:
    voice_id: str
    name: str
    gender: Gender
    age: str  # "young" | "middle_aged" | "old", as ElevenLabs labels its voices


# ElevenLabs premade voices; all speak Korean with the multilingual/flash/turbo v2.5 models.
# Override with a YAML/JSON list of {voice_id, name, gender, age} named by AIDAS_ELEVENLABS_VOICES
# (e.g. voices cloned or picked from the voice library for a series).
DEFAULT_PREMIUM_VOICES: tuple[PremiumVoice, ...] = (
    PremiumVoice("21m00Tcm4TlvDq8ikWAM", "Rachel", "female", "young"),
    PremiumVoice("EXAVITQu4vr4xnSDxMaL", "Sarah", "female", "young"),
    PremiumVoice("MF3mGyEYCl7XYWbV9V6O", "Elli", "female", "young"),
    PremiumVoice("AZnzlk1XvdvUeBnXmlld", "Domi", "female", "young"),
    PremiumVoice("XrExE9yKIg1WjnnlVkGX", "Matilda", "female", "middle_aged"),
    PremiumVoice("pFZP5JQG7iQjIQuC4Bku", "Lily", "female", "middle_aged"),
    PremiumVoice("TxGEqnHWrfWFTfGW9XjX", "Josh", "male", "young"),
    PremiumVoice("ErXwobaYiN019PkySvjV", "Antoni", "male", "young"),
    PremiumVoice("yoZ06aMxZJJ28mfd3POQ", "Sam", "male", "young"),
    PremiumVoice("pNInz6obpgDQGcFmaJgB", "Adam", "male", "middle_aged"),
    PremiumVoice("VR6AewLTigWG4xSOukaG", "Arnold", "male", "middle_aged"),
    PremiumVoice("JBFqnCBsd6RMkjVDRZzb", "George", "male", "middle_aged"),
    PremiumVoice("pqHfZKP75CvOlQylNhV4", "Bill", "male", "old"),
)

VOICE_TABLE_ENV = "AIDAS_ELEVENLABS_VOICES"
_AGE_LABEL: dict[AgeGroup, str] = {
    "young": "young", "young_adult": "young", "adult": "middle_aged", "middle_age": "middle_aged", "senior": "old",
}  # fmt: skip
_AGE_LABEL_ORDER = {"young": 0, "middle_aged": 1, "old": 2}


class VoiceTableError(ValueError):
    """A premium voice table file is unreadable or malformed; the message names the file and entry."""


def load_premium_voices(path: Path | str) -> tuple[PremiumVoice, ...]:
    """A premium voice table from YAML or JSON: a list of {voice_id, name, gender, age}."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.suffix in (".yaml", ".yml") else json.loads(
            path.read_text(encoding="utf-8")
        )
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise VoiceTableError(f"{path}: cannot read the voice table ({exc})") from exc
    if not isinstance(raw, list) or not raw:
        raise VoiceTableError(f"{path}: expected a non-empty list of voices")
    voices = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise VoiceTableError(f"{path}: entry {i + 1} is not a mapping")
        missing = [k for k in ("voice_id", "gender") if not entry.get(k)]
        if missing:
            raise VoiceTableError(f"{path}: entry {i + 1} lacks {', '.join(missing)}")
        if entry["gender"] not in ("male", "female"):
            raise VoiceTableError(f"{path}: entry {i + 1} gender must be male or female, not {entry['gender']!r}")
        age = entry.get("age", "young")
        if age not in _AGE_LABEL_ORDER:
            raise VoiceTableError(f"{path}: entry {i + 1} age must be one of {sorted(_AGE_LABEL_ORDER)}, not {age!r}")
        voices.append(PremiumVoice(str(entry["voice_id"]), str(entry.get("name", entry["voice_id"])), entry["gender"], age))
    if len({v.voice_id for v in voices}) != len(voices):
        raise VoiceTableError(f"{path}: a voice id is listed twice")
    return tuple(voices)


def default_premium_voices() -> tuple[PremiumVoice, ...]:
    table = os.environ.get(VOICE_TABLE_ENV)
    return load_premium_voices(table) if table else DEFAULT_PREMIUM_VOICES


# -- backup: Google Cloud TTS -------------------------------------------------------------------

# ko-KR voices that support SSML marks, pitch and rate, best first within a gender.
GOOGLE_VOICES: dict[Gender, tuple[str, ...]] = {
    "female": ("ko-KR-Neural2-A", "ko-KR-Neural2-B", "ko-KR-Wavenet-A", "ko-KR-Wavenet-B", "ko-KR-Standard-A",
               "ko-KR-Standard-B"),
    "male": ("ko-KR-Neural2-C", "ko-KR-Wavenet-C", "ko-KR-Wavenet-D", "ko-KR-Standard-C", "ko-KR-Standard-D"),
}  # fmt: skip
# Semitones by age: younger voices sit higher.
GOOGLE_AGE_PITCH: dict[AgeGroup, float] = {
    "young": 2.0, "young_adult": 1.0, "adult": 0.0, "middle_age": -1.0, "senior": -2.5,
}  # fmt: skip
# Characters sharing one Google voice are kept at least this many semitones apart.
GOOGLE_MIN_PITCH_GAP = 2.5

# -- offline: espeak-ng -------------------------------------------------------------------------

# espeak-ng variants that sound clearly male or female with the Korean voice.
OFFLINE_VARIANTS: dict[Gender, list[str]] = {
    "male": ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "Gene", "Mr serious"],
    "female": ["f1", "f2", "f3", "f4", "f5", "Annie", "linda", "belinda", "steph", "aunty"],
}

# Measured median F0 (Hz, voice/analysis.pitch_estimate) of two neutral Korean sentences for each
# variant at espeak pitch 10, 20, ... 90, 99 (espeak-ng 1.52, range 55). Used to choose the pitch
# setting that lands a character on their target F0.
CALIBRATION_PITCHES = (10, 20, 30, 40, 50, 60, 70, 80, 90, 99)
VARIANT_F0: dict[str, tuple[float, ...]] = {
    "m1": (71, 75, 78, 84, 92, 102, 113, 126, 141, 156),
    "m2": (70, 73, 80, 89, 99, 111, 124, 140, 158, 176),
    "m3": (80, 82, 86, 94, 103, 114, 126, 140, 156, 171),
    "m4": (74, 77, 81, 84, 92, 101, 111, 123, 137, 151),
    "m5": (76, 79, 83, 91, 100, 111, 123, 136, 153, 169),
    "m6": (75, 79, 82, 90, 99, 110, 123, 137, 154, 170),
    "m7": (86, 89, 91, 96, 105, 114, 126, 139, 155, 170),
    "m8": (71, 74, 78, 80, 85, 93, 102, 113, 126, 139),
    "Gene": (70, 74, 77, 84, 94, 104, 117, 131, 147, 163),
    "Mr serious": (76, 79, 84, 91, 99, 110, 123, 137, 154, 170),
    "f1": (122, 132, 145, 160, 177, 197, 220, 245, 274, 304),
    "f2": (136, 146, 160, 175, 192, 212, 235, 261, 291, 321),
    "f3": (152, 162, 175, 190, 207, 226, 249, 275, 304, 334),
    "f4": (120, 131, 144, 159, 177, 197, 219, 245, 275, 305),
    "f5": (139, 151, 166, 183, 203, 225, 251, 281, 315, 349),
    "Annie": (185, 194, 203, 215, 230, 246, 265, 286, 311, 337),
    "linda": (146, 161, 180, 202, 227, 255, 288, 325, 368, 412),
    "belinda": (146, 162, 181, 201, 228, 255, 288, 325, 369, 412),
    "steph": (116, 129, 145, 162, 182, 206, 233, 264, 299, 335),
    "aunty": (93, 108, 128, 149, 175, 204, 238, 276, 319, 364),
}  # fmt: skip

# Natural speaking F0 ranges (Hz) the characters of a gender are spread over, youngest highest.
F0_RANGE: dict[Gender, tuple[float, float]] = {"male": (88.0, 150.0), "female": (175.0, 300.0)}
# Neighbouring characters of a gender sit at most this F0 ratio apart (~2.4 semitones); the age
# groups of the cast pick where in the range the group sits (0 low .. 1 high).
MAX_F0_STEP = 1.15
AGE_SPOT: dict[AgeGroup, float] = {"young": 0.85, "young_adult": 0.65, "adult": 0.5, "middle_age": 0.35, "senior": 0.15}

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


def pitch_for_f0(variant: str, target_hz: float) -> int:
    """The espeak pitch setting (0-99) at which `variant` speaks closest to `target_hz`."""
    curve = VARIANT_F0[variant]
    if target_hz <= curve[0]:
        return CALIBRATION_PITCHES[0]
    for (p0, f0), (p1, f1) in zip(zip(CALIBRATION_PITCHES, curve), zip(CALIBRATION_PITCHES[1:], curve[1:])):
        if f0 <= target_hz <= f1:
            return int(round(p0 + (p1 - p0) * (target_hz - f0) / max(f1 - f0, 1e-6)))
    return CALIBRATION_PITCHES[-1]


def f0_targets(profiles: list[tuple[str, VoiceProfile]], gender: Gender) -> dict[str, float]:
    """Target speaking F0 per character of one gender, youngest highest (age ties broken by the
    character's seed): evenly spaced in log frequency, MAX_F0_STEP apart at most, centred where the
    characters' ages put them and kept inside the gender's natural range."""
    low, high = F0_RANGE[gender]
    ordered = sorted(profiles, key=lambda p: (AGE_ORDER[p[1].age_group], _seed(p[0], "order")))
    n = len(ordered)
    span = math.log(high / low)
    step = min(span / (n - 1), math.log(MAX_F0_STEP)) if n > 1 else 0.0
    centre = sum(AGE_SPOT[p.age_group] for _cid, p in ordered) / n * span
    top = min(span, max(step * (n - 1), centre + step * (n - 1) / 2))  # log distance above `low`
    return {cid: low * math.exp(top - i * step) for i, (cid, _p) in enumerate(ordered)}


@dataclass(frozen=True)
class _Offline:
    variant: str
    backup: str
    pitch: int
    pitch_range: int
    rate: int


def _cast_offline(roster: list[tuple[str, VoiceProfile, Importance]]) -> dict[str, _Offline]:
    out: dict[str, _Offline] = {}
    for gender in ("male", "female"):
        members = [(cid, prof) for cid, prof, _imp in roster if prof.gender == gender]
        if not members:
            continue
        targets = f0_targets(members, gender)  # type: ignore[arg-type]
        variants = OFFLINE_VARIANTS[gender]  # type: ignore[index]
        used: dict[str, int] = {}
        for cid, prof in members:  # roster order: leads first, so they get first pick
            start = _seed(cid, "variant") % len(variants)
            # the least used variant, starting at the seeded one: all differ until the list runs out
            variant = min((variants[(start + k) % len(variants)] for k in range(len(variants))),
                          key=lambda v: used.get(v, 0))  # fmt: skip
            used[variant] = used.get(variant, 0) + 1
            backup = variants[(variants.index(variant) + 1) % len(variants)]
            out[cid] = _Offline(
                variant=variant,
                backup=backup,
                pitch=pitch_for_f0(variant, targets[cid]),
                pitch_range=45 + _seed(cid, "range") % 20,  # near the calibration range (50), so F0 lands on target
                rate=STYLE_RATE.get(prof.speaking_style, 160) + (_seed(cid, "rate") % 11 - 5),
            )
    return out


def _cast_premium(
    roster: list[tuple[str, VoiceProfile, Importance]], voices: tuple[PremiumVoice, ...]
) -> dict[str, PremiumVoice]:
    """ElevenLabs voices for leads and major supporting characters, each voice used once, matched
    by gender and then the nearest age. A character left without a voice stays on the backup."""
    free = list(voices)
    out: dict[str, PremiumVoice] = {}
    for cid, prof, importance in roster:
        if importance not in PREMIUM_TIERS:
            continue
        wanted = _AGE_LABEL_ORDER[_AGE_LABEL[prof.age_group]]
        matches = [v for v in free if v.gender == prof.gender]
        if not matches:
            continue
        pick = min(matches, key=lambda v: (abs(_AGE_LABEL_ORDER[v.age] - wanted), _seed(cid + v.voice_id, "premium")))
        free.remove(pick)
        out[cid] = pick
    return out


def _cast_google(roster: list[tuple[str, VoiceProfile, Importance]]) -> dict[str, tuple[str, float, float]]:
    """(voice, pitch semitones, speakingRate) per character; the voices of a gender are dealt out in
    turn, and characters sharing a voice are held GOOGLE_MIN_PITCH_GAP semitones apart."""
    taken: dict[str, list[float]] = {}
    dealt: dict[Gender, int] = {"male": 0, "female": 0}
    out: dict[str, tuple[str, float, float]] = {}
    for cid, prof, _importance in roster:
        voices = GOOGLE_VOICES[prof.gender]
        voice = voices[dealt[prof.gender] % len(voices)]
        dealt[prof.gender] += 1
        base = GOOGLE_AGE_PITCH[prof.age_group] + (_seed(cid, "gpitch") % 5 - 2) * 0.25
        # nearest free pitch: base, base+gap, base-gap, base+2gap, ...
        for step in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            pitch = round(max(-8.0, min(8.0, base + step * GOOGLE_MIN_PITCH_GAP)), 2)
            if all(abs(pitch - other) >= GOOGLE_MIN_PITCH_GAP - 1e-9 for other in taken.get(voice, [])):
                break
        else:  # pragma: no cover - 7 slots per voice; rosters are far smaller
            raise ValueError(f"{cid}: no free pitch left on {voice}")
        taken.setdefault(voice, []).append(pitch)
        rate = round(STYLE_RATE.get(prof.speaking_style, 160) / 160 + (_seed(cid, "grate") % 7 - 3) * 0.01, 2)
        out[cid] = (voice, pitch, rate)
    return out


def _premium_speed(prof: VoiceProfile) -> float:
    return round(max(0.8, min(1.15, STYLE_RATE.get(prof.speaking_style, 160) / 160)), 2)


def cast_voices(
    characters: Iterable[tuple[str, VoiceProfile, Importance]],
    premium_voices: tuple[PremiumVoice, ...] | None = None,
) -> dict[str, VoiceCasting]:
    """Cast a whole roster at once (leads first, so they get first pick).

    `premium_voices` defaults to the table named by AIDAS_ELEVENLABS_VOICES, else the built-in one.
    """
    roster = sorted(characters, key=lambda c: (IMPORTANCE_ORDER[c[2]], c[0]))
    if len({cid for cid, _p, _i in roster}) != len(roster):
        raise ValueError("cast_voices: a character id appears twice in the roster")
    premium = _cast_premium(roster, default_premium_voices() if premium_voices is None else premium_voices)
    google = _cast_google(roster)
    offline = _cast_offline(roster)
    cast: dict[str, VoiceCasting] = {}
    for cid, prof, _importance in roster:
        g_voice, g_pitch, g_rate = google[cid]
        off = offline[cid]
        if cid in premium:
            provider, voice_id = "elevenlabs", premium[cid].voice_id
        else:
            provider, voice_id = "google", g_voice
        cast[cid] = VoiceCasting(
            provider=provider,
            voice_id=voice_id,
            pitch=off.pitch,
            pitch_range=off.pitch_range,
            rate=off.rate,
            backup_voice_id=off.backup,
            elevenlabs_voice_id=premium[cid].voice_id if cid in premium else "",
            elevenlabs_speed=_premium_speed(prof),
            elevenlabs_stability=round(0.4 + (_seed(cid, "stability") % 21) / 100, 2),
            google_voice=g_voice,
            google_pitch=g_pitch,
            google_rate=g_rate,
            offline_voice_id=off.variant,
        )
    return cast


def offline_variant(casting: VoiceCasting) -> str:
    """The espeak-ng variant of a casting (rosters cast before the multi-provider casting kept it in voice_id)."""
    return casting.offline_voice_id or (casting.voice_id if casting.provider == "offline" else "")


def voice_signatures(casting: VoiceCasting) -> dict[str, tuple]:
    """What makes a character's voice theirs on each provider; two characters must differ on each."""
    sigs: dict[str, tuple] = {"offline": (offline_variant(casting), casting.pitch)}
    if casting.elevenlabs_voice_id:
        sigs["elevenlabs"] = (casting.elevenlabs_voice_id,)
    if casting.google_voice:
        sigs["google"] = (casting.google_voice, round(casting.google_pitch, 1))
    return sigs


def shared_voices(castings: dict[str, VoiceCasting]) -> list[str]:
    """Problems: pairs of characters that would sound the same on some provider."""
    problems = []
    seen: dict[tuple[str, tuple], str] = {}
    for cid in sorted(castings):
        for provider, sig in voice_signatures(castings[cid]).items():
            other = seen.setdefault((provider, sig), cid)
            if other != cid:
                problems.append(f"{other} and {cid} share the {provider} voice {sig}")
    return problems
