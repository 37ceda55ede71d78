"""End to end: Dagster materialises a short episode offline into a real 1080p30 H.264/AAC file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from aidas_dagster.core.storage import Storage, read_json
from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.picture.probe import ffmpeg_exe, probe


def _rms_dbfs(video: Path, start: float, seconds: float) -> float:
    pcm = subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-ss", f"{start:.3f}", "-t", f"{seconds:.3f}", "-i", str(video),
         "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    return 20 * np.log10(max(np.sqrt(np.mean(samples**2)), 1e-9))


EXPECTED_ASSETS = {"series_bible", "character_roster", "episode_script", "audio_track", "avatar_clips", "final_cut", "youtube_video"}


@pytest.fixture
def produced(instance, studio):
    """Episode 1 of the short series, produced once for the tests in this module that need it."""
    defs = build_definitions(studio=studio)
    register(instance, Path(studio.series_dir))
    pre = defs.resolve_job_def("preproduction").execute_in_process(partition_key="short-love", instance=instance)
    assert pre.success
    job = defs.resolve_job_def("produce_episode")
    result = job.execute_in_process(partition_key=EpisodePartition("short-love", 1).key, instance=instance)
    assert result.success
    return defs, job, result


def test_definitions_have_the_seven_assets():
    defs = build_definitions()
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert EXPECTED_ASSETS <= keys


def test_short_episode_end_to_end(produced, instance, studio):
    _defs, job, result = produced
    storage = Storage(studio.storage_root)
    video = storage.video_path("short-love", 1)
    info = probe(video)
    assert (info["video_codec"], info["width"], info["height"], info["audio_codec"]) == ("h264", 1920, 1080, "aac")
    assert info["fps"] == pytest.approx(30.0)
    track = read_json(storage.audio_manifest_path("short-love", 1))
    assert float(info["duration"]) == pytest.approx(track["duration"] + 6.0, abs=0.5)
    # 0.3 minutes were asked for: the cut is close to it (speech may run a little over).
    assert 12 <= float(info["duration"]) <= 40
    assert storage.video_path("short-love", 1).with_suffix(".srt").read_text(encoding="utf-8").count("-->") >= 3
    # Speech is audible in the finished file where the first line is spoken (after the 3 s intro).
    first = track["lines"][0]
    assert _rms_dbfs(video, 3.0 + first["start"], first["end"] - first["start"]) > -35

    checks = result.get_asset_check_evaluations()
    assert checks, "asset checks ran"
    failed = [(c.asset_key.to_user_string(), c.check_name, c.description) for c in checks if not c.passed]
    assert not failed

    published = read_json(storage.publish_record_path("short-love", 1))
    assert published["video_id"].startswith("L") and len(published["video_id"]) == 11

    # Nothing changed: a second run reuses every output and re-encodes nothing.
    mtime = video.stat().st_mtime_ns
    again = job.execute_in_process(partition_key=EpisodePartition("short-love", 1).key, instance=instance)
    assert again.success
    assert video.stat().st_mtime_ns == mtime
    final = read_json(storage.final_manifest_path("short-love", 1))
    assert final["segments_encoded"] > 0  # from the first render, kept since
    assert read_json(storage.publish_record_path("short-love", 1))["revision"] == 1


def test_episode_beyond_series_end_fails_and_writes_nothing(instance, studio):
    defs = build_definitions(studio=studio)
    register(instance, Path(studio.series_dir))
    instance.add_dynamic_partitions("episode", ["004"])
    result = defs.resolve_job_def("produce_episode").execute_in_process(
        partition_key=EpisodePartition("short-love", 4).key, instance=instance, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "has 3 episodes; episode 4 is beyond its end" in failure.event_specific_data.error.message
    assert not Storage(studio.storage_root).episode_dir("short-love", 4).exists()


def test_episode_two_needs_episode_one_first(instance, studio):
    defs = build_definitions(studio=studio)
    register(instance, Path(studio.series_dir))
    assert defs.resolve_job_def("preproduction").execute_in_process(partition_key="short-love", instance=instance).success
    result = defs.resolve_job_def("produce_episode").execute_in_process(
        partition_key=EpisodePartition("short-love", 2).key, instance=instance, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert "materialise episode_script for partition 001|short-love first" in failure.event_specific_data.error.message
