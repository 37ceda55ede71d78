"""The one Definitions of AIDAS: every stage's assets and checks, jobs, schedules, sensors and resources.

Each stage keeps its Dagster code in its own `assets.py` / `checks.py`; this module only gathers
them, so a new asset or check in a stage shows up without touching this file.
"""

from __future__ import annotations

import dagster as dg

from aidas_dagster.ops import assets as ops_assets
from aidas_dagster.picture import assets as picture_assets
from aidas_dagster.picture import checks as picture_checks
from aidas_dagster.publish import assets as publish_assets
from aidas_dagster.publish import checks as publish_checks
from aidas_dagster.resources import build_resources
from aidas_dagster.story import assets as story_assets
from aidas_dagster.story import checks as story_checks
from aidas_dagster.voice import assets as voice_assets
from aidas_dagster.voice import checks as voice_checks

ASSET_MODULES = [story_assets, voice_assets, picture_assets, publish_assets, ops_assets]
CHECK_MODULES = [story_checks, voice_checks, picture_checks, publish_checks]


def _gathered(kind: type, modules) -> list:
    """Module-level Dagster objects of one kind (sensors, schedules), each once."""
    seen: dict[str, object] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, kind):
                seen.setdefault(value.name, value)
    return list(seen.values())


def build_definitions(**resource_overrides: dg.ConfigurableResource) -> dg.Definitions:
    """The project's Definitions; tests override resources (e.g. a temporary storage root)."""
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(CHECK_MODULES),
        jobs=ops_assets.ops_jobs,
        schedules=_gathered(dg.ScheduleDefinition, ASSET_MODULES),
        sensors=_gathered(dg.SensorDefinition, ASSET_MODULES),
        resources={**build_resources(), **resource_overrides},
        # Steps fork from a server that already imported the project (also for sensor, automation
        # and UI runs), instead of paying a fresh interpreter and every import per step.
        executor=ops_assets.step_executor,
    )


defs = build_definitions()
