"""ElevenLabs speech through the official `elevenlabs` SDK: the premium voice of leads.

Each line is one `POST /v1/text-to-speech/{voice_id}/with-timestamps` asking for raw 16-bit PCM
(`pcm_24000`, no decoding needed); the character-level alignment that comes with it becomes word
timings for subtitles and mouth shapes. ElevenLabs has no pitch control, so a line's emotion and
the scene's atmosphere move `voice_settings`: speed, and stability/style (lower stability and more
style for expressive lines). Loudness is set by the track mixer for every provider.

The SDK's own retries are switched off: retries, backoff and failover follow the project's one
mechanism (core/paid_call.call_with_retry). 429 and 5xx and timeouts are retried; `quota_exceeded`
(and a rejected key) is out of credit: retrying cannot help, the chain fails over to the backup.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import httpx

from aidas_dagster.core.lazy import lazy_import
from aidas_dagster.core.paid_call import Decision, RetryPolicy, call_with_retry, retry_after_seconds
from aidas_dagster.core.prices import ELEVENLABS_USD_PER_CHARACTER
from aidas_dagster.story.models import VoiceCasting
from aidas_dagster.voice.delivery import clamp, delivery
from aidas_dagster.voice.line_cache import SpeechError
from aidas_dagster.voice.models import WordTiming
from aidas_dagster.voice.offline_tts import word_timings

elevenlabs = lazy_import("elevenlabs")  # the ElevenLabs SDK: loaded on a paid call's first use (see core/lazy.py)

DEFAULT_MODEL = "eleven_multilingual_v2"
# Spec 15.2's economy mode: flash v2.5 speaks Korean at half the price per character.
ECONOMY_MODEL = "eleven_flash_v2_5"
HALF_PRICE_MODELS = frozenset({"eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_flash_v2", "eleven_turbo_v2"})
USD_PER_CHARACTER = ELEVENLABS_USD_PER_CHARACTER  # core/prices.py: flash/turbo half
OUTPUT_FORMAT = "pcm_24000"
SAMPLE_RATE = 24000
# ElevenLabs' error statuses that mean the account cannot pay for more speech (or the key is refused).
ACCOUNT_STATUSES = frozenset({"quota_exceeded", "invalid_api_key", "payment_required", "insufficient_credits"})


def error_status(exc: BaseException) -> tuple[int | None, str]:
    """(HTTP status, ElevenLabs `detail.status`) of an SDK error; ("", None) parts when absent."""
    status_code = getattr(exc, "status_code", None)
    body: Any = getattr(exc, "body", None)
    detail = body.get("detail") if isinstance(body, dict) else None
    status = detail.get("status", "") if isinstance(detail, dict) else ""
    return status_code, str(status or "")


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    for name, value in dict(headers).items():
        if name.lower() == "retry-after":
            return retry_after_seconds(value)
    return None


def classify(exc: BaseException) -> Decision:
    """What a failed ElevenLabs call means: retry, fail over to the backup, or fail this line."""
    if isinstance(exc, (httpx.TimeoutException, httpx.TransportError)):
        return Decision("retry")
    status_code, status = error_status(exc)
    if status in ACCOUNT_STATUSES or status_code in (401, 402):
        return Decision("failover")
    if status_code == 429 or (status_code is not None and status_code >= 500) or status_code == 408:
        return Decision("retry", _retry_after(exc))
    return Decision("fail")


def alignment_timings(
    text: str, characters: list[str], starts: list[float], duration: float
) -> list[WordTiming]:
    """Word timings from ElevenLabs' character alignment: each whitespace word starts when its first
    aligned character does. Characters are matched to the text in order, so a few the service
    normalised away simply leave their word to be placed between its neighbours."""
    events: list[tuple[int, int]] = []
    cursor = 0
    for char, start in zip(characters, starts):
        if not char.strip():
            continue
        found = text.find(char, cursor)
        if found < 0 or found - cursor > 8:  # not in the text nearby: a normalised character
            continue
        events.append((found + 1, int(round(start * SAMPLE_RATE))))
        cursor = found + len(char)
    return word_timings(text, events, SAMPLE_RATE, 0, duration)


def voice_settings(casting: VoiceCasting, emotion: str, atmosphere: str) -> dict[str, float | bool]:
    """voice_settings for one line: the cast speed and stability moved by the line's delivery."""
    d = delivery(emotion, atmosphere)
    expressive = d.range_steps / 40  # +15 (angry) -> ~0.38
    return {
        "stability": round(clamp(casting.elevenlabs_stability - 0.5 * expressive, 0.2, 0.9), 3),
        "similarity_boost": 0.75,
        "style": round(clamp(0.15 + 0.5 * max(expressive, 0.0), 0.0, 0.6), 3),
        "use_speaker_boost": True,
        "speed": round(clamp(casting.elevenlabs_speed * (1.0 + d.speed), 0.7, 1.2), 3),
    }


class ElevenLabsSpeech:
    """Speech provider on ElevenLabs; `synthesize` retries per the shared policy and raises
    OutOfCredit (fail over) or ProviderError (this line failed) when it gives up."""

    name = "elevenlabs"
    paid = True

    def __init__(
        self,
        client: Any,
        model: str = DEFAULT_MODEL,
        *,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        timeout_seconds: int = 60,
    ):
        self.client = client
        self.model = model
        self.policy = policy
        self.sleep = sleep
        self.timeout_seconds = timeout_seconds

    @classmethod
    def connect(cls, api_key: str, base_url: str | None = None, model: str = DEFAULT_MODEL, **kwargs: Any):
        if not api_key:
            raise ValueError("ElevenLabs needs an API key (ELEVENLABS_API_KEY)")
        client = elevenlabs.ElevenLabs(api_key=api_key, base_url=base_url.rstrip("/") if base_url else None)
        return cls(client, model, **kwargs)

    def with_model(self, model: str) -> ElevenLabsSpeech:
        """The same account and client speaking through another model (e.g. economy flash)."""
        return ElevenLabsSpeech(
            self.client, model, policy=self.policy, sleep=self.sleep, timeout_seconds=self.timeout_seconds
        )

    def estimate_usd(self, text: str) -> float:
        price = USD_PER_CHARACTER / 2 if self.model in HALF_PRICE_MODELS else USD_PER_CHARACTER
        return len(text) * price

    def synthesize(
        self, text: str, casting: VoiceCasting, emotion: str, atmosphere: str = ""
    ) -> tuple[bytes, list[WordTiming], int]:
        voice_id = casting.elevenlabs_voice_id
        if not voice_id:
            raise SpeechError(f"no ElevenLabs voice is cast for the line {text!r}")
        settings = elevenlabs.VoiceSettings(**voice_settings(casting, emotion, atmosphere))

        extra: dict[str, Any] = {}
        if self.model in HALF_PRICE_MODELS:
            extra["language_code"] = "ko"  # v2.5 models take a language hint; v2 detects it

        def call():
            return self.client.text_to_speech.convert_with_timestamps(
                voice_id,
                text=text,
                model_id=self.model,
                output_format=OUTPUT_FORMAT,
                voice_settings=settings,
                request_options={"max_retries": 0, "timeout_in_seconds": self.timeout_seconds},
                **extra,
            )

        reply = call_with_retry(
            call, what=f"ElevenLabs {self.model} voice {voice_id}", classify=classify, policy=self.policy,
            sleep=self.sleep,
        )  # fmt: skip
        try:
            pcm = base64.b64decode(reply.audio_base_64, validate=True)
        except (ValueError, TypeError) as exc:
            raise SpeechError(f"ElevenLabs returned undecodable audio for the line {text!r}") from exc
        pcm = pcm[: len(pcm) - len(pcm) % 2]
        duration = len(pcm) / 2 / SAMPLE_RATE
        alignment = reply.alignment
        if alignment is None:
            return pcm, word_timings(text, [], SAMPLE_RATE, 0, duration), SAMPLE_RATE
        words = alignment_timings(
            text, list(alignment.characters), list(alignment.character_start_times_seconds), duration
        )
        return pcm, words, SAMPLE_RATE
