"""Keeping the cache of encoded segments bounded.

Segments are content-addressed MP4s (and the soundtrack's AAC pieces, .aac, and thumbnails, .jpg) shared by every episode of every series (an intro card or an
unchanged scene is encoded once). Without a policy the folder only grows: every edit of a line
leaves the scene's old encoding behind. The policy:

- the segments of the latest cut of each episode are kept (a re-cut of an unchanged episode, or
  of an episode after a one-line edit, stays cheap) - each cut records its list under `refs/`;
- everything else is evicted least recently used first (a cut touches the segments it uses)
  until the folder is under its byte budget;
- a render holds a shared lock on the folder while it works, and pruning only runs when it can
  take the lock exclusively, so it never deletes a segment a running render has found.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aidas_dagster.core.storage import write_json

DEFAULT_BUDGET_BYTES = 4 << 30  # a 10-minute episode's segments take ~40-80 MB
LOCK_NAME = ".lock"
REFS_DIR = "refs"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class PruneReport:
    kept_bytes: int
    removed: int
    removed_bytes: int
    skipped: bool = False  # another render was using the cache


@contextlib.contextmanager
def cache_in_use(cache: Path) -> Iterator[None]:
    """Held (shared) by a render for as long as it reads or writes segments."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / LOCK_NAME, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def touch(paths: Iterable[Path]) -> None:
    """Mark segments as just used (eviction goes by modification time)."""
    now = time.time()
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.utime(path, (now, now))


def _record_path(cache: Path, series_id: str, episode: int) -> Path:
    return cache / REFS_DIR / (_SAFE.sub("_", f"{series_id}--ep{episode:04d}") + ".json")


def mix_steps_path(cache: Path, series_id: str, episode: int) -> Path:
    """Where the latest cut of an episode keeps its mix's loudness steps (soundtrack.MixSteps)."""
    return _record_path(cache, series_id, episode).with_suffix(".steps.npz")


def record_cut(cache: Path, series_id: str, episode: int, segments: Iterable[Path], **extra: object) -> Path:
    """Remember the segments of the latest cut of an episode (they are never evicted), with any
    `extra` facts a re-cut wants back (the soundtrack's gain)."""
    path = _record_path(cache, series_id, episode)
    write_json(path, {"series_id": series_id, "episode": episode, "segments": sorted({Path(p).name for p in segments}), **extra})
    return path


def episode_record(cache: Path, series_id: str, episode: int) -> dict:
    """The latest cut's record of an episode ({} if none or unreadable)."""
    try:
        data = json.loads(_record_path(cache, series_id, episode).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def referenced(cache: Path) -> set[str]:
    """File names of the segments some episode's latest cut uses."""
    names: set[str] = set()
    refs = cache / REFS_DIR
    if not refs.is_dir():
        return names
    for path in refs.glob("*.json"):
        try:
            names.update(json.loads(path.read_text(encoding="utf-8")).get("segments", []))
        except (OSError, ValueError, AttributeError):
            continue  # a damaged record protects nothing; the next cut of that episode rewrites it
    return names


def prune(cache: Path, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> PruneReport:
    """Evict unreferenced segments, least recently used first, until the cache fits its budget.
    Referenced segments stay even over budget: they are what the next re-cut needs."""
    if not cache.is_dir():
        return PruneReport(0, 0, 0)
    with open(cache / LOCK_NAME, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return PruneReport(0, 0, 0, skipped=True)
        try:
            # No render holds the cache now, so a half-written file is a killed render's: remove it.
            for part in cache.glob(".*.part"):
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
            keep = referenced(cache)
            files = []
            for path in [*cache.glob("*.mp4"), *cache.glob("*.aac"), *cache.glob("*.jpg")]:
                with contextlib.suppress(FileNotFoundError):
                    st = path.stat()
                    files.append((st.st_mtime, st.st_size, path))
            total = sum(size for _t, size, _p in files)
            removed = removed_bytes = 0
            for _mtime, size, path in sorted(files, key=lambda f: f[0]):
                if total <= budget_bytes:
                    break
                if path.name in keep:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
                    removed_bytes += size
                    total -= size
            return PruneReport(total, removed, removed_bytes)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
