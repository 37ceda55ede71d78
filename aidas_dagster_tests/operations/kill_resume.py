"""Support of the kill-and-resume tests: kill a real `aidas produce` during a stage, run it again,
and check the resumed episode.

A real `aidas produce` subprocess (its own session, as a service would run it) makes a short episode
and is SIGKILLed, with its ffmpeg children, while a given stage runs (seen in its Dagster log).
`aidas produce` is run again and must: complete the episode; reuse what was finished (no cache file
or finished stage output rewritten, no line voiced twice); leave no half-written file anywhere under
storage; and not be blocked by the dead run (marked failed, its pool slots freed).

A case about a later stage may start from `StagedStorage`: the storage the pipeline left after the
stages before it (made once per test module, in process, and copied into the case's folder), which
is what a kill during that stage finds done anyway; the killed run still starts at the first stage.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from aidas_dagster.core.ledger import CostLedger
from aidas_dagster.core.storage import PROJECT_ROOT, Storage
from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.picture.avatars import SPRITE_CACHE_ENV
from aidas_dagster.picture.probe import probe
from aidas_dagster.resources import StudioResource
from aidas_dagster_tests.builders import SHORT_SERIES

SERIES = "short-love"
STAGES = ["episode_script", "audio_track", "avatar_clips", "final_cut", "youtube_video"]
# Where in a stage the kill comes: (glob under storage that must match first, seconds to wait), so
# that there is finished work inside the stage to reuse (encoded segments) or debris to clean up
# (the final cut's work folder while it mixes and muxes).
MOMENTS = {
    "avatar_clips": (None, 4.0),
    "final_cut": ("cache/segments/*", 0.0),
    "final_cut-mux": ("series/*/episodes/*/final/.render-*", 0.5),
}
# Provider keys the subprocess must not see: every case runs offline.
PROVIDER_ENV = ("OPENAI_", "ELEVENLABS_", "HEYGEN_", "AIDAS_YOUTUBE")


def _env(root: Path, case: str) -> dict[str, str]:
    # The avatar_clips case is killed while it draws the sprites, so it runs without the session's
    # shared ones; the other cases copy them (drawing takes seconds and is not what they prove).
    drop = SPRITE_CACHE_ENV if case.split("-")[0] == "avatar_clips" else None
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(PROVIDER_ENV) and k != drop},
        "PYTHONPATH": str(PROJECT_ROOT),
        "DAGSTER_HOME": str(root / "home"),
        "AIDAS_STORAGE_ROOT": str(root / "storage"),
        "AIDAS_SERIES_DIR": str(root / "series"),
        "AIDAS_LOG_LEVEL": "DEBUG",  # step starts are DEBUG events: how the test sees the stage
    }


def _produce(root: Path, case: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "aidas_dagster.cli", "produce", SERIES, "1"],
        env=_env(root, case), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and not p.name.endswith(".part")
    }


def _half_written(storage: Path) -> list[Path]:
    return [
        p for p in storage.rglob("*")
        if p.name.endswith(".part") or (p.is_dir() and p.name.startswith((".render-", ".aac-")))
    ]  # fmt: skip


def _kill_during(root: Path, case: str) -> tuple[str, list[str]]:
    """Run `aidas produce` until the case's stage runs (and its moment comes), SIGKILL its process
    group; the log up to then and the stages that had finished."""
    stage = case.split("-")[0]
    proc = _produce(root, case)
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if f" - {stage} - STEP_START - " in line:
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(600), f"{stage} never started:\n{''.join(lines)[-4000:]}"
        pattern, pause = MOMENTS.get(case, (None, 0.0))
        if pattern:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and proc.poll() is None and not list((root / "storage").glob(pattern)):
                time.sleep(0.02)
        time.sleep(pause)
        assert proc.poll() is None, f"the run ended before it could be killed in {case}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    log = "".join(lines)
    return log, [s for s in STAGES if f" - {s} - STEP_SUCCESS - " in log]


def new_studio(root: Path) -> None:
    """The case's folder: the series config and an empty Dagster home (storage comes from the run)."""
    (root / "series").mkdir(parents=True)
    (root / "series" / f"{SERIES}.yaml").write_text(SHORT_SERIES, encoding="utf-8")
    (root / "home").mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", root / "home" / "dagster.yaml")


class StagedStorage:
    """The storage of episode 1 after each stage up to `last`, made once by the pipeline in this
    process, the first time a case asks for one.

    Stage outputs name their files by absolute path, so every case of a module runs in the one
    folder the storage was made in (`root`), emptied and refilled with the snapshot it starts from.
    """

    def __init__(self, base: Path, last: str):
        self.base = base
        self.root = base / "case"
        self.last = last
        self.snapshots: dict[str, Path] = {}
        self._stack = contextlib.ExitStack()

    def _make(self) -> None:
        """Pre-production, then each stage up to `last` in its own run, snapshotting the storage after each."""
        new_studio(self.root)
        (self.base / "home").mkdir()
        instance = self._stack.enter_context(dg.instance_for_test(temp_dir=str(self.base / "home"), set_dagster_home=False))
        studio = StudioResource(storage_root=str(self.root / "storage"), series_dir=str(self.root / "series"))
        defs = build_definitions(studio=studio)
        register(instance, self.root / "series")
        assert defs.resolve_job_def("preproduction").execute_in_process(partition_key=SERIES, instance=instance).success
        everything = defs.resolve_implicit_global_asset_job_def()
        for name in STAGES[: STAGES.index(self.last) + 1]:
            job = everything.get_subset(asset_selection={dg.AssetKey(name)})
            assert job.execute_in_process(partition_key=EpisodePartition(SERIES, 1).key, instance=instance).success
            self.snapshots[name] = self.base / f"after-{name}"
            shutil.copytree(self.root / "storage", self.snapshots[name], symlinks=True)  # keeps mtimes

    def start_after(self, stage: str) -> Path:
        """The case folder holding the storage as it was when `stage` had finished; a fresh home."""
        assert STAGES.index(stage) <= STAGES.index(self.last), f"snapshots end at {self.last}"
        if not self.snapshots:
            with pytest.MonkeyPatch.context() as env:  # the same offline resources as the subprocess
                for name in [k for k in os.environ if k.startswith(PROVIDER_ENV)]:
                    env.delenv(name)
                self._make()
        shutil.rmtree(self.root)
        new_studio(self.root)
        shutil.copytree(self.snapshots[stage], self.root / "storage", symlinks=True)
        return self.root

    def close(self) -> None:
        self._stack.close()


def staged_storage(last: str):
    """A module fixture `staged`: the StagedStorage up to `last` (in the module's own folder)."""

    @pytest.fixture(scope="module")
    def staged(tmp_path_factory):
        made = StagedStorage(tmp_path_factory.mktemp(f"kill-after-{last}"), last=last)
        yield made
        made.close()

    return staged


def kill_and_resume(root: Path, case: str) -> None:
    """Kill `aidas produce` during the case's stage in the studio at `root`, run it again, and check
    that the episode is complete, finished work was reused and nothing is left half-written."""
    stage = case.split("-")[0]
    storage_root = root / "storage"
    storage = Storage(storage_root)

    log, finished = _kill_during(root, case)
    assert stage not in finished and finished == STAGES[: STAGES.index(stage)], finished
    assert not storage.publish_record_path(SERIES, 1).exists()
    # What was finished when the kill came: caches and the outputs of the stages before this one.
    cache_before = _files(storage_root / "cache") if (storage_root / "cache").exists() else {}
    episode_dir = storage.episode_dir(SERIES, 1)
    outputs_before = _files(episode_dir) if episode_dir.exists() else {}
    ledger = CostLedger(storage.ledger_path())
    voiced_before = [e for e in ledger.entries() if e.operation == "text_to_speech" and not e.cache_hit]
    debris = _half_written(storage_root)
    if case == "final_cut-mux":
        assert debris, "the kill left no work folder: the case did not kill the mix/mux"

    again = _produce(root, case)
    out, _ = again.communicate(timeout=900)
    assert again.returncode == 0, out[-6000:]
    assert "which is gone (killed or crashed); marked failed" in out  # the dead run was recovered

    # The episode is complete and readable.
    video = storage.video_path(SERIES, 1)
    info = probe(video)
    assert info["video_codec"] == "h264" and float(info["duration"]) > 5
    record = json.loads(storage.publish_record_path(SERIES, 1).read_text(encoding="utf-8"))
    assert record["video_id"]
    assert len(list(storage.channel_dir().glob("*/video.json"))) == 1  # published exactly once

    # Finished work was reused, not redone: no cache file rewritten, no earlier stage's output rewritten.
    cache_after = _files(storage_root / "cache")
    rewritten = [name for name, stamp in cache_before.items() if cache_after.get(name) != stamp]
    assert not rewritten, f"cache files redone after a kill in {stage}: {rewritten[:10]}"
    stage_outputs = {
        "episode_script": ("script.json",),
        "audio_track": ("audio/",),
        "avatar_clips": ("clips/",),
        "final_cut": ("final/",),
    }
    done_prefixes = tuple(p for s in finished for p in stage_outputs.get(s, ()))
    # The cast sheet is a preview avatar_clips draws on every materialisation (a second); its clip
    # plan, the stage's work, must be reused.
    previews = {"clips/cast.png"}
    outputs_after = _files(episode_dir)
    redone = [
        name for name, stamp in outputs_before.items()
        if name.startswith(done_prefixes) and name not in previews and outputs_after.get(name) != stamp
    ]  # fmt: skip
    assert not redone, f"finished outputs rewritten after a kill in {stage}: {redone}"
    voiced = [e for e in ledger.entries() if e.operation == "text_to_speech" and not e.cache_hit]
    if "audio_track" in finished:
        assert len(voiced) == len(voiced_before)  # every line came from the cache
    if stage == "final_cut":
        assert any(name.startswith("segments/") for name in cache_before), "no segment was encoded before the kill"

    # Nothing half-written anywhere under storage, nothing held in the instance.
    assert _half_written(storage_root) == []
    for path in storage_root.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    with dg.DagsterInstance.from_config(str(root / "home")) as instance:
        statuses = [r.status for r in instance.get_runs(filters=dg.RunsFilter(job_name="produce_episode"))]
        assert sorted(s.value for s in statuses) == ["FAILURE", "SUCCESS"]
        storage_events = instance.event_log_storage
        for pool in storage_events.get_concurrency_keys():
            assert storage_events.get_concurrency_info(pool).claimed_slots == []
