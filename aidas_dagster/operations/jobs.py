"""Operations jobs: pre-production of a series, production of an episode, the report; and the step executor."""


import dagster as dg

from aidas_dagster.core.run_tags import WHOLE_EPISODE_TAG
from aidas_dagster.partitions import episode_partitions, series_partitions
from aidas_dagster.picture.assets import avatar_clips, final_cut
from aidas_dagster.publish.assets import youtube_video
from aidas_dagster.story.assets import character_roster, episode_script, series_bible
from aidas_dagster.voice.assets import audio_track
from aidas_dagster.operations.assets import production_report


# Launched runs execute each step in its own process. Forking them from a server that has already
# imported the project saves a fresh interpreter and every import per step (seconds each).
# (`execute_in_process` ignores it; the Celery test swaps in Dagster's Celery executor.)
step_executor = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["aidas_dagster.definitions"]}}}, name="forked_steps"
)


preproduction_job = dg.define_asset_job(
    "preproduction",
    selection=dg.AssetSelection.assets(series_bible, character_roster),
    partitions_def=series_partitions,
    executor_def=step_executor,
    description="Write a series' bible and cast.",
)


EPISODE_ASSETS = dg.AssetSelection.assets(episode_script, audio_track, avatar_clips, final_cut, youtube_video)


episode_job = dg.define_asset_job(
    "produce_episode",
    selection=EPISODE_ASSETS,
    partitions_def=episode_partitions,
    executor_def=step_executor,
    tags={WHOLE_EPISODE_TAG: "true"},
    description="Write, voice, animate, edit and publish one episode.",
)


report_job = dg.define_asset_job(
    "production_report_job", selection=dg.AssetSelection.assets(production_report), description="Refresh the production report."
)
