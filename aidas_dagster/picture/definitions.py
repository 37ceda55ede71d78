"""The picture stage's Definitions: avatar clips, the final cut, their checks and the avatar studio."""

from __future__ import annotations

import dagster as dg

from aidas_dagster.picture.assets import avatar_clips, final_cut
from aidas_dagster.picture.checks import picture_checks
from aidas_dagster.picture.resources import picture_resources


def defs() -> dg.Definitions:
    return dg.Definitions(assets=[avatar_clips, final_cut], asset_checks=picture_checks, resources=picture_resources())
