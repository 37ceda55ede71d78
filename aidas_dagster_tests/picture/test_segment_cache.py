"""The segment cache stays within its budget without losing what the next re-cut needs."""

from __future__ import annotations

import os
from pathlib import Path

from aidas_dagster.picture import segment_cache
from aidas_dagster.picture.segment_cache import cache_in_use, prune, record_cut, referenced, touch


def segment(cache: Path, name: str, size: int, age: float) -> Path:
    """A fake encoded segment of `size` bytes last used `age` seconds ago."""
    path = cache / f"{name}.mp4"
    path.write_bytes(b"\x00" * size)
    then = path.stat().st_mtime - age
    os.utime(path, (then, then))
    return path


def test_eviction_is_least_recently_used_first_and_spares_the_latest_cuts(tmp_path):
    cache = tmp_path / "segments"
    cache.mkdir()
    old_ep1 = segment(cache, "old-ep1", 1000, age=500)  # an edit replaced it: nobody uses it
    shared = segment(cache, "intro", 1000, age=400)  # oldest in use: the latest cut of ep 1 and 2
    ep2 = segment(cache, "ep2-scene", 1000, age=300)
    stale = segment(cache, "stale", 1000, age=200)
    recent = segment(cache, "recent", 1000, age=10)
    record_cut(cache, "love", 1, [shared])
    record_cut(cache, "love", 2, [shared, ep2])
    assert referenced(cache) == {"intro.mp4", "ep2-scene.mp4"}

    report = prune(cache, budget_bytes=3000)
    assert (report.removed, report.removed_bytes, report.kept_bytes, report.skipped) == (2, 2000, 3000, False)
    assert not old_ep1.exists() and not stale.exists()  # oldest unreferenced first
    assert shared.exists() and ep2.exists() and recent.exists()

    # Over budget with only referenced segments left: they stay.
    report = prune(cache, budget_bytes=1000)
    assert recent.exists() is False and shared.exists() and ep2.exists()
    assert report.kept_bytes == 2000


def test_a_re_cut_replaces_the_episode_record_and_touching_keeps_a_segment_young(tmp_path):
    cache = tmp_path / "segments"
    cache.mkdir()
    a = segment(cache, "a", 100, age=1000)
    b = segment(cache, "b", 100, age=10)
    record_cut(cache, "love", 1, [a])
    record_cut(cache, "love", 1, [b])  # the episode was re-cut without a
    assert referenced(cache) == {"b.mp4"}
    touch([a])  # ...but another render just reused a: now it is the most recent
    c = segment(cache, "c", 100, age=100)
    prune(cache, budget_bytes=200)
    assert a.exists() and b.exists() and not c.exists()


def test_pruning_waits_for_no_render_and_never_deletes_under_one(tmp_path):
    cache = tmp_path / "segments"
    cache.mkdir()
    lone = segment(cache, "lone", 1000, age=100)
    with cache_in_use(cache):  # a render is running (it may have just found `lone`)
        report = prune(cache, budget_bytes=0)
    assert report.skipped and lone.exists()
    assert prune(cache, budget_bytes=0).removed == 1 and not lone.exists()


def test_damaged_records_and_missing_folders_are_harmless(tmp_path):
    assert prune(tmp_path / "nowhere").removed == 0
    cache = tmp_path / "segments"
    (cache / segment_cache.REFS_DIR).mkdir(parents=True)
    (cache / segment_cache.REFS_DIR / "broken.json").write_text("{not json", encoding="utf-8")
    assert referenced(cache) == set()
