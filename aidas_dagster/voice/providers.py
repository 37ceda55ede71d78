"""The voice booth's failover chain: ElevenLabs, then Google Cloud TTS, then local espeak-ng.

Each character is cast on a primary provider and holds a fixed voice on every lower one
(voice/casting.py), so a line the premium provider cannot voice is spoken by the same character's
backup voice, never by someone else's. The policy, line by line:

- 429, 5xx and timeouts are retried with backoff inside each provider (core/paid_call);
- out of credit (ElevenLabs `quota_exceeded`, a refused key or account) takes that provider out for
  the rest of the run: later lines go straight to the backup (sticky);
- a line that still fails after its retries falls to the next provider for that line only;
- before each paid call the budget is asked (`Budget.ensure_can_spend`); a provider over its
  budget is skipped for the next cheaper one, and ElevenLabs in the budget's economy mode (>= 80 %)
  speaks through its half-price flash model (eleven_flash_v2_5);
- every line is entered in the cost ledger: provider, characters, estimated cost, cache hit or not.

Lines are voiced one by one through the line cache, so a failure costs only the failed line: every
line voiced before it is cached and is not voiced again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aidas_dagster.core.ledger import Budget, BudgetExceeded, CostLedger, LedgerEntry
from aidas_dagster.core.paid_call import OutOfCredit, ProviderError, RetryPolicy
from aidas_dagster.story.models import VoiceCasting
from aidas_dagster.voice.casting import offline_variant
from aidas_dagster.voice.elevenlabs import DEFAULT_MODEL, ECONOMY_MODEL, ElevenLabsSpeech
from aidas_dagster.voice.google_tts import GoogleSpeech
from aidas_dagster.voice.line_cache import SpeechError, SpeechProvider
from aidas_dagster.voice.models import WordTiming
from aidas_dagster.voice.offline_tts import OfflineSpeech

log = logging.getLogger(__name__)

# Best first; a character never climbs above their cast provider.
TIERS = ("elevenlabs", "google", "offline")


def _is_paid(provider: SpeechProvider) -> bool:
    return bool(getattr(provider, "paid", False))


def _estimate(provider: SpeechProvider, text: str) -> float:
    estimate = getattr(provider, "estimate_usd", None)
    return float(estimate(text)) if estimate else 0.0


def has_voice(provider: SpeechProvider, casting: VoiceCasting) -> bool:
    """Whether the character was cast a voice on this provider."""
    if provider.name == "elevenlabs":
        return bool(casting.elevenlabs_voice_id)
    if provider.name == "google":
        return bool(casting.google_voice)
    if provider.name == "offline":
        return bool(offline_variant(casting) or casting.backup_voice_id)
    return True


class SpeechChain:
    """Providers in tier order behind the one SpeechProvider interface (see module docstring)."""

    def __init__(
        self,
        providers: list[SpeechProvider],
        *,
        economy: dict[str, SpeechProvider] | None = None,
        ledger: CostLedger | None = None,
        budget: Budget | None = None,
        series_id: str = "",
        episode: int = 0,
    ):
        if not providers:
            raise ValueError("a speech chain needs at least one provider")
        unknown = [p.name for p in providers if p.name not in TIERS]
        if unknown:
            raise ValueError(f"unknown speech providers {unknown}; expected some of {list(TIERS)}")
        self.providers = sorted(providers, key=lambda p: TIERS.index(p.name))
        self.economy = dict(economy or {})
        self.ledger = ledger
        self.budget = budget
        self.series_id = series_id
        self.episode = episode
        # provider name -> why it is out for the rest of this run (out of credit, key refused)
        self.out: dict[str, str] = {}
        self._modes: dict[str, str] = {}
        self.name = ">".join(p.name for p in self.providers)
        self.model = " > ".join(p.model for p in self.providers) if len(self.providers) > 1 else self.providers[0].model

    # -- who may voice a character ---------------------------------------------------------------

    def _cast_tiers(self, casting: VoiceCasting) -> list[SpeechProvider]:
        """The chain's providers at or below the character's cast provider that hold a voice for them."""
        primary = TIERS.index(casting.provider) if casting.provider in TIERS else 0
        return [p for p in self.providers if TIERS.index(p.name) >= primary and has_voice(p, casting)]

    def _mode(self, provider: SpeechProvider) -> str:
        """The budget's mode for a paid provider; remembered until this chain spends again (the
        ledger is read whole each time), while ensure_can_spend still reads it fresh before a call."""
        if self.budget is None or not _is_paid(provider):
            return "normal"
        if provider.name not in self._modes:
            self._modes[provider.name] = self.budget.mode(provider.name)
        return self._modes[provider.name]

    def route(self, casting: VoiceCasting) -> list[SpeechProvider]:
        """Who voices this character's next line, best first: providers still in for this run, the
        economy model where the budget asks for it, none whose budget is exhausted."""
        route = []
        for p in self._cast_tiers(casting):
            if p.name in self.out:
                continue
            mode = self._mode(p)
            if mode == "exhausted":
                continue
            route.append(self.economy.get(p.name, p) if mode == "economy" else p)
        return route

    def lookup(self, casting: VoiceCasting) -> list[SpeechProvider]:
        """Whose cached lines stand for this character, best first (any model of a provider: a line
        voiced before economy mode is still good). Offline lines only while no paid provider can speak
        for the character (none configured, out of credit or over budget)."""
        paid_in = any(_is_paid(p) for p in self.route(casting))
        found: list[SpeechProvider] = []
        for p in self._cast_tiers(casting):
            if not _is_paid(p) and paid_in:
                continue  # the emergency voice is upgraded while a paid provider can speak
            found.append(p)
            if p.name in self.economy:
                found.append(self.economy[p.name])
        return found

    # -- voicing -----------------------------------------------------------------------------------

    def record(self, voiced_by: SpeechProvider, text: str, casting: VoiceCasting, cache_hit: bool) -> None:
        if not cache_hit and _is_paid(voiced_by):
            self._modes.clear()  # spending may have moved a provider into economy or past its limit
        if self.ledger is None:
            return
        self.ledger.record(
            LedgerEntry(
                provider=voiced_by.name,
                operation="text_to_speech",
                units=len(text),
                unit="characters",
                cost_usd=0.0 if cache_hit else round(_estimate(voiced_by, text), 6),
                cache_hit=cache_hit,
                series_id=self.series_id,
                episode=self.episode,
                detail=f"{voiced_by.model}",
            )
        )

    def voice(
        self, text: str, casting: VoiceCasting, emotion: str, atmosphere: str = ""
    ) -> tuple[SpeechProvider, bytes, list[WordTiming], int]:
        """Voice one line with the best provider that can; raise SpeechError naming the line if none can."""
        failures: list[str] = []
        for provider in self.route(casting):
            if provider.name in self.out:  # taken out by an earlier attempt on this very line
                continue
            held = None
            if _is_paid(provider) and self.budget is not None:
                try:  # reserved, not just checked: parallel runs see each other's calls in flight
                    held = self.budget.reserve(
                        provider.name, _estimate(provider, text), what=f"{self.series_id} {self.episode} text_to_speech"
                    )
                except BudgetExceeded as exc:
                    failures.append(f"{provider.name}: {exc}")
                    continue
            try:
                pcm, words, rate = provider.synthesize(text, casting, emotion, atmosphere)
            except BaseException as exc:
                if held is not None:
                    held.release()  # nothing was spent
                if isinstance(exc, OutOfCredit):
                    self.out[provider.name] = str(exc)
                    log.warning("%s is out for the rest of this run: %s", provider.name, exc)
                elif isinstance(exc, (ProviderError, SpeechError)):
                    log.warning("%s could not voice %r; trying the next provider: %s", provider.name, text, exc)
                else:
                    raise
                failures.append(f"{provider.name}: {exc}")
                continue
            self.record(provider, text, casting, cache_hit=False)
            if held is not None:
                held.settle(round(_estimate(provider, text), 6))  # what record() put in the ledger
            return provider, pcm, words, rate
        tried = "; ".join(failures) or f"no provider holds a voice for a {casting.provider} casting"
        raise SpeechError(f"no provider could voice the line {text!r}: {tried}")

    def synthesize(
        self, text: str, casting: VoiceCasting, emotion: str, atmosphere: str = ""
    ) -> tuple[bytes, list[WordTiming], int]:
        _voiced_by, pcm, words, rate = self.voice(text, casting, emotion, atmosphere)
        return pcm, words, rate


def build_speech_provider(
    *,
    elevenlabs_api_key: str | None = None,
    elevenlabs_base_url: str | None = None,
    elevenlabs_model: str = DEFAULT_MODEL,
    google_credentials_file: str | None = None,
    google_endpoint: str | None = None,
    ledger: CostLedger | None = None,
    budget: Budget | None = None,
    series_id: str = "",
    episode: int = 0,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
) -> SpeechProvider:
    """The voice booth's provider: the chain of every configured provider ending in offline speech.

    With no keys and no ledger this is plain offline speech; with a ledger (and no keys) a
    one-provider chain, so offline lines and cache hits are entered in the ledger too.
    """
    providers: list[SpeechProvider] = []
    economy: dict[str, SpeechProvider] = {}
    retry: dict[str, Any] = {"policy": policy, "sleep": sleep}
    if elevenlabs_api_key:
        premium = ElevenLabsSpeech.connect(elevenlabs_api_key, elevenlabs_base_url, elevenlabs_model, **retry)
        providers.append(premium)
        if elevenlabs_model != ECONOMY_MODEL:
            economy["elevenlabs"] = premium.with_model(ECONOMY_MODEL)
    if google_credentials_file:
        providers.append(GoogleSpeech.connect(google_credentials_file, google_endpoint, **retry))
    offline = OfflineSpeech()
    if not providers and ledger is None:
        return offline
    return SpeechChain(
        providers + [offline], economy=economy, ledger=ledger, budget=budget, series_id=series_id, episode=episode
    )
