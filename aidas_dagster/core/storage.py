"""Where produced files live, and how they are written.

Every file the pipeline produces goes under one storage root, one folder per series and
per episode. Writes are atomic (temporary file in the same folder, then rename), so a crashed
run never leaves a file that looks finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STORAGE_ROOT = PROJECT_ROOT / "storage"
ASSETS_DATA = PROJECT_ROOT / "assets_data"
DEFAULT_SERIES_DIR = ASSETS_DATA / "series"


def default_storage_root() -> Path:
    """The storage root from AIDAS_STORAGE_ROOT, else `storage/` inside the checkout."""
    return Path(os.environ.get("AIDAS_STORAGE_ROOT") or DEFAULT_STORAGE_ROOT)


def default_series_dir() -> Path:
    """The folder of series configs from AIDAS_SERIES_DIR, else `assets_data/series/`."""
    return Path(os.environ.get("AIDAS_SERIES_DIR") or DEFAULT_SERIES_DIR)


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` only on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix + ".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def write_text(target: Path, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: Path, data: Any) -> Path:
    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2)
    else:
        text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    return write_text(target, text + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{path}: expected file is missing (materialise the upstream asset first)") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc


def fingerprint(*parts: Any) -> str:
    """A stable content hash of JSON-able parts (pydantic models allowed)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, BaseModel):
            part = part.model_dump(mode="json")
        if isinstance(part, bytes):
            h.update(part)
        else:
            h.update(json.dumps(part, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:32]


class Storage:
    """Paths of everything the pipeline produces, under one root."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    # series level
    def series_dir(self, series_id: str) -> Path:
        return self.root / "series" / series_id

    def bible_path(self, series_id: str) -> Path:
        return self.series_dir(series_id) / "bible.json"

    def roster_path(self, series_id: str) -> Path:
        return self.series_dir(series_id) / "roster.json"

    def avatars_dir(self, series_id: str) -> Path:
        return self.series_dir(series_id) / "avatars"

    # episode level
    def episode_dir(self, series_id: str, episode: int) -> Path:
        return self.series_dir(series_id) / "episodes" / f"{episode:03d}"

    def script_path(self, series_id: str, episode: int) -> Path:
        return self.episode_dir(series_id, episode) / "script.json"

    def script_override_path(self, series_id: str, episode: int) -> Path:
        """A producer's edited script; when present it replaces the written one."""
        return self.series_dir(series_id) / "overrides" / f"{episode:03d}.script.json"

    def audio_dir(self, series_id: str, episode: int) -> Path:
        return self.episode_dir(series_id, episode) / "audio"

    def audio_manifest_path(self, series_id: str, episode: int) -> Path:
        return self.audio_dir(series_id, episode) / "track.json"

    def clips_manifest_path(self, series_id: str, episode: int) -> Path:
        return self.episode_dir(series_id, episode) / "clips" / "clips.json"

    def final_dir(self, series_id: str, episode: int) -> Path:
        return self.episode_dir(series_id, episode) / "final"

    def video_path(self, series_id: str, episode: int) -> Path:
        return self.final_dir(series_id, episode) / f"{series_id}-ep{episode:03d}.mp4"

    def final_manifest_path(self, series_id: str, episode: int) -> Path:
        return self.final_dir(series_id, episode) / "final.json"

    def publish_record_path(self, series_id: str, episode: int) -> Path:
        return self.episode_dir(series_id, episode) / "publish.json"

    # shared caches
    def cache_dir(self, kind: str) -> Path:
        return self.root / "cache" / kind

    def channel_dir(self) -> Path:
        return self.root / "channel"

    def ledger_path(self) -> Path:
        return self.root / "ledger" / "costs.jsonl"

    def remove_episode(self, series_id: str, episode: int) -> None:
        shutil.rmtree(self.episode_dir(series_id, episode), ignore_errors=True)
