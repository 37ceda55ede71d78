"""A local server speaking HeyGen's v3 wire protocol, for testing the HeyGen provider.

It keeps real state: uploaded assets (multipart, type detected from the bytes), video jobs whose
status moves waiting → pending → processing → completed (or failed) over successive polls,
Idempotency-Key replay of a create's first reply, a credit balance (402 when empty), downloadable
results, and scripted faults per route (error replies, a reply lost after the work was done, a
reply slower than the client's timeout). Every request is logged so tests can count them.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{1,255}$")


@dataclass
class Fault:
    """What to do instead of (or after) handling one request.

    kind "error": reply `status` with `code`, doing nothing. "lose_reply": do the work, then reply
    `status` (the client never sees the result). "slow_reply": do the work, then wait `delay` s.
    "echo_key": reply 400 with a message quoting the request's API key (a careless server).
    """

    kind: str
    status: int = 500
    code: str = "internal_error"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class FakeJob:
    video_id: str
    payload: dict[str, Any]
    idempotency_key: str
    will_fail: bool
    polls: int = 0
    downloaded: bool = False


@dataclass
class Logged:
    method: str
    path: str
    api_key: str | None
    idempotency_key: str | None


class HeyGenServer:
    def __init__(
        self, server: HTTPServer, api_key: str, result_mp4: bytes, *, pending_polls: int = 3, credits: float = 100.0
    ):
        self.server = server
        self.api_key = api_key
        self.result_mp4 = result_mp4
        self.pending_polls = pending_polls
        self.credits = credits
        self.assets: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, FakeJob] = {}
        self.replies: dict[str, tuple[int, dict[str, Any]]] = {}
        self.log: list[Logged] = []
        self.faults: dict[str, list[Fault]] = {}
        self.fail_next_jobs = 0
        self.peak_active_jobs = 0
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # -- set-up ---------------------------------------------------------------------------------

    def register(self) -> HeyGenServer:
        s = self.server
        s.expect_request("/v3/assets", method="POST").respond_with_handler(self._guard("upload", self._upload))
        s.expect_request("/v3/videos", method="POST").respond_with_handler(self._guard("create", self._create))
        s.expect_request(re.compile(r"^/v3/videos/[^/]+$"), method="GET").respond_with_handler(
            self._guard("status", self._status)
        )
        s.expect_request("/v2/user/remaining_quota", method="GET").respond_with_handler(
            self._guard("quota", self._quota)
        )
        s.expect_request(re.compile(r"^/files/[^/]+\.mp4$"), method="GET").respond_with_handler(
            self._guard("download", self._download, needs_key=False)
        )
        return self

    def add_fault(self, route: str, fault: Fault) -> None:
        with self._lock:
            self.faults.setdefault(route, []).append(fault)

    # -- what tests read ------------------------------------------------------------------------

    def requests(self, method: str | None = None, path_prefix: str = "") -> list[Logged]:
        with self._lock:
            return [r for r in self.log if (method is None or r.method == method) and r.path.startswith(path_prefix)]

    def creates(self) -> list[Logged]:
        return self.requests("POST", "/v3/videos")

    # -- handlers -------------------------------------------------------------------------------

    @staticmethod
    def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
        return self._json(status, {"error": {"code": code, "message": message}}, headers)

    def _guard(self, route: str, handler, needs_key: bool = True):
        def handle(request: Request) -> Response:
            key = request.headers.get("X-Api-Key")
            with self._lock:
                self.log.append(Logged(request.method, request.path, key, request.headers.get("Idempotency-Key")))
                fault = self.faults[route].pop(0) if self.faults.get(route) else None
            if needs_key and key != self.api_key:
                return self._error(401, "unauthorized", "The API key provided is invalid, expired, or missing.")
            if fault is not None and fault.kind == "error":
                return self._error(fault.status, fault.code, f"scripted {fault.status}", fault.headers)
            if fault is not None and fault.kind == "echo_key":
                return self._error(400, "invalid_parameter", f"bad request from key {key}")
            reply = handler(request)
            if fault is not None and fault.kind == "lose_reply":
                return self._error(fault.status, fault.code, "the reply was lost")
            if fault is not None and fault.kind == "slow_reply":
                time.sleep(fault.delay)
            return reply

        return handle

    def _upload(self, request: Request) -> Response:
        if not (request.content_type or "").startswith("multipart/form-data"):
            return self._error(400, "invalid_parameter", "expected multipart/form-data")
        upload = request.files.get("file")
        if upload is None:
            return self._error(400, "invalid_parameter", "form field 'file' is required")
        data = upload.read()
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            mime = "audio/wav"
        elif data[:8] == b"\x89PNG\r\n\x1a\n":
            mime = "image/png"
        else:
            return self._error(400, "unsupported_file_type", "only wav and png are supported here")
        with self._lock:
            asset_id = f"asset_{next(self._ids)}"
            self.assets[asset_id] = {"name": upload.filename, "mime_type": mime, "bytes": data}
        return self._json(
            200,
            {
                "data": {
                    "asset_id": asset_id,
                    "url": f"https://files.example/{asset_id}",
                    "mime_type": mime,
                    "size_bytes": len(data),
                }
            },
        )

    def _invalid_create(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "body must be a JSON object"
        if body.get("type") == "avatar":
            if not isinstance(body.get("avatar_id"), str) or not body["avatar_id"]:
                return "avatar_id"
        elif body.get("type") == "image":
            image = body.get("image") or {}
            if (
                image.get("type") != "asset_id"
                or self.assets.get(image.get("asset_id"), {}).get("mime_type") != "image/png"
            ):
                return "image"
        else:
            return "type"
        audio = self.assets.get(body.get("audio_asset_id"))
        if audio is None or audio["mime_type"] != "audio/wav":
            return "audio_asset_id"
        if "script" in body:
            return "script"  # mutually exclusive with audio
        if not (body.get("voice_settings") or {}).get("locale"):
            return "voice_settings.locale"
        return None

    def _create(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is not None and not IDEMPOTENCY_KEY.match(key):
            return self._error(400, "invalid_parameter", "Idempotency-Key has characters outside [A-Za-z0-9_:.-]")
        with self._lock:
            if key and key in self.replies:
                status, body = self.replies[key]
                return self._json(status, body)
            try:
                body = json.loads(request.get_data(as_text=True))
            except ValueError:
                return self._error(400, "invalid_parameter", "body is not JSON")
            bad = self._invalid_create(body)
            if bad:
                return self._json(
                    400, {"error": {"code": "invalid_parameter", "message": f"invalid {bad}", "param": bad}}
                )
            if self.credits <= 0:
                return self._error(402, "insufficient_credit", "Your account has 0 credits.")
            self.credits -= 1
            video_id = f"vid_{next(self._ids)}"
            self.jobs[video_id] = FakeJob(video_id, body, key or "", will_fail=self.fail_next_jobs > 0)
            self.fail_next_jobs = max(0, self.fail_next_jobs - 1)
            active = sum(1 for j in self.jobs.values() if not j.downloaded)
            self.peak_active_jobs = max(self.peak_active_jobs, active)
            reply = {"data": {"video_id": video_id, "status": "waiting"}}
            if key:
                self.replies[key] = (200, reply)
        return self._json(200, reply)

    def _status(self, request: Request) -> Response:
        video_id = request.path.rsplit("/", 1)[1]
        with self._lock:
            job = self.jobs.get(video_id)
            if job is None:
                return self._error(404, "not_found", f"video {video_id} not found")
            job.polls += 1
            data: dict[str, Any] = {"id": video_id, "title": job.payload.get("title")}
            pending = ["waiting", "pending", "processing"]
            if job.polls <= self.pending_polls:
                data["status"] = pending[min(job.polls - 1, len(pending) - 1)]
            elif job.will_fail:
                data.update(status="failed", failure_code="render_error", failure_message="avatar render failed")
            else:
                expires = int(time.time()) + 600 + job.polls  # a fresh presigned URL on every read
                data.update(
                    status="completed",
                    duration=1.0,
                    video_url=self.server.url_for(f"/files/{video_id}.mp4") + f"?Expires={expires}",
                )
        return self._json(200, {"data": data})

    def _quota(self, request: Request) -> Response:
        with self._lock:
            return self._json(200, {"error": None, "data": {"remaining_quota": self.credits}})

    def _download(self, request: Request) -> Response:
        video_id = request.path.rsplit("/", 1)[1].removesuffix(".mp4")
        with self._lock:
            job = self.jobs.get(video_id)
            if job is None or job.will_fail:
                return Response("no such file", status=404)
            job.downloaded = True
        return Response(self.result_mp4, status=200, content_type="video/mp4")
