"""Story stage sensors: a producer's edited script re-materialises that episode's script.

An edited script dropped at `series/<id>/overrides/<NNN>.script.json` re-materialises that episode's
script, and declarative automation (eager) re-materialises only that episode's downstream assets.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from aidas_dagster.core.run_tags import TRIGGER_TAG
from aidas_dagster.core.storage import file_digest
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.resources import StudioResource
from aidas_dagster.story.assets import episode_script
from aidas_dagster.story.overrides import OVERRIDE_GLOB, override_episode


@dg.sensor(
    asset_selection=[episode_script],
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "A producer's edited script (series/<id>/overrides/<NNN>.script.json under the storage root) "
        "re-materialises that episode's script; eager automation then redoes only its downstream."
    ),
)
def script_override_sensor(context: dg.SensorEvaluationContext, studio: StudioResource) -> dg.SensorResult:
    root = studio.storage.root / "series"
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, str] = {}
    runs = []
    for path in sorted(root.glob(OVERRIDE_GLOB)) if root.exists() else []:
        found = override_episode(path, root)
        if found is None:
            continue
        digest = file_digest(path)
        current[str(path)] = digest
        if seen.get(str(path)) == digest:
            continue
        series_id, episode = found
        runs.append(_script_run("override", series_id, episode, digest))
        context.log.info(f"{path}: edited script for {series_id} episode {episode}; re-materialising its script")
    # A removed override also changes the script (back to the writer's): request it once.
    for gone in set(seen) - set(current):
        found = override_episode(Path(gone), root)
        if found is not None:
            runs.append(_script_run("override-removed", *found, seen[gone]))
    return dg.SensorResult(run_requests=runs, cursor=json.dumps(current))


def _script_run(change: str, series_id: str, episode: int, digest: str) -> dg.RunRequest:
    """One episode's script run for one version of its override (the digest keeps it asked once)."""
    return dg.RunRequest(
        partition_key=EpisodePartition(series_id, episode).key,
        run_key=f"{change}:{series_id}:{episode}:{digest}",
        tags={TRIGGER_TAG: "script-override"},
    )
