"""The cost ledger and the daily budget: one place every paid call is recorded and checked.

Every provider (real or offline) records each call: units (tokens, characters, seconds, quota
units), estimated cost in USD and whether the content cache answered instead. The ledger is an
append-only JSON-lines file under the storage root; appends hold an exclusive file lock, so runs
in several processes (or on several workers sharing the storage) never interleave a line.

The budget (spec 15.1/15.2) reads the ledger: at 80 % of a limit a provider should switch to its
cheaper mode, at 100 % paid work is refused before it starts.

Reading what was spent is not enough when several runs spend at once (four runs in parallel, Celery
workers): each could pass the check and together overspend. So paid work first *reserves* its
estimate (`Budget.reserve`): under one ledger lock file the spend so far plus every live
reservation is checked against the limits and the reservation written, so parallel processes see
each other's. When the call returns the reservation is reconciled to the actual cost; on failure
it is released; a reservation whose process is gone, or that outlived its time to live, no longer
counts. A run may also reserve a whole episode's estimate up front (its calls then draw on it).

The budget day is the studio's calendar day (AIDAS_STUDIO_TZ, default Asia/Seoul, the daily
schedule's zone): budgets reset at studio midnight, not at 00:00 UTC.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aidas_dagster.core.storage import exclusive_lock, pid_alive, write_json

# Spec 15.1: $100/day in all, and per provider.
DEFAULT_DAILY_LIMIT_USD = 100.0
DEFAULT_PROVIDER_LIMITS_USD = {"openai": 50.0, "elevenlabs": 20.0, "heygen": 30.0}
ECONOMY_AT = 0.8  # spec 15.2: switch to cheaper options at 80 %

BudgetMode = Literal["normal", "economy", "exhausted"]


DEFAULT_STUDIO_TZ = "Asia/Seoul"  # the daily schedule's execution_timezone
RESERVATION_TTL_SECONDS = 3 * 3600.0  # a reservation nobody touched for this long no longer counts


def studio_tz() -> ZoneInfo:
    """The studio's time zone (AIDAS_STUDIO_TZ, an IANA name; default Asia/Seoul)."""
    name = os.environ.get("AIDAS_STUDIO_TZ") or DEFAULT_STUDIO_TZ
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"AIDAS_STUDIO_TZ={name!r} is not a time zone name (e.g. Asia/Seoul, UTC)") from exc


def studio_day(at: dt.datetime | str | None = None) -> str:
    """The studio calendar date of a moment (an aware datetime or ISO text; default now)."""
    if at is None:
        moment = dt.datetime.now(dt.timezone.utc)
    elif isinstance(at, str):
        moment = dt.datetime.fromisoformat(at)
    else:
        moment = at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(studio_tz()).date().isoformat()


def today() -> str:
    """The ledger's day: the studio's calendar date (budgets reset at studio midnight)."""
    return studio_day()


def _shift(day: str, days: int) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


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
        """The studio day the call was made on."""
        try:
            return studio_day(self.at)
        except ValueError:
            return self.at[:10]


class CostLedger:
    """Append-only JSONL of paid (and cached) calls, one file per studio day.

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
        """Recorded entries (of one studio day if given), oldest day first; a torn or foreign line is skipped."""
        # A day's entries are in its own file, but files written before the studio day (UTC days)
        # or under another AIDAS_STUDIO_TZ may hold some: the neighbours are read and filtered too.
        files = (
            [self.day_path(_shift(day, -1)), self.day_path(day), self.day_path(_shift(day, 1))]
            if day
            else sorted(self.path.parent.glob(f"{self.path.stem}-*{self.path.suffix}"))
        )
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


def _proc_start(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _process_gone(pid: int, started: str) -> bool:
    if not pid_alive(pid):
        return True
    return bool(started) and _proc_start(pid) not in ("", started)


@dataclass
class _Held:
    """One holder's reservation for one provider, as stored in `reservations-<day>.json`."""

    holder: str
    provider: str
    usd: float  # still set aside
    host: str
    pid: int  # 0: no process to watch (a launched run's steps come and go); the TTL and run end decide
    pid_started: str
    touched: float
    what: str = ""

    def stale(self, now: float, ttl: float) -> bool:
        if self.usd <= 0 or now - self.touched > ttl:
            return True
        return bool(self.pid) and self.host == socket.gethostname() and _process_gone(self.pid, self.pid_started)


class ReservationStore:
    """The reservations of one day under the ledger lock: `ledger/reservations-<day>.json` and
    `ledger/.lock` beside the ledger's day files, shared by every process and worker."""

    def __init__(self, ledger: CostLedger):
        self.folder = ledger.path.parent
        self.lock_path = self.folder / ".lock"

    def path(self, day: str) -> Path:
        return self.folder / f"reservations-{day}.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with exclusive_lock(self.lock_path):
            yield

    def load(self, day: str, ttl: float) -> dict[str, _Held]:
        """Live reservations of `day` (call under `locked`); stale ones are dropped."""
        try:
            raw = json.loads(self.path(day).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}  # torn by a crash mid-write cannot happen (atomic), but never block paid work on it
        now = time.time()
        held = {}
        for key, row in raw.items():
            try:
                item = _Held(**row)
            except TypeError:
                continue
            if not item.stale(now, ttl):
                held[key] = item
        return held

    def save(self, day: str, held: dict[str, _Held]) -> None:
        write_json(self.path(day), {key: asdict(item) for key, item in sorted(held.items())})


@dataclass
class Reservation:
    """Money set aside for one paid call (or a run's episode); settle it with the actual cost or
    release it. As a context manager it is released on exit unless settled."""

    budget: Budget
    provider: str
    day: str
    covered: float  # drawn from the holder's earlier reservation (an episode's)
    extra: float  # newly set aside for this call
    done: bool = False

    @property
    def usd(self) -> float:
        return self.covered + self.extra

    def settle(self, actual_usd: float) -> None:
        """The call cost `actual_usd` (now in the ledger): the holder's reservation shrinks by it,
        and whatever this call set aside beyond it is let go."""
        if self.done:
            return
        unused_extra = max(0.0, self.extra - max(0.0, actual_usd - self.covered))
        self.budget._adjust(self.provider, self.day, -(max(0.0, actual_usd) + unused_extra))
        self.done = True

    def release(self) -> None:
        """The call failed or was not made: what it set aside is let go."""
        if self.done:
            return
        self.budget._adjust(self.provider, self.day, -self.extra)
        self.done = True

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def default_holder() -> str:
    return f"pid:{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Budget:
    ledger: CostLedger
    limits: BudgetLimits = field(default_factory=BudgetLimits)
    # Who reserves: a run id inside a run (its steps share its reservations), else this process.
    holder: str = ""
    # The process whose death ends the holder's reservations (0: none to watch; -1: this process).
    holder_pid: int = -1
    ttl_seconds: float = RESERVATION_TTL_SECONDS

    @property
    def store(self) -> ReservationStore:
        return ReservationStore(self.ledger)

    def _holder(self) -> str:
        return self.holder or default_holder()

    def _watched_pid(self) -> int:
        return os.getpid() if self.holder_pid == -1 else self.holder_pid

    def reserved(self, day: str | None = None, provider: str | None = None, *, others_only: bool = False) -> float:
        """USD set aside by live reservations (of `provider`; of holders other than ours)."""
        day = day or today()
        with self.store.locked():
            held = self.store.load(day, self.ttl_seconds)
        me = self._holder()
        return sum(
            h.usd for h in held.values() if (provider is None or h.provider == provider) and not (others_only and h.holder == me)
        )

    def _shares(self, provider: str, day: str, held: dict[str, _Held] | None = None) -> list[tuple[str, float, float]]:
        """(label, spent + reserved by others, limit) of the limits that apply to `provider`."""
        entries = list(self.ledger.entries(day))
        if held is None:
            with self.store.locked():
                held = self.store.load(day, self.ttl_seconds)
        me = self._holder()
        others = [h for h in held.values() if h.holder != me]
        total = sum(e.cost_usd for e in entries) + sum(h.usd for h in others)
        shares = [("daily budget", total, self.limits.daily_usd)]
        if provider in self.limits.provider_usd:
            mine = sum(e.cost_usd for e in entries if e.provider == provider)
            mine += sum(h.usd for h in others if h.provider == provider)
            shares.append((f"{provider} budget", mine, self.limits.provider_usd[provider]))
        return shares

    def mode(self, provider: str, day: str | None = None) -> BudgetMode:
        """normal, economy (>= 80 % of a limit: use cheaper options) or exhausted (>= 100 %).
        Money other runs have reserved counts as spent."""
        shares = self._shares(provider, day or today())
        if any(spent >= limit for _label, spent, limit in shares):
            return "exhausted"
        if any(spent >= ECONOMY_AT * limit for _label, spent, limit in shares):
            return "economy"
        return "normal"

    def ensure_can_spend(self, provider: str, estimate_usd: float = 0.0, day: str | None = None) -> BudgetMode:
        """Raise BudgetExceeded when `provider`'s next call would pass a limit; else the mode.
        A check only: paid work should `reserve` instead, so parallel runs cannot both pass."""
        for label, spent, limit in self._shares(provider, day or today()):
            if spent + estimate_usd > limit or spent >= limit:
                raise self._refusal(label, spent, limit, provider, estimate_usd)
        return self.mode(provider, day)

    @staticmethod
    def _refusal(label: str, spent: float, limit: float, provider: str, estimate_usd: float) -> BudgetExceeded:
        return BudgetExceeded(
            f"{label} reached: ${spent:.2f} of ${limit:.2f} spent or reserved today ({studio_tz().key})"
            f"{f', next {provider} call ~${estimate_usd:.2f}' if estimate_usd else ''}; "
            f"paid {provider} work stops until tomorrow (studio time) or the limit is raised"
        )

    def reserve(self, provider: str, estimate_usd: float, *, what: str = "", day: str | None = None) -> Reservation:
        """Set `estimate_usd` aside for `provider` before paid work, or raise BudgetExceeded.

        Atomic across processes (under the ledger lock): spend so far plus every other live
        reservation plus this one must fit each limit. What the holder already reserved (an
        episode's estimate) covers the call first; only the rest is newly set aside.
        """
        day = day or today()
        estimate_usd = max(0.0, float(estimate_usd))
        me = self._holder()
        key = f"{me}|{provider}"
        with self.store.locked():
            held = self.store.load(day, self.ttl_seconds)
            own = held.get(key)
            covered = min(own.usd, estimate_usd) if own else 0.0
            extra = estimate_usd - covered
            if extra > 0 or not own:
                for label, spent, limit in self._shares(provider, day, held):
                    with_mine = spent + (own.usd if own else 0.0)
                    if with_mine + extra > limit or with_mine >= limit:
                        raise self._refusal(label, with_mine, limit, provider, estimate_usd)
            pid = self._watched_pid()
            held[key] = _Held(
                holder=me,
                provider=provider,
                usd=(own.usd if own else 0.0) + extra,
                host=socket.gethostname(),
                pid=pid,
                pid_started=_proc_start(pid) if pid else "",
                touched=time.time(),
                what=what or (own.what if own else ""),
            )
            self.store.save(day, held)
        return Reservation(self, provider, day, covered, extra)

    def reserve_many(self, estimates: dict[str, float], *, what: str = "", day: str | None = None) -> list[Reservation]:
        """Reserve several providers' estimates (an episode's) all or nothing."""
        done: list[Reservation] = []
        try:
            for provider, usd in estimates.items():
                if usd > 0:
                    done.append(self.reserve(provider, usd, what=what, day=day))
        except BudgetExceeded:
            for reservation in done:
                reservation.release()
            raise
        return done

    def _adjust(self, provider: str, day: str, delta: float) -> None:
        key = f"{self._holder()}|{provider}"
        with self.store.locked():
            held = self.store.load(day, self.ttl_seconds)
            own = held.get(key)
            if own is None:
                return
            own.usd = round(max(0.0, own.usd + delta), 9)
            own.touched = time.time()
            if own.usd <= 0:
                del held[key]
            self.store.save(day, held)

    def release_holder(self, holder: str | None = None, day: str | None = None) -> float:
        """Drop every reservation of `holder` (a run that ended); returns the USD let go."""
        holder = holder or self._holder()
        freed = 0.0
        days = [day] if day else [_shift(today(), -1), today()]
        with self.store.locked():
            for d in days:
                held = self.store.load(d, self.ttl_seconds)
                mine = [k for k, h in held.items() if h.holder == holder]
                if not mine:
                    continue
                freed += sum(held.pop(k).usd for k in mine)
                self.store.save(d, held)
        return freed

    def holders(self, day: str | None = None) -> dict[str, float]:
        """holder -> USD it holds today (live reservations only)."""
        out: dict[str, float] = {}
        with self.store.locked():
            for h in self.store.load(day or today(), self.ttl_seconds).values():
                out[h.holder] = out.get(h.holder, 0.0) + h.usd
        return out

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
