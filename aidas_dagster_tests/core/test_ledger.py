"""The cost ledger and the budget: what was spent, and when paid work must slow down or stop."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from aidas_dagster.core.ledger import Budget, BudgetExceeded, BudgetLimits, CostLedger, LedgerEntry, totals_by_provider
from aidas_dagster.core.budget import daily_gate, ensure_budget

DAY = "2026-03-02"


def _spend(ledger: CostLedger, provider: str, usd: float, day: str = DAY, cache_hit: bool = False) -> None:
    ledger.record(
        LedgerEntry(provider, "call", units=1000, unit="characters", cost_usd=usd, cache_hit=cache_hit, at=f"{day}T03:00:00+00:00")
    )


def _append_many(path: str, provider: str) -> None:
    ledger = CostLedger(path)
    for _ in range(200):
        _spend(ledger, provider, 0.01)


def test_ledger_lines_from_parallel_processes_never_interleave(tmp_path: Path):
    path = str(tmp_path / "costs.jsonl")
    procs = [multiprocessing.get_context("fork").Process(target=_append_many, args=(path, p)) for p in ("openai", "heygen")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    entries = list(CostLedger(path).entries())
    assert len(entries) == 400
    assert totals_by_provider(entries)["heygen"]["calls"] == 200


def test_ledger_skips_a_torn_line_and_counts_only_the_day_asked(tmp_path: Path):
    ledger = CostLedger(tmp_path / "costs.jsonl")
    _spend(ledger, "openai", 1.5)
    _spend(ledger, "openai", 7.0, day="2026-03-01")
    with ledger.day_path(DAY).open("a", encoding="utf-8") as fh:
        fh.write('{"provider": "openai", "oper')  # a writer killed mid-line
    assert ledger.spent(DAY) == pytest.approx(1.5)
    assert ledger.spent("2026-03-01", "openai") == pytest.approx(7.0)
    # One file per day: a budget check reads today's file only.
    assert sorted(p.name for p in tmp_path.glob("costs-*.jsonl")) == ["costs-2026-03-01.jsonl", f"costs-{DAY}.jsonl"]
    assert [e.day for e in ledger.entries()] == ["2026-03-01", DAY]


def test_cheaper_mode_at_80_percent_and_paid_work_refused_at_the_daily_limit(tmp_path: Path):
    ledger = CostLedger(tmp_path / "costs.jsonl")
    budget = Budget(ledger, BudgetLimits(daily_usd=100.0, provider_usd={"openai": 50.0, "elevenlabs": 20.0, "heygen": 30.0}))
    logged: list[str] = []

    _spend(ledger, "openai", 39.0)
    assert ensure_budget(budget, "openai", 0.5, log=logged.append, day=DAY) == "normal"
    assert not logged

    _spend(ledger, "openai", 1.0)  # $40 of $50: 80 % of the OpenAI limit
    assert ensure_budget(budget, "openai", 0.5, log=logged.append, day=DAY) == "economy"
    assert logged and "economy" in logged[0] and "openai" in logged[0]
    assert ensure_budget(budget, "elevenlabs", day=DAY) == "normal"  # other providers are untouched

    # The day as a whole: $40 + $19.9 + $29.9 + $10.2 = $100 → nothing paid starts anywhere.
    _spend(ledger, "elevenlabs", 19.9)
    _spend(ledger, "heygen", 29.9)
    _spend(ledger, "google_tts", 10.2)
    for provider in ("openai", "elevenlabs", "heygen", "google_tts"):
        with pytest.raises(BudgetExceeded) as refused:
            ensure_budget(budget, provider, 0.01, day=DAY)
        message = str(refused.value)
        assert "daily budget reached" in message and "$100.00 of $100.00" in message
        assert f"paid {provider} work stops" in message
    mode, sentence = daily_gate(budget, day=DAY)
    assert mode == "exhausted" and "no paid work starts" in sentence


def test_a_call_that_would_cross_a_provider_limit_is_refused_before_it_is_made(tmp_path: Path):
    ledger = CostLedger(tmp_path / "costs.jsonl")
    budget = Budget(ledger, BudgetLimits(daily_usd=100.0, provider_usd={"heygen": 30.0}))
    _spend(ledger, "heygen", 29.0)
    with pytest.raises(BudgetExceeded, match=r"heygen budget reached: \$29.00 of \$30.00.*next heygen call ~\$2.00"):
        ensure_budget(budget, "heygen", 2.0, day=DAY)
    assert ensure_budget(budget, "heygen", 0.5, day=DAY) == "economy"


def test_standing_lists_the_daily_total_and_each_provider(tmp_path: Path):
    ledger = CostLedger(tmp_path / "costs.jsonl")
    budget = Budget(ledger, BudgetLimits(daily_usd=100.0, provider_usd={"openai": 50.0, "heygen": 30.0}))
    _spend(ledger, "openai", 12.5)
    _spend(ledger, "openai", 0.0, cache_hit=True)
    assert budget.standing(DAY) == {"daily": (12.5, 100.0), "openai": (12.5, 50.0), "heygen": (0.0, 30.0)}
    assert totals_by_provider(ledger.entries(DAY))["openai"]["cache_hits"] == 1
