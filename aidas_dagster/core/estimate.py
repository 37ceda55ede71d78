"""An episode's cost estimate and its comparison with the ledger: the money side, on the common floor.

The estimate itself is reckoned by the story stage (story/estimate.py: from the episode's script,
else its config), which reserves it in the budget when an episode run starts; publish compares it
with the ledger's actual spend, `aidas estimate` prints it. `ProviderMix.from_resources` reads the
stages' resources by their attribute names only, so this floor imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from aidas_dagster.core.ledger import CostLedger


class WriterSettings(Protocol):
    """What the estimate reads of the story stage's writers_room resource."""

    mode: str
    model: str


class VoiceSettings(Protocol):
    """What the estimate reads of the voice stage's voice_booth resource."""

    elevenlabs_api_key: str | None
    google_credentials_file: str | None


class AvatarSettings(Protocol):
    """What the estimate reads of the picture stage's avatar_studio resource."""

    heygen_api_key: str | None
    heygen_price_per_minute_usd: float
    heygen_include_supporting: bool


@dataclass(frozen=True)
class ProviderMix:
    """Which paid providers are configured, and their prices."""

    openai_model: str | None = None  # None: the offline writer
    elevenlabs: bool = False
    elevenlabs_economy: bool = False
    google: bool = False
    heygen_price_per_minute: float | None = None  # None: avatars drawn locally
    heygen_include_supporting: bool = False

    @classmethod
    def from_resources(
        cls, writers_room: WriterSettings, voice_booth: VoiceSettings, avatar_studio: AvatarSettings
    ) -> ProviderMix:
        return cls(
            openai_model=writers_room.model if writers_room.mode != "offline" else None,
            elevenlabs=bool(voice_booth.elevenlabs_api_key),
            google=bool(voice_booth.google_credentials_file),
            heygen_price_per_minute=avatar_studio.heygen_price_per_minute_usd if avatar_studio.heygen_api_key else None,
            heygen_include_supporting=avatar_studio.heygen_include_supporting,
        )

    def describe(self) -> str:
        parts = [
            f"writer {'openai ' + self.openai_model if self.openai_model else 'offline'}",
            "voices " + (">".join(p for p, on in (("elevenlabs", self.elevenlabs), ("google", self.google)) if on) or "offline")
            + (">offline" if self.elevenlabs or self.google else ""),
            f"avatars {'heygen' if self.heygen_price_per_minute is not None else 'local'}",
        ]
        return ", ".join(parts)


@dataclass
class EpisodeEstimate:
    series_id: str
    episode: int
    basis: str  # "script" or "config"
    mix: str
    usd: dict[str, float] = field(default_factory=dict)  # provider -> USD
    notes: dict[str, str] = field(default_factory=dict)  # provider -> how it was reckoned

    @property
    def total(self) -> float:
        return sum(self.usd.values())

    def paid(self) -> dict[str, float]:
        return {p: round(v, 6) for p, v in self.usd.items() if v > 0}

    def text(self) -> str:
        lines = [f"{self.series_id} episode {self.episode}: estimated ${self.total:.2f} ({self.mix}; from the {self.basis})"]
        for provider in sorted(self.usd):
            lines.append(f"  {provider:<11} ${self.usd[provider]:8.4f}  {self.notes.get(provider, '')}".rstrip())
        if not self.usd:
            lines.append("  no paid provider configured: everything is made offline at no cost")
        return "\n".join(lines)


def actual_spend(ledger: CostLedger, series_id: str, episode: int) -> dict[str, float]:
    """provider -> USD the ledger records for this episode (every day it was worked on)."""
    out: dict[str, float] = {}
    for entry in ledger.entries():
        if entry.series_id == series_id and entry.episode == episode and entry.cost_usd:
            out[entry.provider] = out.get(entry.provider, 0.0) + entry.cost_usd
    return out


def still_to_spend(est: EpisodeEstimate, ledger: CostLedger) -> dict[str, float]:
    """The estimate less what this episode already spent (a resumed run pays only the rest)."""
    spent = actual_spend(ledger, est.series_id, est.episode)
    return {p: round(max(0.0, usd - spent.get(p, 0.0)), 6) for p, usd in est.paid().items() if usd - spent.get(p, 0.0) > 0}


def comparison(est_usd: dict[str, float], actual: dict[str, float]) -> dict[str, float]:
    """Flat numbers for asset metadata: estimate, actual and their difference, in all and per provider."""
    out = {
        "cost_estimate_usd": round(sum(est_usd.values()), 4),
        "cost_actual_usd": round(sum(actual.values()), 4),
    }
    out["cost_actual_minus_estimate_usd"] = round(out["cost_actual_usd"] - out["cost_estimate_usd"], 4)
    for provider in sorted(set(est_usd) | set(actual)):
        out[f"cost_{provider}_estimate_usd"] = round(est_usd.get(provider, 0.0), 4)
        out[f"cost_{provider}_actual_usd"] = round(actual.get(provider, 0.0), 4)
    return out
