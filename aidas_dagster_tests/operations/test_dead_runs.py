"""A killed run never blocks the studio: its pool slot is freed and the next run proceeds.

Real instance (SQLite under a temporary DAGSTER_HOME with the project's dagster.yaml), a real run in
a subprocess executed the way `aidas produce` executes it, a real SIGKILL.
"""

from __future__ import annotations

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
import yaml

from aidas_dagster.core.storage import PROJECT_ROOT
from aidas_dagster.operations.recovery import HOST_TAG, PID_TAG, execute_watched, recover_dead_runs
from aidas_dagster_tests.operations.pool_holder import holding_job

POOL = "testpool"


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "dagster_home"
    folder.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", folder / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(folder))
    return folder


def test_dagster_yaml_frees_slots_of_ended_runs_and_monitors_runs(home: Path):
    config = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8"))
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] is True
    assert 0 < monitoring["free_slots_after_run_end_seconds"] <= 120
    with dg.DagsterInstance.get() as instance:  # the keys are ones Dagster's schema accepts
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] == monitoring["free_slots_after_run_end_seconds"]


def _start_holder(home: Path, marker: Path) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "aidas_dagster_tests.operations.pool_holder", POOL, str(marker), "600"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"holder exited early: {proc.stdout.read()}")
        assert time.monotonic() < deadline, "holder never took its slot"
        time.sleep(0.2)
    return path.read_text(encoding="utf-8")


def test_a_killed_run_holding_the_only_slot_is_failed_and_freed_and_the_next_run_proceeds(home: Path, tmp_path: Path):
    with dg.DagsterInstance.get() as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 1)
        marker = tmp_path / "holding"
        proc = _start_holder(home, marker)
        try:
            dead_run_id = _wait_for(marker, proc)
            dead = instance.get_run_by_id(dead_run_id)
            assert dead.status == dg.DagsterRunStatus.STARTED
            assert dead.tags[PID_TAG] == str(proc.pid) and dead.tags[HOST_TAG]
            info = instance.event_log_storage.get_concurrency_info(POOL)
            assert [s.run_id for s in info.claimed_slots] == [dead_run_id]
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        # The kill left the run STARTED with its slot: exactly the state that used to block for ever.
        assert instance.get_run_by_id(dead_run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots

        said: list[str] = []
        outcome: dict = {}
        started = time.monotonic()
        # No explicit recovery first: the waiting run's own watch must see the dead holder and free it.
        worker = threading.Thread(
            target=lambda: outcome.setdefault(
                "result", execute_watched(holding_job(POOL, None, 0), instance, said.append, raise_on_error=False)
            )
        )
        worker.start()
        # Blocked for ever was the bug; how fast it proceeds depends on the machine's load (seconds
        # when quiet, once 64 s beside the rest of the suite), so only a generous bound is asserted.
        worker.join(timeout=180)
        took = time.monotonic() - started
        assert not worker.is_alive(), f"the next run is still blocked after {took:.0f} s; log: {said}"
        assert outcome["result"].success

        waited = [line for line in said if "waits for a slot of pool 'testpool' (limit 1)" in line]
        assert waited and dead_run_id in waited[0] and "its process is gone" in waited[0]
        freed = [line for line in said if "marked failed" in line]
        assert freed and dead_run_id in freed[0] and "pool testpool freed" in freed[0] and str(proc.pid) in freed[0]

        dead = instance.get_run_by_id(dead_run_id)
        assert dead.status == dg.DagsterRunStatus.FAILURE
        messages = [e.message for e in instance.all_logs(dead_run_id) if e.message]
        assert any("which is gone (killed or crashed)" in m for m in messages)
        # The waiting run's own Dagster log says why it waited (the UI shows it on the run's page).
        next_run = outcome["result"].run_id
        logged = [e.message for e in instance.all_logs(next_run) if e.message]
        assert any("waits for a slot of pool 'testpool'" in m and dead_run_id in m for m in logged)
        assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []


def test_a_live_run_is_left_alone_and_an_ended_run_still_holding_a_slot_is_freed(home: Path, tmp_path: Path):
    with dg.DagsterInstance.get() as instance:
        instance.event_log_storage.set_concurrency_slots(POOL, 1)
        marker = tmp_path / "holding"
        proc = _start_holder(home, marker)
        try:
            live_run_id = _wait_for(marker, proc)
            assert recover_dead_runs(instance) == []  # alive: not touched
            assert instance.get_run_by_id(live_run_id).status == dg.DagsterRunStatus.STARTED
            # An operator marks it failed in the UI: the run ends, the slot stays held (Dagster's own gap).
            instance.report_run_failed(instance.get_run_by_id(live_run_id), "marked failed by hand")
            assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
            done = recover_dead_runs(instance)
            assert [r.run_id for r in done] == [live_run_id] and done[0].freed_slots == 1
            assert "still held 1 slot(s) of pool testpool" in done[0].reason
            assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)


def test_the_pool_watch_sensor_frees_a_dead_cli_runs_slot_and_tells_the_waiting_run(home: Path, tmp_path: Path):
    """Under the daemon: the sensor does what a waiting CLI run's own watch does."""
    from dagster._core.test_utils import create_run_for_test

    from aidas_dagster.core.ledger import Budget, CostLedger
    from aidas_dagster.operations.sensors import pool_watch
    from aidas_dagster.operations.recovery import process_tags
    from aidas_dagster.resources import StudioResource

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_tags = {**process_tags(), PID_TAG: gone.stdout.strip()}  # this host, a pid that has exited
    studio = StudioResource(storage_root=str(tmp_path / "storage"), series_dir=str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("youtube", 1)
        dead = create_run_for_test(instance, job_name="produce_episode", tags=dead_tags, status=dg.DagsterRunStatus.STARTED)
        waiting = create_run_for_test(instance, job_name="produce_episode", status=dg.DagsterRunStatus.STARTED)
        assert storage.claim_concurrency_slot("youtube", dead.run_id, "youtube_video").is_claimed
        assert not storage.claim_concurrency_slot("youtube", waiting.run_id, "youtube_video").is_claimed
        # A budget reservation the dead run held (a launched run's: no pid to watch) is let go with it.
        Budget(CostLedger(studio.storage.ledger_path()), holder=f"run:{dead.run_id}", holder_pid=0).reserve("heygen", 5.0)
        with dg.build_sensor_context(instance=instance, resources={"studio": studio}) as context:
            result = pool_watch(context)
        assert "1 dead run(s) released" in result.skip_reason.skip_message
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert [s.run_id for s in storage.get_concurrency_info("youtube").claimed_slots] in ([], [waiting.run_id])
        logged = [e.message for e in instance.all_logs(waiting.run_id) if e.message]
        assert any("waits for a slot of pool 'youtube' (limit 1)" in m and dead.run_id in m for m in logged)
        assert Budget(CostLedger(studio.storage.ledger_path())).reserved() == 0.0
