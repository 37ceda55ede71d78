"""Alerts reach Slack and email, say what failed, never carry a secret, and are not repeated."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from aidas_dagster.core.ledger import LedgerEntry
from aidas_dagster.operations.alerts import (
    Alert,
    AlertChannels,
    HealthSnapshot,
    HealthThresholds,
    deliver,
    evaluate_health,
    scrub,
)
from aidas_dagster.operations.sensors import run_failure_alerts, studio_health
from aidas_dagster_tests.infra.smtp_sink import SmtpSink

FAKE_OPENAI_KEY = "sk-test-Zq81bWc02LkPx9sTuVv3yY4"
FAKE_HEYGEN_KEY = "hg_live_5f0c2e7d9a1b4c3e8f6d0a2b"
WEBHOOK_PATH = "/services/T0AIDAS/B0ALERTS/xoxWebhookSecret123"


@pytest.fixture
def channels_env(monkeypatch, httpserver):
    """Slack webhook and SMTP sink on loopback, plus secrets in the environment that must never leak."""
    with SmtpSink() as sink:
        monkeypatch.setenv("AIDAS_SLACK_WEBHOOK_URL", httpserver.url_for(WEBHOOK_PATH))
        monkeypatch.setenv("AIDAS_ALERT_EMAIL_TO", "ops@example.test, producer@example.test")
        monkeypatch.setenv("AIDAS_ALERT_EMAIL_HOST", "127.0.0.1")
        monkeypatch.setenv("AIDAS_ALERT_EMAIL_PORT", str(sink.port))
        monkeypatch.setenv("OPENAI_API_KEY_FOR_TEST", FAKE_OPENAI_KEY)
        monkeypatch.setenv("HEYGEN_API_KEY", FAKE_HEYGEN_KEY)
        httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_data("ok")
        yield sink


def _slack_texts(httpserver) -> list[str]:
    return [json.loads(request.get_data())["text"] for request, _response in httpserver.log]


@dg.op
def call_the_avatar_service():
    # A provider that echoes the credentials back in its error, as some do.
    raise RuntimeError(
        f"HeyGen 401 for x-api-key={FAKE_HEYGEN_KEY}; retried with Authorization: Bearer {FAKE_OPENAI_KEY}"
    )


@dg.job
def leaky_avatar_job():
    call_the_avatar_service()


def test_failed_run_alerts_slack_and_email_without_the_secrets(instance, channels_env, httpserver):
    result = leaky_avatar_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alerts", dagster_event=failure, dagster_instance=instance, dagster_run=result.dagster_run
    ).for_run_failure()
    run_failure_alerts(context)

    [slack] = _slack_texts(httpserver)
    [mail] = channels_env.messages
    body = mail.get_payload()
    for text in (slack, body, mail["Subject"]):
        assert FAKE_HEYGEN_KEY not in text and FAKE_OPENAI_KEY not in text
        assert "xoxWebhookSecret123" not in text
    assert slack.startswith("[AIDAS critical] leaky_avatar_job failed")
    assert "call_the_avatar_service" in slack and "HeyGen 401" in slack and result.run_id in slack
    assert mail["Subject"] == "[AIDAS critical] leaky_avatar_job failed"
    assert mail["To"] == "ops@example.test, producer@example.test"
    assert "HeyGen 401" in body and "[redacted]" in body


def test_channel_failures_are_reported_without_the_webhook_token(httpserver):
    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_data("no", status=500)
    alert = Alert("disk", "critical", "disk 95% full")
    broken = AlertChannels(slack_webhook_url=httpserver.url_for(WEBHOOK_PATH), email_to=("ops@example.test",), email_host="127.0.0.1", email_port=1)
    outcome = deliver(alert, broken)
    assert outcome["slack"] == "Slack webhook answered HTTP 500"
    assert outcome["email"].startswith("email via 127.0.0.1:1 failed")
    unreachable = AlertChannels(slack_webhook_url=f"http://127.0.0.1:1{WEBHOOK_PATH}")
    outcome = deliver(alert, unreachable)
    assert "unreachable" in outcome["slack"] and "xoxWebhookSecret123" not in outcome["slack"]


def test_scrub_removes_keys_tokens_and_passwords_but_keeps_the_story():
    env = {"ELEVENLABS_API_KEY": "el-0123456789abcdef", "AIDAS_ALERT_EMAIL_PASSWORD": "correct horse battery", "HOME": "/root"}
    text = (
        "voice failed: el-0123456789abcdef rejected; smtp login 'correct horse battery'; "
        "token=ya29.a0AfH6SMBx; refresh 1//0gAbCdEfGhIjKlMnOpQrStUv; key AIzaSyA1234567890abcdefghijklmnopqrstu; "
        "db postgresql://aidas:pg-pass-99@db:5432/dagster; run 3f2a1b4c-1234-5678-9abc-def012345678 in /root"
    )
    clean = scrub(text, env)
    for secret in ("el-0123456789abcdef", "correct horse battery", "ya29.a0AfH6SMBx", "1//0gAbCdEf", "AIzaSyA123", "pg-pass-99"):
        assert secret not in clean
    # What an operator needs stays readable: the run id, paths, the host.
    assert "3f2a1b4c-1234-5678-9abc-def012345678" in clean and "/root" in clean and "@db:5432/dagster" in clean


def test_health_rules_follow_the_spec_thresholds():
    rules = HealthThresholds()
    snapshot = HealthSnapshot(
        finished_runs=20,
        failed_runs=3,  # 15 %: critical
        quota_used={"heygen budget (USD)": (27.5, 30.0), "youtube quota (units)": (8200, 10000)},
        disk_used_fraction=0.93,
        slow_runs=[("r1", "produce_episode 001|a", 42.0), ("r2", "produce_episode 002|a", 12.0)],
        cost_today_usd=81.0,
        daily_budget_usd=100.0,
    )
    found = {(a.key, a.level) for a in evaluate_health(snapshot, rules)}
    assert found == {
        ("error_rate:critical", "critical"),
        ("quota:heygen budget (USD)", "critical"),  # 8 % left
        ("disk", "critical"),
        ("slow:r1", "warning"),
        ("cost_today", "warning"),
    }
    calmer = HealthSnapshot(finished_runs=20, failed_runs=2, cost_today_usd=10.0, daily_budget_usd=100.0)
    assert [(a.key, a.level) for a in evaluate_health(calmer, rules)] == [("error_rate:warning", "warning")]  # 10 %
    # Two failures out of two runs is not yet a rate worth waking anyone for.
    assert evaluate_health(HealthSnapshot(finished_runs=2, failed_runs=2), rules) == []
    assert HealthThresholds.from_env({"AIDAS_ALERT_ERROR_RATE_CRITICAL": "0.5"}).error_rate_critical == 0.5
    with pytest.raises(ValueError, match="AIDAS_ALERT_DISK_USAGE_CRITICAL='lots'"):
        HealthThresholds.from_env({"AIDAS_ALERT_DISK_USAGE_CRITICAL": "lots"})


def test_health_sensor_alerts_each_condition_once(instance, studio, channels_env, httpserver, monkeypatch):
    for status in [dg.DagsterRunStatus.FAILURE] * 2 + [dg.DagsterRunStatus.SUCCESS] * 3:
        create_run_for_test(instance, job_name="produce_episode", status=status)
    studio.ledger.record(LedgerEntry("heygen", "avatar video", units=60, unit="seconds", cost_usd=28.0))
    studio.ledger.record(LedgerEntry("openai", "chat", units=1, unit="requests", cost_usd=55.0))

    def tick(cursor):
        with dg.build_sensor_context(instance=instance, resources={"studio": studio}, cursor=cursor) as context:
            return studio_health(context)

    first = tick(None)
    sent = _slack_texts(httpserver)
    titles = sorted(text.splitlines()[0] for text in sent)
    assert titles == [
        "[AIDAS critical] error rate 40% in the last 24 h",
        "[AIDAS critical] heygen budget (USD) quota nearly used up: 7% left today",
        "[AIDAS critical] openai budget (USD) quota nearly used up: 0% left today",
        "[AIDAS warning] cost today $83.00 is over 80% of the daily budget",
    ]
    assert len(channels_env.messages) == 4

    second = tick(first.cursor)  # nothing new: nothing said
    assert len(_slack_texts(httpserver)) == 4
    assert second.cursor == first.cursor

    monkeypatch.setenv("AIDAS_ALERT_DISK_USAGE_CRITICAL", "0")  # any disk use is now too much
    tick(second.cursor)
    new = _slack_texts(httpserver)[4:]
    assert len(new) == 1 and new[0].startswith("[AIDAS critical] disk ")
