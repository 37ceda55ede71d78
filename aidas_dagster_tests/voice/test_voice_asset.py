"""The audio_track asset in Dagster, with the voice booth pointed at a local ElevenLabs server.

Proves the wiring: VoiceBooth builds the failover chain, the asset passes the studio's ledger and
budget, leads are voiced by ElevenLabs and everyone else falls to the offline voice (no Google key),
every line is entered in the ledger, and the four voice checks pass.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import dagster as dg
from pytest_httpserver import HTTPServer

from aidas_dagster.core.storage import Storage, read_json
from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.voice.resources import VoiceBooth
from aidas_dagster.story.models import Roster
from aidas_dagster_tests.fakes.elevenlabs_server import ElevenLabsServer

VOICE_CHECKS = {"every_line_voiced", "line_durations_plausible", "no_clipping_or_long_silence", "distinct_voices"}


def test_audio_track_voices_through_the_chain_into_the_ledger(instance, studio, httpserver: HTTPServer):
    fake = ElevenLabsServer()
    httpserver.expect_request(re.compile(r"^/v1/text-to-speech/[^/]+/with-timestamps$"), method="POST").respond_with_handler(fake.handle)
    booth = VoiceBooth(elevenlabs_api_key="el-asset-key", elevenlabs_base_url=httpserver.url_for("").rstrip("/"))
    defs = build_definitions(studio=studio, voice_booth=booth)
    register(instance, Path(studio.series_dir))
    assert defs.resolve_job_def("preproduction").execute_in_process(partition_key="short-love", instance=instance).success
    episode = EpisodePartition("short-love", 1).key
    selection = [dg.AssetKey("episode_script"), dg.AssetKey("audio_track")]
    result = defs.resolve_job_def("produce_episode").execute_in_process(
        partition_key=episode, instance=instance, asset_selection=selection
    )
    assert result.success

    storage = Storage(studio.storage_root)
    roster = Roster.model_validate(read_json(storage.roster_path("short-love")))
    track = read_json(storage.audio_manifest_path("short-love", 1))
    premium = {c.id for c in roster.characters if c.voice.provider == "elevenlabs"}
    for line in track["lines"]:
        assert line["provider"] == ("elevenlabs" if line["speaker"] in premium else "offline"), line
    assert premium and fake.requests  # the short series' leads are cast on ElevenLabs
    assert fake.texts() == Counter(l["text"] for l in track["lines"] if l["speaker"] in premium)
    assert all(r["key"] == "el-asset-key" for r in fake.requests)

    entries = list(studio.ledger.entries())
    assert len(entries) == len(track["lines"])
    assert {e.provider for e in entries} == {l["provider"] for l in track["lines"]}
    assert all(e.series_id == "short-love" and e.episode == 1 and not e.cache_hit for e in entries)

    checks = {c.check_name: c for c in result.get_asset_check_evaluations() if c.asset_key == dg.AssetKey("audio_track")}
    assert VOICE_CHECKS <= set(checks)
    assert all(checks[name].passed for name in VOICE_CHECKS), {n: checks[n].description for n in VOICE_CHECKS}
    materialization = result.asset_materializations_for_node("audio_track")[0]
    assert "elevenlabs" in materialization.metadata["voiced_by"].value
