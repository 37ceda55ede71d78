"""avatar_clips with a HeyGen key: lead lines come from HeyGen (a local v3 fake) into the final cut."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from aidas_dagster.core.ledger import CostLedger
from aidas_dagster.core.storage import Storage, read_json
from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.picture.probe import ffmpeg_exe, probe
from aidas_dagster.picture.resources import AvatarStudio
from aidas_dagster_tests.fakes.heygen_server import HeyGenServer

KEY = "hg-asset-test-key-19af"


@pytest.fixture
def fake_heygen(tmp_path: Path):
    clip = tmp_path / "clip.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "2",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(clip)],
        check=True,
    )  # fmt: skip
    server = HTTPServer(threaded=True)
    server.start()
    try:
        yield HeyGenServer(server, KEY, clip.read_bytes(), pending_polls=1).register(), server
    finally:
        server.stop()


def test_lead_lines_are_heygen_clips_and_the_rest_render_locally(instance, studio, fake_heygen):
    fake, server = fake_heygen
    avatar_studio = AvatarStudio(heygen_api_key=KEY, heygen_base_url=server.url_for("").rstrip("/"), heygen_poll_seconds=0.01)
    defs = build_definitions(studio=studio, avatar_studio=avatar_studio)
    register(instance, Path(studio.series_dir))
    assert defs.resolve_job_def("preproduction").execute_in_process(partition_key="short-love", instance=instance).success
    result = defs.resolve_job_def("produce_episode").execute_in_process(
        partition_key=EpisodePartition("short-love", 1).key, instance=instance
    )
    assert result.success
    storage = Storage(studio.storage_root)
    roster = {c["id"]: c for c in read_json(storage.roster_path("short-love"))["characters"]}
    plan = read_json(storage.clips_manifest_path("short-love", 1))
    lead_lines = [c for c in plan["clips"] if roster[c["speaker"]]["importance"] == "main"]
    others = [c for c in plan["clips"] if roster[c["speaker"]]["importance"] != "main"]
    assert lead_lines, "the short episode has lines by a lead"
    assert all(c["external_clip"] and Path(c["external_clip"]).is_file() for c in lead_lines)
    assert not any(c["external_clip"] for c in others)
    assert len(fake.creates()) == len(lead_lines)  # one HeyGen job per lead line
    heygen = [e for e in CostLedger(storage.ledger_path()).entries() if e.provider == "heygen"]
    assert len(heygen) == len(lead_lines) and all(e.cost_usd > 0 for e in heygen)
    info = probe(storage.video_path("short-love", 1))
    assert (info["width"], info["height"], info["video_codec"]) == (1920, 1080, "h264")
    failed = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
    assert not failed

    # A second run finds every clip in the cache: no new HeyGen job.
    again = defs.resolve_job_def("produce_episode").execute_in_process(
        partition_key=EpisodePartition("short-love", 1).key, instance=instance
    )
    assert again.success
    assert len(fake.creates()) == len(lead_lines)
