"""Where produced files live, and how they are written.

Every file the pipeline produces goes under one storage root, one folder per series and
per episode. Writes are atomic (temporary file in the same folder, then rename), so a crashed
run never leaves a file that looks finished. A temporary file's name carries the writer's pid
(`.NAME.<pid>.<random>.part`), so the next run can tell a dead writer's leftovers from a live
writer's file in progress and sweep only the former (`sweep_partial_files`). Finished files get
the mode any output gets under the umask (0644 typically), not mkstemp's 0600; secrets pass
`mode=0o600`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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


PART_SUFFIX = ".part"
_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask, read without changing it (os.umask can only be read by setting it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:  # no /proc: set and restore, serialised against our own threads
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def output_mode() -> int:
    """The mode of a produced file: what open() would give a new file under the current umask."""
    return 0o666 & ~current_umask()


@contextlib.contextmanager
def exclusive_lock(lock: Path) -> Iterator[None]:
    """Hold an exclusive flock on `lock` (created with its folder) for the block: one process at a time."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def atomic_path(target: Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` only on success.

    The finished file gets `mode` (default: the umask's output mode; pass 0o600 for secrets).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.{os.getpid()}.", suffix=target.suffix + PART_SUFFIX, dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, output_mode() if mode is None else mode)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(target: Path, data: bytes, *, mode: int | None = None) -> Path:
    with atomic_path(target, mode=mode) as tmp:
        tmp.write_bytes(data)
    return target


def write_text(target: Path, text: str, *, mode: int | None = None) -> Path:
    return write_bytes(target, text.encode("utf-8"), mode=mode)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


_PART_NAME = re.compile(r"^\.(?:.+)\.(\d{1,9})\.[a-z0-9_]{8}[^.]*(?:\.[^.]+)*\.part$")
_WORK_NAME = re.compile(r"^\.(?:render|aac)-(\d{1,9})-")


def _writer_pid(name: str) -> int | None:
    """The pid in a temporary file's name (`.x.mp4.<pid>.<random>.mp4.part`) or a final-cut work
    folder's (`.render-<pid>-<random>`); None when it carries none (an older writer's)."""
    match = _PART_NAME.match(name) or _WORK_NAME.match(name)
    return int(match.group(1)) if match else None


WORK_PREFIXES = (".render-", ".aac-")  # work folders of the final cut (picture/render.py, audio_encode.py)


def sweep_partial_files(
    root: Path, *, min_age_seconds: float = 3600.0, idle: Callable[[Path], bool] | None = None
) -> list[Path]:
    """Delete half-written files and work folders under `root` whose writer is gone.

    A `.part` file or a final-cut work folder named with a pid that no longer runs is removed at
    once; one without a pid when `idle(path)` says nobody can be writing there (e.g. no run of its
    episode is in flight), else only when older than `min_age_seconds`. Returns what was removed.
    """
    removed: list[Path] = []
    root = Path(root)
    if not root.exists():
        return removed
    now = time.time()
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        candidates = [(base / n, False) for n in filenames if n.startswith(".") and n.endswith(PART_SUFFIX)]
        candidates += [(base / n, True) for n in dirnames if n.startswith(WORK_PREFIXES)]
        for path, is_dir in candidates:
            pid = _writer_pid(path.name)
            try:
                age = now - path.lstat().st_mtime
            except FileNotFoundError:
                continue
            if pid is not None and pid_alive(pid):
                continue
            if pid is None and age < min_age_seconds and not (idle is not None and idle(path)):
                continue
            if is_dir:
                shutil.rmtree(path, ignore_errors=True)
                dirnames.remove(path.name)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


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


_OVERRIDE_NAME = re.compile(r"^(\d{3})\.script\.json$")


@dataclass(frozen=True)
class TrackFiles:
    """The files of one dialogue track in its folder (an episode's `audio/`), named once here."""

    dir: Path

    @property
    def dialogue(self) -> Path:
        return self.dir / "dialogue.wav"

    @property
    def timing_table(self) -> Path:
        return self.dir / "timing.csv"

    @property
    def manifest(self) -> Path:
        """Written last: its presence means the track is complete."""
        return self.dir / "track.json"


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
        return TrackFiles(self.audio_dir(series_id, episode)).manifest

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

    def youtube_dir(self) -> Path:
        """The YouTube publisher's own state: upload sessions and records, the channel's ids."""
        return self.root / "youtube"

    def youtube_quota_path(self) -> Path:
        """Today's YouTube API units, shared by every run of the studio."""
        return self.youtube_dir() / "quota.json"

    def remove_episode(self, series_id: str, episode: int) -> None:
        shutil.rmtree(self.episode_dir(series_id, episode), ignore_errors=True)

    # handles: every file of one series / one episode, named once here
    def series(self, series_id: str) -> SeriesFiles:
        return SeriesFiles(self, series_id)

    def episode(self, series_id: str, episode: int) -> EpisodeFiles:
        return EpisodeFiles(self, series_id, episode)

    def script_overrides(self) -> list[EpisodeFiles]:
        """The episodes a producer has an edited script for (`series/<id>/overrides/<NNN>.script.json`)."""
        found: list[EpisodeFiles] = []
        series_root = self.root / "series"
        for series_dir in sorted(series_root.iterdir()) if series_root.is_dir() else []:
            overrides = series_dir / "overrides"
            for path in sorted(overrides.iterdir()) if overrides.is_dir() else []:
                handle = self.override_owner(path)
                if handle is not None and path.is_file():
                    found.append(handle)
        return found

    def override_owner(self, path: Path) -> EpisodeFiles | None:
        """The episode whose edited script `path` is, or None when it is not one (even if gone)."""
        match = _OVERRIDE_NAME.match(path.name)
        if not match or path.parent.name != "overrides" or path.parent.parent.parent != self.root / "series":
            return None
        return self.episode(path.parent.parent.name, int(match.group(1)))

    def episodes(self, having: str | None = None) -> list[EpisodeFiles]:
        """Every episode folder under the root, in (series, episode) order; with `having` (an
        `EpisodeFiles` attribute such as "publish"), only the episodes where that file exists."""
        found: list[EpisodeFiles] = []
        series_root = self.root / "series"
        for series_dir in sorted(series_root.iterdir()) if series_root.is_dir() else []:
            episodes_dir = series_dir / "episodes"
            for folder in sorted(episodes_dir.iterdir()) if episodes_dir.is_dir() else []:
                if not (folder.is_dir() and folder.name.isdigit()):
                    continue
                handle = self.episode(series_dir.name, int(folder.name))
                if having is None or getattr(handle, having).exists():
                    found.append(handle)
        return found


M = TypeVar("M", bound=BaseModel)


def load_model(path: Path, model: type[M]) -> M:
    """A stored JSON file as its pydantic model; a missing or malformed file names the path."""
    return model.model_validate(read_json(path))


@dataclass(frozen=True)
class SeriesFiles:
    """Every file of one series under the storage root."""

    storage: Storage
    series_id: str

    @property
    def dir(self) -> Path:
        return self.storage.series_dir(self.series_id)

    @property
    def bible(self) -> Path:
        return self.storage.bible_path(self.series_id)

    @property
    def roster(self) -> Path:
        return self.storage.roster_path(self.series_id)

    @property
    def avatars(self) -> Path:
        return self.storage.avatars_dir(self.series_id)

    @property
    def art(self) -> Path:
        """Generated portraits and backdrops, locked for the series (picture.image_art)."""
        return self.avatars / "art"

    @property
    def continuity_flags(self) -> Path:
        """Later episodes written from an older version of an episode's ending (story.overrides)."""
        return self.dir / "continuity_flags.json"

    @property
    def adjustments(self) -> Path:
        """The outline adjustments viewers' feedback asks of later episodes."""
        return self.dir / "feedback" / "adjustments.json"

    @property
    def overrides(self) -> Path:
        """Producers' edited scripts (`<NNN>.script.json`)."""
        return self.dir / "overrides"

    def episode(self, episode: int) -> EpisodeFiles:
        return EpisodeFiles(self.storage, self.series_id, episode)

    def load(self, path: Path, model: type[M]) -> M:
        return load_model(path, model)


@dataclass(frozen=True)
class EpisodeFiles:
    """Every file of one episode under the storage root, and a typed loader for them."""

    storage: Storage
    series_id: str
    number: int

    @property
    def series(self) -> SeriesFiles:
        return SeriesFiles(self.storage, self.series_id)

    @property
    def dir(self) -> Path:
        return self.storage.episode_dir(self.series_id, self.number)

    @property
    def script(self) -> Path:
        return self.storage.script_path(self.series_id, self.number)

    @property
    def quality(self) -> Path:
        """The quality gate's record of the script (passes, score, problems)."""
        return self.dir / "quality.json"

    @property
    def context(self) -> Path:
        """What the script was written from (previous episode's state, source)."""
        return self.dir / "context.json"

    @property
    def override(self) -> Path:
        return self.storage.script_override_path(self.series_id, self.number)

    @property
    def audio_dir(self) -> Path:
        return self.storage.audio_dir(self.series_id, self.number)

    @property
    def track(self) -> Path:
        return self.storage.audio_manifest_path(self.series_id, self.number)

    @property
    def timing_table(self) -> Path:
        return TrackFiles(self.audio_dir).timing_table

    @property
    def dialogue(self) -> Path:
        return TrackFiles(self.audio_dir).dialogue

    @property
    def clips(self) -> Path:
        return self.storage.clips_manifest_path(self.series_id, self.number)

    @property
    def final_dir(self) -> Path:
        return self.storage.final_dir(self.series_id, self.number)

    @property
    def video(self) -> Path:
        return self.storage.video_path(self.series_id, self.number)

    @property
    def cast_sheet(self) -> Path:
        """The contact sheet of the episode's speakers, beside the clip plan."""
        return self.clips.with_name("cast.png")

    @property
    def subtitles(self) -> Path:
        return self.video.with_suffix(".srt")

    @property
    def thumbnail(self) -> Path:
        return self.final_dir / "thumbnail.jpg"

    @property
    def final(self) -> Path:
        return self.storage.final_manifest_path(self.series_id, self.number)

    @property
    def publish(self) -> Path:
        return self.storage.publish_record_path(self.series_id, self.number)

    @property
    def publish_deferred(self) -> Path:
        """Present while the upload waits for YouTube quota (its `until` day)."""
        return self.dir / "publish-deferred.json"

    @property
    def feedback(self) -> Path:
        return self.dir / "feedback.json"

    @property
    def estimate(self) -> Path:
        """The episode's cost estimate, written when its run reserves the budget."""
        return self.dir / "estimate.json"

    def load(self, path: Path, model: type[M]) -> M:
        return load_model(path, model)
