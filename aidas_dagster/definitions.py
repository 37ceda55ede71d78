"""The one Definitions of AIDAS: every stage's assets and checks, jobs, sensors and resources."""

from __future__ import annotations

import dagster as dg

from aidas_dagster.ops.assets import ops_jobs, ops_sensors
from aidas_dagster.picture.assets import avatar_clips, final_cut
from aidas_dagster.picture.checks import picture_checks
from aidas_dagster.publish.assets import youtube_video
from aidas_dagster.publish.checks import publish_checks
from aidas_dagster.resources import build_resources
from aidas_dagster.story.assets import character_roster, episode_script, series_bible
from aidas_dagster.story.checks import story_checks
from aidas_dagster.voice.assets import audio_track
from aidas_dagster.voice.checks import voice_checks

ASSETS = [series_bible, character_roster, episode_script, audio_track, avatar_clips, final_cut, youtube_video]



def build_definitions(**resource_overrides: dg.ConfigurableResource) -> dg.Definitions:
    """The project's Definitions; tests override resources (e.g. a temporary storage root)."""
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=[*story_checks, *voice_checks, *picture_checks, *publish_checks],
        jobs=ops_jobs,
        sensors=ops_sensors,
        resources={**build_resources(), **resource_overrides},
    )


defs = build_definitions()
