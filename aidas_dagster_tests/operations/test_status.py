"""`aidas status` tells a producer what exists, what the schedule starts next, and what today cost."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from aidas_dagster.cli import main as cli_main
from aidas_dagster.core.ledger import CostLedger, LedgerEntry
from aidas_dagster.core.storage import Storage
from aidas_dagster_tests.builders import SHORT_SERIES


def test_status_shows_produced_next_cost_and_budget(tmp_path: Path, monkeypatch, capsys):
    series_dir = tmp_path / "series"
    series_dir.mkdir()
    (series_dir / "short-love.yaml").write_text(SHORT_SERIES, encoding="utf-8")
    storage = Storage(tmp_path / "storage")
    monkeypatch.setenv("AIDAS_SERIES_DIR", str(series_dir))
    monkeypatch.setenv("AIDAS_STORAGE_ROOT", str(storage.root))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert cli_main(["add-series", str(series_dir / "short-love.yaml")]) == 0
    # Pre-production and episode 1 done, episode 2 written and voiced but not yet cut.
    made = [storage.bible_path("short-love")]
    made += [storage.script_path("short-love", 1), storage.audio_manifest_path("short-love", 1)]
    made += [storage.video_path("short-love", 1), storage.publish_record_path("short-love", 1)]
    made += [storage.script_path("short-love", 2), storage.audio_manifest_path("short-love", 2)]
    for path in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}", encoding="utf-8")
    ledger = CostLedger(storage.ledger_path())
    ledger.record(LedgerEntry("openai", "chat", units=2000, unit="tokens", cost_usd=42.5))
    ledger.record(LedgerEntry("openai", "chat", units=2000, unit="tokens", cost_usd=0.0, cache_hit=True))
    ledger.record(LedgerEntry("elevenlabs", "tts", units=900, unit="characters", cost_usd=1.25))
    capsys.readouterr()

    assert cli_main(["status"]) == 0
    out = capsys.readouterr().out
    assert "short-love (짧은 첫사랑), 3 episodes, active: script 2, audio 2, cut 1, published 1" in out
    assert "001  yes        yes        yes        yes" in out
    assert "002  yes        yes        -          -" in out
    # Next: episodes 2 and 3 (episode 3 follows 2 in the same series' queue), with release slots.
    assert "short-love episode 2, release" in out and "short-love episode 3, release" in out
    assert "episode 1, release" not in out
    assert "openai       $   42.50  2 calls, 1 from cache" in out
    assert "elevenlabs   $    1.25  1 calls, 0 from cache" in out
    # $42.50 of OpenAI's $50: the cheaper mode is on for OpenAI, the day as a whole is normal.
    assert "BUDGET: normal — daily budget: $43.75 of $100.00" in out
    assert "openai       $42.50 of $50.00 (economy)" in out
    assert dg.DagsterInstance.get().get_dynamic_partitions("series") == ["short-love"]
