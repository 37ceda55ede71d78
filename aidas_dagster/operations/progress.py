"""Where each series stands: files in storage plus runs in the Dagster instance.

Read by the daily schedule, the health sensor, the production report and `aidas status`.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from aidas_dagster.core.config import SeriesConfig, load_all
from aidas_dagster.core.ledger import studio_day
from aidas_dagster.core.run_tags import PLAN_DAY_TAG
from aidas_dagster.core.storage import Storage
from aidas_dagster.operations.alerts import HealthSnapshot
from aidas_dagster.operations.schedule_plan import SeriesProgress, episodes_of
from aidas_dagster.partitions import EPISODE, SERIES

SERIES_TAG = f"dagster/partition/{SERIES}"
EPISODE_TAG = f"dagster/partition/{EPISODE}"

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dataclass
class ActiveSeries:
    configs: list[SeriesConfig] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # series id -> why it is not scheduled


def active_series(series_dir: Path, storage: Storage, registered: set[str]) -> ActiveSeries:
    """Registered series with a valid, active config whose pre-production is done."""
    valid, errors = load_all(series_dir)
    found = ActiveSeries()
    for error in errors:
        found.skipped[str(error.path)] = f"invalid config: {error}"
    for config in valid:
        if config.series_id not in registered:
            found.skipped[config.series_id] = "not registered yet (the series sensor adds it)"
        elif not config.active:
            found.skipped[config.series_id] = "inactive (active: false in its config)"
        elif not storage.bible_path(config.series_id).exists():
            found.skipped[config.series_id] = "waiting for pre-production (no series bible yet)"
        else:
            found.configs.append(config)
    return found


def in_flight_episodes(instance: dg.DagsterInstance) -> dict[str, set[int]]:
    """series id -> episodes with a queued or running run (any job, backfill or automation)."""
    out: dict[str, set[int]] = {}
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_FLIGHT)):
        series_id, episode = run.tags.get(SERIES_TAG), run.tags.get(EPISODE_TAG)
        if series_id and episode and episode.isdigit():
            out.setdefault(series_id, set()).add(int(episode))
    return out


def requested_on(instance: dg.DagsterInstance, day: dt.date) -> int:
    """How many episode runs the daily schedule already asked for on `day`."""
    return instance.get_runs_count(filters=dg.RunsFilter(tags={PLAN_DAY_TAG: day.isoformat()}))


def series_progress(config: SeriesConfig, storage: Storage, in_flight: set[int]) -> SeriesProgress:
    total = config.total_episodes
    numbers = range(1, total + 1)
    return SeriesProgress(
        series_id=config.series_id,
        total_episodes=total,
        scripted=episodes_of((n for n in numbers if storage.script_path(config.series_id, n).exists()), total),
        published=episodes_of((n for n in numbers if storage.publish_record_path(config.series_id, n).exists()), total),
        in_flight=episodes_of(in_flight, total),
    )


def studio_progress(instance: dg.DagsterInstance, series_dir: Path, storage: Storage) -> tuple[list[SeriesProgress], dict[str, str]]:
    """Progress of every active series, and why the others are left out."""
    active = active_series(series_dir, storage, set(instance.get_dynamic_partitions(SERIES)))
    flying = in_flight_episodes(instance)
    progress = [series_progress(c, storage, flying.get(c.series_id, set())) for c in active.configs]
    return progress, active.skipped


# ---------------------------------------------------------------- health and reporting


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


DEFAULT_UNIT_QUOTAS = {"youtube": 10_000.0}  # YouTube Data API: 10,000 quota units a day


def health_snapshot(
    instance: dg.DagsterInstance,
    storage: Storage,
    budget,
    now: dt.datetime,
    unit_quotas: dict[str, float] | None = None,
):
    """What the health rules look at: the last 24 h of runs, today's spend and quota, the disk."""
    since = now - dt.timedelta(hours=24)
    finished = failed = 0
    slow: list[tuple[str, str, float]] = []
    for record in instance.get_run_records(filters=dg.RunsFilter(updated_after=since)):
        run = record.dagster_run
        if run.status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE):
            finished += 1
            failed += run.status == dg.DagsterRunStatus.FAILURE
        if record.start_time is not None and run.status in (
            dg.DagsterRunStatus.SUCCESS,
            dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.STARTED,
        ):
            end = record.end_time or now.timestamp()
            partition = run.tags.get("dagster/partition", "")
            slow.append((run.run_id, f"{run.job_name} {partition}".strip(), (end - record.start_time) / 60))
    day = studio_day(now)  # the ledger's and the budget's day
    standing = budget.standing(day)
    quota_used = {f"{name} budget (USD)": pair for name, pair in standing.items() if name != "daily"}
    entries = list(budget.ledger.entries(day))
    for provider, limit in (DEFAULT_UNIT_QUOTAS if unit_quotas is None else unit_quotas).items():
        used = sum(e.units for e in entries if e.provider == provider and not e.cache_hit)
        quota_used[f"{provider} quota (units)"] = (used, limit)
    usage = shutil.disk_usage(_existing(storage.root))
    return HealthSnapshot(
        finished_runs=finished,
        failed_runs=failed,
        quota_used=quota_used,
        disk_used_fraction=(usage.total - usage.free) / usage.total if usage.total else 0.0,
        disk_path=str(storage.root),
        slow_runs=slow,
        cost_today_usd=standing["daily"][0],
        daily_budget_usd=standing["daily"][1],
    )


def run_rows(instance: dg.DagsterInstance, since: dt.datetime) -> list[dict]:
    """One row per run created or updated since `since`: job, episode, status, start and end."""
    rows = []
    for record in instance.get_run_records(filters=dg.RunsFilter(updated_after=since)):
        run = record.dagster_run
        episode = run.tags.get(EPISODE_TAG, "")
        rows.append(
            {
                "run_id": run.run_id,
                "job": run.job_name,
                "series": run.tags.get(SERIES_TAG, ""),
                "episode": int(episode) if episode.isdigit() else None,
                "status": run.status.value,
                "start": record.start_time,
                "end": record.end_time,
            }
        )
    return rows


def step_rows(instance: dg.DagsterInstance, run_ids: list[str]) -> list[dict]:
    """One row per finished step (an asset, in asset jobs) of the given runs, with its duration."""
    rows = []
    for run_id in run_ids:
        for stat in instance.get_run_step_stats(run_id):
            if stat.start_time and stat.end_time:
                rows.append(
                    {
                        "run_id": run_id,
                        "stage": stat.step_key,
                        "status": stat.status.value if stat.status else "",
                        "seconds": stat.end_time - stat.start_time,
                    }
                )
    return rows


def materialised_since(instance: dg.DagsterInstance, asset: str, since: dt.datetime) -> list[str]:
    """Partition keys of `asset` materialised since `since` (each once)."""
    result = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), after_timestamp=since.timestamp()), limit=10_000
    )
    return sorted({r.partition_key for r in result.records if r.partition_key})
