"""Acceptance, with real processes: dagster-webserver and dagster-daemon on a temporary instance.

A backfill of two episodes launched through the GraphQL API completes; then a producer's edited
script makes the daemon re-materialise exactly that episode's script and downstream, nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import pytest

from aidas_dagster.core.intervals import SENSOR_INTERVAL_ENV
from aidas_dagster.core.run_tags import WHOLE_EPISODE_TAG
from aidas_dagster.core.storage import PROJECT_ROOT, Storage
from aidas_dagster_tests.builders import SHORT_SERIES
from aidas_dagster_tests.infra.servers import free_port, stop

BIN = Path(sys.executable).parent
EPISODE_ASSETS = ["episode_script", "audio_track", "avatar_clips", "final_cut", "youtube_video"]
NEW_LINE = "잠깐, 이 대사는 프로듀서가 고쳤어요. 다시 녹음해 주세요."


class Studio:
    def __init__(self, root: Path):
        self.home = root / "home"
        self.storage = Storage(root / "storage")
        self.series_dir = root / "series"
        self.logs = root / "logs"
        for folder in (self.home, self.series_dir, self.logs):
            folder.mkdir(parents=True)
        shutil.copyfile(PROJECT_ROOT / "dagster.yaml", self.home / "dagster.yaml")
        (self.series_dir / "short-love.yaml").write_text(SHORT_SERIES, encoding="utf-8")
        self.port = free_port()
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "AIDAS_STORAGE_ROOT": str(self.storage.root),
            "AIDAS_SERIES_DIR": str(self.series_dir),
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
            "PYTHONPATH": str(PROJECT_ROOT),
            # 5 s sensor ticks instead of 15-300 s (an automation tick every 5 s is also the harder case
            # for re-making each step exactly once).
            SENSOR_INTERVAL_ENV: "5",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                [str(BIN / name), *args], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        )

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in sorted(self.logs.iterdir()))

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        assert "errors" not in answer, answer["errors"]
        return answer["data"]

    def wait(self, what: str, check, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    pytest.fail(f"{process.args[0]} exited while waiting for {what}\n{self.log_tail()}")
            try:
                value = check()
            except OSError:
                value = None
            if value:
                return value
            time.sleep(1)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{self.log_tail()}")


@pytest.fixture
def running_studio(tmp_path: Path):
    studio = Studio(tmp_path)
    # Create the instance's databases once, before two processes race to create (and stamp) them.
    with dg.DagsterInstance.from_config(str(studio.home)) as instance:
        instance.get_runs(limit=1)
    studio.start("dagster-webserver", ["-h", "127.0.0.1", "-p", str(studio.port), "-w", "workspace.yaml"])
    studio.start("dagster-daemon", ["run", "-w", "workspace.yaml"])
    try:
        yield studio
    finally:
        for process in studio.processes:
            stop(process, timeout=30)


def _counts(instance: dg.DagsterInstance) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for name in EPISODE_ASSETS:
        for record in instance.fetch_materializations(dg.AssetKey(name), limit=1000).records:
            key = (name, str(record.partition_key))
            counts[key] = counts.get(key, 0) + 1
    return counts


def _busy(instance: dg.DagsterInstance) -> bool:
    in_flight = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    return bool(instance.get_runs(filters=dg.RunsFilter(statuses=in_flight)))


SCHEDULES = """
query ($repo: RepositorySelector!) {
  schedulesOrError(repositorySelector: $repo) {
    ... on Schedules { results { name scheduleState { id status } } }
  }
}"""
STOP_SCHEDULE = """
mutation ($id: String!) {
  stopRunningSchedule(id: $id) {
    __typename
    ... on ScheduleStateResult { scheduleState { status } }
    ... on PythonError { message }
  }
}"""


def stop_schedules(studio: Studio, repo: dict) -> list[str]:
    """Stop the studio's schedules through the API, as an operator would: the hourly report or
    the 06:00 KST production day firing mid-test would add runs the test does not expect."""
    stopped = []
    for schedule in studio.graphql(SCHEDULES, {"repo": repo})["schedulesOrError"]["results"]:
        answer = studio.graphql(STOP_SCHEDULE, {"id": schedule["scheduleState"]["id"]})["stopRunningSchedule"]
        assert answer["__typename"] == "ScheduleStateResult" and answer["scheduleState"]["status"] == "STOPPED", answer
        stopped.append(schedule["name"])
    return stopped


LAUNCH_BACKFILL = """
mutation ($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
  }
}"""


def test_backfill_through_graphql_then_a_script_edit_remakes_only_that_episode(running_studio: Studio):
    studio = running_studio
    repos = studio.wait(
        "the webserver",
        lambda: studio.graphql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name location { name } } } } }")[
            "repositoriesOrError"
        ]["nodes"],
        timeout=150,
    )
    location, repository = repos[0]["location"]["name"], repos[0]["name"]
    assert "daily_production" in stop_schedules(studio, {"repositoryLocationName": location, "repositoryName": repository})
    instance = dg.DagsterInstance.from_config(str(studio.home))
    try:
        # The daemon's series sensor finds the config, registers its partitions and writes bible and cast.
        studio.wait(
            "pre-production by the series sensor",
            lambda: any(r.status == dg.DagsterRunStatus.SUCCESS for r in instance.get_runs(filters=dg.RunsFilter(job_name="preproduction"))),
            timeout=180,
        )
        launched = studio.graphql(
            LAUNCH_BACKFILL,
            {
                "params": {
                    "selector": {
                        "partitionSetName": "produce_episode_partition_set",
                        "repositorySelector": {"repositoryLocationName": location, "repositoryName": repository},
                    },
                    "partitionNames": ["001|short-love", "002|short-love"],
                }
            },
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]

        def backfill_runs():
            runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
            failed = [r for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
            if failed:
                pytest.fail(f"backfill run {failed[0].run_id} for {failed[0].tags.get('dagster/partition')} failed\n{studio.log_tail()}")
            done = [r for r in runs if r.status == dg.DagsterRunStatus.SUCCESS]
            return done if len(done) == 2 else None

        done = studio.wait("both backfilled episodes", backfill_runs, timeout=300)
        assert sorted(r.tags["dagster/partition"] for r in done) == ["001|short-love", "002|short-love"]
        # The job's tag reaches backfill runs: automation leaves what they make to them.
        assert all(r.tags.get(WHOLE_EPISODE_TAG) == "true" for r in done)
        for episode in (1, 2):
            assert studio.storage.video_path("short-love", episode).exists()
        studio.wait("a quiet studio", lambda: not _busy(instance), timeout=120)
        before = _counts(instance)
        video2 = studio.storage.video_path("short-love", 2)
        video2_mtime = video2.stat().st_mtime_ns

        # A producer edits one line of episode 1.
        override = studio.storage.script_override_path("short-love", 1)
        override.parent.mkdir(parents=True, exist_ok=True)
        edited = json.loads(studio.storage.script_path("short-love", 1).read_text(encoding="utf-8"))
        edited["scenes"][0]["lines"][0]["text"] = NEW_LINE
        tmp = override.with_suffix(".part")
        tmp.write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")
        tmp.rename(override)

        def remade():
            counts = _counts(instance)
            if counts.get(("youtube_video", "001|short-love"), 0) > before.get(("youtube_video", "001|short-love"), 0) and not _busy(instance):
                return counts
            return None

        after = studio.wait("episode 1 re-made by the override sensor and automation", remade, timeout=300)
        # One more automation evaluation after the last run: it must ask for nothing further.
        settled_at = time.time()
        studio.wait(
            "an automation tick after the re-make",
            lambda: any(
                tick.timestamp > settled_at
                for state in instance.all_instigator_state()
                if state.name == "studio_automation"
                for tick in instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
            ),
            timeout=90,
        )
        assert not _busy(instance)
        after = _counts(instance)
        changed = {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}
        assert changed == {(name, "001|short-love"): 1 for name in EPISODE_ASSETS}
        assert video2.stat().st_mtime_ns == video2_mtime
        subtitles = studio.storage.video_path("short-love", 1).with_suffix(".srt").read_text(encoding="utf-8")
        assert NEW_LINE.split(".")[0] in subtitles.replace("\n", " ")
    finally:
        instance.dispose()
