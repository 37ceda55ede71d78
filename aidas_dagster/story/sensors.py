"""Story stage sensors: a producer's edited script re-materialises that episode's script.

An edited script dropped at `series/<id>/overrides/<NNN>.script.json` re-materialises that episode's
script, and declarative automation (steps.remade_when_upstream_changes) re-materialises only that
episode's downstream assets.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from aidas_dagster.core.intervals import sensor_interval
from aidas_dagster.core.run_tags import TRIGGER_TAG
from aidas_dagster.core.storage import EpisodeFiles, file_digest
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.resources import StudioResource
from aidas_dagster.story.assets import episode_script


@dg.sensor(
    asset_selection=[episode_script],
    minimum_interval_seconds=sensor_interval(15),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "A producer's edited script (series/<id>/overrides/<NNN>.script.json under the storage root) "
        "re-materialises that episode's script; automation then redoes only its downstream."
    ),
)
def script_override_sensor(context: dg.SensorEvaluationContext, studio: StudioResource) -> dg.SensorResult:
    storage = studio.storage
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, str] = {}
    runs = []
    for files in storage.script_overrides():
        digest = file_digest(files.override)
        current[str(files.override)] = digest
        if seen.get(str(files.override)) == digest:
            continue
        runs.append(_script_run("override", files, digest))
        context.log.info(
            f"{files.override}: edited script for {files.series_id} episode {files.number}; re-materialising its script"
        )
    # A removed override also changes the script (back to the writer's): request it once.
    for gone in set(seen) - set(current):
        files = storage.override_owner(Path(gone))
        if files is not None:
            runs.append(_script_run("override-removed", files, seen[gone]))
    return dg.SensorResult(run_requests=runs, cursor=json.dumps(current))


def _script_run(change: str, files: EpisodeFiles, digest: str) -> dg.RunRequest:
    """One episode's script run for one version of its override (the digest keeps it asked once)."""
    return dg.RunRequest(
        partition_key=EpisodePartition(files.series_id, files.number).key,
        run_key=f"{change}:{files.series_id}:{files.number}:{digest}",
        tags={TRIGGER_TAG: "script-override"},
    )
