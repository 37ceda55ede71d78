"""The publish stage's Definitions: the video, viewers' feedback, outline adjustments, their checks,
the quota and feedback schedules, and the channel resource."""

from __future__ import annotations

import dagster as dg

from aidas_dagster.publish.assets import outline_adjustments, viewer_feedback, youtube_video
from aidas_dagster.publish.checks import publish_checks
from aidas_dagster.publish.resources import publish_resources
from aidas_dagster.publish.schedules import deferred_uploads, viewer_feedback_daily


def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[youtube_video, viewer_feedback, outline_adjustments],
        asset_checks=publish_checks,
        schedules=[deferred_uploads, viewer_feedback_daily],
        resources=publish_resources(),
    )
