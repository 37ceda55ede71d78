"""Progress of long work in the terminal of `aidas produce`/`demo`.

Long stages log progress lines through Python logging (the final cut:
`render progress: 12/104 segments (12 %), 1.3 seg/s, ETA 70 s`). dagster.yaml's
`managed_python_loggers` puts every `aidas_dagster.*` logger into the run's Dagster log, so the UI's
run view shows them. In a terminal this handler draws them as a progress bar (tqdm); when the
output is not a terminal (a pipe, a log file, cron) it prints one plain line per update.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import TextIO

from tqdm import tqdm

PROGRESS = re.compile(
    r"(?P<what>[\w ]+?) progress: (?P<done>\d+)/(?P<total>\d+)(?: (?P<unit>[\w-]+))?"
    r"(?: \((?P<pct>[\d.]+) ?%\))?(?:, (?P<rate>[\d.]+) ?(?P<rate_unit>[\w-]+/s))?(?:, ETA (?P<eta>[\d.]+) ?s)?"
)


class ProgressDisplay(logging.Handler):
    """Turns progress log lines into a bar (TTY) or plain lines (not a TTY)."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None):
        super().__init__(level=logging.INFO)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.bars: dict[str, object] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            match = PROGRESS.search(record.getMessage())
            if not match:
                return
            what, done, total = match["what"].strip(), int(match["done"]), int(match["total"])
            if self.tty:
                self._bar(what, done, total, match)
            else:
                self.stream.write(f"[aidas] {match.group(0)}\n")
                self.stream.flush()
        except Exception:  # noqa: BLE001 - a display problem must never fail the work
            self.handleError(record)

    def _bar(self, what: str, done: int, total: int, match: re.Match) -> None:
        bar = self.bars.get(what)
        if bar is None or bar.total != total:  # type: ignore[attr-defined]
            if bar is not None:
                bar.close()  # type: ignore[attr-defined]
            try:
                width = os.get_terminal_size(self.stream.fileno()).columns
            except (OSError, ValueError, AttributeError):
                width = 0
            # A terminal that reports no width (some CI ptys) still gets an 80-column bar.
            bar = tqdm(total=total, desc=what, unit=f" {match['unit'] or 'it'}", file=self.stream,
                       dynamic_ncols=bool(width), ncols=None if width else 80, leave=True)  # fmt: skip
            self.bars[what] = bar
        bar.n = done  # type: ignore[attr-defined]
        if match["eta"]:
            bar.set_postfix_str(f"ETA {float(match['eta']):.0f} s", refresh=False)  # type: ignore[attr-defined]
        bar.refresh()  # type: ignore[attr-defined]
        if done >= total:
            bar.close()  # type: ignore[attr-defined]
            del self.bars[what]

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()  # type: ignore[attr-defined]
        self.bars.clear()
        super().close()


def show_progress(stream: TextIO | None = None, *, tty: bool | None = None) -> ProgressDisplay:
    """Attach a ProgressDisplay to the project's loggers (idempotent); returns it."""
    logger = logging.getLogger("aidas_dagster")
    for handler in logger.handlers:
        if isinstance(handler, ProgressDisplay):
            return handler
    handler = ProgressDisplay(stream, tty=tty)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler
