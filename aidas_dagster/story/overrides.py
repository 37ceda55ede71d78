"""Producers' edits: an edited script file that replaces the written one, and continuity flags.

A producer copies an episode's `script.json` to `series/<id>/overrides/<NNN>.script.json` under the
storage root (`aidas edit-script` does it) and edits it. The edit is validated before anything is
written; later episodes that were written from the old ending are flagged for review, never
rewritten behind the producer's back.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from aidas_dagster.core.storage import Storage, read_json, write_json
from aidas_dagster.story.models import EpisodeScript, Roster


class OverrideError(ValueError):
    """An edited script that cannot be used; the message names the file and the field."""


def load_override(path: Path, roster: Roster, series_id: str, episode: int) -> EpisodeScript:
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise OverrideError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise OverrideError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc
    try:
        script = EpisodeScript.model_validate(raw)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors()[:8])
        raise OverrideError(f"{path}: {fields}") from exc
    problems = []
    if script.series_id != series_id:
        problems.append(f"series_id is {script.series_id!r}, expected {series_id!r}")
    if script.episode_number != episode:
        problems.append(f"episode_number is {script.episode_number}, expected {episode}")
    known = roster.by_id()
    for scene in script.scenes:
        for n, line in enumerate(scene.lines, 1):
            if line.speaker not in known:
                problems.append(f"scenes[{scene.number}].lines[{n}].speaker: {line.speaker!r} is not in the cast")
    if problems:
        raise OverrideError(f"{path}: " + "; ".join(problems[:8]))
    return script.model_copy(update={"writer": "override"})


def read_flags(storage: Storage, series_id: str) -> dict[str, str]:
    path = storage.series(series_id).continuity_flags
    return read_json(path) if path.exists() else {}


def flag_followers(storage: Storage, series_id: str, episode: int, state_after_fp: str) -> list[int]:
    """Flag the later episodes built on an older ending of `episode`; clear this episode's own flag.

    Returns the episodes flagged now. Only the next episode reads this one's state directly, but
    every later episode continues from it, so all written later episodes are flagged together.
    """
    flags = read_flags(storage, series_id)
    changed = flags.pop(str(episode), None) is not None
    follower = storage.episode(series_id, episode + 1).context
    flagged: list[int] = []
    if follower.exists() and read_json(follower).get("previous_state") != state_after_fp:
        later = episode + 1
        while storage.script_path(series_id, later).exists():
            flagged.append(later)
            flags[str(later)] = f"written before episode {episode}'s script changed"
            later += 1
        changed = True
    if changed:
        write_json(storage.series(series_id).continuity_flags, dict(sorted(flags.items(), key=lambda kv: int(kv[0]))))
    return flagged
