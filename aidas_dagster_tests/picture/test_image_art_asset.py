"""The picture stage with an image key: the series' looks and places come from a local
/v1/images/generations server once, and the final cut shows them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aidas_dagster.core.ledger import CostLedger
from aidas_dagster.core.storage import Storage, read_json
from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.picture.resources import AvatarStudio
from aidas_dagster_tests.fakes.images_server import IMAGES_KEY as KEY
from aidas_dagster_tests.fakes.images_server import PORTRAIT_RGB
from aidas_dagster_tests.picture.builders import grab


def test_series_art_is_made_once_across_episodes_and_the_cut_shows_it(instance, studio, images_fake):
    avatar_studio = AvatarStudio(image_api_key=KEY, image_base_url=images_fake.server.url_for("/v1"))
    defs = build_definitions(studio=studio, avatar_studio=avatar_studio)
    register(instance, Path(studio.series_dir))
    assert defs.resolve_job_def("preproduction").execute_in_process(partition_key="short-love", instance=instance).success
    produce = defs.resolve_job_def("produce_episode")
    assert produce.execute_in_process(partition_key=EpisodePartition("short-love", 1).key, instance=instance).success
    storage = Storage(studio.storage_root)
    roster = {c["id"]: c for c in read_json(storage.roster_path("short-love"))["characters"]}
    looked = [c for c in roster.values() if c["importance"] in ("main", "major_supporting")]
    portraits = images_fake.count("Character portrait")
    assert looked and portraits >= 2 * sum(c["importance"] == "main" for c in roster.values())
    places = images_fake.count("Background plate")
    assert places >= 1

    # Re-materialising episode 1 and making episode 2 ask for no look again.
    assert produce.execute_in_process(partition_key=EpisodePartition("short-love", 1).key, instance=instance).success
    assert len(images_fake.requests) == portraits + places
    assert produce.execute_in_process(partition_key=EpisodePartition("short-love", 2).key, instance=instance).success
    assert images_fake.count("Character portrait") == portraits  # looks are locked for the series
    ledger = [e for e in CostLedger(storage.ledger_path()).entries() if e.operation == "image"]
    assert len([e for e in ledger if not e.cache_hit]) == len(images_fake.requests) and all(e.cost_usd > 0 for e in ledger if not e.cache_hit)

    # A frame where a lead speaks shows the served portrait.
    plan = read_json(storage.clips_manifest_path("short-love", 1))
    track = {tl["index"]: tl for tl in read_json(storage.audio_manifest_path("short-love", 1))["lines"]}
    cut = read_json(storage.final_manifest_path("short-love", 1))
    lead = next(c for c in plan["clips"] if roster[c["speaker"]]["importance"] == "main" and c["kind"] == "sprite")
    assert "/art/" in lead["sprite_paths"][0]
    line = track[lead["index"]]
    frame = np.asarray(grab(Path(cut["video_path"]), cut["intro_seconds"] + line["start"] + 0.3 * (line["end"] - line["start"])), dtype=int)
    assert float((np.abs(frame - np.array(PORTRAIT_RGB)).max(axis=2) < 45).mean()) > 0.03
