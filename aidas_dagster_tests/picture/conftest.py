"""The picture stage's fixtures: one rendered short episode per test session, and the local image server."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from aidas_dagster_tests.fakes.images_server import IMAGES_KEY, ImagesServer
from aidas_dagster_tests.picture.builders import make_episode, render


@pytest.fixture(scope="session")
def episode(tmp_path_factory):
    """(folder, script, roster, track, plan, cut) of the hand-made ~13 s episode, rendered once.
    Tests that re-cut it use their own output tag, so they never overwrite each other's files."""
    tmp = tmp_path_factory.mktemp("picture")
    script, roster, track = make_episode(tmp / "audio")
    plan, cut = render(tmp, script, roster, track, tmp / "segments")
    return tmp, script, roster, track, plan, cut


@pytest.fixture
def images_fake():
    """A local /v1/images/generations server taking IMAGES_KEY, with its requests recorded."""
    server = HTTPServer(threaded=True)
    server.start()
    try:
        yield ImagesServer(server, IMAGES_KEY).register()
    finally:
        server.stop()
