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


def test_produced_files_follow_the_umask_and_secrets_stay_private(tmp_path: Path):
    import os
    import stat

    from aidas_dagster.core.storage import write_bytes

    old = os.umask(0o022)
    try:
        media = write_bytes(tmp_path / "final" / "ep.mp4", b"\x00" * 16)
        meta = write_json(tmp_path / "final" / "final.json", {"ok": True})
        with atomic_path(tmp_path / "final" / "thumb.jpg") as tmp:
            tmp.write_bytes(b"jpg")
        token = write_bytes(tmp_path / "token.json", b"{}", mode=0o600)
        os.umask(0o027)  # a studio that keeps files from "other" users
        group_only = write_bytes(tmp_path / "final" / "group.srt", b"1")
    finally:
        os.umask(old)
    for path in (media, meta, tmp_path / "final" / "thumb.jpg"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert stat.S_IMODE(group_only.stat().st_mode) == 0o640


def test_temporary_names_carry_the_pid_and_dead_writers_leftovers_are_swept(tmp_path: Path):
    import os
    import subprocess
    import sys
    import time

    from aidas_dagster.core.storage import sweep_partial_files

    folder = tmp_path / "episodes" / "001" / "final"
    with atomic_path(folder / "ep.mp4") as tmp:
        assert f".{os.getpid()}." in tmp.name
        live = tmp  # ours: a live writer's file in progress must survive a sweep
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead_pid = int(dead.stdout)  # that process has exited
        leftover = folder / f".ep.mp4.{dead_pid}.abcd1234.mp4.part"
        leftover.write_bytes(b"half")
        work = folder / f".render-{dead_pid}-zz9x_a1b"
        (work / "parts").mkdir(parents=True)
        (work / "mix.wav").write_bytes(b"RIFF")
        live_work = folder / f".render-{os.getpid()}-qq1x_a1b"
        live_work.mkdir()
        legacy_new = folder / ".old.json.abcdefgh.json.part"  # no pid, recent: may be a live old writer
        legacy_new.write_bytes(b"{")
        legacy_old = folder / ".older.json.abcdefgh.json.part"
        legacy_old.write_bytes(b"{")
        two_hours_ago = time.time() - 7200
        os.utime(legacy_old, (two_hours_ago, two_hours_ago))
        removed = set(sweep_partial_files(tmp_path))
        assert removed == {leftover, work, legacy_old}
        assert live.exists() and live_work.exists() and legacy_new.exists()
        tmp.write_bytes(b"done")
    assert (folder / "ep.mp4").read_bytes() == b"done"


def test_a_leftover_without_a_pid_goes_when_nobody_can_be_writing_there(tmp_path: Path):
    from aidas_dagster.core.storage import sweep_partial_files

    mine = tmp_path / "series" / "a" / "episodes" / "001" / "final" / ".render-h419nbkq"
    busy = tmp_path / "series" / "b" / "episodes" / "002" / "final" / ".render-zz01ab_c"
    for folder in (mine, busy):
        folder.mkdir(parents=True)
        (folder / "mix.wav").write_bytes(b"RIFF")
    removed = sweep_partial_files(tmp_path, idle=lambda path: "/a/" in str(path))
    assert removed == [mine] and busy.exists()
