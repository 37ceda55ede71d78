"""Two paid episodes in parallel with a budget that fits only one: exactly one proceeds, the
other is refused before it spends anything, and the ledger balances.

Real runs in two processes (the CLI's in-process execution, one SQLite instance), the real
ElevenLabs SDK against a local server speaking its wire protocol, the offline writer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from aidas_dagster.core.config import load_series_config
from aidas_dagster.core.ledger import Budget, CostLedger
from aidas_dagster.core.storage import PROJECT_ROOT
from aidas_dagster.core.estimate import ProviderMix
from aidas_dagster.story.estimate import estimate_episode
from aidas_dagster_tests.builders import SHORT_SERIES
from aidas_dagster_tests.fakes.elevenlabs_server import ElevenLabsServer


def test_two_paid_episodes_in_parallel_with_a_budget_for_one(tmp_path: Path):
    series_dir = tmp_path / "series"
    series_dir.mkdir()
    for name in ("love-a", "love-b"):
        (series_dir / f"{name}.yaml").write_text(SHORT_SERIES, encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    storage = tmp_path / "storage"
    config = load_series_config(series_dir / "love-a.yaml")
    one = estimate_episode(config, 1, ProviderMix(elevenlabs=True)).usd["elevenlabs"]
    limit = round(one * 1.6, 6)  # room for one episode's estimate (and some overrun), never two

    eleven = ElevenLabsServer()
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(r"^/v1/text-to-speech/[^/]+/with-timestamps$"), method="POST").respond_with_handler(eleven.handle)
    server.start()
    try:
        env = {
            **os.environ, "PYTHONPATH": str(PROJECT_ROOT), "DAGSTER_HOME": str(home), "AIDAS_STORAGE_ROOT": str(storage),
            "AIDAS_SERIES_DIR": str(series_dir), "ELEVENLABS_API_KEY": "el-test-key",
            "ELEVENLABS_BASE_URL": server.url_for("").rstrip("/"),
        }  # fmt: skip
        gate = tmp_path / "gate"
        gate.mkdir()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "aidas_dagster_tests.operations.paid_episode", name, str(limit), str(gate), "2"],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            for name in ("love-a", "love-b")
        ]
        outputs = [p.communicate(timeout=400)[0] for p in procs]
    finally:
        server.stop()
    results = []
    for out in outputs:
        line = [l for l in out.splitlines() if l.startswith("RESULT ")]
        assert line, out[-3000:]
        results.append(json.loads(line[-1][len("RESULT "):]))
    winners = [r for r in results if r["success"]]
    losers = [r for r in results if not r["success"]]
    assert len(winners) == 1 and len(losers) == 1, results
    loser, winner = losers[0]["series"], winners[0]["series"]
    assert any("elevenlabs budget reached" in f for f in losers[0]["failures"]), losers[0]

    ledger = CostLedger(storage / "ledger" / "costs.jsonl")
    entries = [e for e in ledger.entries() if e.provider == "elevenlabs" and not e.cache_hit]
    assert entries and {e.series_id for e in entries} == {winner}  # the refused episode paid nothing
    # Every request the server answered is one paid ledger entry, and all of them fit the limit.
    assert len(eleven.requests) == len(entries)
    spent = sum(e.cost_usd for e in entries)
    assert 0 < spent <= limit + 1e-9
    assert not (storage / "series" / loser / "episodes" / "001" / "script.json").exists()
    assert Budget(ledger).reserved() == 0.0  # both runs ended: nothing is held any more
