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



# The longest files, longest first (measured with --durations). `make test` hands whole files to three
# workers in collection order (--dist loadfile --no-loadscope-reorder): a long file started last
# would run on alone at the end, so these start first and the short files fill in around them.
LONGEST_FIRST = (
    "operations/test_daemon_acceptance.py",
    "operations/test_kill_and_resume_picture.py",
    "story/test_script_override.py",
    "picture/test_heygen_asset.py",
    "picture/test_image_art_asset.py",
    "operations/test_kill_and_resume.py",
    "operations/test_produced_episode.py",
    "operations/test_postgres_and_celery.py",
    "test_pipeline.py",
    "operations/test_kill_and_resume_publish.py",
    "operations/test_parallel_budget.py",
    "operations/test_estimate.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}

    def place(item: pytest.Item) -> int:
        try:
            return rank.get(item.path.relative_to(here).as_posix(), len(rank))
        except ValueError:
            return len(rank)

    items.sort(key=place)  # stable: the rest keep their order


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
