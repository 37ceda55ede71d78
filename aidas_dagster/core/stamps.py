"""Input stamps: skip work whose inputs have not changed since it was last done.

After an output is written, a stamp beside it records the fingerprint of the inputs that made it.
A stage whose stamp matches and whose outputs all exist reuses them instead of paying again. The
stamp is written last, so a crash between output and stamp only costs a redo, never a stale reuse.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from aidas_dagster.core.storage import write_text


def stamp_path(output: Path) -> Path:
    return output.with_name(output.name + ".inputs")


def is_fresh(output: Path, inputs_fingerprint: str, *also_required: Path) -> bool:
    stamp = stamp_path(output)
    if not (output.exists() and stamp.exists() and all(p.exists() for p in also_required)):
        return False
    return stamp.read_text(encoding="utf-8").strip() == inputs_fingerprint


def mark_fresh(output: Path, inputs_fingerprint: str) -> None:
    write_text(stamp_path(output), inputs_fingerprint + "\n")


T = TypeVar("T")


def reuse_or_make(
    output: Path,
    inputs_fingerprint: str,
    *,
    load: Callable[[], T],
    make: Callable[[], T],
    write: Callable[[T], object] | None = None,
    also_required: tuple[Path, ...] = (),
) -> tuple[T, bool]:
    """The output as `load` reads it when its stamp matches and its files exist, else `make`s it,
    `write`s it and stamps it last (a crash before the stamp costs a redo, never a stale reuse).

    Returns (value, reused).
    """
    if is_fresh(output, inputs_fingerprint, *also_required):
        return load(), True
    value = make()
    if write is not None:
        write(value)
    mark_fresh(output, inputs_fingerprint)
    return value, False
