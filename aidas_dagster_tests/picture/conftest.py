"""The picture stage's expensive fixture: one rendered short episode per test session."""

from __future__ import annotations

import pytest

from aidas_dagster_tests.picture.builders import make_episode, render


@pytest.fixture(scope="session")
def episode(tmp_path_factory):
    """(folder, script, roster, track, plan, cut) of the hand-made ~13 s episode, rendered once.
    Tests that re-cut it use their own output tag, so they never overwrite each other's files."""
    tmp = tmp_path_factory.mktemp("picture")
    script, roster, track = make_episode(tmp / "audio")
    plan, cut = render(tmp, script, roster, track, tmp / "segments")
    return tmp, script, roster, track, plan, cut
