"""YouTube Data API quota: units per method, counted per Pacific day in a persisted counter.

YouTube resets quota at midnight America/Los_Angeles. Two rules are documented and both are
supported (`insert_rule`):
- "bucket" (default, the current rule): inserts come from a separate bucket of `daily_inserts`
  (100) a day and cost no general units;
- "units" (the older rule): every `videos.insert` costs 1,600 of the general daily units
  (six uploads a day);
- "both": an insert needs room in both.
Whichever rule is set, a `quotaExceeded` answer still defers, so a project on the older rule
running with the default loses nothing but one refused request a day.

An upload that would not fit is deferred to the next Pacific day instead of being sent; a
`quotaExceeded` answer from the server marks the day as used up, so later calls defer at once.
The counter is a small JSON file updated under an exclusive lock, so runs in several processes
share it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from aidas_dagster.core.storage import write_json

PACIFIC = ZoneInfo("America/Los_Angeles")

InsertRule = Literal["units", "bucket", "both"]

# Units per call: PROVIDERS.md and Google's table (developers.google.com/youtube/v3/determine_quota_cost).
# Methods not listed cost 1. Captions cost far more than anything but an insert under the older rule.
DEFAULT_METHOD_UNITS: dict[str, int] = {
    "videos.insert": 1600,
    "videos.update": 50,
    "videos.delete": 50,
    "videos.list": 1,
    "thumbnails.set": 50,
    "captions.list": 50,
    "captions.insert": 400,
    "captions.update": 450,
    "captions.delete": 50,
    "channels.list": 1,
    "playlists.list": 1,
    "playlists.insert": 50,
    "playlists.update": 50,
    "playlistItems.list": 1,
    "playlistItems.insert": 50,
    "playlistItems.delete": 50,
    "commentThreads.list": 1,
    "search.list": 100,
}
INSERT = "videos.insert"


class QuotaDeferred(RuntimeError):
    """The call would exceed today's YouTube quota; it waits for the next Pacific day."""

    def __init__(self, message: str, until: dt.date):
        super().__init__(message)
        self.until = until


def pacific_day(now: dt.datetime | None = None) -> dt.date:
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(PACIFIC).date()


def next_reset(now: dt.datetime | None = None) -> dt.datetime:
    """Midnight Pacific after `now`: when the quota comes back."""
    day = pacific_day(now) + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(0), tzinfo=PACIFIC)


@dataclass(frozen=True)
class QuotaSettings:
    daily_units: int = 10_000
    daily_inserts: int = 100
    insert_rule: InsertRule = "bucket"
    method_units: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.insert_rule not in ("units", "bucket", "both"):
            raise ValueError(f"quota insert_rule must be 'units', 'bucket' or 'both', not {self.insert_rule!r}")
        if self.daily_units <= 0 or self.daily_inserts <= 0:
            raise ValueError("quota daily_units and daily_inserts must be positive")
        for method, units in self.method_units.items():
            if units < 0:
                raise ValueError(f"quota units for {method} must not be negative ({units})")

    def units(self, method: str) -> int:
        """General units a call takes (an insert takes none under the bucket rule)."""
        if method == INSERT and self.insert_rule == "bucket":
            return 0
        return {**DEFAULT_METHOD_UNITS, **self.method_units}.get(method, 1)

    def inserts(self, method: str) -> int:
        return 1 if method == INSERT and self.insert_rule in ("bucket", "both") else 0


@dataclass
class QuotaDay:
    day: str
    units: int = 0
    inserts: int = 0
    exhausted: bool = False
    by_method: dict[str, int] = field(default_factory=dict)


class QuotaCounter:
    """Units used today (Pacific), persisted at `path`."""

    def __init__(self, path: Path | str, settings: QuotaSettings | None = None, clock=None):
        self.path = Path(path)
        self.settings = settings or QuotaSettings()
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))

    def today(self) -> str:
        return pacific_day(self._clock()).isoformat()

    @contextmanager
    def _locked(self) -> Iterator[QuotaDay]:
        """The current day's counter under an exclusive lock; changes are written back atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_suffix(".lock")
        with lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                state = self._read()
                before = json.dumps(state.__dict__, sort_keys=True)
                yield state
                if json.dumps(state.__dict__, sort_keys=True) != before:
                    write_json(self.path, state.__dict__)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read(self) -> QuotaDay:
        today = self.today()
        if not self.path.exists():
            return QuotaDay(day=today)
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            state = QuotaDay(**raw)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{self.path}: quota counter is unreadable ({exc}); delete it to start counting afresh") from exc
        return state if state.day == today else QuotaDay(day=today)

    def snapshot(self) -> QuotaDay:
        with self._locked() as state:
            return QuotaDay(**{**state.__dict__, "by_method": dict(state.by_method)})

    def _deferral(self, what: str, reason: str) -> QuotaDeferred:
        reset = next_reset(self._clock())
        return QuotaDeferred(
            f"YouTube quota: {what} deferred until {reset.date().isoformat()} (midnight Pacific): {reason}", reset.date()
        )

    def _check(self, state: QuotaDay, plan: dict[str, int]) -> str | None:
        s = self.settings
        if state.exhausted:
            return "the server reported quotaExceeded today"
        units = sum(s.units(m) * n for m, n in plan.items())
        inserts = sum(s.inserts(m) * n for m, n in plan.items())
        if state.units + units > s.daily_units:
            return f"needs {units} units, {state.units} of {s.daily_units} already used today"
        if state.inserts + inserts > s.daily_inserts:
            return f"needs {inserts} upload(s), {state.inserts} of {s.daily_inserts} already used today"
        return None

    def ensure(self, what: str, plan: dict[str, int]) -> None:
        """Raise QuotaDeferred unless `plan` (method -> calls) fits in what is left today."""
        with self._locked() as state:
            reason = self._check(state, plan)
        if reason:
            raise self._deferral(what, reason)

    def spend(self, method: str, calls: int = 1, *, what: str | None = None) -> int:
        """Count a call before it is sent; defers (raises) when it would not fit. Returns its units."""
        with self._locked() as state:
            reason = self._check(state, {method: calls})
            if reason:
                raise self._deferral(what or method, reason)
            units = self.settings.units(method) * calls
            state.units += units
            state.inserts += self.settings.inserts(method) * calls
            state.by_method[method] = state.by_method.get(method, 0) + calls
            return units

    def mark_exhausted(self, what: str) -> QuotaDeferred:
        """The server said quotaExceeded: nothing more today. Returns the deferral to raise."""
        with self._locked() as state:
            state.exhausted = True
        return self._deferral(what, "the server answered quotaExceeded")

    def remaining_units(self) -> int:
        with self._locked() as state:
            return 0 if state.exhausted else max(0, self.settings.daily_units - state.units)
