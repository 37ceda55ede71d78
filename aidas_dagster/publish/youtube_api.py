"""YouTube Data API v3 client and what its errors mean: the service built from the discovery
document shipped with google-api-python-client, and each failure's verdict for call_with_retry
(quota: defer; 5xx, 429, rate limits, dropped connections: retry; anything else: fail).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from googleapiclient.errors import HttpError

from aidas_dagster.core.paid_call import Decision, retry_after_seconds

class MetadataRefused(ValueError):
    """Title, description or tags break a YouTube limit; nothing was sent."""


QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"}
RETRY_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}


def iso_time(timestamp: str) -> str:
    """YouTube's "2026-11-26T10:00:00Z" (or with an offset) in Python's isoformat."""
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).isoformat()


def unless_gone(request: Callable[[], Any]) -> Callable[[], None]:
    """A delete that counts a 404 as done: what is already gone is what we wanted."""

    def delete() -> None:
        try:
            request()
        except HttpError as exc:
            if exc.resp.status != 404:
                raise

    return delete


def build_youtube_client(credentials=None, api_root: str | None = None):
    """(service, http) for YouTube Data API v3 from the discovery document shipped with the client.

    `api_root` replaces https://youtube.googleapis.com/ (tests use a local server); the http object
    is google's `build_http()` (which does not follow 308 as a redirect), authorised when
    credentials are given.
    """
    # The discovery client takes ~0.4 s to import; only a configured YouTube channel needs it.
    from googleapiclient.discovery import build_from_document
    from googleapiclient.discovery_cache import get_static_doc
    from googleapiclient.http import build_http

    doc = json.loads(get_static_doc("youtube", "v3"))
    if api_root:
        root = api_root.rstrip("/") + "/"
        doc["rootUrl"] = root
        doc["baseUrl"] = root + doc.get("servicePath", "")
    http = build_http()
    if credentials is not None:
        import google_auth_httplib2  # ~0.25 s to import; only with credentials

        http = google_auth_httplib2.AuthorizedHttp(credentials, http=http)
    return build_from_document(doc, http=http), http


def error_reason(exc: BaseException) -> str:
    content = getattr(exc, "content", b"") or b""
    try:
        error = json.loads(content.decode("utf-8") if isinstance(content, bytes) else content)["error"]
        errors = error.get("errors") or []
        if errors and errors[0].get("reason"):
            return str(errors[0]["reason"])
        for detail in error.get("details") or []:
            if detail.get("reason"):
                return str(detail["reason"])
        return str(error.get("status", ""))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return ""


def _retry_after(exc: BaseException) -> float | None:
    resp = getattr(exc, "resp", None)
    return retry_after_seconds(resp.get("retry-after")) if resp is not None else None


def classify_youtube_error(exc: BaseException) -> Decision:
    """quotaExceeded: out of credit (defer); 5xx, 429, rate limits, transport errors: retry; else fail."""
    import httplib2  # ~0.15 s to import; loaded by the client already whenever a call failed

    if isinstance(exc, HttpError):
        reason = error_reason(exc)
        status = exc.resp.status
        if reason in QUOTA_REASONS:
            return Decision("failover")
        if status == 429 or status >= 500 or reason in RETRY_REASONS:
            return Decision("retry", _retry_after(exc))
        return Decision("fail")
    if isinstance(exc, (httplib2.HttpLib2Error, OSError, TimeoutError)):
        return Decision("retry")
    return Decision("fail")
