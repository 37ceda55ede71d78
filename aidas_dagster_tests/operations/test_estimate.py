"""Per-episode cost estimates for the configured provider mix, and actual against estimate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aidas_dagster import cli
from aidas_dagster.core.config import load_series_config
from aidas_dagster.core.ledger import CostLedger, LedgerEntry
from aidas_dagster.core.storage import PROJECT_ROOT
from aidas_dagster.core.estimate import ProviderMix, actual_spend, comparison, still_to_spend
from aidas_dagster.story.estimate import estimate_episode


def test_the_estimate_follows_the_provider_mix(series_dir: Path):
    config = load_series_config(series_dir / "short-love.yaml")
    offline = estimate_episode(config, 1, ProviderMix())
    assert offline.total == 0 and "no paid provider" in offline.text()
    voices = estimate_episode(config, 1, ProviderMix(elevenlabs=True))
    assert set(voices.usd) == {"elevenlabs"} and voices.usd["elevenlabs"] > 0
    economy = estimate_episode(config, 1, ProviderMix(elevenlabs=True, elevenlabs_economy=True))
    assert economy.usd["elevenlabs"] == pytest.approx(voices.usd["elevenlabs"] / 2)
    everything = estimate_episode(config, 1, ProviderMix("gpt-4o-mini", True, False, True, 1.0))
    assert set(everything.usd) == {"openai", "elevenlabs", "google", "heygen"}
    assert everything.total > voices.total
    longer = load_series_config(series_dir / "short-love.yaml").model_copy(update={"episode_duration": 10})
    assert estimate_episode(longer, 1, ProviderMix(elevenlabs=True)).usd["elevenlabs"] > 10 * voices.usd["elevenlabs"]


def test_a_resumed_episode_reserves_only_what_is_left_and_metadata_compares(tmp_path: Path, series_dir: Path):
    config = load_series_config(series_dir / "short-love.yaml")
    est = estimate_episode(config, 2, ProviderMix(elevenlabs=True, heygen_price_per_minute=1.0))
    ledger = CostLedger(tmp_path / "costs.jsonl")
    ledger.record(LedgerEntry("heygen", "avatar_video", 30, "seconds", est.usd["heygen"] + 1, series_id="short-love", episode=2))
    ledger.record(LedgerEntry("elevenlabs", "text_to_speech", 10, "characters", 0.001, series_id="short-love", episode=2))
    ledger.record(LedgerEntry("elevenlabs", "text_to_speech", 10, "characters", 5.0, series_id="other", episode=2))
    left = still_to_spend(est, ledger)
    assert set(left) == {"elevenlabs"} and left["elevenlabs"] == pytest.approx(est.usd["elevenlabs"] - 0.001)
    actual = actual_spend(ledger, "short-love", 2)
    meta = comparison(est.paid(), actual)
    assert meta["cost_actual_usd"] == pytest.approx(est.usd["heygen"] + 1.001, abs=1e-4)
    assert meta["cost_actual_minus_estimate_usd"] == pytest.approx(meta["cost_actual_usd"] - meta["cost_estimate_usd"], abs=1e-4)
    assert "cost_heygen_estimate_usd" in meta and "cost_elevenlabs_actual_usd" in meta


def test_aidas_estimate_prints_the_estimate_and_whether_it_fits(
    tmp_path: Path, series_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ELEVENLABS_", "HEYGEN_"))},
        "PYTHONPATH": str(PROJECT_ROOT), "AIDAS_SERIES_DIR": str(series_dir), "AIDAS_STORAGE_ROOT": str(tmp_path / "s"),
    }  # fmt: skip
    run = [sys.executable, "-m", "aidas_dagster.cli", "estimate", "short-love", "1"]
    offline = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
    assert offline.returncode == 0, offline.stderr
    assert "estimated $0.00" in offline.stdout and "this episode fits" in offline.stdout
    # The command works as a process (above); its other answers come from the same main() in this
    # process, which spares two interpreter start-ups (~5 s each).
    for name in [k for k in os.environ if k.startswith(("OPENAI_", "ELEVENLABS_", "HEYGEN_"))]:
        monkeypatch.delenv(name)
    for name in ("AIDAS_SERIES_DIR", "AIDAS_STORAGE_ROOT"):
        monkeypatch.setenv(name, env[name])
    with monkeypatch.context() as paid_env:
        for name, value in {"ELEVENLABS_API_KEY": "k", "HEYGEN_API_KEY": "h", "AIDAS_HEYGEN_BUDGET_USD": "0.01"}.items():
            paid_env.setenv(name, value)
        capsys.readouterr()
        code = cli.main(["estimate", "short-love", "1"])
        paid = capsys.readouterr()
    assert code == 0, paid.err
    assert "elevenlabs" in paid.out and "heygen" in paid.out and "avatars heygen" in paid.out
    code = cli.main(["estimate", "no-such-series", "1"])
    missing = capsys.readouterr()
    assert code == 2 and "no-such-series" in missing.err
