"""Atomic writes: a failure while writing leaves the previous file intact and no debris."""

from __future__ import annotations

from pathlib import Path

import pytest

from aidas_dagster.core.storage import atomic_path, write_json


def test_failed_write_keeps_previous_content(tmp_path: Path):
    target = tmp_path / "episode" / "script.json"
    write_json(target, {"version": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('{"version": 2, "trunc', encoding="utf-8")
            raise RuntimeError("crash mid-write")
    assert target.read_text(encoding="utf-8").strip() == '{\n  "version": 1\n}'
    assert [p.name for p in target.parent.iterdir()] == ["script.json"]


def test_write_json_keeps_korean_readable(tmp_path: Path):
    target = write_json(tmp_path / "a.json", {"title": "첫사랑"})
    assert "첫사랑" in target.read_text(encoding="utf-8")
