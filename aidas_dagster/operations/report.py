"""The production report (spec 9.1 application metrics): what was made today, what is running, what
failed, how long each stage takes, and what the providers cost — as tables and a small chart.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from aidas_dagster.core.lazy import lazy_import
from aidas_dagster.core.ledger import CostLedger, LedgerEntry, studio_day, totals_by_provider

pd = lazy_import("pandas")  # loaded when a report is built, not by every process that loads the code (core/lazy.py)

STAGE_ORDER = ["series_bible", "character_roster", "episode_script", "audio_track", "avatar_clips", "final_cut", "youtube_video"]
IN_PROGRESS = {"QUEUED", "NOT_STARTED", "STARTING", "STARTED"}


def entries_of_utc_day(ledger: CostLedger, day_start: dt.datetime) -> list[LedgerEntry]:
    """The ledger's entries of a UTC day: the ledger keeps studio days, so the (one or two) studio
    days the UTC day overlaps are read and their entries kept by their UTC time."""
    day_end = day_start + dt.timedelta(days=1, microseconds=-1)

    def at(entry: LedgerEntry) -> dt.datetime:
        moment = dt.datetime.fromisoformat(entry.at)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)  # the ledger writes UTC

    days = sorted({studio_day(day_start), studio_day(day_end)})
    return [entry for day in days for entry in ledger.entries(day) if day_start <= at(entry) <= day_end]


@dataclass
class ProductionReport:
    day: str
    produced: pd.DataFrame  # series, episode
    in_progress: pd.DataFrame  # series, episode, status, run_id
    failed: pd.DataFrame  # series, episode, job, run_id
    stage_times: pd.DataFrame  # stage, steps, avg_seconds, max_seconds
    costs: pd.DataFrame  # provider, calls, cache_hits, units, cost_usd
    chart_png: bytes

    @property
    def total_cost_usd(self) -> float:
        return float(self.costs["cost_usd"].sum()) if len(self.costs) else 0.0

    def chart_markdown(self) -> str:
        return f"![average seconds per stage](data:image/png;base64,{base64.b64encode(self.chart_png).decode()})"

    def markdown(self, chart: str | None = None) -> str:
        """The report; `chart` is the markdown image line placed under the stage table."""
        parts = [
            f"# Production report {self.day} (UTC)",
            "",
            f"- episodes produced today: **{len(self.produced)}**",
            f"- in progress: **{len(self.in_progress)}**",
            f"- failed runs today: **{len(self.failed)}**",
            f"- cost today: **${self.total_cost_usd:.2f}**",
            "",
            "## Produced today",
            markdown_table(self.produced),
            "## In progress",
            markdown_table(self.in_progress),
            "## Failed",
            markdown_table(self.failed),
            "## Average processing time per stage",
            markdown_table(self.stage_times),
        ]
        if chart:
            parts.append(chart)
        parts += ["## API usage and cost by service", markdown_table(self.costs)]
        return "\n".join(parts) + "\n"


def markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_none_\n"

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"


def _stage_rank(stage: str) -> tuple[int, str]:
    return (STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER), stage)


def build_report(
    day: str,
    produced_keys: Iterable[str],
    runs: list[dict],
    steps: list[dict],
    ledger_entries: Iterable[LedgerEntry],
) -> ProductionReport:
    """Assemble the report from plain rows (see `ops.progress.run_rows` / `step_rows`)."""
    produced = pd.DataFrame(
        [{"series": key.split("|")[1], "episode": int(key.split("|")[0])} for key in produced_keys if key.count("|") == 1],
        columns=["series", "episode"],
    ).sort_values(["series", "episode"], ignore_index=True)

    run_frame = pd.DataFrame(runs, columns=["run_id", "job", "series", "episode", "status", "start", "end"])
    run_frame["episode"] = run_frame["episode"].astype("Int64")  # runs of no episode have none
    episode_runs = run_frame[run_frame["series"] != ""]
    in_progress = episode_runs[episode_runs["status"].isin(IN_PROGRESS)][["series", "episode", "status", "run_id"]]
    failed = episode_runs[episode_runs["status"] == "FAILURE"][["series", "episode", "job", "run_id"]]

    step_frame = pd.DataFrame(steps, columns=["run_id", "stage", "status", "seconds"])
    done_steps = step_frame[step_frame["status"] == "SUCCESS"]
    if done_steps.empty:
        stage_times = pd.DataFrame(columns=["stage", "steps", "avg_seconds", "max_seconds"])
    else:
        stage_times = (
            done_steps.groupby("stage")["seconds"]
            .agg(steps="count", avg_seconds="mean", max_seconds="max")
            .reset_index()
        )
        stage_times["steps"] = stage_times["steps"].astype(int)
        stage_times = stage_times.sort_values("stage", key=lambda s: s.map(_stage_rank), ignore_index=True)

    totals = totals_by_provider(ledger_entries)
    costs = pd.DataFrame(
        [{"provider": name, **{k: v for k, v in row.items()}} for name, row in sorted(totals.items())],
        columns=["provider", "calls", "cache_hits", "units", "cost_usd"],
    )
    for column in ("calls", "cache_hits"):
        costs[column] = costs[column].astype(int)
    return ProductionReport(
        day=day,
        produced=produced,
        in_progress=in_progress.sort_values(["series", "episode"], ignore_index=True),
        failed=failed.sort_values(["series", "episode"], ignore_index=True),
        stage_times=stage_times,
        costs=costs,
        chart_png=stage_chart(stage_times),
    )


def stage_chart(stage_times: pd.DataFrame, width: int = 640, bar_height: int = 26) -> bytes:
    """A horizontal bar chart (PNG) of the average seconds per stage."""
    font = ImageFont.load_default()
    rows = list(zip(stage_times.get("stage", []), stage_times.get("avg_seconds", [])))
    height = 40 + bar_height * max(1, len(rows))
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 8), "average seconds per stage (today)", fill="black", font=font)
    if not rows:
        draw.text((10, 30), "no finished steps yet", fill="gray", font=font)
    label_width, right_margin = 130, 70
    longest = max((float(s) for _stage, s in rows), default=1.0) or 1.0
    for index, (stage, seconds) in enumerate(rows):
        top = 32 + index * bar_height
        draw.text((10, top + 6), str(stage), fill="black", font=font)
        length = int((width - label_width - right_margin) * float(seconds) / longest)
        draw.rectangle([label_width, top + 4, label_width + max(1, length), top + bar_height - 4], fill=(52, 101, 164))
        draw.text((label_width + length + 6, top + 6), f"{float(seconds):.1f} s", fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
