"""`aidas status`: what was produced, what is next, what it cost today, and the budget mode."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from aidas_dagster.core.config import load_all
from aidas_dagster.core.ledger import Budget, studio_tz, today, totals_by_provider
from aidas_dagster.core.storage import Storage
from aidas_dagster.core.budget import daily_gate
from aidas_dagster.operations.progress import requested_on, studio_progress
from aidas_dagster.operations.schedule_plan import DailySettings, plan_daily_episodes, production_day

STAGES = ("script", "audio", "cut", "published")


def episode_stages(storage: Storage, series_id: str, episode: int) -> dict[str, bool]:
    return {
        "script": storage.script_path(series_id, episode).exists(),
        "audio": storage.audio_manifest_path(series_id, episode).exists(),
        "cut": storage.video_path(series_id, episode).exists(),
        "published": storage.publish_record_path(series_id, episode).exists(),
    }


def status_text(
    instance, series_dir: Path, storage: Storage, budget: Budget, *, publish_hour: int = 19, now: dt.datetime | None = None
) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    lines: list[str] = []
    configs, errors = load_all(series_dir)
    lines.append("PRODUCED")
    if not configs:
        lines.append(f"  no series configs in {series_dir}")
    for config in configs:
        rows = [(n, episode_stages(storage, config.series_id, n)) for n in range(1, config.total_episodes + 1)]
        counts = {stage: sum(done[stage] for _n, done in rows) for stage in STAGES}
        state = "active" if config.active else "paused"
        lines.append(
            f"  {config.series_id} ({config.title}), {config.total_episodes} episodes, {state}: "
            + ", ".join(f"{stage} {counts[stage]}" for stage in STAGES)
        )
        started = [(n, done) for n, done in rows if any(done.values())]
        if started:
            lines.append("    ep   " + "  ".join(f"{stage:<9}" for stage in STAGES).rstrip())
            for n, done in started:
                lines.append(f"    {n:03d}  " + "  ".join(f"{'yes' if done[s] else '-':<9}" for s in STAGES).rstrip())
    for error in errors:
        lines.append(f"  invalid config: {error}")

    day = production_day(now)
    settings = DailySettings.from_env()
    mode, sentence = daily_gate(budget)
    progress, skipped = studio_progress(instance, series_dir, storage)
    already = requested_on(instance, day)
    target = min(settings.target, settings.economy_target) if mode == "economy" else settings.target
    lines.append("")
    lines.append(f"NEXT (daily plan for {day}, Asia/Seoul; {already} already requested, target {target})")
    if mode == "exhausted":
        lines.append(f"  nothing starts: {sentence}")
    else:
        plan = plan_daily_episodes(
            progress, day=day, target=target, already_requested=already, publish_hour=publish_hour, slot_minutes=settings.slot_minutes
        )
        for item in plan:
            lines.append(f"  {item.series_id} episode {item.episode}, release {item.publish_at:%Y-%m-%d %H:%M} KST")
        if not plan:
            lines.append("  nothing more to start today")
    for series_id, why in sorted(skipped.items()):
        lines.append(f"  not scheduled: {series_id}: {why}")

    lines.append("")
    lines.append(f"COST TODAY ({today()} {studio_tz().key})")
    totals = totals_by_provider(budget.ledger.entries(today()))
    if not totals:
        lines.append("  no provider calls recorded")
    for provider, row in sorted(totals.items()):
        lines.append(
            f"  {provider:<12} ${row['cost_usd']:8.2f}  {int(row['calls'])} calls, {int(row['cache_hits'])} from cache"
        )
    lines.append("")
    lines.append(f"BUDGET: {mode} — {sentence}")
    for name, (spent, limit) in budget.standing().items():
        if name != "daily":
            lines.append(f"  {name:<12} ${spent:.2f} of ${limit:.2f} ({budget.mode(name)})")
    return "\n".join(lines)
