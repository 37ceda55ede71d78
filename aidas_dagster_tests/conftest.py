"""Shared fixtures: a temporary studio (series folder + storage root) and Dagster instance."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import dagster as dg
import pytest

from aidas_dagster.picture.avatars import SPRITE_CACHE_ENV
from aidas_dagster.resources import StudioResource
from aidas_dagster_tests.builders import SHORT_SERIES

# Under pytest-xdist every worker gets its own Dagster home: tests that use the ambient instance
# (CLI, DagsterInstance.get) would otherwise share one SQLite store across processes.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["DAGSTER_HOME"] = tempfile.mkdtemp(prefix=f"aidas-dagster-home-{os.environ['PYTEST_XDIST_WORKER']}-")



def pytest_configure(config: pytest.Config) -> None:
    """One folder of drawn sprites for the session, shared by every fresh storage of every worker
    and subprocess (drawing a roster's sprites takes 5-10 s; tests make dozens of fresh studios).
    Made by the main process before xdist starts its workers, so they inherit it; never reused
    across sessions, so a change to the drawing is always seen."""
    if not hasattr(config, "workerinput") and not os.environ.get(SPRITE_CACHE_ENV):
        folder = tempfile.mkdtemp(prefix="aidas-sprites-")
        os.environ[SPRITE_CACHE_ENV] = folder
        config.add_cleanup(lambda: (shutil.rmtree(folder, ignore_errors=True), os.environ.pop(SPRITE_CACHE_ENV, None)))


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
