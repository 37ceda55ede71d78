"""The cost ledger and the daily budget: one place every paid call is recorded and checked.

Every provider (real or offline) records each call: units (tokens, characters, seconds, quota
units), estimated cost in USD and whether the content cache answered instead. The ledger is an
append-only JSON-lines file under the storage root; appends hold an exclusive file lock, so runs
in several processes (or on several workers sharing the storage) never interleave a line.

The budget (spec 15.1/15.2) reads the ledger: at 80 % of a limit a provider should switch to its
cheaper mode, at 100 % paid work is refused before it starts.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

# Spec 15.1: $100/day in all, and per provider.
DEFAULT_DAILY_LIMIT_USD = 100.0
DEFAULT_PROVIDER_LIMITS_USD = {"openai": 50.0, "elevenlabs": 20.0, "heygen": 30.0}
ECONOMY_AT = 0.8  # spec 15.2: switch to cheaper options at 80 %

BudgetMode = Literal["normal", "economy", "exhausted"]


def today() -> str:
    """The ledger's day: UTC calendar date (budgets reset at 00:00 UTC)."""
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


@dataclass(frozen=True)
class LedgerEntry:
    provider: str
    operation: str
    units: float
    unit: str
    cost_usd: float
    cache_hit: bool = False
    series_id: str = ""
    episode: int = 0
    detail: str = ""
    at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))

    @property
    def day(self) -> str:
        return self.at[:10]


class CostLedger:
    """Append-only JSONL of paid (and cached) calls, one file per UTC day.

    `path` names the ledger (e.g. `ledger/costs.jsonl`); entries go to `costs-<day>.jsonl` beside
    it, so a budget check reads one day, not the studio's whole history.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def day_path(self, day: str) -> Path:
        return self.path.with_name(f"{self.path.stem}-{day}{self.path.suffix}")

    def record(self, entry: LedgerEntry) -> LedgerEntry:
        target = self.day_path(entry.day)
        target.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
        with target.open("a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return entry

    def entries(self, day: str | None = None) -> Iterator[LedgerEntry]:
        """Recorded entries (of one UTC day if given), oldest day first; a torn or foreign line is skipped."""
        files = [self.day_path(day)] if day else sorted(self.path.parent.glob(f"{self.path.stem}-*{self.path.suffix}"))
        for file in files:
            if not file.exists():
                continue
            with file.open(encoding="utf-8") as fh:
                for raw in fh:
                    try:
                        entry = LedgerEntry(**json.loads(raw))
                    except (ValueError, TypeError):
                        continue
                    if day is None or entry.day == day:
                        yield entry

    def spent(self, day: str | None = None, provider: str | None = None) -> float:
        day = day or today()
        return sum(e.cost_usd for e in self.entries(day) if provider is None or e.provider == provider)


class BudgetExceeded(RuntimeError):
    """Paid work refused because a daily limit is reached; the message says which and how much."""


@dataclass(frozen=True)
class BudgetLimits:
    daily_usd: float = DEFAULT_DAILY_LIMIT_USD
    provider_usd: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PROVIDER_LIMITS_USD))


@dataclass(frozen=True)
class Budget:
    ledger: CostLedger
    limits: BudgetLimits = field(default_factory=BudgetLimits)

    def _shares(self, provider: str, day: str) -> list[tuple[str, float, float]]:
        """(label, spent, limit) of the limits that apply to `provider`."""
        entries = list(self.ledger.entries(day))
        total = sum(e.cost_usd for e in entries)
        shares = [("daily budget", total, self.limits.daily_usd)]
        if provider in self.limits.provider_usd:
            mine = sum(e.cost_usd for e in entries if e.provider == provider)
            shares.append((f"{provider} budget", mine, self.limits.provider_usd[provider]))
        return shares

    def mode(self, provider: str, day: str | None = None) -> BudgetMode:
        """normal, economy (>= 80 % of a limit: use cheaper options) or exhausted (>= 100 %)."""
        shares = self._shares(provider, day or today())
        if any(spent >= limit for _label, spent, limit in shares):
            return "exhausted"
        if any(spent >= ECONOMY_AT * limit for _label, spent, limit in shares):
            return "economy"
        return "normal"

    def ensure_can_spend(self, provider: str, estimate_usd: float = 0.0, day: str | None = None) -> BudgetMode:
        """Raise BudgetExceeded when `provider`'s next call would pass a limit; else the mode."""
        for label, spent, limit in self._shares(provider, day or today()):
            if spent + estimate_usd > limit or spent >= limit:
                raise BudgetExceeded(
                    f"{label} reached: ${spent:.2f} of ${limit:.2f} spent today"
                    f"{f', next {provider} call ~${estimate_usd:.2f}' if estimate_usd else ''}; "
                    f"paid {provider} work stops until tomorrow (UTC) or the limit is raised"
                )
        return self.mode(provider, day)

    def standing(self, day: str | None = None) -> dict[str, tuple[float, float]]:
        """limit name ("daily", then each provider) -> (spent, limit) today, for status and alerts."""
        entries = list(self.ledger.entries(day or today()))
        out = {"daily": (sum(e.cost_usd for e in entries), self.limits.daily_usd)}
        for provider, limit in self.limits.provider_usd.items():
            out[provider] = (sum(e.cost_usd for e in entries if e.provider == provider), limit)
        return out


def totals_by_provider(entries: Iterable[LedgerEntry]) -> dict[str, dict[str, float]]:
    """provider -> calls, cache hits, units and cost, for reports."""
    out: dict[str, dict[str, float]] = {}
    for e in entries:
        row = out.setdefault(e.provider, {"calls": 0, "cache_hits": 0, "units": 0.0, "cost_usd": 0.0})
        row["calls"] += 1
        row["cache_hits"] += int(e.cache_hit)
        row["units"] += e.units
        row["cost_usd"] += e.cost_usd
    return out
