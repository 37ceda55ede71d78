"""The code location loads the way a user loads it: `dagster definitions validate` and the web UI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from aidas_dagster.core.storage import PROJECT_ROOT

DAGSTER = Path(sys.executable).with_name("dagster")
SEVEN = ["audio_track", "avatar_clips", "character_roster", "episode_script", "final_cut", "series_bible", "youtube_video"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DAGSTER_HOME": str(tmp_path), "AIDAS_STORAGE_ROOT": str(tmp_path / "storage")}


def test_definitions_validate(tmp_path: Path):
    done = subprocess.run(
        [str(DAGSTER), "definitions", "validate"], cwd=PROJECT_ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Validation successful" in done.stderr + done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webserver_serves_the_asset_graph(tmp_path: Path):
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    query = json.dumps({"query": "{ assetNodes { assetKey { path } groupName } }"}).encode()
    try:
        deadline = time.monotonic() + 90
        nodes = None
        while time.monotonic() < deadline and nodes is None:
            if server.poll() is not None:
                pytest.fail(f"webserver exited: {server.stderr.read().decode()[-2000:]}")
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", data=query, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    nodes = json.load(response)["data"]["assetNodes"]
            except OSError:
                time.sleep(1)
        assert nodes is not None, "webserver did not answer within 90 s"
        assert set(SEVEN) <= {node["assetKey"]["path"][0] for node in nodes}
        groups = {node["assetKey"]["path"][0]: node["groupName"] for node in nodes}
        assert {groups[name] for name in SEVEN} == {"story", "voice", "picture", "publish"}
    finally:
        server.terminate()
        server.wait(timeout=30)
