"""One real short episode, then what operations see of it: the production report, and no secret anywhere.

The episode is produced once for the module with secrets planted in the environment the way a
production host has them (HeyGen key pointed at a local fake that has no credit, Slack webhook,
SMTP and Postgres passwords). Afterwards the whole instance (its SQLite files and every run's
event log) and every produced file are searched for them.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test
from PIL import Image
from pytest_httpserver import HTTPServer

from aidas_dagster.core.ledger import LedgerEntry
from aidas_dagster.definitions import build_definitions
from aidas_dagster.operations.assets import production_report
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.resources import StudioResource
from aidas_dagster_tests.builders import SHORT_SERIES

SECRETS = {
    "HEYGEN_API_KEY": "hgk_planted_7c1e5a9b3d2f4e6a8b0c",
    "AIDAS_SLACK_WEBHOOK_URL": None,  # set to the local fake with a token-bearing path below
    "AIDAS_ALERT_EMAIL_PASSWORD": "smtp-planted-Pw-93jd71",
    "DAGSTER_PG_PASSWORD": "pg-planted-Pw-55kq20",
}
WEBHOOK_TOKEN = "whk_planted_Ts81GxQ2mV6pL0"


@pytest.fixture(scope="module")
def produced(tmp_path_factory):
    root = tmp_path_factory.mktemp("produced")
    series_dir = root / "series"
    series_dir.mkdir()
    (series_dir / "short-love.yaml").write_text(SHORT_SERIES, encoding="utf-8")
    fake = HTTPServer(host="127.0.0.1", port=0)
    # A HeyGen account with no credit left: every call is refused, lines render locally.
    fake.expect_request(re.compile(".*")).respond_with_json(
        {"error": {"code": "insufficient_credit", "message": "no credit"}}, status=402
    )
    fake.start()
    (root / "home").mkdir()
    secrets = dict(SECRETS, AIDAS_SLACK_WEBHOOK_URL=fake.url_for(f"/services/T0/B0/{WEBHOOK_TOKEN}"))
    with pytest.MonkeyPatch.context() as env, dg.instance_for_test(temp_dir=str(root / "home")) as instance:
        for name, value in secrets.items():
            env.setenv(name, value)
        env.setenv("HEYGEN_BASE_URL", fake.url_for("/"))
        env.setenv("AIDAS_STORAGE_ROOT", str(root / "storage"))
        env.setenv("AIDAS_SERIES_DIR", str(series_dir))
        studio = StudioResource(storage_root=str(root / "storage"), series_dir=str(series_dir))
        defs = build_definitions(studio=studio)  # every other resource from the environment, as deployed
        register(instance, series_dir)
        assert defs.resolve_job_def("preproduction").execute_in_process(partition_key="short-love", instance=instance).success
        job = defs.resolve_job_def("produce_episode")
        assert job.execute_in_process(partition_key=EpisodePartition("short-love", 1).key, instance=instance).success
        instance.add_dynamic_partitions("episode", ["004"])
        beyond = job.execute_in_process(
            partition_key=EpisodePartition("short-love", 4).key, instance=instance, raise_on_error=False
        )
        assert not beyond.success
        yield instance, studio, secrets, root
    fake.stop()


def test_production_report_shows_today_in_tables_and_a_chart(produced):
    instance, studio, _secrets, _root = produced
    studio.ledger.record(LedgerEntry("openai", "chat", units=1800, unit="tokens", cost_usd=0.75, series_id="short-love", episode=1))
    studio.ledger.record(LedgerEntry("openai", "chat", units=1800, unit="tokens", cost_usd=0.0, cache_hit=True))
    create_run_for_test(
        instance,
        job_name="produce_episode",
        status=dg.DagsterRunStatus.NOT_STARTED,
        tags={"dagster/partition": "002|short-love", "dagster/partition/series": "short-love", "dagster/partition/episode": "002"},
    )
    result = dg.materialize([production_report], instance=instance, resources={"studio": studio})
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["episodes_produced_today"].value == 1
    assert metadata["episodes_in_progress"].value == 1
    assert metadata["runs_failed_today"].value == 1
    assert metadata["cost_today_usd"].value >= 0.75
    markdown = metadata["report"].value
    # Average time of every stage the episode went through, in pipeline order.
    stage_rows = re.findall(r"^\| (\w+) \| (\d+) \| ([\d,.]+) \|", markdown.split("## Average processing time per stage")[1], re.M)
    stages = [row[0] for row in stage_rows]
    assert stages[:2] == ["series_bible", "character_roster"]
    assert stages[2:7] == ["episode_script", "audio_track", "avatar_clips", "final_cut", "youtube_video"]
    seconds = {row[0]: float(row[2].replace(",", "")) for row in stage_rows}
    assert seconds["final_cut"] > 0.5 and seconds["audio_track"] > 0  # rendering and speech take real time
    assert re.search(r"^\| openai \| 2 \| 1 \| 3,600.00 \| 0.75 \|", markdown, re.M)
    assert re.search(r"^\| short-love \| 4 \| produce_episode \|", markdown, re.M)  # the failed run
    # The chart: a real PNG, embedded in the UI metadata and written beside the report file.
    embedded = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown).group(1))
    chart = Image.open(io.BytesIO(embedded))
    assert chart.format == "PNG" and chart.width == 640 and chart.height >= 40 + 26 * 7
    day = dt.datetime.now(dt.timezone.utc).date().isoformat()
    report_file = Path(metadata["path"].value)
    assert report_file == Path(studio.storage_root) / "reports" / f"{day}.md"
    assert "| episode_script |" in report_file.read_text(encoding="utf-8")
    assert (report_file.parent / f"{day}-stages.png").read_bytes() == embedded


def test_planted_secrets_are_nowhere_in_the_event_log_or_the_files(produced):
    instance, studio, secrets, root = produced
    needles = [value for value in secrets.values()] + [WEBHOOK_TOKEN]
    runs = instance.get_runs()
    assert len(runs) >= 3
    for run in runs:
        text = "\n".join(event.to_json() for event in instance.all_logs(run.run_id))
        text += repr(run.run_config) + repr(run.tags)
        for needle in needles:
            assert needle not in text, f"a planted secret is in the event log of run {run.run_id}"
    # Every byte under the storage root and the instance (SQLite databases, compute logs, reports).
    files = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".mp4" for p in files) and any(p.suffix == ".db" for p in files)
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, f"a planted secret is in {path}"
