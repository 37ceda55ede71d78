"""Budget reservations: parallel processes cannot together pass a limit; the budget day is the studio's."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from aidas_dagster.core.ledger import Budget, BudgetExceeded, BudgetLimits, CostLedger, LedgerEntry, studio_day, today

CTX = multiprocessing.get_context("fork")


def _limits() -> BudgetLimits:
    return BudgetLimits(100.0, {"heygen": 10.0})


def _paid_call(path: str, barrier, results, reserve: bool) -> None:
    """One process's paid call of $1: check (or reserve), the call takes a while, then it is recorded."""
    ledger = CostLedger(path)
    budget = Budget(ledger, _limits())
    barrier.wait()
    try:
        if reserve:
            held = budget.reserve("heygen", 1.0, what="clip")
        else:
            budget.ensure_can_spend("heygen", 1.0)
    except BudgetExceeded:
        results.put("refused")
        return
    time.sleep(0.4)  # the provider works; the others decide meanwhile
    ledger.record(LedgerEntry("heygen", "avatar_video", 60, "seconds", 1.0))
    if reserve:
        held.settle(1.0)
    results.put("paid")


def _race(tmp_path: Path, reserve: bool, n: int = 4) -> tuple[list[str], float]:
    path = str(tmp_path / f"{'r' if reserve else 'c'}" / "costs.jsonl")
    ledger = CostLedger(path)
    ledger.record(LedgerEntry("heygen", "avatar_video", 540, "seconds", 9.0))  # $1 of $10 left
    barrier, results = CTX.Barrier(n), CTX.Queue()
    procs = [CTX.Process(target=_paid_call, args=(path, barrier, results, reserve)) for _ in range(n)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    outcomes = sorted(results.get(timeout=5) for _ in range(n))
    return outcomes, ledger.spent(provider="heygen")


def test_parallel_processes_overspend_with_a_check_and_never_with_a_reservation(tmp_path: Path):
    checked, spent_checked = _race(tmp_path, reserve=False)
    # The old gate: every process read $9 spent, all passed, together they overspent.
    assert spent_checked > 10.0 and checked.count("paid") > 1
    reserved, spent_reserved = _race(tmp_path, reserve=True)
    assert reserved == ["paid", "refused", "refused", "refused"]
    assert spent_reserved == pytest.approx(10.0)
    assert Budget(CostLedger(tmp_path / "r" / "costs.jsonl"), _limits()).reserved() == 0.0


def test_reconcile_to_the_actual_cost_release_on_failure_and_draw_on_an_episode_reservation(tmp_path: Path):
    ledger = CostLedger(tmp_path / "costs.jsonl")
    run = Budget(ledger, _limits(), holder="run:a", holder_pid=0)
    other = Budget(ledger, _limits(), holder="run:b", holder_pid=0)
    call = run.reserve("heygen", 2.0)
    assert other.reserved(others_only=True) == 2.0 and other.mode("heygen") == "normal"
    ledger.record(LedgerEntry("heygen", "avatar_video", 90, "seconds", 1.5))
    call.settle(1.5)  # the $0.50 left of the estimate is let go, the $1.50 is now spent
    assert run.reserved() == 0.0 and ledger.spent(provider="heygen") == 1.5
    with run.reserve("heygen", 3.0):
        assert run.reserved() == 3.0
        # exits without settling: the call failed, nothing was spent
    assert run.reserved() == 0.0

    episode = run.reserve_many({"heygen": 6.0})  # the whole episode's estimate, up front
    assert run.reserved() == 6.0
    with pytest.raises(BudgetExceeded, match=r"heygen budget reached: \$7.50 of \$10.00.*next heygen call ~\$4.00"):
        other.reserve("heygen", 4.0)  # 1.5 spent + 6 reserved by run a + 4 > 10
    clip = run.reserve("heygen", 1.0)  # covered by the episode's reservation: nothing new set aside
    assert clip.covered == 1.0 and clip.extra == 0.0 and run.reserved() == 6.0
    ledger.record(LedgerEntry("heygen", "avatar_video", 60, "seconds", 1.0))
    clip.settle(1.0)
    assert run.reserved() == 5.0
    assert episode and run.release_holder("run:a") == 5.0
    assert other.reserve("heygen", 4.0).extra == 4.0  # room again


def _reserve_and_hang(path: str, ready) -> None:
    Budget(CostLedger(path), _limits()).reserve("heygen", 8.0, what="a run that will be killed")
    ready.set()
    time.sleep(600)


def test_a_dead_process_reservation_expires_and_so_does_one_past_its_time_to_live(tmp_path: Path):
    path = str(tmp_path / "costs.jsonl")
    ready = CTX.Event()
    proc = CTX.Process(target=_reserve_and_hang, args=(path, ready))
    proc.start()
    assert ready.wait(30)
    budget = Budget(CostLedger(path), _limits())
    assert budget.reserved() == 8.0
    with pytest.raises(BudgetExceeded):
        budget.reserve("heygen", 3.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(timeout=30)
    assert budget.reserved() == 0.0  # its process is gone: the money is no longer held
    budget.reserve("heygen", 3.0).release()

    launched = Budget(CostLedger(path), _limits(), holder="run:launched", holder_pid=0, ttl_seconds=0.5)
    launched.reserve("heygen", 8.0)
    assert launched.reserved() == 8.0
    time.sleep(0.7)
    assert launched.reserved() == 0.0


def test_the_budget_day_is_the_studio_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ledger = CostLedger(tmp_path / "costs.jsonl")
    # 16:00 UTC on 2 March is 01:00 on 3 March in Seoul: the new studio day's money.
    ledger.record(LedgerEntry("openai", "write", 1, "tokens", 2.0, at="2026-03-02T16:00:00+00:00"))
    ledger.record(LedgerEntry("openai", "write", 1, "tokens", 1.0, at="2026-03-02T14:00:00+00:00"))
    monkeypatch.delenv("AIDAS_STUDIO_TZ", raising=False)
    assert studio_day("2026-03-02T16:00:00+00:00") == "2026-03-03"
    assert ledger.spent("2026-03-03") == 2.0 and ledger.spent("2026-03-02") == 1.0
    monkeypatch.setenv("AIDAS_STUDIO_TZ", "UTC")
    assert ledger.spent("2026-03-02") == 3.0 and ledger.spent("2026-03-03") == 0.0
    monkeypatch.setenv("AIDAS_STUDIO_TZ", "Mars/Olympus")
    with pytest.raises(ValueError, match="AIDAS_STUDIO_TZ='Mars/Olympus'"):
        today()
