"""The final cut's soundtrack, built from AAC pieces that a re-cut reuses.

Why pieces: encoding a 10-minute episode's AAC takes ~10 s of CPU, which made the audio most of a
re-cut after a one-line edit. After an edit every later line moves (and the voice stage may
stretch every pause a little), so, like the video segments, each segment's sound is made to depend
on the segment alone: a *part* is its line's voice, its own stretch of the mood's music (music.Bed,
from a chord fixed by the segment) and its own ducking, starting on the AAC frame (1024 samples)
nearest the line's first sound. Parts meet in a short music crossfade before each part's start
(the duck ramp before a line), so the mix is:

- *bodies*: the frames of a part where the mix is that part alone, up to the crossfade into the
  next; named by the part's fingerprint and the frames encoded, and kept in the segment cache.
  A body is encoded from the part alone, BODY_SLACK frames longer than it is used: after an edit
  the voice stage stretches every pause a little, and any cached encoding at least as long as the
  part's solo stretch serves (its first frames), as video segments do (timeline.SLACK);
- *glue*: the frames between bodies (the crossfades), cached by the fingerprint of what their
  samples are mixed from (glue_keys).

Fresh pieces are encoded from the whole mix with ROLL frames of real signal before and after, of
which only their own frames are kept, with the encoder's priming frame dropped. At every seam both
pieces were encoded from the same signal for at least a frame either side (MARGIN), so the
decoder's overlap-add joins them as in one continuous encode; test_soundtrack compares a re-cut's
decoded audio with the mix sample by sample around every seam. A voice moves by at most half an
AAC frame (10.7 ms) to sit on the grid: far below what lip sync can show.

Loudness: the whole mix is measured by the BS.1770 meter (loudness.py) and one gain brings it to the target
(default -14 LUFS); voices are peak-limited so the true peak stays under the ceiling. A re-cut keeps
the episode's previous gain while the mix stays within LOUDNESS_TOLERANCE of the target, so a small
edit does not change every piece.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aidas_dagster.core.storage import atomic_path, fingerprint
from aidas_dagster.picture import loudness as meter
from aidas_dagster.picture.audio_encode import AAC_FRAME, AudioEncodeError, adts_frames
from aidas_dagster.picture.music import Bed, mood_key

SOUND_VERSION = 8  # 8: the ducking worked out where it moves; 7: voices resampled by FFT; 6: the limiter holds by blocks; 5: glue named by what it is mixed from; 4: crossfade weights exact in any window; 3: bodies to the next crossfade
RATE = 48000
FRAME = AAC_FRAME
XFADE = 14 * FRAME  # ~0.3 s music crossfade before each part: the duck ramp before a line
MARGIN = FRAME  # both pieces at a seam encode the same signal for this long either side
ROLL = 8  # frames of real signal encoded either side of a fresh range, then dropped (2 left a seam, 4 did not)
BODY_MIN_FRAMES = 4
BODY_SLACK = 8  # frames a body is encoded past its use (~0.17 s: a pause may grow this much)
BITRATE = "160k"
# ffmpeg's default AAC coder (twoloop). Its "fast" coder takes about half the CPU but, measured on
# the test episode's mix at 160 kb/s, left an error of -19 dB against the signal (twoloop: under
# -40 dB) and measured 0.9 LU quieter: not used.

# Music levels (dB relative to the bed's peak): under speech, in pauses, under the title cards.
MUSIC_UNDER_SPEECH_DB = -24.0
MUSIC_GAP_DB = -14.0
MUSIC_CARDS_DB = -9.0
DUCK_RAMP = int(0.3 * RATE)
CARD_FADE = RATE  # the music fades in over the first second and out over the last
MUSIC_PEAK_SHARE = 0.7  # music alone never peaks above this share of the ceiling, whatever the gain

LOUDNESS_TOLERANCE = 0.5  # LU: a re-cut keeps the episode's gain while the mix is this close
LOUDNESS_AIM = 0.2  # LU: how close a new gain is brought
# LU per dB: below this the mix is limiter-bound, and a gain this close (LU) is kept; with room
# left for the codec under LOUDNESS_TOLERANCE.
PLATEAU_SLOPE, PLATEAU_MISS = 0.15, 0.35
TRUE_PEAK_HEADROOM_DB = 0.5  # sample-peak ceiling below the true-peak limit (inter-sample overs)


class SoundtrackError(RuntimeError):
    pass


def _db(value: float) -> float:
    return float(10 ** (value / 20))


@dataclass(frozen=True)
class Loudness:
    """Loudness normalisation of the final mix. target_lufs None: no normalisation (gain 0 dB)."""

    target_lufs: float | None = -14.0
    true_peak_db: float = -1.0


@dataclass(frozen=True)
class Voice:
    samples: np.ndarray  # float32 at RATE
    digest: str


@dataclass
class Part:
    """The sound a segment owns, in its own time: sample 0 is `at` on the episode's timeline."""

    name: str
    at: int  # a multiple of FRAME
    mood: str
    level_db: float  # music level when nobody speaks
    chord: int  # where in the mood's progression its music starts
    voices: list[tuple[int, Voice]] = field(default_factory=list)  # (local offset, voice)
    fade_in: int = 0  # the music fades in from silence over [0, fade_in)
    fade_out: tuple[int, int] | None = None  # (local end, length): the music fades out to silence at end

    def spec(self, seed: str) -> list:
        return [self.mood, seed, self.level_db, self.chord, [(o, v.digest, len(v.samples)) for o, v in self.voices],
                self.fade_in, self.fade_out]  # fmt: skip


# ---------------------------------------------------------------- voices


def line_cores(dialogue: np.ndarray, sr: int, spans: dict[int, tuple[float, float]]) -> dict[int, tuple[int, np.ndarray]]:
    """Each line's sound on the track: (first sample, samples) from its first to its last non-zero
    sample. Cut this way a line's samples are the same wherever the line sits on the track."""
    cores = {}
    for index, (start, end) in spans.items():
        lo, hi = max(0, round(start * sr) - 4), min(len(dialogue), round(end * sr) + 4)
        nz = np.flatnonzero(dialogue[lo:hi])
        if len(nz):
            cores[index] = (lo + int(nz[0]), dialogue[lo + int(nz[0]) : lo + int(nz[-1]) + 1])
    return cores


RESAMPLE_PAD = 64  # output samples kept before and after a voice (the resampling filter's ringing)


RESAMPLE_THREADS = 2  # numpy's FFTs let go of the GIL: voices are resampled two at a time
RESAMPLE_LEAD = 256  # input samples of silence either side of a voice (room for the filter's ringing)


def _smooth_size(n: int) -> int:
    """The smallest 5-smooth number >= n: FFTs of these sizes are fast (large primes are not)."""
    while True:
        k = n
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return n
        n += 1


def _resample(core: np.ndarray, sr: int) -> np.ndarray:
    """One voice at RATE, from RESAMPLE_PAD samples before its first sound to as many after its
    last: band-limited interpolation by FFT (the spectrum zero-padded), over whole periods of the
    two rates, so sample k of the output is exactly at time k / RATE of the input's."""
    g = math.gcd(sr, RATE)
    p_in, p_out = sr // g, RATE // g
    lead = p_in * -(-RESAMPLE_LEAD // p_in)
    periods = _smooth_size(-(-(2 * lead + len(core)) // p_in))
    x = np.zeros(periods * p_in, np.float32)
    x[lead : lead + len(core)] = core
    spectrum = np.fft.rfft(x)
    if len(x) % 2 == 0:
        spectrum[-1] *= 0.5  # the input's Nyquist bin is shared with its mirror
    y = np.fft.irfft(spectrum, periods * p_out) * np.float32(p_out / p_in)
    at, n = lead // p_in * p_out, -(-len(core) * p_out // p_in)
    return y[at - RESAMPLE_PAD : at + n + RESAMPLE_PAD].astype(np.float32)


def resample_voices(cores: dict[int, np.ndarray], sr: int) -> dict[int, Voice]:
    """Voices at RATE (see _resample), RESAMPLE_THREADS at once; each depends on its own samples
    only, so the same line gives the same samples in every cut. (ffmpeg's resampler took two
    processes and ~0.45 s of CPU for a 10-minute episode's voices; this ~0.25 s in process.)"""
    if not cores:
        return {}
    digests = {i: hashlib.sha256(c.astype(np.float32).tobytes() + str(sr).encode()).hexdigest()[:24] for i, c in cores.items()}
    if sr == RATE:
        return {i: Voice(np.concatenate([np.zeros(RESAMPLE_PAD, np.float32), c, np.zeros(RESAMPLE_PAD, np.float32)]), digests[i])
                for i, c in cores.items()}  # fmt: skip
    with ThreadPoolExecutor(max_workers=RESAMPLE_THREADS, thread_name_prefix="resample") as pool:
        out = dict(zip(cores, pool.map(lambda c: _resample(c, sr), cores.values())))
    return {i: Voice(out[i], digests[i]) for i in cores}


def _min_filter(x: np.ndarray, w: int) -> np.ndarray:
    """out[n] = min(x[n : n + w]) (van Herk / Gil-Werman: linear time)."""
    n = len(x)
    m = -(-(n + w) // w) * w
    pad = np.full(m, np.inf, dtype=x.dtype)
    pad[:n] = x
    blocks = pad.reshape(-1, w)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[:n], prefix[w - 1 : n + w - 1])  # m >= n + w: both slices are whole


LIMIT_WINDOW = int(0.02 * RATE)
HOLD_BLOCK = 32  # samples: the hold is taken over whole blocks, a window at most a block wider either side


def _block_peaks(x: np.ndarray, block: int) -> np.ndarray:
    """The largest |x| in each block of `block` samples (a power of two; past the end: 0), by halving
    (a strided maximum is ~8x faster than a reduction along short rows)."""
    blocks = -(-len(x) // block)
    m = np.zeros(blocks * block, np.float32)
    np.abs(x, out=m[: len(x)])
    while len(m) > blocks:
        m = np.maximum(m[0::2], m[1::2])
    return m


class PeakHold:
    """One voice's limiter, ready for any gain: the loudness search mixes the episode at up to six
    gains, and the sliding maximum is taken once, not once a gain.

    The limiter's gain at a sample is min(1, ceiling / |g·x|) held at its minimum over a window
    either side: min(1, (ceiling/g) · h) with h = 1 / the largest |x| within the window, which does
    not depend on g. h is taken per block of HOLD_BLOCK samples over every block a sample's window
    reaches (a window up to a block wider: never less limiting), and the gain is averaged over the
    window's length ending at each sample, every gain averaged still at most that sample's need.
    Both by whole blocks: ~15x cheaper than sample by sample, for a 10-minute episode's voices
    ~0.4 s of CPU each time they are limited."""

    def __init__(self, x: np.ndarray, window: int = LIMIT_WINDOW, block: int = HOLD_BLOCK):
        if block & (block - 1) or window % block:
            raise ValueError(f"limiter: block {block} must be a power of two dividing the window {window}")
        self.x, self.window, self.block = x, window, block
        self.peak = float(np.max(np.abs(x))) if len(x) else 0.0
        self._hold: np.ndarray | None = None  # per block; made the first time a gain needs limiting

    def held(self) -> np.ndarray:
        """h per block, from a window's length of blocks before the first to one past the last:
        1 / the largest |x| within the window of any of the block's samples (nothing past the ends)."""
        if self._hold is None:
            k = self.window // self.block
            peaks = np.concatenate([np.zeros(k, np.float32), _block_peaks(self.x, self.block), np.zeros(1, np.float32)])
            r = -(-(self.window + self.block - 1) // self.block)  # the blocks a sample's window reaches either side
            edge = np.zeros(r, np.float32)
            reach = -_min_filter(-np.concatenate([edge, peaks, edge]), 2 * r + 1)[: len(peaks)]
            self._hold = np.float32(1.0) / np.maximum(reach, np.float32(1e-9))
        return self._hold

    def limited(self, gain: float, ceiling: float) -> np.ndarray:
        """x·gain with its peaks held under `ceiling`, smoothed over the window (so it cannot click)."""
        x = self.x if gain == 1.0 else self.x * np.float32(gain)
        if self.peak * gain <= ceiling:
            return x
        n, b, k = len(self.x), self.block, self.window // self.block
        need = np.minimum(np.float32(1.0), np.float32(ceiling / gain) * self.held())
        blocks = len(need) - k  # the voice's blocks and the one after
        prefix = np.concatenate([[0.0], np.cumsum(need, dtype=np.float64) * b])
        # The mean need over the window before sample t is linear in t within a block: the window's
        # two ends are a whole number of blocks apart, so both move through theirs alike.
        start = (prefix[k : k + blocks] - prefix[:blocks]).astype(np.float32) / np.float32(self.window)
        slope = (need[k : k + blocks] - need[:blocks]) / np.float32(self.window)
        mean = (start[:, None] + np.arange(b, dtype=np.float32)[None, :] * slope[:, None]).ravel()
        return (x * mean[1 : n + 1]).astype(np.float32)  # sample i: the mean over samples (i - window, i]


def limit_peaks(x: np.ndarray, ceiling: float, window: int = LIMIT_WINDOW) -> np.ndarray:
    """x with its peaks held under `ceiling`: a gain that never exceeds ceiling/|x| anywhere within
    a window either side, smoothed over that window (so it cannot click); a pure function of x."""
    return PeakHold(x, window).limited(1.0, ceiling)


# ---------------------------------------------------------------- the mix


@dataclass(frozen=True)
class Gains:
    db: float
    ceiling: float  # sample-peak ceiling of the mix

    @property
    def linear(self) -> float:
        return _db(self.db)

    def key(self) -> list:
        return [round(self.db, 3), round(self.ceiling, 5)]


@functools.lru_cache(maxsize=16)
def _bed(seed: str, key: str) -> Bed:
    """A mood's bed, synthesised once per process (~0.1 s a chord; a few MB): every gain the
    normaliser tries, and a re-cut in the same process, mix from the same bed."""
    return Bed(RATE, seed, key)


class Mixer:
    """Renders parts (music, ducking, limited voices) at a gain; caches beds and limited voices."""

    def __init__(self, seed: str, gains: Gains, holds: dict[str, PeakHold] | None = None):
        """`holds`: the voices' limiters by digest, shared by the mixers of one loudness search (a
        mixer without them does not keep its limiters: ~70 MB for a 10-minute episode's voices)."""
        self.seed, self.gains = seed, gains
        self._beds: dict[str, Bed] = {}
        self._voices: dict[str, np.ndarray] = {}
        self._holds = holds

    def prepare(self, parts: list[Part]) -> None:
        """Synthesise the beds and limit the voices the parts need, each once, before threads mix
        them (two threads missing the same cache entry would both make it)."""
        for part in parts:
            self.bed(part.mood)
        voices = {v.digest: v for part in parts for _o, v in part.voices}
        with ThreadPoolExecutor(max_workers=MIX_THREADS, thread_name_prefix="limit") as pool:
            list(pool.map(self.voice, voices.values()))

    def bed(self, mood: str) -> Bed:
        if mood not in self._beds:
            self._beds[mood] = _bed(self.seed, mood_key(mood))
        return self._beds[mood]

    def music_gain(self, level_db: float) -> float:
        return min(self.gains.linear, MUSIC_PEAK_SHARE * self.gains.ceiling / (0.9 * _db(level_db)))

    def voice(self, v: Voice) -> np.ndarray:
        if v.digest not in self._voices:
            under = 0.9 * _db(MUSIC_UNDER_SPEECH_DB) * self.music_gain(MUSIC_GAP_DB)  # the music beneath a voice
            hold = self._holds.get(v.digest) if self._holds is not None else None
            if hold is None:
                hold = PeakHold(v.samples)
                if self._holds is not None:
                    self._holds[v.digest] = hold
            self._voices[v.digest] = hold.limited(self.gains.linear, max(0.05, self.gains.ceiling - under))
        return self._voices[v.digest]

    def music(self, part: Part, lo: int, hi: int) -> np.ndarray:
        """The part's music with its ducking, local samples [lo, hi). The envelope is worked out
        only where it moves (around each voice, in the fades): elsewhere it is the level itself."""
        bed = self.bed(part.mood)
        out = bed.render(part.chord * bed.chord_len + bed.chord_len // 4 + lo, hi - lo)
        base, low = _db(part.level_db), _db(MUSIC_UNDER_SPEECH_DB)
        env = np.full(hi - lo, base, dtype=np.float32)

        def span(a: int, b: int) -> tuple[int, int, np.ndarray]:  # local samples [a, b) within the window, and their times
            a, b = max(a, lo), min(b, hi)
            return a, b, np.arange(a, b).astype(np.float32)  # counted in integers: a float32 arange stalls past 2**24

        for off, v in part.voices:
            s, e = off + RESAMPLE_PAD, off + len(v.samples) - RESAMPLE_PAD
            first = s <= RESAMPLE_PAD  # the first voice: down already
            a, b, tau = span(lo if first else s - DUCK_RAMP, e + DUCK_RAMP)
            if b > a:
                away = tau - e if first else np.maximum(tau - e, s - tau)
                np.minimum(env[a - lo : b - lo], low + (base - low) * np.clip(away / DUCK_RAMP, 0.0, 1.0), out=env[a - lo : b - lo])
        if part.fade_in:
            a, b, tau = span(lo, part.fade_in)
            if b > a:
                env[a - lo : b - lo] *= np.clip(tau / part.fade_in, 0.0, 1.0)
        if part.fade_out:
            end, length = part.fade_out
            a, b, tau = span(end - length, hi)
            if b > a:
                env[a - lo : b - lo] *= np.clip((end - tau) / length, 0.0, 1.0)
        out *= env
        out *= np.float32(self.music_gain(part.level_db))
        return out


def _zones(parts: list[Part]) -> list[tuple[int, int]]:
    """The crossfade before each part (global samples [z0, z1)); none before the first."""
    zones = [(0, 0)]
    for prev, part in zip(parts, parts[1:]):
        x = min(XFADE, max(0, part.at - prev.at - 2 * MARGIN))
        zones.append((part.at - MARGIN - x, part.at - MARGIN))
    return zones


def _extents(parts: list[Part], zones: list[tuple[int, int]], total: int) -> list[tuple[int, int]]:
    """Each part's reach in the mix, [first, last) samples its sound touches: its music from the
    crossfade before it to the end of the crossfade after it, and its voices."""
    extents = []
    for i, part in enumerate(parts):
        n1 = zones[i + 1][1] if i + 1 < len(parts) else total
        reach = [(zones[i][0], n1)] + [(part.at + o, part.at + o + len(v.samples)) for o, v in part.voices]
        extents.append((min(a for a, _b in reach), max(b for _a, b in reach)))
    return extents


def build_mix(parts: list[Part], total: int, mixer: Mixer, voices: bool = True, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """The soundtrack's samples [lo, hi) (float32; whole by default): each part's music between the
    crossfades around it, every voice at its place (voices=False: the music alone)."""
    hi = total if hi is None else min(hi, total)
    mix = np.zeros(max(0, hi - lo), dtype=np.float32)
    zones = _zones(parts)
    for i, part in enumerate(parts):
        z0, z1 = zones[i]
        n0, n1 = zones[i + 1] if i + 1 < len(parts) else (total, total)
        a, b = max(lo, z0), min(hi, n1)
        if b > a:
            music = mixer.music(part, a - part.at, b - part.at)
            # Counted from the zones' edges (small integers, exact in float32): a sample's weight is
            # the same in whichever window it is mixed. (Counted from the episode's start in float32,
            # np.arange stalled at 2**24 samples, 5:49: every later window had one weight throughout,
            # and the second half of an episode had its music crossfades wrong.)
            w = np.ones(b - a, dtype=np.float32)
            if z1 > z0:
                w = np.minimum(w, np.clip((np.arange(a - z0, b - z0, dtype=np.float32) + 0.5) / (z1 - z0), 0.0, 1.0))
            if n1 > n0:
                w = np.minimum(w, np.clip((np.arange(n1 - a, n1 - b, -1, dtype=np.float32) - 0.5) / (n1 - n0), 0.0, 1.0))
            mix[a - lo : b - lo] += music * w
    for part in parts if voices else []:
        for off, v in part.voices:
            at = part.at + off
            if at >= hi or at + len(v.samples) <= lo:
                continue
            samples = mixer.voice(v)
            a, b = max(lo, at), min(hi, at + len(samples))
            mix[a - lo : b - lo] += samples[a - at : b - at]
    return mix


MIX_THREADS = 2  # numpy lets go of the GIL in its array work: two windows mix at once


def build_pcm(parts: list[Part], total: int, mixer: Mixer, chunk: int = 30 * RATE, start: int = 0) -> np.ndarray:
    """The soundtrack's samples [start, total) as 16-bit samples (the whole by default), mixed half
    a minute at a time (a 10-minute mix in float32 is 115 MB; this holds only the 16-bit result
    and a window a thread), MIX_THREADS windows at once. Each window is the same float arithmetic
    whoever mixes it (the mixer's caches hold pure functions of their keys)."""
    out = np.empty(max(0, total - start), dtype="<i2")
    mixer.prepare(parts)

    def window(lo: int) -> None:
        out[lo - start : lo - start + chunk] = to_pcm16(build_mix(parts, total, mixer, lo=lo, hi=lo + chunk))

    with ThreadPoolExecutor(max_workers=MIX_THREADS, thread_name_prefix="mix") as pool:
        list(pool.map(window, range(start, total, chunk)))
    return out


@dataclass
class MixSteps:
    """A cut's mix measured per 100 ms step (loudness.step_energies) and what it was mixed from. A
    re-cut at the same gain takes the steps before its first change from here: up to where the
    first changed part's sound reaches, the mix is the same sample for sample."""

    key: str  # the gain, length and sound version it was mixed at
    marks: list[str]  # each part's fingerprint with its place
    reach: list[int]  # the first sample each part's sound touches
    energies: np.ndarray

    @staticmethod
    def of(parts: list[Part], seed: str, gains: Gains, total: int, energies: np.ndarray) -> "MixSteps":
        marks = [fingerprint(p.spec(seed), p.at) for p in parts]
        reach = [lo for lo, _hi in _extents(parts, _zones(parts), total)]
        return MixSteps(fingerprint(SOUND_VERSION, "steps", gains.key(), total, RATE), marks, reach, energies)

    def unchanged(self, other: "MixSteps") -> int:
        """How many of this cut's leading steps `other` (the same parts' marks, its energies not
        yet known) still has."""
        if other.key != self.key:
            return 0
        n = min(len(self.marks), len(other.marks))
        j = next((j for j in range(n) if self.marks[j] != other.marks[j]), n)
        if j == n and len(self.marks) == len(other.marks):
            return len(self.energies)
        reach = [r[j] for r in (self.reach, other.reach) if j < len(r)]
        return min(len(self.energies), max(0, min(reach)) // meter.step_samples(RATE))

    def save(self, path: Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, key=np.array(self.key), marks=np.array(self.marks), reach=np.array(self.reach, np.int64), energies=self.energies)

    @staticmethod
    def load(path: Path) -> "MixSteps | None":
        try:
            with np.load(path) as data:
                return MixSteps(str(data["key"]), [str(m) for m in data["marks"]], [int(r) for r in data["reach"]], data["energies"])
        except (OSError, ValueError, KeyError):
            return None  # none yet, or damaged: measured whole


def to_pcm16(mix: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """16-bit samples, converted a chunk at a time (a 10-minute mix is 115 MB of float32: whole-array
    temporaries would triple that)."""
    out = np.empty(len(mix), dtype="<i2")
    for lo in range(0, len(mix), chunk):
        part = mix[lo : lo + chunk] * np.float32(32767.0)
        np.rint(part, out=part)
        np.clip(part, -32768, 32767, out=part)
        out[lo : lo + chunk] = part
    return out


# ---------------------------------------------------------------- loudness


_EBU_I = re.compile(r"I:\s+(-?[\d.]+|-inf)\s+LUFS")
_EBU_TP = re.compile(r"Peak:\s+(-?[\d.]+|-inf)\s+dBFS")


def measure_loudness(source: Path | np.ndarray, ffmpeg: str, true_peak: bool = False) -> tuple[float, float | None]:
    """Integrated loudness (LUFS) and, when asked, true peak (dBTP) by ffmpeg's ebur128 filter, of a
    media file or of 16-bit samples at RATE: the reference the cut is checked against (the mix
    itself is measured in process, by loudness.py)."""
    af = "ebur128=peak=true" if true_peak else "ebur128"
    if isinstance(source, np.ndarray):
        cmd = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0"]
        data = source.tobytes()
    else:
        cmd, data = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-i", str(source)], None
    done = subprocess.run([*cmd, "-vn", "-af", af, "-f", "null", "-"], input=data, capture_output=True)
    text = done.stderr.decode(errors="replace")
    summary = text[text.rfind("Summary:") :]
    found = _EBU_I.search(summary)
    if done.returncode != 0 or not found:
        raise SoundtrackError(f"ffmpeg ebur128 failed: {text.strip()[-500:]}")
    lufs = float(found.group(1)) if found.group(1) != "-inf" else -math.inf
    peak = _EBU_TP.search(summary) if true_peak else None
    return lufs, (float(peak.group(1)) if peak and peak.group(1) != "-inf" else (-math.inf if true_peak else None))


def keeps_gain(lufs: float, target: float, previous_lufs: float | None) -> bool:
    """Whether a re-cut mixed at the previous cut's gain keeps it (see normalised_mix)."""
    return math.isfinite(lufs) and (
        abs(lufs - target) <= LOUDNESS_TOLERANCE or (previous_lufs is not None and abs(lufs - previous_lufs) <= LOUDNESS_AIM)
    )


def ceiling_of(loudness: Loudness) -> float:
    return _db(loudness.true_peak_db - TRUE_PEAK_HEADROOM_DB)


def normalised_mix(
    parts: list[Part], total: int, seed: str, loudness: Loudness, previous_db: float | None,
    previous_lufs: float | None = None, steps_out: dict[float, np.ndarray] | None = None,
) -> tuple[np.ndarray, Gains, float]:
    """The mix as 16-bit samples at the gain that brings it to the target, the gain, and the
    measured loudness. The previous cut's gain is kept while the mix stays within tolerance of the
    target, or within tolerance of what the previous cut reached (when the limiter kept that cut
    from the target, a small edit would not reach it either), so the cached pieces stay valid.
    `steps_out` gets the returned mix's loudness steps (by its gain)."""
    ceiling = ceiling_of(loudness)
    holds: dict[str, PeakHold] = {}

    steps: dict[float, np.ndarray] = {} if steps_out is None else steps_out  # the latest mix's loudness steps, by gain

    def mix_at(db: float) -> tuple[np.ndarray, Gains, float]:
        gains = Gains(round(db, 2), ceiling)
        pcm = build_pcm(parts, total, Mixer(seed, gains, holds))
        steps.clear()
        steps[gains.db] = meter.step_energies(pcm, RATE)
        return pcm, gains, meter.lufs_of_steps(steps[gains.db], RATE)

    if loudness.target_lufs is None:
        return mix_at(0.0)
    target = loudness.target_lufs
    pcm, gains, lufs = mix_at(previous_db if previous_db is not None else 0.0)
    if not math.isfinite(lufs):
        return pcm, gains, lufs
    if previous_db is not None and keeps_gain(lufs, target, previous_lufs):
        return pcm, gains, lufs
    # Only the latest mix is held (57 MB for 10 minutes); the best gain, if it was an earlier one,
    # is mixed again at the end (rare: the search closes in on the target).
    best = (abs(lufs - target), gains.db, lufs)
    db, slope = gains.db, 1.0
    for _attempt in range(5):
        # Close enough; or nearly, where more gain buys little loudness (the limiter holds the
        # voices: another try would squeeze them harder for a tenth of a LU, at ~2 s of CPU).
        if best[0] <= LOUDNESS_AIM or (best[0] <= PLATEAU_MISS and slope < PLATEAU_SLOPE):
            break
        # Under the limiter loudness grows slower than the gain: step by the measured slope.
        step = max(-20.0, min(20.0, (target - lufs) / slope))
        new_db = min(40.0, db + step)
        del pcm
        pcm, gains, new_lufs = mix_at(new_db)
        if not math.isfinite(new_lufs):
            break
        if abs(new_db - db) > 0.05:
            slope = max(0.1, min(1.5, (new_lufs - lufs) / (new_db - db)))
        db, lufs = new_db, new_lufs
        if abs(lufs - target) < best[0]:
            best = (abs(lufs - target), gains.db, lufs)
    if gains.db != best[1]:  # a later try was further off (or unmeasurable): the best one again
        del pcm
        return mix_at(best[1])
    return pcm, gains, lufs


# ---------------------------------------------------------------- pieces and their encoding


@dataclass
class Piece:
    first: int  # first AAC frame on the episode's timeline
    count: int
    key: str | None = None  # cache file stem (a body's: without its length)
    frames: list[bytes] | None = None
    part: Part | None = None  # a body: the part it is the sound of, alone
    encoded: int = 0  # a body: frames in its cache file (at least count)

    def file(self, cache: Path) -> Path:
        return cache / (f"{self.key}-{self.encoded}.aac" if self.part is not None else f"{self.key}.aac")


def plan_pieces(parts: list[Part], total_frames: int, seed: str, gains: Gains) -> list[Piece]:
    """Bodies (cached by the part's fingerprint) and the glue between them, tiling every frame."""
    zones = _zones(parts)
    voice_end = [max((p.at + o + len(v.samples) for o, v in p.voices), default=-1) for p in parts]
    pieces: list[Piece] = []
    cursor = 0
    for i, part in enumerate(parts):
        first = part.at // FRAME
        limit = zones[i + 1][0] if i + 1 < len(parts) else total_frames * FRAME
        n = min((limit - MARGIN - part.at) // FRAME, total_frames - first)  # the part alone, a frame short of the crossfade
        usable = n >= BODY_MIN_FRAMES and first >= cursor and (i == 0 or voice_end[i - 1] <= part.at - MARGIN)
        if not usable:
            continue
        if first > cursor:
            pieces.append(Piece(cursor, first - cursor))
        key = fingerprint(SOUND_VERSION, "body", part.spec(seed), gains.key(), BITRATE, RATE)
        pieces.append(Piece(first, n, key=f"a-{key}", part=part, encoded=n + BODY_SLACK))
        cursor = first + n
    if cursor < total_frames:
        pieces.append(Piece(cursor, total_frames - cursor))
    return pieces


def _roll(piece_first: int, count: int, total_frames: int) -> tuple[int, int]:
    return min(ROLL, piece_first), min(ROLL, total_frames - piece_first - count)


FrameSource = Callable[[int, int], np.ndarray]  # the mix's 16-bit samples of AAC frames [a, b)


def _pcm_frames(pcm: np.ndarray) -> FrameSource:
    return lambda a, b: pcm[a * FRAME : b * FRAME]


def glue_keys(pieces: list[Piece], parts: list[Part], total_frames: int, seed: str, gains: Gains) -> None:
    """Name each glue piece by what its samples (its frames and their roll) are mixed from: every
    part whose music or voice reaches into them, with its place and its crossfade zones counted
    from the window's start, and the episode's end if the window reaches it. build_mix is exact in
    any window and depends on nothing else, so equal names mean equal samples, and nothing needs
    mixing to find what the cache holds."""
    zones = _zones(parts)
    total = total_frames * FRAME
    extents = _extents(parts, zones, total)
    for p in pieces:
        if p.part is not None:
            continue
        lead, trail = _roll(p.first, p.count, total_frames)
        w0, w1 = (p.first - lead) * FRAME, (p.first + p.count + trail) * FRAME
        near = []
        for i, part in enumerate(parts):
            lo, hi = extents[i]
            if lo < w1 and hi > w0:
                (z0, z1), (n0, n1) = zones[i], zones[i + 1] if i + 1 < len(parts) else (total, total)
                a, b = max(w0, z0), min(w1, n1)  # where its music sounds in the window
                fade_in = [z0 - w0, z1 - w0] if a < b and a < z1 else None  # a crossfade edge the window does not reach
                fade_out = [n0 - w0, n1 - w0] if a < b and b > n0 else None  # weighs 1 throughout it
                near.append([part.spec(seed), part.at - w0, a < b, fade_in, fade_out])
        end = total - w0 if total < w1 else None
        p.key = "g-" + fingerprint(SOUND_VERSION, "glue", near, lead, trail, p.count, end, gains.key(), BITRATE, RATE)[:32]


_BODY_FILE = re.compile(r"(?P<key>a-[0-9a-f]+)-(?P<n>\d+)\.aac$")


def load_cached(pieces: list[Piece], cache: Path) -> None:
    """Frames for every piece the cache holds; a body's from the shortest cached encoding of its
    part that is long enough."""
    lengths: dict[str, list[int]] = {}
    for name in os.listdir(cache) if cache.is_dir() else []:
        if m := _BODY_FILE.match(name):
            lengths.setdefault(m["key"], []).append(int(m["n"]))
    for p in pieces:
        if p.part is not None:
            p.encoded = min((n for n in lengths.get(p.key or "", []) if n >= p.count), default=p.encoded)
        path = p.file(cache)
        try:
            frames = adts_frames(path.read_bytes(), str(path))
        except (OSError, AudioEncodeError):
            continue
        if len(frames) == (p.encoded if p.part is not None else p.count):
            p.frames = frames[: p.count]


def _ranges(pieces: list[Piece]) -> list[tuple[int, int]]:
    """Runs of neighbouring glue pieces that have no frames yet: [first, stop) frames."""
    out: list[tuple[int, int]] = []
    for p in pieces:
        if p.frames is not None or p.part is not None:
            continue
        if out and out[-1][1] == p.first:
            out[-1] = (out[-1][0], p.first + p.count)
        else:
            out.append((p.first, p.first + p.count))
    return out


def _balance(ranges: list[tuple[int, int]], parts: int, min_split: int = 600) -> list[list[tuple[int, int]]]:
    """Ranges split and dealt out to `parts` encoder processes with about equal work."""
    total = sum(b - a for a, b in ranges)
    parts = max(1, min(parts, total // min_split or 1))
    share = -(-total // parts)
    jobs = []
    for a, b in ranges:
        while b - a > share:
            jobs.append((a, a + share))
            a += share
        jobs.append((a, b))
    batches: list[list[tuple[int, int]]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for job in sorted(jobs, key=lambda j: j[0] - j[1]):
        k = loads.index(min(loads))
        batches[k].append(job)
        loads[k] += (job[1] - job[0]) + 2 * ROLL
    return [sorted(b) for b in batches if b]


def encode_ranges(source: np.ndarray | FrameSource, ranges: list[tuple[int, int]], total_frames: int, ffmpeg: str,
                  work: Path, parts: int | None = None) -> dict[int, bytes]:  # fmt: skip
    """AAC frames for every frame in `ranges`, encoded in parallel processes, each range with its
    roll of real signal either side; returns frame index → ADTS frame. `source`: the 16-bit mix,
    or a function giving its frames [a, b)."""
    def span(a: int, b: int) -> np.ndarray:  # frames [a, b) of the mix, zero past its end
        got = source[a * FRAME : b * FRAME] if isinstance(source, np.ndarray) else source(a, b)
        return got if len(got) == (b - a) * FRAME else np.concatenate([got, np.zeros((b - a) * FRAME - len(got), "<i2")])

    batches = _balance(ranges, parts or os.cpu_count() or 1)

    def run(k: int, batch: list[tuple[int, int]]) -> dict[int, bytes]:
        chunks, keep = [], []  # keep: (input frame offset of the range's first kept frame, first, count)
        offset = 0
        for a, b in batch:
            lead, trail = _roll(a, b - a, total_frames)
            chunks.append(span(a - lead, b + trail))
            keep.append((offset + lead, a, b - a))
            offset += lead + (b - a) + trail
        out = work / f"batch{k}.aac"
        # The ranges are written one after the other straight from the mix (no joined copy of them).
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(
                [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "s16le", "-ar", str(RATE), "-ac", "1",
                 "-i", "pipe:0", "-c:a", "aac", "-b:a", BITRATE, "-f", "adts", str(out)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
            assert proc.stdin is not None
            try:
                for chunk in chunks:
                    proc.stdin.write(memoryview(np.ascontiguousarray(chunk)).cast("B"))  # bytes, not int16 items
                proc.stdin.close()
            except BrokenPipeError:
                pass
            if proc.wait() != 0:
                err.seek(0)
                raise SoundtrackError(f"ffmpeg failed encoding the audio: {err.read().decode(errors='replace').strip()[-500:]}")
        frames = adts_frames(out.read_bytes(), str(out))
        out.unlink(missing_ok=True)
        got = {}
        for at, first, count in keep:
            # Output frame j holds input frame j-1 (frame 0 is the encoder's priming).
            part = frames[at + 1 : at + 1 + count]
            if len(part) != count:
                raise SoundtrackError(f"audio encode gave {len(part)} of {count} frames at frame {first}")
            got.update(zip(range(first, first + count), part))
        return got

    result: dict[int, bytes] = {}
    with ThreadPoolExecutor(max_workers=max(1, len(batches))) as pool:
        for got in pool.map(lambda kb: run(*kb), enumerate(batches)):
            result.update(got)
    return result


@dataclass
class Soundtrack:
    path: Path  # the joined ADTS stream
    pieces: int
    encoded_pieces: int
    encoded_frames: int
    total_frames: int
    gain_db: float
    lufs: float
    cache_files: list[Path]


def make_soundtrack(
    parts: list[Part], total_samples: int, seed: str, cache: Path, out_adts: Path, ffmpeg: str, *,
    loudness: Loudness = Loudness(), previous_gain_db: float | None = None, previous_lufs: float | None = None,
    parts_hint: int | None = None, steps_file: Path | None = None,
) -> Soundtrack:  # fmt: skip
    """Mix, normalise, encode what the cache lacks, and join every piece into `out_adts`.

    A re-cut most often keeps the previous cut's gain (a small edit barely moves the loudness), so
    with one given its pieces are found and encoded at it while the mix is measured beside them;
    only if the mix then misses the target are they found again at a new gain. `steps_file` keeps
    the mix's loudness steps (MixSteps): a re-cut mixes and measures only from its first change on."""
    total_frames = -(-total_samples // FRAME)
    cache.mkdir(parents=True, exist_ok=True)
    if previous_gain_db is not None and loudness.target_lufs is not None:
        gains = Gains(round(previous_gain_db, 2), ceiling_of(loudness))
        mixer = Mixer(seed, gains)  # shared: a voice is limited once for both
        mixer.prepare(parts)
        before = MixSteps.load(steps_file) if steps_file is not None else None
        now = MixSteps.of(parts, seed, gains, total_samples, np.zeros(0))

        def measure() -> float:
            step = meter.step_samples(RATE)
            kept = before.unchanged(now) if before is not None else 0
            start = max(0, kept - -(-meter.IMPULSE // step))  # the filter warms up over the steps before
            tail = build_pcm(parts, total_samples, mixer, start=start * step)
            now.energies = np.concatenate([before.energies[:kept] if before is not None else np.zeros(0),
                                           meter.step_energies(tail, RATE, first=kept - start)])  # fmt: skip
            return meter.lufs_of_steps(now.energies, RATE)

        def mixed(a: int, b: int) -> np.ndarray:  # the same samples as the whole mix's (build_mix is exact in any window)
            return to_pcm16(build_mix(parts, total_samples, mixer, lo=a * FRAME, hi=b * FRAME))

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="loudness") as pool:
            measured = pool.submit(measure)
            try:
                pieces, encoded = _pieces(parts, total_frames, seed, gains, mixed, cache, out_adts, ffmpeg, parts_hint)
            finally:
                lufs = measured.result()
        if keeps_gain(lufs, loudness.target_lufs, previous_lufs):
            if steps_file is not None:
                now.save(steps_file)
            return _finish(pieces, encoded, gains, lufs, total_frames, cache, out_adts)
    steps: dict[float, np.ndarray] = {}
    pcm, gains, lufs = normalised_mix(parts, total_samples, seed, loudness, previous_gain_db, previous_lufs, steps_out=steps)
    pieces, encoded = _pieces(parts, total_frames, seed, gains, _pcm_frames(pcm), cache, out_adts, ffmpeg, parts_hint)
    if steps_file is not None and gains.db in steps:
        MixSteps.of(parts, seed, gains, total_samples, steps[gains.db]).save(steps_file)
    return _finish(pieces, encoded, gains, lufs, total_frames, cache, out_adts)


def _pieces(parts: list[Part], total_frames: int, seed: str, gains: Gains, mixed: FrameSource, cache: Path, out_adts: Path,
            ffmpeg: str, parts_hint: int | None) -> tuple[list[Piece], tuple[int, int]]:  # fmt: skip
    """Every piece of the soundtrack at `gains` with its frames: cached, or encoded now (and cached).
    Returns the pieces and (pieces, frames) encoded."""
    pieces = plan_pieces(parts, total_frames, seed, gains)
    glue_keys(pieces, parts, total_frames, seed, gains)
    load_cached(pieces, cache)
    ranges = _ranges(pieces)
    fresh = [p for p in pieces if p.frames is None]
    # Fresh bodies are encoded from their part alone, BODY_SLACK frames past their use: each is laid
    # after the episode's frames (and ROLL frames of silence past its end), with ROLL frames of its
    # own signal either side.
    bodies: list[tuple[int, Piece]] = []  # (where its first frame is laid, piece)
    episode_end = total_frames + ROLL
    lay = episode_end
    for p in fresh:
        if p.part is not None:
            bodies.append((lay + ROLL, p))
            ranges.append((lay + ROLL, lay + ROLL + p.encoded))
            lay += 2 * ROLL + p.encoded
    if ranges:
        alone = Mixer(seed, gains)

        def span(a: int, b: int) -> np.ndarray:
            if b <= episode_end:
                return mixed(a, min(b, total_frames))  # zero past the end (encode_ranges pads it)
            at, body = next((at, p) for at, p in bodies if at - ROLL <= a and b <= at + p.encoded + ROLL)
            assert body.part is not None
            lo = (body.first + a - at) * FRAME
            return to_pcm16(build_mix([body.part], 1 << 62, alone, lo=lo, hi=lo + (b - a) * FRAME))

        with tempfile.TemporaryDirectory(prefix=".aac-", dir=out_adts.parent) as work:
            frames = encode_ranges(span, ranges, lay, ffmpeg, Path(work), parts_hint)
        for p in fresh:
            at = next((at for at, q in bodies if q is p), None)
            if at is None:
                p.frames = [frames[f] for f in range(p.first, p.first + p.count)]
                kept = p.frames
            else:
                kept = [frames[f] for f in range(at, at + p.encoded)]
                p.frames = kept[: p.count]
            with atomic_path(p.file(cache)) as tmp:
                tmp.write_bytes(b"".join(kept))
    return pieces, (len(fresh), sum(b - a for a, b in ranges))


def _finish(pieces: list[Piece], encoded: tuple[int, int], gains: Gains, lufs: float, total_frames: int, cache: Path,
            out_adts: Path) -> Soundtrack:  # fmt: skip
    """The pieces' frames joined into `out_adts`."""
    with atomic_path(out_adts) as tmp:
        with open(tmp, "wb") as fh:
            for p in pieces:
                assert p.frames is not None
                fh.write(b"".join(p.frames))
    return Soundtrack(out_adts, len(pieces), encoded[0], encoded[1], total_frames, gains.db, lufs, [p.file(cache) for p in pieces])
