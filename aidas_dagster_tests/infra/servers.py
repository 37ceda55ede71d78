"""Real servers for tests, started on loopback in temporary directories: PostgreSQL and Redis."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path("/usr/local/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def stop(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Stop a process this test started (and its own children, via its process group)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 15)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait(timeout=timeout)


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str

    def create_database(self, name: str) -> str:
        import psycopg2

        connection = psycopg2.connect(host=self.host, port=self.port, user=self.user, password=self.password, dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return name

    def env(self, db_name: str) -> dict[str, str]:
        """The DAGSTER_PG_* variables the documented dagster.yaml variant reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": db_name,
        }


def _wait_accepting(server: Postgres, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """The port opens before recovery ends ("the database system is starting up"): wait for a login."""
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg2.connect(host=server.host, port=server.port, user=server.user, dbname="postgres").close()
            return
        except psycopg2.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    """initdb in a temporary directory and a postgres on a free loopback port.

    PostgreSQL refuses to run as root, so as root the server runs as `nobody` (runuser).
    """
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL binaries not found in {PG_BIN}")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="aidas-pg-"))
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            pytest.skip("running as root and runuser is missing: PostgreSQL cannot start")
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        as_user = ["runuser", "-u", "nobody", "--"]
    data = folder / "data"
    port = free_port()
    process = None
    try:
        subprocess.run(
            [*as_user, str(PG_BIN / "initdb"), "-D", str(data), "-U", "aidas", "-A", "trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        process = subprocess.Popen(
            [*as_user, str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
             "-k", str(folder), "-c", "fsync=off", "-c", "max_connections=60"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        wait_for_port(port, process, "postgres")
        server = Postgres(host="127.0.0.1", port=port, user="aidas", password="test-only-password")
        _wait_accepting(server, process)
        yield server
    finally:
        if process is not None:
            stop(process)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port; yields its URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port, process, "redis-server")
        yield f"redis://127.0.0.1:{port}"
    finally:
        stop(process)


POSTGRES_BLOCK_START = "# >>> postgres storage"
POSTGRES_BLOCK_END = "# <<< postgres storage"


def documented_postgres_yaml(dagster_yaml: Path) -> str:
    """The project's dagster.yaml with its documented Postgres storage block switched on."""
    text = dagster_yaml.read_text(encoding="utf-8")
    start, end = text.index(POSTGRES_BLOCK_START), text.index(POSTGRES_BLOCK_END)
    block = text[start:end].splitlines()[1:]
    storage = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in block)
    return text + "\n" + storage + "\n"
