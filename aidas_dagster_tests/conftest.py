"""Shared fixtures: a temporary studio (series folder + storage root) and Dagster instance."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dagster as dg
import pytest

from aidas_dagster.resources import StudioResource
from aidas_dagster_tests.builders import SHORT_SERIES

# Under pytest-xdist every worker gets its own Dagster home: tests that use the ambient instance
# (CLI, DagsterInstance.get) would otherwise share one SQLite store across processes.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["DAGSTER_HOME"] = tempfile.mkdtemp(prefix=f"aidas-dagster-home-{os.environ['PYTEST_XDIST_WORKER']}-")


@pytest.fixture
def series_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "short-love.yaml").write_text(SHORT_SERIES, encoding="utf-8")
    return folder


@pytest.fixture
def studio(tmp_path: Path, series_dir: Path) -> StudioResource:
    return StudioResource(storage_root=str(tmp_path / "storage"), series_dir=str(series_dir))


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst
