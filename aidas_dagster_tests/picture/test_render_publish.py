"""A killed final cut leaves only its work folder, which the next run removes; an episode's MP4,
SRT and thumbnail appear together (the MP4 last); progress lines while the segments encode."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from aidas_dagster.picture import render as render_module
from aidas_dagster.picture.avatars import draw_roster_sprites
from aidas_dagster.picture.clips import plan_clips
from aidas_dagster_tests.picture.builders import FPS, LINES, TITLE, make_episode

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from pathlib import Path
from aidas_dagster_tests.picture.builders import LINES, make_episode, render
tmp, out = Path(sys.argv[1]), Path(sys.argv[2])
lines = list(LINES)
lines[1] = (1, "CHAR002", "CHAR001", "정말 반가워요. 그동안 잘 지냈어요?", 1.9)
script, roster, track = make_episode(tmp / "audio-killed", lines=lines)
sprites_dir = tmp / "avatars"
from aidas_dagster.picture.avatars import draw_roster_sprites
from aidas_dagster.picture.clips import plan_clips
from aidas_dagster.picture.render import render_final_cut
plan = plan_clips(script, roster, track, draw_roster_sprites(roster, sprites_dir), fps=30)
render_final_cut(plan, track, script, roster, "짧은 첫사랑", out / "ep.mp4", out / "ep.srt", out / "thumb.jpg", tmp / "segments")
"""


def test_a_killed_cut_is_cleaned_up_next_run_and_files_publish_together(episode, monkeypatch):
    tmp = episode[0]
    out = tmp / "final-killed"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp), str(out)], cwd=REPO, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    try:
        while not list(out.glob(".render-*")):
            assert child.poll() is None, f"the render ended before it could be killed: {child.stderr.read().decode()[-800:]}"
            assert time.monotonic() < deadline, "no work folder appeared"
            time.sleep(0.02)
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the render and its ffmpeg processes, as a killed step
        child.wait()
        child.stderr.close()
    (left,) = out.glob(".render-*")
    assert f"-{child.pid}-" in left.name
    assert not [p for p in out.iterdir() if not p.name.startswith(".")], "nothing is published by a killed cut"
    host = render_module._host()
    live = out / f".render-{host}-{os.getpid()}-busy"  # a running cut's folder (this process is alive)
    other = out / ".render-otherhost-1-busy"  # another machine's, on shared storage
    live.mkdir()
    other.mkdir()

    # The next run, of another edit: it cleans up, and publishes the three files together.
    lines = list(LINES)
    lines[3] = (2, "CHAR001", "CHAR002", "그럼 우리 둘이서만 이야기해요.", 1.8)
    script, roster, track = make_episode(tmp / "audio-next", lines=lines)
    plan = plan_clips(script, roster, track, draw_roster_sprites(roster, tmp / "avatars"), fps=FPS)
    video, srt, thumb = out / "ep.mp4", out / "ep.srt", out / "thumb.jpg"
    encode, moves, progress = render_module._encode_segments, [], []

    def encode_checked(*args, **kwargs):
        assert not (srt.exists() or thumb.exists() or video.exists()), "nothing appears before the cut is whole"
        return encode(*args, **kwargs)

    real_replace = os.replace

    def replace(src, dst):
        moves.append(Path(dst).name)
        return real_replace(src, dst)

    monkeypatch.setattr(render_module, "_encode_segments", encode_checked)
    monkeypatch.setattr(render_module.os, "replace", replace)
    cut = render_module.render_final_cut(plan, track, script, roster, TITLE, video, srt, thumb, tmp / "segments", progress=progress.append)
    assert cut.segments_encoded >= 1
    assert not left.exists(), "the killed cut's work folder is removed"
    assert live.is_dir() and other.is_dir(), "a live cut's folder and another host's are left alone"
    assert [m for m in moves if m in ("ep.mp4", "ep.srt", "thumb.jpg")] == ["ep.srt", "thumb.jpg", "ep.mp4"]
    assert video.is_file() and srt.is_file() and thumb.is_file()
    assert {p.name for p in out.glob(".render-*")} == {live.name, other.name}
    assert progress, "progress lines while encoding"
    pattern = re.compile(r"render progress: (\d+)/(\d+) segments \((\d+) %\), \d+\.\d seg/s, ETA \d+ s")
    assert all(pattern.fullmatch(line) for line in progress), progress
    done, total, pct = map(int, pattern.fullmatch(progress[-1]).groups())
    assert done == total == len(cut.segments) and pct == 100
