"""Offline Korean speech: espeak-ng driven in-process through ctypes.

The PyPI package espeakng-loader ships libespeak-ng with its data (Korean included), so this
needs no system package and no network. espeak-ng is a process-wide singleton (one voice, one
parameter set, one callback), so every synthesis runs under one lock. It is fast (hundreds of
times real time) and reports word events with sample positions, which give the word timings
used for subtitles and mouth shapes. Its wave generator keeps a little state between calls, so
a repeat of a line can differ by a few samples; the line cache makes a voiced line stable.

Emotion and scene atmosphere shape the delivery (spec 4.2.1 `calculate_modulation`): pitch,
speaking rate, intonation range and volume move away from the character's cast voice.
"""

from __future__ import annotations

import ctypes
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import espeakng_loader
import numpy as np

from aidas_dagster.story.models import VoiceCasting
from aidas_dagster.voice.casting import offline_variant
from aidas_dagster.voice.delivery import ATMOSPHERE_ADJUSTMENTS, EMOTION_ADJUSTMENTS, delivery  # noqa: F401 - re-exported
from aidas_dagster.voice.line_cache import SpeechError
from aidas_dagster.voice.models import WordTiming

# -- delivery on espeak-ng: emotion and atmosphere (voice/delivery.py) as espeak parameters ----

# espeak-ng's accepted ranges.
RATE_BOUNDS = (80, 450)
PARAM_BOUNDS = (0, 99)
VOLUME_BOUNDS = (0.3, 1.6)


@dataclass(frozen=True)
class Modulation:
    """The delivery of one line: espeak parameters plus a linear volume factor (1.0 = as cast)."""

    pitch: int
    pitch_range: int
    rate: int
    volume: float


def _clamp(value: float, bounds: tuple[float, float]) -> float:
    return max(bounds[0], min(bounds[1], value))


def calculate_modulation(casting: VoiceCasting, emotion: str, atmosphere: str = "") -> Modulation:
    """The cast voice moved by the line's emotion and the scene's atmosphere, within espeak's ranges."""
    d = delivery(emotion, atmosphere)
    return Modulation(
        pitch=int(_clamp(casting.pitch + d.pitch_steps, PARAM_BOUNDS)),
        pitch_range=int(_clamp(casting.pitch_range + d.range_steps, PARAM_BOUNDS)),
        rate=int(round(_clamp(casting.rate * (1.0 + d.speed), RATE_BOUNDS))),
        volume=round(_clamp(1.0 + d.volume, VOLUME_BOUNDS), 3),
    )


# -- the espeak-ng library ----------------------------------------------------------------------

AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_INITIALIZE_DONT_EXIT = 0x8000
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1
ESPEAK_ENDPAUSE = 0x1000
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
PARAM_RATE, PARAM_VOLUME, PARAM_PITCH, PARAM_RANGE = 1, 2, 3, 4

# Leading/trailing silence kept around the speech, so lines sit tightly on the track.
KEEP_SILENCE_SECONDS = 0.08


class _EspeakEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character position in the text
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # ms
        ("sample", ctypes.c_int),  # samples from the start of the synthesis
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_void_p),  # a union of int / char* / char[8]; unused here
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_EspeakEvent))


class _Espeak:
    """The loaded library, initialised once per process; use only while holding `_LOCK`."""

    def __init__(self) -> None:
        self.data_path = Path(espeakng_loader.get_data_path())
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_SetSynthCallback.argtypes = [_Callback]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.data_path).encode(), ESPEAK_INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise SpeechError(f"espeak-ng failed to initialise with data at {self.data_path}")
        self.lib = lib
        self.sample_rate = rate
        self.version = (lib.espeak_Info(None) or b"unknown").decode()
        # Per-call buffers the callback fills; the callback object must outlive the library's use of it.
        self.chunks: list[bytes] = []
        self.events: list[tuple[int, int]] = []  # (text_position, sample) of word events
        self._callback = _Callback(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)

    def _on_audio(self, wav, num_samples, events) -> int:
        if num_samples > 0 and wav:
            self.chunks.append(ctypes.string_at(wav, num_samples * 2))
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            if events[i].type == EVENT_WORD:
                self.events.append((events[i].text_position, events[i].sample))
            i += 1
        return 0  # 0 = keep synthesising

    def has_variant(self, variant: str) -> bool:
        return (self.data_path / "voices" / "!v" / variant).is_file()

    def synthesize(self, text: str, voice: str, mod: Modulation) -> tuple[bytes, list[tuple[int, int]]]:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SpeechError(f"espeak-ng has no voice {voice!r}")
        # Parameters after the voice: selecting a voice may reset them.
        self.lib.espeak_SetParameter(PARAM_RATE, mod.rate, 0)
        self.lib.espeak_SetParameter(PARAM_PITCH, mod.pitch, 0)
        self.lib.espeak_SetParameter(PARAM_RANGE, mod.pitch_range, 0)
        self.lib.espeak_SetParameter(PARAM_VOLUME, int(round(100 * mod.volume)), 0)
        self.chunks, self.events = [], []
        data = text.encode("utf-8")
        err = self.lib.espeak_Synth(
            data, len(data) + 1, 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8 | ESPEAK_ENDPAUSE, None, None
        )
        if err != 0:
            raise SpeechError(f"espeak-ng failed (error {err}) on {text!r}")
        return b"".join(self.chunks), list(self.events)


_LOCK = threading.Lock()
_ENGINE: _Espeak | None = None


def _reset_after_fork() -> None:
    # A child forked while another thread held the lock would otherwise deadlock on it.
    global _LOCK
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _engine() -> _Espeak:
    """The process's espeak-ng; call with `_LOCK` held."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Espeak()
    return _ENGINE


def espeak_version() -> str:
    with _LOCK:
        return _engine().version


# -- post-processing ----------------------------------------------------------------------------


def _speech_bounds(samples: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """[start, end) of the samples to keep: speech plus at most KEEP_SILENCE_SECONDS either side."""
    level = np.abs(samples.astype(np.int32))
    peak = int(level.max(initial=0))
    if peak == 0:
        return 0, 0
    loud = np.flatnonzero(level > max(32, peak * 0.02))  # breath noise in some variants stays below this
    keep = int(KEEP_SILENCE_SECONDS * sample_rate)
    return max(0, int(loud[0]) - keep), min(len(samples), int(loud[-1]) + 1 + keep)


def _syllables(word: str) -> int:
    """Weight of a word for spreading time: Hangul syllables, else its letters (at least 1)."""
    return max(1, sum(1 for ch in word if ch.isalnum()))


def word_timings(
    text: str, events: list[tuple[int, int]], sample_rate: int, offset: int, duration: float
) -> list[WordTiming]:
    """Map espeak word events (1-based character position, sample) onto the text's whitespace words.

    espeak sometimes voices two words as one (no event for the second) or skips punctuation; such
    words share the time up to the next known start in proportion to their syllables.
    """
    spans = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if not spans:
        return []
    starts: list[float | None] = [None] * len(spans)
    for position, sample in events:
        char = position - 1
        # the word containing this character, or the next one when it points at whitespace
        idx = next((i for i, (_w, s, e) in enumerate(spans) if char < e), None)
        if idx is not None and starts[idx] is None:
            starts[idx] = min(duration, max(0.0, (sample - offset) / sample_rate))
    if starts[0] is None:
        starts[0] = 0.0
    # keep known starts in order (espeak's positions are monotonic, but be safe)
    latest = 0.0
    for i, s in enumerate(starts):
        if s is not None:
            latest = max(latest, s)
            starts[i] = latest
    # fill unknown starts between anchors by syllable weight
    i = 0
    while i < len(spans):
        j = i + 1
        while j < len(spans) and starts[j] is None:
            j += 1
        if j > i + 1:
            t0 = starts[i]
            t1 = starts[j] if j < len(spans) else duration
            assert t0 is not None and t1 is not None
            weights = [_syllables(spans[k][0]) for k in range(i, j)]
            total = sum(weights)
            acc = 0
            for k in range(i + 1, j):
                acc += weights[k - i - 1]
                starts[k] = t0 + (t1 - t0) * acc / total
        i = j
    timings = []
    for i, (word, _s, _e) in enumerate(spans):
        start = float(starts[i])  # type: ignore[arg-type]
        end = float(starts[i + 1]) if i + 1 < len(spans) else duration  # type: ignore[arg-type]
        # Rounded for readable JSON, but never past the end of the audio.
        end_rounded = min(round(max(start, end), 4), duration)
        timings.append(WordTiming(text=word, start=min(round(start, 4), end_rounded), end=end_rounded))
    return timings


# -- the provider -------------------------------------------------------------------------------


class OfflineSpeech:
    """Speech provider backed by espeak-ng's Korean voice; duck-typed like every provider."""

    name = "offline"
    paid = False

    def __init__(self) -> None:
        # The model string is part of every cache key: a new espeak-ng voices lines anew.
        with _LOCK:
            self.model = f"espeak-ng-{_engine().version}"

    def voice_name(self, casting: VoiceCasting) -> str:
        """espeak voice name 'ko+<variant>', falling back to the backup variant, then plain 'ko'."""
        with _LOCK:
            engine = _engine()
            for variant in (offline_variant(casting), casting.backup_voice_id):
                if variant and engine.has_variant(variant):
                    return f"ko+{variant}"
        return "ko"

    def synthesize(
        self, text: str, casting: VoiceCasting, emotion: str, atmosphere: str = ""
    ) -> tuple[bytes, list[WordTiming], int]:
        """(mono 16-bit little-endian PCM, word timings in seconds from the line's start, sample rate)."""
        mod = calculate_modulation(casting, emotion, atmosphere)
        voice = self.voice_name(casting)
        with _LOCK:
            engine = _engine()
            pcm, events = engine.synthesize(text, voice, mod)
            rate = engine.sample_rate
        samples = np.frombuffer(pcm, dtype="<i2")
        start, end = _speech_bounds(samples, rate)
        if end - start <= 0:
            raise SpeechError(f"espeak-ng produced no audio for the line {text!r} (voice {voice})")
        kept = samples[start:end]
        duration = len(kept) / rate
        return kept.astype("<i2").tobytes(), word_timings(text, events, rate, start, duration), rate
