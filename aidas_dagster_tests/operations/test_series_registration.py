"""A config dropped in the series folder becomes a partition; a broken one becomes nothing."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from aidas_dagster.cli import main as cli_main
from aidas_dagster.operations.sensors import series_config_sensor
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EPISODE, SERIES


def _sensor(instance, studio, cursor=None):
    context = dg.build_sensor_context(instance=instance, resources={"studio": studio}, cursor=cursor)
    return series_config_sensor(context)


def test_sensor_adds_partitions_and_requests_preproduction(instance, studio):
    result = _sensor(instance, studio)
    added = {(req.partitions_def_name, tuple(req.partition_keys)) for req in result.dynamic_partitions_requests}
    assert (SERIES, ("short-love",)) in added
    assert (EPISODE, ("001", "002", "003")) in added
    assert [r.partition_key for r in result.run_requests] == ["short-love"]
    # Once applied, a second tick with the same files asks for nothing.
    register(instance, Path(studio.series_dir))
    again = _sensor(instance, studio, cursor=result.cursor)
    assert not again.run_requests
    assert not again.dynamic_partitions_requests


def test_sensor_skips_broken_config(instance, studio, series_dir: Path):
    (series_dir / "broken.yaml").write_text("title: 깨진 설정\ntotal_episodes: many\n", encoding="utf-8")
    result = _sensor(instance, studio)
    keys = [k for req in result.dynamic_partitions_requests for k in req.partition_keys]
    assert "broken" not in keys
    assert [r.partition_key for r in result.run_requests] == ["short-love"]


def test_edited_config_requests_preproduction_again(instance, studio, series_dir: Path):
    first = _sensor(instance, studio)
    path = series_dir / "short-love.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("total_episodes: 3", "total_episodes: 4"), encoding="utf-8")
    second = _sensor(instance, studio, cursor=first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["short-love"]


def test_cli_add_series_rejects_bad_config_and_creates_nothing(tmp_path: Path, monkeypatch, capsys):
    series_dir = tmp_path / "series"
    series_dir.mkdir()
    monkeypatch.setenv("AIDAS_SERIES_DIR", str(series_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: 제목\ngenre: 스릴러\ntotal_episodes: 0\n", encoding="utf-8")
    assert cli_main(["add-series", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "total_episodes" in err and "episode_duration" in err
    assert list(series_dir.iterdir()) == []
    assert not (tmp_path / "home").exists()


def test_cli_add_series_registers_partitions(tmp_path: Path, monkeypatch):
    series_dir = tmp_path / "series"
    series_dir.mkdir()
    monkeypatch.setenv("AIDAS_SERIES_DIR", str(series_dir))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    good = tmp_path / "night-detective.yaml"
    good.write_text(
        "title: 밤의 탐정\ngenre: 스릴러\ntotal_episodes: 12\nepisode_duration: 10\n"
        "main_theme: 진실을 쫓는 집념\ntarget_audience: 20-40대\n",
        encoding="utf-8",
    )
    assert cli_main(["add-series", str(good)]) == 0
    assert (series_dir / "night-detective.yaml").exists()
    instance = dg.DagsterInstance.get()
    assert instance.get_dynamic_partitions(SERIES) == ["night-detective"]
    assert len(instance.get_dynamic_partitions(EPISODE)) == 12
