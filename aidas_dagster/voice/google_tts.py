"""Google Cloud Text-to-Speech through the official client (REST transport, v1beta1): the backup voice.

Each line goes as SSML with a `<mark>` before every word and `enableTimePointing: [SSML_MARK]`; the
returned timepoints are the words' start times (timepoints exist only in v1beta1). Audio comes as
LINEAR16 (a WAV), so no decoding is needed. A line's emotion and the scene's atmosphere move the
character's cast `speakingRate` and `pitch` (semitones).

The client retries nothing by itself; retries, backoff and failover follow the project's one
mechanism (core/paid_call.call_with_retry): 429, 5xx and timeouts are retried; a refused account
(401/403: billing disabled, key or project refused) is out of credit and fails over.
"""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from aidas_dagster.core.paid_call import Decision, RetryPolicy, call_with_retry
from aidas_dagster.core.prices import GOOGLE_USD_PER_CHARACTER
from aidas_dagster.story.models import VoiceCasting
from aidas_dagster.voice.delivery import clamp, delivery
from aidas_dagster.voice.line_cache import SpeechError
from aidas_dagster.voice.models import WordTiming
from aidas_dagster.voice.offline_tts import word_timings

SAMPLE_RATE = 24000
LANGUAGE = "ko-KR"
MAX_INPUT_BYTES = 5000
USD_PER_CHARACTER = GOOGLE_USD_PER_CHARACTER  # core/prices.py
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


def classify(exc: BaseException) -> Decision:
    """What a failed Google TTS call means: retry, fail over to the next provider, or fail this line."""
    # Google's client libraries take ~0.4 s to import: loaded only where a Google voice is used.
    import requests
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc

    if isinstance(exc, (requests.Timeout, requests.ConnectionError, gexc.DeadlineExceeded, gexc.RetryError)):
        return Decision("retry")
    if isinstance(exc, auth_exc.TransportError):
        return Decision("retry")
    if isinstance(exc, auth_exc.RefreshError):
        return Decision("failover")  # the service account is refused: no use retrying
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        if code == 429 or code >= 500 or code == 408:
            return Decision("retry")
        if code in (401, 403):
            return Decision("failover")
    return Decision("fail")


def ssml_with_marks(text: str) -> tuple[str, list[str]]:
    """(SSML with a mark before each whitespace word, the words)."""
    words = text.split()
    body = " ".join(f'<mark name="w{i}"/>{escape(w)}' for i, w in enumerate(words))
    return f"<speak>{body}</speak>", words


def _decode_linear16(audio: bytes) -> tuple[bytes, int]:
    """(mono 16-bit PCM, rate) from LINEAR16 content: a WAV, or bare samples at SAMPLE_RATE."""
    if audio[:4] == b"RIFF":
        try:
            with wave.open(io.BytesIO(audio), "rb") as wav:
                if wav.getsampwidth() != 2:
                    raise SpeechError(f"Google TTS returned {8 * wav.getsampwidth()}-bit audio; expected 16-bit")
                frames = wav.readframes(wav.getnframes())
                channels, rate = wav.getnchannels(), wav.getframerate()
        except (wave.Error, EOFError) as exc:
            raise SpeechError(f"Google TTS returned an unreadable WAV ({exc})") from exc
        if channels != 1:
            samples = np.frombuffer(frames, dtype="<i2").reshape(-1, channels).mean(axis=1)
            frames = samples.astype("<i2").tobytes()
        return frames, rate
    return audio, SAMPLE_RATE


class GoogleSpeech:
    """Speech provider on Google Cloud TTS; `synthesize` retries per the shared policy and raises
    OutOfCredit (fail over) or ProviderError (this line failed) when it gives up."""

    name = "google"
    model = "v1beta1-linear16"
    paid = True

    def __init__(
        self,
        client: Any,
        *,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        timeout_seconds: float = 60.0,
    ):
        self.client = client
        self.policy = policy
        self.sleep = sleep
        self.timeout_seconds = timeout_seconds

    @classmethod
    def connect(cls, credentials_file: str, endpoint: str | None = None, **kwargs: Any) -> GoogleSpeech:
        """A REST client authorised by a service-account JSON file (GOOGLE_APPLICATION_CREDENTIALS)."""
        # ~0.4 s to import: only a configured Google voice needs them.
        from google.api_core.client_options import ClientOptions
        from google.cloud import texttospeech_v1beta1 as tts
        from google.oauth2 import service_account

        try:
            credentials = service_account.Credentials.from_service_account_file(credentials_file, scopes=SCOPES)
        except (OSError, ValueError, KeyError) as exc:
            raise ValueError(f"Google TTS credentials file {credentials_file}: not a usable service-account key ({exc})")
        options = ClientOptions(api_endpoint=endpoint) if endpoint else None
        client = tts.TextToSpeechClient(credentials=credentials, transport="rest", client_options=options)
        return cls(client, **kwargs)

    def estimate_usd(self, text: str) -> float:
        return len(text) * USD_PER_CHARACTER

    def audio_settings(self, casting: VoiceCasting, emotion: str, atmosphere: str) -> tuple[float, float]:
        """(speakingRate, pitch in semitones) for one line, inside Google's accepted ranges."""
        d = delivery(emotion, atmosphere)
        rate = clamp(casting.google_rate * (1.0 + d.speed), 0.25, 2.0)
        pitch = clamp(casting.google_pitch + d.pitch_semitones, -20.0, 20.0)
        return round(rate, 3), round(pitch, 2)

    def synthesize(
        self, text: str, casting: VoiceCasting, emotion: str, atmosphere: str = ""
    ) -> tuple[bytes, list[WordTiming], int]:
        from google.cloud import texttospeech_v1beta1 as tts  # ~0.4 s; only when Google speaks

        voice = casting.google_voice
        if not voice:
            raise SpeechError(f"no Google voice is cast for the line {text!r}")
        ssml, words = ssml_with_marks(text)
        if len(ssml.encode("utf-8")) > MAX_INPUT_BYTES:
            raise SpeechError(f"the line {text[:40]!r}... is over Google's {MAX_INPUT_BYTES}-byte input limit")
        rate, pitch = self.audio_settings(casting, emotion, atmosphere)
        request = tts.SynthesizeSpeechRequest(
            input=tts.SynthesisInput(ssml=ssml),
            voice=tts.VoiceSelectionParams(language_code=LANGUAGE, name=voice),
            audio_config=tts.AudioConfig(
                audio_encoding=tts.AudioEncoding.LINEAR16,
                speaking_rate=rate,
                pitch=pitch,
                sample_rate_hertz=SAMPLE_RATE,
            ),
            enable_time_pointing=[tts.SynthesizeSpeechRequest.TimepointType.SSML_MARK],
        )
        reply = call_with_retry(
            lambda: self.client.synthesize_speech(request=request, retry=None, timeout=self.timeout_seconds),
            what=f"Google TTS voice {voice}", classify=classify, policy=self.policy, sleep=self.sleep,
        )  # fmt: skip
        pcm, sample_rate = _decode_linear16(bytes(reply.audio_content))
        duration = len(pcm) // 2 / sample_rate if sample_rate else 0.0
        # mark "w<i>" sits just before word i: its time is that word's start
        starts = {tp.mark_name: float(tp.time_seconds) for tp in reply.timepoints}
        positions, at = [], 0
        for word in words:
            at = text.index(word, at)
            positions.append(at)
            at += len(word)
        events = [
            (positions[i] + 1, int(round(starts[f"w{i}"] * sample_rate))) for i in range(len(words)) if f"w{i}" in starts
        ]
        return pcm, word_timings(text, events, sample_rate, 0, duration), sample_rate
