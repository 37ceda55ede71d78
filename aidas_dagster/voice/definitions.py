"""The voice stage's Definitions: the audio track, its checks and the voice booth resource."""

from __future__ import annotations

import dagster as dg

from aidas_dagster.voice.assets import audio_track
from aidas_dagster.voice.checks import voice_checks
from aidas_dagster.voice.resources import voice_resources


def defs() -> dg.Definitions:
    return dg.Definitions(assets=[audio_track], asset_checks=voice_checks, resources=voice_resources())
