"""Shared fixtures of the publish tests: the local YouTube server."""

from __future__ import annotations

import re

import pytest

from aidas_dagster_tests.fakes.youtube_server import YouTubeServer


@pytest.fixture
def fake(httpserver) -> YouTubeServer:
    youtube = YouTubeServer(base_url=httpserver.url_for("").rstrip("/"))
    httpserver.expect_request(re.compile(".*")).respond_with_handler(youtube.handle)
    return youtube
