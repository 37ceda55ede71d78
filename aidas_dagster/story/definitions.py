"""The story stage's Definitions: its assets, checks, sensor and the writers' room resource."""

from __future__ import annotations

import dagster as dg

from aidas_dagster.story.assets import character_roster, episode_script, series_bible
from aidas_dagster.story.checks import story_checks
from aidas_dagster.story.resources import story_resources
from aidas_dagster.story.sensors import script_override_sensor


def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[series_bible, character_roster, episode_script],
        asset_checks=story_checks,
        sensors=[script_override_sensor],
        resources=story_resources(),
    )
