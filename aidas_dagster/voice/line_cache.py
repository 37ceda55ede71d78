"""A content-addressed cache of line audio, shared by every episode and every provider.

A line is voiced again only when something that shapes its sound changes: the provider or its
model, the character's casting, the emotion, the scene's atmosphere or the text. Editing one line
of a script therefore re-voices exactly that line.

Providers are duck-typed: anything with `name`, `model` and
`synthesize(text, casting, emotion, atmosphere) -> (pcm16le_mono_bytes, word_timings, sample_rate)`
plugs in. A failover chain (voice/providers.py) is a `RoutedSpeech`: it says which providers may
voice a character, best first, and which one actually voiced a line. The cache key is always that
of the provider that voiced the line, so the line is found again on the next run without a call:
the lookup walks the chain's providers best first and takes the first cached entry. Only a line
the offline engine voiced (because every paid provider failed) is not reused while a paid provider
is available again: the emergency voice is upgraded on the next run.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from aidas_dagster.core.storage import atomic_path, fingerprint, write_json
from aidas_dagster.story.models import VoiceCasting
from aidas_dagster.voice.models import SynthesizedLine, WordTiming

# Below this peak (int16 units, about -60 dBFS) a provider's output counts as no audio at all.
SILENT_PEAK = 32


class SpeechError(RuntimeError):
    """A line could not be voiced; the message names the line."""


class SpeechProvider(Protocol):
    name: str
    model: str

    def synthesize(
        self, text: str, casting: VoiceCasting, emotion: str, atmosphere: str = ""
    ) -> tuple[bytes, list[WordTiming], int]: ...


@runtime_checkable
class RoutedSpeech(Protocol):
    """A provider that picks, per character, who voices a line (the failover chain)."""

    name: str
    model: str

    def lookup(self, casting: VoiceCasting) -> list[SpeechProvider]:
        """Providers whose cached lines may stand for this character now, best first."""
        ...

    def voice(
        self, text: str, casting: VoiceCasting, emotion: str, atmosphere: str = ""
    ) -> tuple[SpeechProvider, bytes, list[WordTiming], int]:
        """(provider that voiced it, pcm, word timings, sample rate)."""
        ...

    def record(self, voiced_by: SpeechProvider, text: str, casting: VoiceCasting, cache_hit: bool) -> None:
        """Enter the line in the cost ledger."""
        ...


def line_key(provider: SpeechProvider, text: str, casting: VoiceCasting, emotion: str, atmosphere: str) -> str:
    return fingerprint(provider.name, provider.model, casting, emotion, atmosphere, text)


def cache_paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    """(wav, json) of one cached line; two-level fan-out keeps folders small."""
    folder = cache_dir / key[:2]
    return folder / f"{key}.wav", folder / f"{key}.json"


def write_wav(target: Path, pcm: bytes, sample_rate: int) -> Path:
    """Write mono 16-bit PCM atomically (a crash never leaves a truncated WAV)."""
    with atomic_path(target) as tmp:
        with wave.open(str(tmp), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(pcm)
    return target


def _peak(pcm: bytes) -> int:
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
    return int(np.abs(samples.astype(np.int32)).max(initial=0))


def _load(wav_path: Path, meta_path: Path, provider: SpeechProvider) -> SynthesizedLine | None:
    """The cached line, or None when the entry is missing or unreadable (then it is voiced anew)."""
    if not (wav_path.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return SynthesizedLine(
            wav_path=str(wav_path.resolve()),
            duration=meta["duration"],
            words=[WordTiming.model_validate(w) for w in meta["words"]],
            provider=provider.name,
            cache_hit=True,
        )
    except (ValueError, KeyError, TypeError):
        return None


def synthesize_line(
    provider: SpeechProvider,
    text: str,
    casting: VoiceCasting,
    emotion: str,
    atmosphere: str,
    cache_dir: Path,
) -> SynthesizedLine:
    """The line's audio from the cache, or voiced by `provider` and cached (WAV first, JSON last)."""
    routed = provider if isinstance(provider, RoutedSpeech) else None
    for candidate in routed.lookup(casting) if routed else [provider]:
        wav_path, meta_path = cache_paths(Path(cache_dir), line_key(candidate, text, casting, emotion, atmosphere))
        cached = _load(wav_path, meta_path, candidate)
        if cached is not None:
            if routed:
                routed.record(candidate, text, casting, cache_hit=True)
            return cached

    if routed:
        voiced_by, pcm, words, sample_rate = routed.voice(text, casting, emotion, atmosphere)
    else:
        voiced_by = provider
        pcm, words, sample_rate = provider.synthesize(text, casting, emotion, atmosphere)
    provider = voiced_by
    wav_path, meta_path = cache_paths(Path(cache_dir), line_key(provider, text, casting, emotion, atmosphere))
    if not pcm or len(pcm) < 2 or _peak(pcm) < SILENT_PEAK:
        raise SpeechError(f"{provider.name} ({provider.model}) returned no audio for the line {text!r}")
    if sample_rate <= 0:
        raise SpeechError(f"{provider.name} returned an invalid sample rate {sample_rate} for the line {text!r}")
    pcm = pcm[: len(pcm) - len(pcm) % 2]
    duration = len(pcm) / 2 / sample_rate
    # Timings from a provider may run a hair past the audio it returned; keep them inside it.
    words = [
        WordTiming(text=w.text, start=min(w.start, duration), end=min(max(w.end, w.start), duration)) for w in words
    ]
    write_wav(wav_path, pcm, sample_rate)
    # The JSON is written last: its presence marks the entry complete.
    write_json(
        meta_path,
        {
            "text": text,
            "provider": provider.name,
            "model": provider.model,
            "emotion": emotion,
            "atmosphere": atmosphere,
            "casting": casting.model_dump(mode="json"),
            "sample_rate": sample_rate,
            "duration": duration,
            "words": [w.model_dump(mode="json") for w in words],
        },
    )
    return SynthesizedLine(
        wav_path=str(wav_path.resolve()), duration=duration, words=words, provider=provider.name, cache_hit=False
    )
