"""Which episodes the studio makes today: the plan behind the `daily_production` schedule.

Plain data in, plain data out, so the rules are tested without Dagster:
- only active series (registered, valid config, `active: true`, pre-production done) take part;
- a series' next episode is its first one not yet published and not already being made, and it may
  start only if its predecessor's script exists (or the predecessor is itself queued or planned:
  the run queue's one-run-per-series limit makes them run in order);
- never beyond a series' end;
- series take turns (round-robin), starting with a different series each day so the odd extra
  slot rotates;
- at most `target` episodes a day, counting what was already requested today, so a second tick the
  same day asks for nothing new; run keys are `day|series|episode`, the same on every tick that day.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aidas_dagster.core.config import env_whole_number

SEOUL = ZoneInfo("Asia/Seoul")
DEFAULT_DAILY_TARGET = 10
DEFAULT_ECONOMY_TARGET = 5  # spec 15.2: batch size 5 when the budget is tight
DEFAULT_SLOT_MINUTES = 30


@dataclass(frozen=True)
class SeriesProgress:
    """Where one active series stands."""

    series_id: str
    total_episodes: int
    scripted: frozenset[int] = frozenset()  # episodes whose script exists
    published: frozenset[int] = frozenset()  # episodes finished and published
    in_flight: frozenset[int] = frozenset()  # episodes with a queued or running run


@dataclass(frozen=True)
class PlannedEpisode:
    series_id: str
    episode: int
    publish_at: dt.datetime  # release slot, Asia/Seoul
    run_key: str


@dataclass(frozen=True)
class DailySettings:
    target: int = DEFAULT_DAILY_TARGET
    economy_target: int = DEFAULT_ECONOMY_TARGET
    slot_minutes: int = DEFAULT_SLOT_MINUTES

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> DailySettings:
        """AIDAS_DAILY_EPISODES, AIDAS_ECONOMY_DAILY_EPISODES, AIDAS_PUBLISH_SLOT_MINUTES."""
        env = dict(os.environ if env is None else env)

        def number(name: str, default: int, low: int) -> int:
            value = env_whole_number(name, env)
            if value is None:
                return default
            if value < low:
                raise ValueError(f"{name}={value}: must be at least {low}")
            return value

        return cls(
            target=number("AIDAS_DAILY_EPISODES", DEFAULT_DAILY_TARGET, 0),
            economy_target=number("AIDAS_ECONOMY_DAILY_EPISODES", DEFAULT_ECONOMY_TARGET, 0),
            slot_minutes=number("AIDAS_PUBLISH_SLOT_MINUTES", DEFAULT_SLOT_MINUTES, 1),
        )


def run_key(day: dt.date, series_id: str, episode: int) -> str:
    return f"{day.isoformat()}|{series_id}|{episode:03d}"


def next_episodes(progress: SeriesProgress) -> list[int]:
    """The series' episodes that may be made next, in order (a chain from the last one available)."""
    chain: list[int] = []
    for episode in range(1, progress.total_episodes + 1):
        if episode in progress.published or episode in progress.in_flight:
            continue
        previous = episode - 1
        ready = previous == 0 or previous in progress.scripted or previous in progress.in_flight or previous in chain
        if not ready:
            break
        chain.append(episode)
    return chain


def plan_daily_episodes(
    series: Sequence[SeriesProgress],
    *,
    day: dt.date,
    target: int = DEFAULT_DAILY_TARGET,
    already_requested: int = 0,
    publish_hour: int = 19,
    slot_minutes: int = DEFAULT_SLOT_MINUTES,
) -> list[PlannedEpisode]:
    """Today's episodes, round-robin across series, each with its release slot and run key.

    Release slots start at `publish_hour` (Asia/Seoul) on `day` and follow each other every
    `slot_minutes`, in plan order, after the slots already given out today.
    """
    budget = max(0, target - already_requested)
    ordered = sorted(series, key=lambda s: s.series_id)
    if ordered:
        start = day.toordinal() % len(ordered)
        ordered = ordered[start:] + ordered[:start]
    queues = [(s.series_id, next_episodes(s)) for s in ordered]
    first_slot = dt.datetime.combine(day, dt.time(hour=publish_hour), tzinfo=SEOUL)
    plan: list[PlannedEpisode] = []
    round_index = 0
    while len(plan) < budget and any(round_index < len(queue) for _sid, queue in queues):
        for series_id, queue in queues:
            if len(plan) >= budget:
                break
            if round_index < len(queue):
                episode = queue[round_index]
                slot = first_slot + dt.timedelta(minutes=slot_minutes * (already_requested + len(plan)))
                plan.append(PlannedEpisode(series_id, episode, slot, run_key(day, series_id, episode)))
        round_index += 1
    return plan


def production_day(moment: dt.datetime) -> dt.date:
    """The studio's calendar day (Asia/Seoul) of a moment."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(SEOUL).date()


def episodes_of(numbers: Iterable[int], total: int) -> frozenset[int]:
    return frozenset(n for n in numbers if 1 <= n <= total)
