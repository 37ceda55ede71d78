"""Shared fixtures of the voice tests: the hand-made cast (voices cast once per module)."""

from __future__ import annotations

import pytest

from aidas_dagster.story.models import Roster
from aidas_dagster_tests.voice.builders import make_roster


@pytest.fixture(scope="module")
def roster() -> Roster:
    return make_roster()
