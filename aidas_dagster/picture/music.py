"""Royalty-free background music, synthesised: soft chord pads, a bass note and a gentle pulse.

Everything is generated from a seed (series id) and the scene's mood, so a series keeps its sound
and nothing needs a licence. The few distinct chord blocks of a progression are synthesised once
and overlap-added along the timeline, so a 10-minute bed costs well under a second.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import numpy as np

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


@dataclass(frozen=True)
class Style:
    scale: tuple[int, ...]
    progressions: tuple[tuple[int, ...], ...]  # scale degrees (0-based) of chord roots
    tempo: float  # beats per minute
    beats_per_chord: int
    pulse: str  # "arp", "heartbeat" or "none"
    brightness: float  # weight of upper partials


STYLES: dict[str, Style] = {
    "romantic": Style(MAJOR, ((0, 5, 3, 4), (0, 4, 5, 3), (3, 4, 2, 5)), 72, 8, "arp", 0.35),
    "happy": Style(MAJOR, ((0, 4, 5, 3), (0, 3, 4, 3), (0, 5, 1, 4)), 100, 8, "arp", 0.45),
    "calm": Style(MAJOR, ((0, 3, 0, 4), (0, 5, 3, 4), (3, 0, 3, 4)), 66, 8, "arp", 0.25),
    "sad": Style(MINOR, ((0, 5, 2, 6), (0, 3, 5, 4), (0, 5, 3, 4)), 62, 8, "arp", 0.2),
    "tense": Style(MINOR, ((0, 5, 0, 1), (0, 3, 0, 5), (0, 1, 0, 4)), 84, 8, "heartbeat", 0.3),
    "mysterious": Style(MINOR, ((0, 3, 0, 5), (0, 1, 3, 0)), 60, 8, "arp", 0.15),
}

MOOD_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tense", ("긴장", "불안", "위기", "스릴", "갈등", "분노", "충돌", "위험", "tense", "anger", "conflict", "danger")),
    ("sad", ("슬픔", "슬픈", "이별", "눈물", "우울", "쓸쓸", "아픔", "후회", "sad", "melanch", "grief")),
    ("mysterious", ("미스터리", "비밀", "의문", "수상", "어두", "mystery", "secret", "dark")),
    ("romantic", ("설렘", "설레", "로맨", "사랑", "고백", "두근", "달콤", "romantic", "love", "sweet")),
    ("happy", ("밝", "유쾌", "코믹", "즐거", "활기", "신나", "행복", "웃음", "happy", "fun", "comic", "cheer", "bright")),
    ("calm", ("평온", "잔잔", "차분", "일상", "따뜻", "calm", "peace", "warm", "quiet")),
)


def mood_key(mood: str) -> str:
    text = mood.lower()
    for key, words in MOOD_WORDS:
        if any(w in text for w in words):
            return key
    return "calm"


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


def _chord(scale: tuple[int, ...], root_midi: int, degree: int) -> list[int]:
    """Triad plus seventh on a scale degree, as MIDI notes."""
    notes = []
    for step in (0, 2, 4, 6):
        idx = degree + step
        notes.append(root_midi + scale[idx % 7] + 12 * (idx // 7))
    return notes


def _pad(notes: list[int], n: int, sr: int, attack: float, release_at: int, release: float, brightness: float) -> np.ndarray:
    t = np.arange(n, dtype=np.float32) / sr
    env = np.minimum(1.0, t / attack)
    tail = np.clip(1.0 - (t - release_at / sr) / release, 0.0, 1.0)
    env = (env * np.where(np.arange(n) < release_at, 1.0, tail)).astype(np.float32)
    out = np.zeros(n, dtype=np.float32)
    for note in notes:
        f = _hz(note)
        for detune in (-0.0018, 0.0018):  # ±3 cents: a slow chorus
            w = 2 * np.pi * f * (1 + detune) * t
            out += np.sin(w) + brightness * 0.5 * np.sin(2 * w) + brightness * 0.2 * np.sin(3 * w)
    return out * env / (2.5 * len(notes))


def _pluck(freq: float, sr: int, seconds: float = 0.9) -> np.ndarray:
    t = np.arange(int(sr * seconds), dtype=np.float32) / sr
    env = np.exp(-t / 0.22) * np.minimum(1.0, t / 0.004)
    w = 2 * np.pi * freq * t
    return ((np.sin(w) + 0.25 * np.sin(2 * w)) * env).astype(np.float32)


def _thump(sr: int) -> np.ndarray:
    t = np.arange(int(sr * 0.35), dtype=np.float32) / sr
    f = 55 + 30 * np.exp(-t / 0.03)  # a falling low tone, like a soft drum
    return (np.sin(2 * np.pi * np.cumsum(f) / sr) * np.exp(-t / 0.09)).astype(np.float32)


def _add(buf: np.ndarray, at: int, sig: np.ndarray) -> None:
    if at >= len(buf):
        return
    end = min(len(buf), at + len(sig))
    buf[at:end] += sig[: end - at]


def music_bed(duration_s: float, sample_rate: int, seed: str, mood: str) -> np.ndarray:
    """Mono float32 music in [-1, 1], `duration_s` long, at `sample_rate`, deterministic for (seed, mood)."""
    n = max(1, int(round(duration_s * sample_rate)))
    key = mood_key(mood)
    style = STYLES[key]
    rnd = random.Random(int(hashlib.sha256(f"{seed}|{key}".encode()).hexdigest()[:16], 16))
    root = rnd.randint(55, 62)  # G3..D4: the key of this series in this mood
    progression = rnd.choice(style.progressions)
    beat = 60.0 / style.tempo
    chord_len = int(round(style.beats_per_chord * beat * sample_rate))
    release = 1.6
    block_len = chord_len + int(release * sample_rate)
    arp_order = rnd.choice(((0, 1, 2, 3, 2, 1, 0, 1), (0, 2, 1, 3, 0, 2, 1, 2), (0, 1, 2, 1, 3, 2, 1, 2)))

    blocks: dict[int, np.ndarray] = {}

    def block(degree: int) -> np.ndarray:
        if degree not in blocks:
            notes = _chord(style.scale, root - 12, degree)
            sig = _pad(notes, block_len, sample_rate, 1.0, chord_len, release, style.brightness)
            bass = _pad([notes[0] - 12], block_len, sample_rate, 0.3, chord_len, release, 0.1)
            sig += 0.9 * bass
            step = int(round(beat * sample_rate / 2))  # eighth notes
            if style.pulse == "arp":
                for k in range(style.beats_per_chord * 2):
                    note = notes[arp_order[k % len(arp_order)]] + 12
                    accent = 1.0 if k % 2 == 0 else 0.6
                    _add(sig, k * step, 0.16 * accent * _pluck(_hz(note), sample_rate))
            elif style.pulse == "heartbeat":
                thump = _thump(sample_rate)
                for k in range(style.beats_per_chord):
                    _add(sig, 2 * k * step, 0.5 * thump)
                    _add(sig, 2 * k * step + int(0.22 * sample_rate), 0.3 * thump)
            blocks[degree] = sig
        return blocks[degree]

    out = np.zeros(n + block_len, dtype=np.float32)
    for i, at in enumerate(range(0, n, chord_len)):
        _add(out, at, block(progression[i % len(progression)]))
    out = out[:n]
    peak = float(np.max(np.abs(out))) or 1.0
    out *= 0.9 / peak
    fade = min(n // 2, int(1.0 * sample_rate))
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[n - fade :] *= ramp[::-1]
    return out


class Bed:
    """A mood's music as an endless loop of its chord progression, rendered at any offset.

    The final cut gives every segment its own stretch of music (segment_audio in soundtrack.py), so
    a segment's sound depends only on the segment and can be cached; this renders any window of
    the loop exactly the same however it is cut. Levels are fixed per (seed, mood): the loop's
    peak over one whole cycle is scaled to 0.9, as music_bed scales a bed.
    """

    def __init__(self, sample_rate: int, seed: str, mood: str) -> None:
        self.sr = sample_rate
        self.key = mood_key(mood)
        style = STYLES[self.key]
        rnd = random.Random(int(hashlib.sha256(f"{seed}|{self.key}".encode()).hexdigest()[:16], 16))
        root = rnd.randint(55, 62)
        self.progression = rnd.choice(style.progressions)
        beat = 60.0 / style.tempo
        self.chord_len = int(round(style.beats_per_chord * beat * sample_rate))
        release = 1.6
        self.block_len = self.chord_len + int(release * sample_rate)
        arp_order = rnd.choice(((0, 1, 2, 3, 2, 1, 0, 1), (0, 2, 1, 3, 0, 2, 1, 2), (0, 1, 2, 1, 3, 2, 1, 2)))
        self.blocks: dict[int, np.ndarray] = {}
        for degree in set(self.progression):  # the same synthesis as music_bed's blocks
            notes = _chord(style.scale, root - 12, degree)
            sig = _pad(notes, self.block_len, sample_rate, 1.0, self.chord_len, release, style.brightness)
            sig += 0.9 * _pad([notes[0] - 12], self.block_len, sample_rate, 0.3, self.chord_len, release, 0.1)
            step = int(round(beat * sample_rate / 2))
            if style.pulse == "arp":
                for k in range(style.beats_per_chord * 2):
                    note = notes[arp_order[k % len(arp_order)]] + 12
                    _add(sig, k * step, 0.16 * (1.0 if k % 2 == 0 else 0.6) * _pluck(_hz(note), sample_rate))
            elif style.pulse == "heartbeat":
                thump = _thump(sample_rate)
                for k in range(style.beats_per_chord):
                    _add(sig, 2 * k * step, 0.5 * thump)
                    _add(sig, 2 * k * step + int(0.22 * sample_rate), 0.3 * thump)
            self.blocks[degree] = sig
        self.scale = 1.0
        cycle = self.render(0, self.chord_len * len(self.progression))
        self.scale = 0.9 / (float(np.max(np.abs(cycle))) or 1.0)

    def render(self, start: int, n: int) -> np.ndarray:
        """Samples [start, start + n) of the loop (any integer start, negative too)."""
        out = np.zeros(n, dtype=np.float32)
        first = (start - self.block_len) // self.chord_len + 1
        for k in range(first, (start + n - 1) // self.chord_len + 1):
            at = k * self.chord_len - start  # where block k begins in `out`
            block = self.blocks[self.progression[k % len(self.progression)]]
            lo, hi = max(0, at), min(n, at + len(block))
            if hi > lo:
                out[lo:hi] += block[lo - at : hi - at]
        if self.scale != 1.0:
            out *= self.scale
        return out
