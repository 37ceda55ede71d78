"""The one Definitions of AIDAS: the stages' own definitions, merged in pipeline order.

Each stage folder brings a `definitions.py` whose `defs()` lists that stage's assets, checks,
sensors, schedules, jobs and resources (built by the stage from the environment); this module
only merges them, so what the code location holds can be read here and in those files.
"""

from __future__ import annotations

import dagster as dg

from aidas_dagster import resources as floor
from aidas_dagster.operations import definitions as operations
from aidas_dagster.picture import definitions as picture
from aidas_dagster.publish import definitions as publish
from aidas_dagster.story import definitions as story
from aidas_dagster.voice import definitions as voice


def build_definitions(**resource_overrides: dg.ConfigurableResource) -> dg.Definitions:
    """The project's Definitions; tests override resources (e.g. a temporary storage root)."""
    merged = dg.Definitions.merge(
        dg.Definitions(resources=floor.floor_resources()),
        story.defs(),
        voice.defs(),
        picture.defs(),
        publish.defs(),
        operations.defs(),
    )
    if not resource_overrides:
        return merged
    unknown = set(resource_overrides) - set(merged.resources or {})
    if unknown:
        raise ValueError(f"resource override(s) {sorted(unknown)} name no resource of the project")
    # A test's resource replaces the stage's own (Definitions.merge refuses two under one key).
    return dg.Definitions(
        assets=merged.assets,
        asset_checks=merged.asset_checks,
        jobs=merged.jobs,
        schedules=merged.schedules,
        sensors=merged.sensors,
        resources={**(merged.resources or {}), **resource_overrides},
        executor=merged.executor,
    )


defs = build_definitions()
