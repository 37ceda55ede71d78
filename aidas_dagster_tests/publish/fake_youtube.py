"""A local YouTube Data API v3 for tests: the wire protocol the real client speaks, with its rules.

Implements resumable uploads (POST → 200 + Location; PUT `bytes a-b/total` → 308 + Range or
200 + video; PUT `bytes */total` → where the upload stands), thumbnails.set, channels.list,
playlistItems.list, videos.list/update and commentThreads.list (paginated), and rejects metadata
the way YouTube does (title > 100 characters, description > 5,000 bytes, tags > 500 characters,
angle brackets, publishAt in the past), so a test can show the client never sends such a request.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from dataclasses import dataclass, field

from werkzeug import Request, Response


@dataclass
class Injected:
    method: str
    path: str
    status: int
    reason: str
    times: int = 1


@dataclass
class FakeYouTube:
    base_url: str = ""
    token: str | None = "test-access-token"
    videos: dict[str, dict] = field(default_factory=dict)
    video_bytes: dict[str, bytes] = field(default_factory=dict)
    uploads: list[str] = field(default_factory=list)  # newest first, like the uploads playlist
    sessions: dict[str, dict] = field(default_factory=dict)
    thumbnails: dict[str, bytes] = field(default_factory=dict)
    comments: dict[str, list[dict]] = field(default_factory=dict)
    log: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, content-range
    rejections: list[str] = field(default_factory=list)
    failures: list[Injected] = field(default_factory=list)
    comment_page_size: int = 100
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> access token it yields
    auth_codes: dict[str, list[str]] = field(default_factory=dict)  # authorization code -> scopes granted
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # ---- test helpers ----
    def fail(self, method: str, path: str, status: int, reason: str, times: int = 1) -> None:
        self.failures.append(Injected(method, path, status, reason, times))

    def calls(self, method: str, path: str) -> list[tuple[str, str, str]]:
        return [c for c in self.log if c[0] == method and c[1] == path]

    def add_comments(self, video_id: str, texts: list[tuple[str, str, int]]) -> None:
        """(author, text, likes) as commentThreads items."""
        for i, (author, text, likes) in enumerate(texts):
            self.comments.setdefault(video_id, []).append(
                {
                    "kind": "youtube#commentThread",
                    "id": f"thread{len(self.comments[video_id])}",
                    "snippet": {
                        "videoId": video_id,
                        "topLevelComment": {
                            "snippet": {
                                "textOriginal": text,
                                "textDisplay": text,
                                "authorDisplayName": author,
                                "authorChannelId": {"value": f"UC-{author}"},
                                "likeCount": likes,
                                "publishedAt": "2026-11-20T10:00:00Z",
                            }
                        },
                        "totalReplyCount": 0,
                    },
                }
            )

    # ---- wire ----
    @staticmethod
    def _json(data, status: int = 200, headers: dict | None = None) -> Response:
        return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json")

    def _error(self, status: int, reason: str, message: str = "") -> Response:
        body = {"error": {"code": status, "message": message or reason, "errors": [{"reason": reason, "domain": "youtube"}]}}
        return self._json(body, status)

    def _metadata_problem(self, body: dict) -> str | None:
        snippet = body.get("snippet", {})
        title, description = snippet.get("title", ""), snippet.get("description", "")
        tags = snippet.get("tags", [])
        if not title or len(title) > 100 or "<" in title or ">" in title:
            return "invalidTitle"
        if len(description.encode()) > 5000 or "<" in description or ">" in description:
            return "invalidDescription"
        if sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1) > 500:
            return "invalidTags"
        status = body.get("status", {})
        if "publishAt" in status:
            if status.get("privacyStatus") != "private":
                return "invalidPublishAt"
            if dt.datetime.fromisoformat(status["publishAt"].replace("Z", "+00:00")) <= dt.datetime.now(dt.timezone.utc):
                return "invalidPublishAt"
        return None

    def handle(self, request: Request) -> Response:
        path, method = request.path, request.method
        self.log.append((method, path, request.headers.get("Content-Range", "")))
        if (method, path) == ("POST", "/token"):
            return self._token(request)
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(401, "authError", "Invalid Credentials")
        for inj in list(self.failures):
            if inj.method == method and inj.path == path:
                inj.times -= 1
                if inj.times <= 0:
                    self.failures.remove(inj)
                return self._error(inj.status, inj.reason)
        route = {
            ("POST", "/upload/youtube/v3/videos"): self._start_upload,
            ("PUT", "/upload/youtube/v3/videos"): self._upload_chunk,
            ("POST", "/upload/youtube/v3/thumbnails/set"): self._thumbnail,
            ("GET", "/youtube/v3/channels"): self._channels,
            ("GET", "/youtube/v3/playlistItems"): self._playlist_items,
            ("GET", "/youtube/v3/videos"): self._videos_list,
            ("PUT", "/youtube/v3/videos"): self._videos_update,
            ("GET", "/youtube/v3/commentThreads"): self._comment_threads,
        }.get((method, path))
        if route is None:
            return self._error(404, "notFound", f"{method} {path}")
        return route(request)

    def _token(self, request: Request) -> Response:
        """Google's OAuth token endpoint: the authorization-code grant (installed-app flow) and refresh."""
        form = request.form
        if form.get("grant_type") == "authorization_code":
            if form.get("code") not in self.auth_codes or not form.get("code_verifier"):
                return self._json({"error": "invalid_grant"}, 400)
            self.refresh_tokens["issued-refresh-token"] = self.token or "issued-access-token"
            return self._json({
                "access_token": self.token or "issued-access-token", "refresh_token": "issued-refresh-token",
                "expires_in": 3599, "token_type": "Bearer", "scope": " ".join(self.auth_codes[form["code"]]),
            })
        issued = self.refresh_tokens.get(form.get("refresh_token", ""))
        if form.get("grant_type") != "refresh_token" or issued is None:
            return self._json({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, 400)
        self.token = issued
        return self._json({"access_token": issued, "expires_in": 3599, "token_type": "Bearer"})

    def _start_upload(self, request: Request) -> Response:
        if request.args.get("uploadType") != "resumable":
            return self._error(400, "badRequest", "expected uploadType=resumable")
        body = json.loads(request.get_data() or b"{}")
        problem = self._metadata_problem(body)
        if problem:
            self.rejections.append(problem)
            return self._error(400, problem)
        total = int(request.headers["X-Upload-Content-Length"])
        upload_id = f"up{next(self._ids)}"
        self.sessions[upload_id] = {"body": body, "total": total, "data": bytearray(), "video_id": None,
                                    "mimetype": request.headers.get("X-Upload-Content-Type")}
        location = f"{self.base_url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        return Response(b"", status=200, headers={"Location": location})

    def _progress(self, session: dict) -> Response:
        if session["video_id"]:
            return self._json(self.videos[session["video_id"]])
        headers = {"Range": f"bytes=0-{len(session['data']) - 1}"} if session["data"] else {}
        return Response(b"", status=308, headers=headers)

    def _upload_chunk(self, request: Request) -> Response:
        session = self.sessions.get(request.args.get("upload_id", ""))
        if session is None:
            return self._error(404, "notFound", "upload session does not exist")
        content_range = request.headers.get("Content-Range", "")
        if re.fullmatch(r"bytes \*/\d+", content_range):
            return self._progress(session)
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if not m:
            return self._error(400, "badContentRange", content_range)
        start, end, total = map(int, m.groups())
        data = request.get_data()
        if total != session["total"] or len(data) != end - start + 1 or start > len(session["data"]):
            return self._error(400, "badContentRange", content_range)
        del session["data"][start:]
        session["data"] += data
        if len(session["data"]) < session["total"]:
            return self._progress(session)
        video_id = f"vid{next(self._ids):08d}"[:11]
        body = session["body"]
        self.videos[video_id] = {
            "kind": "youtube#video",
            "id": video_id,
            "snippet": body.get("snippet", {}),
            "status": {**body.get("status", {}), "uploadStatus": "uploaded"},
            "statistics": {"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"},
        }
        self.video_bytes[video_id] = bytes(session["data"])
        self.uploads.insert(0, video_id)
        session["video_id"] = video_id
        return self._json(self.videos[video_id], 200)

    def _thumbnail(self, request: Request) -> Response:
        video_id = request.args.get("videoId", "")
        if video_id not in self.videos:
            return self._error(404, "videoNotFound")
        self.thumbnails[video_id] = request.get_data()
        return self._json({"kind": "youtube#thumbnailSetResponse", "items": [{"default": {"url": "https://i.ytimg.com/x.jpg"}}]})

    def _channels(self, request: Request) -> Response:
        return self._json({"items": [{"id": "UCfake", "contentDetails": {"relatedPlaylists": {"uploads": "UUfake"}}}]})

    def _page(self, items: list, request: Request, size: int):
        offset = int(request.args.get("pageToken") or 0)
        size = min(size, int(request.args.get("maxResults", size)))
        page = {"items": items[offset : offset + size]}
        if offset + size < len(items):
            page["nextPageToken"] = str(offset + size)
        return page

    def _playlist_items(self, request: Request) -> Response:
        if not self.uploads:
            # What YouTube answers for the uploads playlist of a channel that never uploaded.
            return self._error(404, "playlistNotFound")
        items = [{"contentDetails": {"videoId": v}} for v in self.uploads]
        return self._json(self._page(items, request, 50))

    def _videos_list(self, request: Request) -> Response:
        parts = set(request.args.get("part", "").split(","))
        items = []
        for vid in request.args.get("id", "").split(","):
            if vid in self.videos:
                items.append({"id": vid, **{p: self.videos[vid][p] for p in parts if p in self.videos[vid]}})
        return self._json({"items": items})

    def _videos_update(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        video = self.videos.get(body.get("id", ""))
        if video is None:
            return self._error(404, "videoNotFound")
        problem = self._metadata_problem({"snippet": body.get("snippet", {})})
        if problem:
            self.rejections.append(problem)
            return self._error(400, problem)
        video["snippet"] = body["snippet"]
        return self._json(video)

    def _comment_threads(self, request: Request) -> Response:
        if request.args.get("textFormat") != "plainText":
            return self._error(400, "badRequest", "tests expect textFormat=plainText")
        items = self.comments.get(request.args.get("videoId", ""), [])
        return self._json(self._page(items, request, self.comment_page_size))
