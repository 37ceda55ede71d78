"""Alerts: what is wrong (spec 9.2 critical/warning rules), said once, without secrets, to Slack and/or email.

Channels come from the environment only:
    AIDAS_SLACK_WEBHOOK_URL                      Slack incoming webhook
    AIDAS_ALERT_EMAIL_TO                         comma-separated recipients (email is off without it)
    AIDAS_ALERT_EMAIL_HOST / _PORT               SMTP server (default localhost:25)
    AIDAS_ALERT_EMAIL_FROM                       sender (default aidas@<host>)
    AIDAS_ALERT_EMAIL_USER / _PASSWORD           SMTP login, if the server wants one
    AIDAS_ALERT_EMAIL_STARTTLS                   1/0 (default 1 on port 587)
Thresholds (spec 9.2 defaults) from AIDAS_ALERT_* variables, see `HealthThresholds.from_env`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from email.message import EmailMessage
from typing import Literal

import requests

Level = Literal["critical", "warning"]
MAX_MESSAGE_CHARS = 3000
REDACTED = "[redacted]"

# Environment variables whose values are secrets by their name.
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|WEBHOOK|CREDENTIAL|AUTH)", re.IGNORECASE)
# Things that look like credentials wherever they appear.
_SECRET_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),  # OpenAI-style keys
    re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"),  # Google API keys
    re.compile(r"\bya29\.[0-9A-Za-z_\-.]+"),  # Google OAuth access tokens
    re.compile(r"\b1//[0-9A-Za-z_\-]{20,}"),  # Google OAuth refresh tokens
    re.compile(r"\bxox[abposr]-[0-9A-Za-z\-]+"),  # Slack tokens
    re.compile(r"https?://hooks\.slack\.com/\S+"),  # Slack webhook URLs carry their token in the path
    re.compile(r"(?i)\bbearer\s+[0-9A-Za-z_\-.~+/]+=*"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),  # user:password@host in URLs
    re.compile(r"\b[0-9A-Za-z_]{32,}\b"),  # long opaque tokens (hex digests included, better safe)
]
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(\b(?:api[_-]?key|access[_-]?token|refresh[_-]?token|token|secret|password|passwd|authorization|"
    r"xi-api-key|x-api-key|client[_-]?secret)\b[\"']?\s*[:=]\s*[\"']?)([^\s\"',;&}]+)"
)


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Values of secret-named environment variables, longest first (so none is half-replaced)."""
    env = os.environ if env is None else env
    values = {v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= 8}
    return sorted(values, key=len, reverse=True)


def scrub(text: str, env: Mapping[str, str] | None = None) -> str:
    """`text` with every known secret value and anything shaped like a credential replaced."""
    for value in secret_values(env):
        text = text.replace(value, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + REDACTED, text)


@dataclass(frozen=True)
class Alert:
    key: str  # what the alert is about; the same key is sent once until it clears
    level: Level
    title: str
    detail: str = ""

    def text(self, env: Mapping[str, str] | None = None) -> str:
        body = f"[AIDAS {self.level}] {self.title}" + (f"\n{self.detail}" if self.detail else "")
        body = scrub(body, env)
        return body if len(body) <= MAX_MESSAGE_CHARS else body[: MAX_MESSAGE_CHARS - 1] + "…"


@dataclass(frozen=True)
class AlertChannels:
    slack_webhook_url: str | None = None
    email_to: tuple[str, ...] = ()
    email_host: str = "localhost"
    email_port: int = 25
    email_from: str = ""
    email_user: str | None = None
    email_password: str | None = None
    email_starttls: bool = False
    timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertChannels:
        env = os.environ if env is None else env
        port_text = env.get("AIDAS_ALERT_EMAIL_PORT", "").strip() or "25"
        try:
            port = int(port_text)
        except ValueError as exc:
            raise ValueError(f"AIDAS_ALERT_EMAIL_PORT={port_text!r}: expected a port number") from exc
        host = env.get("AIDAS_ALERT_EMAIL_HOST", "").strip() or "localhost"
        starttls_text = env.get("AIDAS_ALERT_EMAIL_STARTTLS", "").strip().lower()
        return cls(
            slack_webhook_url=env.get("AIDAS_SLACK_WEBHOOK_URL", "").strip() or None,
            email_to=tuple(a.strip() for a in env.get("AIDAS_ALERT_EMAIL_TO", "").split(",") if a.strip()),
            email_host=host,
            email_port=port,
            email_from=env.get("AIDAS_ALERT_EMAIL_FROM", "").strip() or f"aidas@{host}",
            email_user=env.get("AIDAS_ALERT_EMAIL_USER", "").strip() or None,
            email_password=env.get("AIDAS_ALERT_EMAIL_PASSWORD") or None,
            email_starttls=starttls_text in ("1", "true", "yes") if starttls_text else port == 587,
        )

    @property
    def configured(self) -> list[str]:
        return [name for name, on in (("slack", bool(self.slack_webhook_url)), ("email", bool(self.email_to))) if on]


def _send_slack(url: str, text: str, timeout: float) -> None:
    try:
        response = requests.post(url, json={"text": text}, timeout=timeout)
    except requests.RequestException as exc:
        # The exception text holds the URL, and the URL holds the webhook's token: name the kind only.
        raise RuntimeError(f"Slack webhook unreachable ({type(exc).__name__})") from None
    if response.status_code >= 300:
        raise RuntimeError(f"Slack webhook answered HTTP {response.status_code}")


def _send_email(channels: AlertChannels, subject: str, text: str) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = channels.email_from
    message["To"] = ", ".join(channels.email_to)
    message.set_content(text)
    try:
        with smtplib.SMTP(channels.email_host, channels.email_port, timeout=channels.timeout_seconds) as smtp:
            if channels.email_starttls:
                smtp.starttls()
            if channels.email_user and channels.email_password:
                smtp.login(channels.email_user, channels.email_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise RuntimeError(f"email via {channels.email_host}:{channels.email_port} failed ({type(exc).__name__})") from None


def deliver(alert: Alert, channels: AlertChannels, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Send `alert` to every configured channel; channel -> "sent" or why not. Never raises."""
    text = alert.text(env)
    outcome: dict[str, str] = {}
    if channels.slack_webhook_url:
        try:
            _send_slack(channels.slack_webhook_url, text, channels.timeout_seconds)
            outcome["slack"] = "sent"
        except RuntimeError as exc:
            outcome["slack"] = str(exc)
    if channels.email_to:
        subject = scrub(f"[AIDAS {alert.level}] {alert.title}", env)[:200]
        try:
            _send_email(channels, subject, text)
            outcome["email"] = "sent"
        except RuntimeError as exc:
            outcome["email"] = str(exc)
    return outcome


# ---------------------------------------------------------------- health rules (spec 9.2)


@dataclass(frozen=True)
class HealthThresholds:
    error_rate_critical: float = 0.10
    error_rate_warning: float = 0.05
    min_runs_for_error_rate: int = 3  # one failed run of one is not yet a rate
    quota_remaining_critical: float = 0.10
    disk_usage_critical: float = 0.90
    processing_minutes_warning: float = 30.0
    cost_warning_fraction: float = 0.80
    repeat_after_hours: float = 12.0  # a condition that persists is said again after this long

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HealthThresholds:
        """AIDAS_ALERT_<FIELD NAME IN CAPITALS>, e.g. AIDAS_ALERT_ERROR_RATE_CRITICAL=0.2."""
        env = os.environ if env is None else env
        values: dict[str, float | int] = {}
        for f in fields(cls):
            name = f"AIDAS_ALERT_{f.name.upper()}"
            raw = env.get(name, "").strip()
            if not raw:
                continue
            try:
                number = float(raw)
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r}: expected a number") from exc
            if number < 0:
                raise ValueError(f"{name}={raw!r}: must not be negative")
            values[f.name] = int(number) if f.type in (int, "int") else number
        return cls(**values)


@dataclass(frozen=True)
class HealthSnapshot:
    finished_runs: int = 0
    failed_runs: int = 0
    quota_used: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (used, limit)
    disk_used_fraction: float = 0.0
    disk_path: str = ""
    slow_runs: Sequence[tuple[str, str, float]] = ()  # (run id, what, minutes)
    cost_today_usd: float = 0.0
    daily_budget_usd: float = 0.0


def evaluate_health(snapshot: HealthSnapshot, thresholds: HealthThresholds) -> list[Alert]:
    alerts: list[Alert] = []
    if snapshot.finished_runs >= max(1, thresholds.min_runs_for_error_rate):
        rate = snapshot.failed_runs / snapshot.finished_runs
        level: Level | None = (
            "critical" if rate > thresholds.error_rate_critical else "warning" if rate > thresholds.error_rate_warning else None
        )
        if level:
            alerts.append(
                Alert(
                    f"error_rate:{level}",
                    level,
                    f"error rate {rate:.0%} in the last 24 h",
                    f"{snapshot.failed_runs} of {snapshot.finished_runs} finished runs failed",
                )
            )
    for name, (used, limit) in sorted(snapshot.quota_used.items()):
        if limit > 0 and 1 - used / limit < thresholds.quota_remaining_critical:
            alerts.append(
                Alert(
                    f"quota:{name}",
                    "critical",
                    f"{name} quota nearly used up: {max(0.0, 1 - used / limit):.0%} left today",
                    f"{used:g} of {limit:g} used",
                )
            )
    if snapshot.disk_used_fraction > thresholds.disk_usage_critical:
        alerts.append(
            Alert(
                "disk",
                "critical",
                f"disk {snapshot.disk_used_fraction:.0%} full",
                f"storage at {snapshot.disk_path}" if snapshot.disk_path else "",
            )
        )
    for run_id, what, minutes in snapshot.slow_runs:
        if minutes > thresholds.processing_minutes_warning:
            alerts.append(
                Alert(f"slow:{run_id}", "warning", f"{what} took {minutes:.0f} min", f"run {run_id}; threshold {thresholds.processing_minutes_warning:g} min")
            )
    if snapshot.daily_budget_usd > 0 and snapshot.cost_today_usd > snapshot.daily_budget_usd * thresholds.cost_warning_fraction:
        alerts.append(
            Alert(
                "cost_today",
                "warning",
                f"cost today ${snapshot.cost_today_usd:.2f} is over {thresholds.cost_warning_fraction:.0%} of the daily budget",
                f"daily budget ${snapshot.daily_budget_usd:.2f}; cheaper options are in use",
            )
        )
    return alerts


def due_alerts(
    alerts: Sequence[Alert], sent: Mapping[str, str], now: dt.datetime, repeat_after_hours: float
) -> tuple[list[Alert], dict[str, str]]:
    """The alerts to send now and the new memory (key -> when last sent, ISO).

    A key is sent when it first appears, and again only after `repeat_after_hours` while it persists;
    a condition that cleared is forgotten, so its return is news again.
    """
    memory: dict[str, str] = {}
    due: list[Alert] = []
    for alert in alerts:
        last = sent.get(alert.key)
        if last is None or now - dt.datetime.fromisoformat(last) >= dt.timedelta(hours=repeat_after_hours):
            due.append(alert)
            memory[alert.key] = now.isoformat()
        else:
            memory[alert.key] = last
    return due, memory


def run_failure_alert(
    job_name: str, run_id: str, partition: str | None, step_errors: Sequence[tuple[str, str]], ui_url: str | None = None
) -> Alert:
    """The alert for a failed run: which job and episode, which steps, the first lines of each error."""
    where = f" for {partition}" if partition else ""
    lines = [f"run {run_id}"]
    for step, message in step_errors[:5]:
        first = " ".join(message.strip().splitlines()[:3])[:400]
        lines.append(f"- {step}: {first}")
    if not step_errors:
        lines.append("- the run failed before or outside its steps (see the run's log)")
    if ui_url:
        lines.append(f"{ui_url.rstrip('/')}/runs/{run_id}")
    return Alert(f"run:{run_id}", "critical", f"{job_name} failed{where}", "\n".join(lines))
