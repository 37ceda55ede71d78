"""Operations: the jobs that produce series and episodes, and the sensor that finds new series."""


import json
from pathlib import Path

import dagster as dg

from aidas_dagster.ops.registry import scan
from aidas_dagster.partitions import EPISODE, SERIES, episode_partitions, series_partitions
from aidas_dagster.picture.assets import avatar_clips, final_cut
from aidas_dagster.publish.assets import youtube_video
from aidas_dagster.resources import StudioResource
from aidas_dagster.story.assets import character_roster, episode_script, series_bible
from aidas_dagster.voice.assets import audio_track

preproduction_job = dg.define_asset_job(
    "preproduction",
    selection=dg.AssetSelection.assets(series_bible, character_roster),
    partitions_def=series_partitions,
    description="Write a series' bible and cast.",
)

episode_job = dg.define_asset_job(
    "produce_episode",
    selection=dg.AssetSelection.assets(episode_script, audio_track, avatar_clips, final_cut, youtube_video),
    partitions_def=episode_partitions,
    description="Write, voice, animate, edit and publish one episode.",
)


@dg.sensor(
    job=preproduction_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A config dropped in assets_data/series/ becomes a series partition and starts pre-production.",
)
def series_config_sensor(context: dg.SensorEvaluationContext, studio: StudioResource) -> dg.SensorResult:
    series_dir = Path(studio.series_dir)
    found = scan(series_dir)
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    for error in found.errors:
        if seen.get(str(error.path)) != "invalid":
            context.log.error(str(error))
            seen[str(error.path)] = "invalid"
    known_series = set(context.instance.get_dynamic_partitions(SERIES))
    known_episodes = set(context.instance.get_dynamic_partitions(EPISODE))
    new_series, new_episodes = found.new_partition_keys(known_series, known_episodes)
    requests = []
    if new_episodes:
        requests.append(episode_partitions.get_partitions_def_for_dimension(EPISODE).build_add_request(new_episodes))
    if new_series:
        requests.append(series_partitions.build_add_request(new_series))
    runs = []
    for config in found.valid:
        digest = found.digests.get(config.series_id, "")
        if seen.get(config.series_id) != digest:
            # A new or edited config: (re)write the bible and cast; unchanged outputs are reused.
            runs.append(dg.RunRequest(partition_key=config.series_id, run_key=f"{config.series_id}:{digest}"))
            seen[config.series_id] = digest
            context.log.info(f"series {config.series_id!r} ({config.title}): pre-production requested")
    return dg.SensorResult(run_requests=runs, dynamic_partitions_requests=requests, cursor=json.dumps(seen))


ops_jobs = [preproduction_job, episode_job]
ops_sensors = [series_config_sensor]
