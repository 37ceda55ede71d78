"""Progress of long work: in the run's Dagster log (the UI), as a bar in a terminal, as plain lines in a pipe."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from aidas_dagster.core.storage import PROJECT_ROOT

LINES = [
    "render progress: 2/8 segments (25 %), 1.5 seg/s, ETA 4 s",
    "render progress: 4/8 segments (50 %), 1.6 seg/s, ETA 2 s",
    "render progress: 8/8 segments (100 %), 1.6 seg/s, ETA 0 s",
]
EMIT = (
    "import logging, time\n"
    "from aidas_dagster.operations.terminal import show_progress\n"
    "show_progress()\n"
    "log = logging.getLogger('aidas_dagster.picture.render')\n"
    f"for line in {LINES!r}:\n"
    "    log.info(line); time.sleep(0.05)\n"
    "log.info('an ordinary line')\n"
)


def test_render_progress_reaches_the_runs_dagster_log(tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")  # managed_python_loggers: aidas_dagster
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    import logging

    @dg.op
    def encode() -> None:
        for line in LINES:  # as picture/render.py logs them, through plain Python logging
            logging.getLogger("aidas_dagster.picture.render").info(line)

    @dg.job
    def cut() -> None:
        encode()

    with dg.DagsterInstance.get() as instance:
        result = cut.execute_in_process(instance=instance)
        messages = [e.user_message for e in instance.all_logs(result.run_id)]
    for line in LINES:
        assert any(line in m for m in messages), f"{line!r} not in the run's event log"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


def test_a_terminal_gets_a_progress_bar(tmp_path: Path):
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout/stderr are the pseudo-terminal, 100 columns wide
        import fcntl
        import struct
        import termios

        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        os.execve(sys.executable, [sys.executable, "-c", EMIT], _env())
    out = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    os.waitpid(pid, 0)
    text = out.decode("utf-8", "replace")
    assert "render: 100%" in text and "8/8" in text and "ETA 0 s" in text  # tqdm's bar, redrawn in place
    assert "\r" in text
    assert "[aidas] render progress" not in text  # no plain lines when a bar is drawn


def test_a_pipe_gets_plain_lines(tmp_path: Path):
    out = subprocess.run([sys.executable, "-c", EMIT], env=_env(), capture_output=True, text=True, timeout=60)
    lines = [l for l in out.stderr.splitlines() if l.startswith("[aidas]")]
    assert lines == [f"[aidas] {line}" for line in LINES]
    assert "\r" not in out.stderr
