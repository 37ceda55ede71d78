"""Growing past one machine: the instance on a real PostgreSQL server (the documented dagster.yaml
variant), and an episode's steps run by two Celery workers (Redis broker) sharing the storage.

One test covers both, because a Celery deployment needs a shared instance: pre-production runs in
the test process and the episode's steps in the workers, all recording into PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml

from aidas_dagster.core.storage import PROJECT_ROOT, Storage
from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.registry import register
from aidas_dagster.picture.probe import probe
from aidas_dagster_tests.operations.celery_location import celery_episode_job
from aidas_dagster_tests.infra.servers import documented_postgres_yaml, postgres_server, redis_server, stop


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as server:
        yield server


def _postgres_home(postgres, tmp_path: Path, db_name: str, monkeypatch) -> Path:
    postgres.create_database(db_name)
    for name, value in postgres.env(db_name).items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(documented_postgres_yaml(PROJECT_ROOT / "dagster.yaml"), encoding="utf-8")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _rows(postgres, db_name: str, sql: str) -> list[tuple]:
    connection = psycopg2.connect(host=postgres.host, port=postgres.port, user=postgres.user, password=postgres.password, dbname=db_name)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()
    finally:
        connection.close()


def _start_worker(name: str, config_yaml: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-celery")), "worker", "start", "-A", "dagster_celery.app",
         "-y", str(config_yaml), "-n", name, "--", "--concurrency=1", "--without-heartbeat", "--without-mingle",
         "--without-gossip"],
        cwd=PROJECT_ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _wait_ready(workers: list[tuple[subprocess.Popen, Path]], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process, log in workers:
            if process.poll() is not None:
                pytest.fail(f"celery worker exited: {log.read_text(errors='replace')[-3000:]}")
        if all(b" ready." in log.read_bytes() for _process, log in workers):
            return
        time.sleep(0.5)
    pytest.fail("celery workers were not ready within 90 s: " + workers[0][1].read_text(errors="replace")[-2000:])


def test_an_episode_on_postgres_through_two_celery_workers(postgres, tmp_path, monkeypatch, series_dir, studio):
    home = _postgres_home(postgres, tmp_path, "aidas_celery", monkeypatch)
    monkeypatch.setenv("AIDAS_STORAGE_ROOT", studio.storage_root)
    monkeypatch.setenv("AIDAS_SERIES_DIR", studio.series_dir)
    with redis_server() as redis_url:
        executor_config = {"broker": f"{redis_url}/0", "backend": f"{redis_url}/1"}
        config_yaml = tmp_path / "celery.yaml"
        config_yaml.write_text(yaml.safe_dump({"execution": {"config": executor_config}}), encoding="utf-8")
        # dagster-celery runs `celery` from PATH: the one beside this interpreter.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PATH": path}
        workers = []
        try:
            for name in ("worker-a", "worker-b"):
                log = tmp_path / f"{name}.log"
                workers.append((_start_worker(name, config_yaml, env, log), log))
            instance = dg.DagsterInstance.get()
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            register(instance, series_dir)
            pre = build_definitions(studio=studio).resolve_job_def("preproduction")
            assert pre.execute_in_process(partition_key="short-love", instance=instance).success
            _wait_ready(workers)
            started = time.monotonic()
            result = dg.execute_job(
                dg.reconstructable(celery_episode_job),
                instance=instance,
                run_config={"execution": {"config": executor_config}},
                tags={
                    "dagster/partition": "001|short-love",
                    "dagster/partition/series": "short-love",
                    "dagster/partition/episode": "001",
                },
            )
            took = time.monotonic() - started
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            hosts = {
                event.dagster_event.engine_event_data.metadata["Celery worker"].value
                for event in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
                if event.dagster_event.engine_event_data and "Celery worker" in event.dagster_event.engine_event_data.metadata
            }
            executed = {
                event.step_key for event in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
            }
            instance.dispose()
        finally:
            for process, _log in workers:
                stop(process)
    assert {"episode_script", "audio_track", "avatar_clips", "final_cut", "youtube_video"} <= executed
    assert {host.split("@")[0] for host in hosts} == {"worker-a", "worker-b"}, f"steps ran on {hosts}"
    assert probe(Storage(studio.storage_root).video_path("short-love", 1))["width"] == 1920
    print(f"celery episode: {took:.1f} s on {sorted(hosts)}")
    # The runs and the episode's materialisations live in PostgreSQL, not in files under DAGSTER_HOME.
    assert sorted(row[0] for row in _rows(postgres, "aidas_celery", "SELECT status FROM runs")) == ["SUCCESS", "SUCCESS"]
    materialised = _rows(
        postgres, "aidas_celery",
        "SELECT DISTINCT asset_key FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'",
    )  # fmt: skip
    assert {'["series_bible"]', '["episode_script"]', '["final_cut"]', '["youtube_video"]'} <= {row[0] for row in materialised}
    assert not list(home.rglob("*.db"))
    # The password came from the environment and stayed there.
    assert postgres.password not in (home / "dagster.yaml").read_text(encoding="utf-8")
