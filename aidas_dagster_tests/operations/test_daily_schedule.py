"""The daily schedule: ten episodes a day across active series, in order, within the budget, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from aidas_dagster.core.ledger import LedgerEntry
from aidas_dagster.core.storage import Storage
from aidas_dagster.operations.schedules import daily_production
from aidas_dagster.operations.registry import register
from aidas_dagster.operations.schedule_plan import SeriesProgress, next_episodes, plan_daily_episodes
from aidas_dagster.partitions import parse_episode_partition
from aidas_dagster.resources import StudioResource
from aidas_dagster.publish.resources import Channel

SEOUL = ZoneInfo("Asia/Seoul")
MORNING = dt.datetime(2026, 3, 2, 6, 0, tzinfo=SEOUL)

CONFIG = "title: {title}\ngenre: 로맨스\ntotal_episodes: {total}\nepisode_duration: 0.3\nmain_theme: 성장\ntarget_audience: 20대\n"


@pytest.fixture
def three_series(tmp_path: Path, instance) -> StudioResource:
    """alpha (3 episodes, none made), bravo (5, episodes 1-2 published), charlie (12, none made);
    delta has no bible yet and echo is paused: neither may be scheduled."""
    folder = tmp_path / "three"
    folder.mkdir()
    for name, total in (("alpha", 3), ("bravo", 5), ("charlie", 12), ("delta", 4)):
        (folder / f"{name}.yaml").write_text(CONFIG.format(title=name, total=total), encoding="utf-8")
    (folder / "echo.yaml").write_text(CONFIG.format(title="echo", total=4) + "active: false\n", encoding="utf-8")
    studio = StudioResource(storage_root=str(tmp_path / "storage"), series_dir=str(folder))
    register(instance, folder)
    storage = Storage(studio.storage_root)
    for name in ("alpha", "bravo", "charlie", "echo"):  # pre-production done
        storage.bible_path(name).parent.mkdir(parents=True, exist_ok=True)
        storage.bible_path(name).write_text("{}", encoding="utf-8")
    for episode in (1, 2):
        for path in (storage.script_path("bravo", episode), storage.publish_record_path("bravo", episode)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}", encoding="utf-8")
    return studio


def _tick(instance, studio: StudioResource, when: dt.datetime = MORNING):
    # As a context manager, so the instance it enters is left again (else later tests see a dead one).
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"studio": studio, "channel": Channel(publish_hour=19)}
    ) as context:
        return daily_production(context)


def _by_series(requests) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for request in requests:
        part = parse_episode_partition(request.partition_key)
        out.setdefault(part.series_id, []).append(part.episode)
    return out


def _launch(instance, requests) -> None:
    """What the daemon does with a tick's requests: runs (not started yet) carrying the partition tags."""
    for request in requests:
        part = parse_episode_partition(request.partition_key)
        create_run_for_test(
            instance,
            job_name="produce_episode",
            status=dg.DagsterRunStatus.NOT_STARTED,
            tags={
                **request.tags,
                "dagster/partition": str(request.partition_key),
                "dagster/partition/series": part.series_id,
                "dagster/partition/episode": f"{part.episode:03d}",
                "dagster/run_key": request.run_key,
            },
        )


def test_a_day_with_three_active_series_gives_ten_requests_in_order_once(instance, three_series):
    requests = _tick(instance, three_series)
    assert len(requests) == 10
    # Never beyond a series' end, each series in episode order, bravo continuing after its episode 2.
    assert _by_series(requests) == {"alpha": [1, 2, 3], "bravo": [3, 4, 5], "charlie": [1, 2, 3, 4]}
    # Series take turns: the first three requests are one of each.
    assert len(_by_series(requests[:3])) == 3
    # Each request carries its release slot (19:00 Seoul onwards, 30 minutes apart) and the plan day.
    slots = [dt.datetime.fromisoformat(r.tags["aidas/publish_at"]) for r in requests]
    assert slots[0] == dt.datetime(2026, 3, 2, 19, 0, tzinfo=SEOUL)
    assert all(b - a == dt.timedelta(minutes=30) for a, b in zip(slots, slots[1:]))
    assert {r.tags["aidas/plan_day"] for r in requests} == {"2026-03-02"}
    assert len({r.run_key for r in requests}) == 10

    # The same tick again (the daemon retrying) asks for the very same runs: same run keys.
    assert [r.run_key for r in _tick(instance, three_series)] == [r.run_key for r in requests]

    # Once the daemon launched them, a second tick that day asks for nothing more.
    _launch(instance, requests)
    again = _tick(instance, three_series, MORNING + dt.timedelta(hours=1))
    assert isinstance(again, dg.SkipReason)
    assert "10 episode(s) already requested" in again.skip_message

    # Next morning, with those still waiting: only charlie has episodes left, and it continues at 5.
    tomorrow = _tick(instance, three_series, MORNING + dt.timedelta(days=1))
    assert _by_series(tomorrow) == {"charlie": [5, 6, 7, 8, 9, 10, 11, 12]}


def test_the_schedule_starts_nothing_when_the_daily_budget_is_spent(instance, three_series):
    three_series.ledger.record(LedgerEntry("openai", "chat", units=1, unit="requests", cost_usd=100.0))
    skipped = _tick(instance, three_series)
    assert isinstance(skipped, dg.SkipReason)
    assert "daily budget reached: $100.00 of $100.00" in skipped.skip_message


def test_economy_mode_makes_fewer_episodes(instance, three_series, monkeypatch):
    monkeypatch.setenv("AIDAS_ECONOMY_DAILY_EPISODES", "4")
    three_series.ledger.record(LedgerEntry("openai", "chat", units=1, unit="requests", cost_usd=85.0))
    requests = _tick(instance, three_series)
    assert len(requests) == 4
    assert {r.tags["aidas/budget_mode"] for r in requests} == {"economy"}


def test_an_episode_waits_for_its_predecessor_script():
    # Episode 3's script is missing and nothing is making it: episode 4 cannot start, episode 3 can.
    progress = SeriesProgress("s", 6, scripted=frozenset({1, 2}), published=frozenset({1, 2}))
    assert next_episodes(progress) == [3, 4, 5, 6]
    # Episode 2 failed after its script was lost: the series restarts at 2, nothing later.
    stuck = SeriesProgress("s", 6, scripted=frozenset({1}), published=frozenset({1, 3}))
    assert next_episodes(stuck)[:1] == [2]
    # An episode being made right now is not planned again, and its successor may follow it.
    flying = SeriesProgress("s", 4, scripted=frozenset({1}), published=frozenset({1}), in_flight=frozenset({2}))
    assert next_episodes(flying) == [3, 4]


def test_round_robin_rotates_the_first_series_by_day():
    series = [SeriesProgress(name, 10) for name in ("a", "b", "c")]
    firsts = {plan_daily_episodes(series, day=dt.date(2026, 3, d), target=10)[0].series_id for d in (1, 2, 3)}
    assert firsts == {"a", "b", "c"}
    counts = [len(_by_plan(plan_daily_episodes(series, day=dt.date(2026, 3, 1), target=10), name)) for name in "abc"]
    assert sorted(counts) == [3, 3, 4]


def _by_plan(plan, series_id):
    return [p.episode for p in plan if p.series_id == series_id]
