"""The production report's day is a UTC day; the ledger keeps studio days (Asia/Seoul by default)."""

from __future__ import annotations

import datetime as dt

from aidas_dagster.core.ledger import CostLedger, LedgerEntry
from aidas_dagster.operations.report import entries_of_utc_day


def test_a_utc_day_takes_its_entries_from_both_studio_days_it_overlaps(tmp_path, monkeypatch):
    monkeypatch.setenv("AIDAS_STUDIO_TZ", "Asia/Seoul")
    ledger = CostLedger(tmp_path / "ledger.jsonl")
    times = {
        "before": "2026-12-02T23:30:00+00:00",  # studio day 12-03, UTC day 12-02
        "morning": "2026-12-03T01:00:00+00:00",  # studio day 12-03
        "evening": "2026-12-03T20:00:00+00:00",  # studio day 12-04 (05:00 in Seoul)
        "after": "2026-12-04T00:30:00+00:00",  # studio day 12-04, UTC day 12-04
    }
    for name, at in times.items():
        ledger.record(LedgerEntry("openai", "chat", units=1, unit="call", cost_usd=1.0, detail=name, at=at))
    day = entries_of_utc_day(ledger, dt.datetime(2026, 12, 3, tzinfo=dt.timezone.utc))
    assert sorted(e.detail for e in day) == ["evening", "morning"]
