"""A producer's edit: one changed line re-makes exactly that episode, and later episodes are flagged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from aidas_dagster.core.run_tags import WHOLE_EPISODE_TAG
from aidas_dagster.core.storage import Storage, read_json
from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.story.sensors import script_override_sensor

DOWNSTREAM = ["audio_track", "avatar_clips", "final_cut", "youtube_video"]


def _materialisation_counts(instance: dg.DagsterInstance) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for name in ["episode_script", *DOWNSTREAM]:
        records = instance.fetch_materializations(dg.AssetKey(name), limit=1000).records
        for record in records:
            key = (name, str(record.partition_key))
            counts[key] = counts.get(key, 0) + 1
    return counts


def _sensor_runs(defs: dg.Definitions, instance: dg.DagsterInstance, studio, cursor: str | None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"studio": studio}, definitions=defs) as ctx:
        result = script_override_sensor(ctx)
    return result.run_requests or [], result.cursor


def _requested(defs: dg.Definitions, automation) -> set[tuple[str, str]]:
    """(asset, partition) pairs an automation evaluation asked to materialise."""
    return {
        (key.to_user_string(), str(pk))
        for key in defs.resolve_asset_graph().get_all_asset_keys()
        for pk in automation.get_requested_partitions(key)
    }


def _run(defs: dg.Definitions, instance, names: set[str], partition_key, raise_on_error: bool = True):
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_selection={dg.AssetKey(n) for n in names})
    return job.execute_in_process(partition_key=partition_key, instance=instance, raise_on_error=raise_on_error)


@pytest.fixture
def two_episodes(instance, studio):
    defs = build_definitions(studio=studio)
    register(instance, Path(studio.series_dir))
    assert defs.resolve_job_def("preproduction").execute_in_process(partition_key="short-love", instance=instance).success
    job = defs.resolve_job_def("produce_episode")
    for episode in (1, 2):
        assert job.execute_in_process(partition_key=EpisodePartition("short-love", episode).key, instance=instance).success
    return defs


@pytest.fixture
def first_script(instance, studio):
    """Only what a bad override needs: the series' pre-production and episode 1's script."""
    defs = build_definitions(studio=studio)
    register(instance, Path(studio.series_dir))
    assert defs.resolve_job_def("preproduction").execute_in_process(partition_key="short-love", instance=instance).success
    assert _run(defs, instance, {"episode_script"}, EpisodePartition("short-love", 1).key).success
    return defs


def test_one_line_edit_remakes_only_that_episode(two_episodes, instance, studio):
    defs = two_episodes
    storage = Storage(studio.storage_root)
    runs, cursor = _sensor_runs(defs, instance, studio, None)
    assert runs == []  # no overrides yet
    quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert quiet.total_requested == 0  # everything produced is up to date

    before = _materialisation_counts(instance)
    audio_before = read_json(storage.audio_manifest_path("short-love", 1))
    video2 = storage.video_path("short-love", 2)
    video2_mtime = video2.stat().st_mtime_ns

    # The producer edits one line of episode 1.
    override = storage.script_override_path("short-love", 1)
    override.parent.mkdir(parents=True)
    shutil.copy(storage.script_path("short-love", 1), override)
    edited = json.loads(override.read_text(encoding="utf-8"))
    edited["scenes"][0]["lines"][0]["text"] = "잠깐만요, 제가 다시 말할게요. 오늘은 정말 특별한 날이에요."
    edited["state_after"]["key_events"].append("프로듀서가 첫 장면의 대사를 고쳤다")
    override.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")

    # The sensor asks for exactly episode 1's script, once.
    runs, cursor = _sensor_runs(defs, instance, studio, cursor)
    assert [r.partition_key for r in runs] == [EpisodePartition("short-love", 1).key]
    assert _sensor_runs(defs, instance, studio, cursor)[0] == []
    assert _run(defs, instance, {"episode_script"}, runs[0].partition_key).success
    assert read_json(storage.script_path("short-love", 1))["scenes"][0]["lines"][0]["text"].startswith("잠깐만요")
    # Episode 2 was written from the old ending: flagged for review, not rewritten.
    assert read_json(storage.series_dir("short-love") / "continuity_flags.json") == {
        "2": "written before episode 1's script changed"
    }

    # Declarative automation asks for episode 1's downstream, and nothing else.
    automation = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
    assert _requested(defs, automation) == {(name, "001|short-love") for name in DOWNSTREAM}
    for name in DOWNSTREAM:
        assert _run(defs, instance, {name}, runs[0].partition_key).success

    after = _materialisation_counts(instance)
    changed = {key for key in after if after[key] != before.get(key, 0)}
    assert changed == {(name, "001|short-love") for name in ["episode_script", *DOWNSTREAM]}
    assert video2.stat().st_mtime_ns == video2_mtime
    # Only the edited line was voiced again.
    audio_after = read_json(storage.audio_manifest_path("short-love", 1))
    moved = [a["wav_path"] != b["wav_path"] for a, b in zip(audio_before["lines"], audio_after["lines"])]
    assert moved == [True] + [False] * (len(moved) - 1)
    # Once done, automation rests.
    settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=automation.cursor)
    assert settled.total_requested == 0


def test_bad_override_fails_naming_the_file_and_field(first_script, instance, studio):
    storage = Storage(studio.storage_root)
    script_before = storage.script_path("short-love", 1).read_bytes()
    override = storage.script_override_path("short-love", 1)
    override.parent.mkdir(parents=True)
    edited = json.loads(script_before)
    edited["scenes"][0]["lines"][0]["speaker"] = "CHAR999"
    override.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
    result = _run(first_script, instance, {"episode_script"}, EpisodePartition("short-love", 1).key, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    message = failure.event_specific_data.error.message
    assert "001.script.json" in message and "scenes[1].lines[1].speaker" in message and "CHAR999" in message
    assert storage.script_path("short-love", 1).read_bytes() == script_before


def test_edit_script_command_starts_an_override(studio, monkeypatch, capsys):
    from aidas_dagster.cli import main

    storage = Storage(studio.storage_root)
    monkeypatch.setenv("AIDAS_STORAGE_ROOT", studio.storage_root)
    assert main(["edit-script", "short-love", "1"]) == 2  # nothing produced yet
    assert "produce episode 1" in capsys.readouterr().err
    storage.script_path("short-love", 1).parent.mkdir(parents=True)
    storage.script_path("short-love", 1).write_text('{"edited": false}', encoding="utf-8")
    assert main(["edit-script", "short-love", "1"]) == 0
    assert storage.script_override_path("short-love", 1).read_text(encoding="utf-8") == '{"edited": false}'


def test_a_whole_episode_run_half_done_asks_automation_for_nothing(instance, studio):
    """A produce_episode run makes every step itself: a tick that falls after its script and before
    its voice step must not ask for the voice step again (it did: a stale audio_track re-make after
    a backfill raced a producer's later edit). A script re-made outside such a run (the UI, an
    edit) still asks for the episode's downstream, once."""
    defs = build_definitions(studio=studio)
    register(instance, Path(studio.series_dir))
    assert defs.resolve_job_def("preproduction").execute_in_process(partition_key="short-love", instance=instance).success
    start = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert start.total_requested == 0  # a new series' missing episodes are the schedule's to make
    episode = EpisodePartition("short-love", 1).key
    script_only = defs.resolve_job_def("produce_episode").get_subset(asset_selection={dg.AssetKey("episode_script")})
    assert script_only.execute_in_process(partition_key=episode, instance=instance).success
    assert WHOLE_EPISODE_TAG in instance.get_runs(limit=1)[0].tags
    midway = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=start.cursor)
    assert _requested(defs, midway) == set()

    assert _run(defs, instance, {"episode_script"}, episode).success  # re-made from the UI
    automation = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=midway.cursor)
    assert _requested(defs, automation) == {(name, episode) for name in DOWNSTREAM}
