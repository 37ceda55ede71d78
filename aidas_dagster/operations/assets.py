"""Operations asset: the production report."""


import datetime as dt

import dagster as dg

from aidas_dagster.core.storage import write_bytes, write_text
from aidas_dagster.operations.alerts import scrub
from aidas_dagster.operations.progress import materialised_since, run_rows, step_rows
from aidas_dagster.operations.report import build_report, entries_of_utc_day
from aidas_dagster.resources import StudioResource


@dg.asset(
    group_name="ops",
    kinds={"pandas", "markdown"},
    description=(
        "Today's production (UTC): episodes produced, in progress and failed, average time per stage, "
        "API usage and cost by service; written to storage/reports/."
    ),
)
def production_report(context: dg.AssetExecutionContext, studio: StudioResource) -> dg.MaterializeResult:
    now = dt.datetime.now(dt.timezone.utc)
    day_start = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.timezone.utc)
    runs = run_rows(context.instance, day_start)
    report = build_report(
        day=now.date().isoformat(),
        produced_keys=materialised_since(context.instance, "youtube_video", day_start),
        runs=runs,
        steps=step_rows(context.instance, [row["run_id"] for row in runs if row["job"] != context.job_name]),
        ledger_entries=entries_of_utc_day(studio.ledger, day_start),
    )
    folder = studio.storage.root / "reports"
    chart_path = write_bytes(folder / f"{report.day}-stages.png", report.chart_png)
    # Scrub the text (a failure table may quote an error), then put the chart in: base64 looks like a token.
    chart_slot = "@@chart@@"
    text = scrub(report.markdown(chart=chart_slot))
    report_path = write_text(folder / f"{report.day}.md", text.replace(chart_slot, f"![average seconds per stage]({chart_path.name})"))
    context.log.info(f"report for {report.day}: {len(report.produced)} produced, {len(report.failed)} failed, ${report.total_cost_usd:.2f}")
    return dg.MaterializeResult(
        metadata={
            "episodes_produced_today": len(report.produced),
            "episodes_in_progress": len(report.in_progress),
            "runs_failed_today": len(report.failed),
            "cost_today_usd": dg.MetadataValue.float(report.total_cost_usd),
            "report": dg.MetadataValue.md(text.replace(chart_slot, report.chart_markdown())),
            "path": dg.MetadataValue.path(str(report_path)),
        }
    )
