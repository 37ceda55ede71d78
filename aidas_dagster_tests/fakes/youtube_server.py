"""A local YouTube Data API v3 for tests: the wire protocol the real client speaks, with its rules.

Implements resumable uploads (POST → 200 + Location; PUT `bytes a-b/total` → 308 + Range or
200 + video; PUT `bytes */total` → where the upload stands; a finished session answers any later PUT
with its video, as Google's upload servers do), thumbnails.set, channels.list, playlists.list/insert,
playlistItems.list/insert/delete (positions, and the "Deleted video" entry YouTube leaves when a
video in a playlist is deleted), captions.list/insert/update/delete (multipart upload),
videos.list/update/delete and commentThreads.list (paginated), and rejects metadata
the way YouTube does (title > 100 characters, description > 5,000 bytes, tags > 500 characters,
angle brackets, publishAt in the past), so a test can show the client never sends such a request.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug import Request, Response


@dataclass
class Injected:
    method: str
    path: str
    status: int
    reason: str
    times: int = 1
    content_range: str | None = None  # regex on Content-Range: tells chunks from status queries


@dataclass
class Dropped:
    """A request the server carries out and then answers by closing the connection (a lost response)."""

    method: str
    path: str
    content_range: str | None = None
    times: int = 1


@dataclass
class YouTubeServer:
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
    drops: list[Dropped] = field(default_factory=list)
    playlists: dict[str, dict] = field(default_factory=dict)
    playlist_items: dict[str, list[dict]] = field(default_factory=dict)  # playlist id -> items in order
    captions: dict[str, dict] = field(default_factory=dict)  # caption id -> resource (+ "_data": bytes)
    deleted: list[str] = field(default_factory=list)
    on_request: Callable[[str, str, str], None] | None = None  # (method, path, content-range), before handling
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> access token it yields
    auth_codes: dict[str, list[str]] = field(default_factory=dict)  # authorization code -> scopes granted
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # ---- test helpers ----
    def fail(self, method: str, path: str, status: int, reason: str, times: int = 1, content_range: str | None = None) -> None:
        self.failures.append(Injected(method, path, status, reason, times, content_range))

    def drop(self, method: str, path: str, content_range: str | None = None, times: int = 1) -> None:
        self.drops.append(Dropped(method, path, content_range, times))

    def scheduled(self) -> list[str]:
        """Videos that will go public by themselves: private with a publishAt."""
        return [v for v, r in self.videos.items() if r["status"].get("privacyStatus") == "private" and r["status"].get("publishAt")]

    def playlist_videos(self, playlist_id: str) -> list[str]:
        return [i["snippet"]["resourceId"]["videoId"] for i in self.playlist_items.get(playlist_id, [])]

    def captions_of(self, video_id: str) -> list[dict]:
        return [c for c in self.captions.values() if c["snippet"]["videoId"] == video_id]

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
        content_range = request.headers.get("Content-Range", "")
        self.log.append((method, path, content_range))
        if self.on_request is not None:
            self.on_request(method, path, content_range)
        if (method, path) == ("POST", "/token"):
            return self._token(request)
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(401, "authError", "Invalid Credentials")
        for inj in list(self.failures):
            if inj.method == method and inj.path == path and (
                inj.content_range is None or re.match(inj.content_range, content_range)
            ):
                inj.times -= 1
                if inj.times <= 0:
                    self.failures.remove(inj)
                return self._error(inj.status, inj.reason)
        response = self._route(request, method, path)
        for drop in list(self.drops):
            if drop.method == method and drop.path == path and (
                drop.content_range is None or re.match(drop.content_range, content_range)
            ):
                drop.times -= 1
                if drop.times <= 0:
                    self.drops.remove(drop)
                # Done on the server, but the client never hears of it.
                conn = request.environ["werkzeug.socket"]
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
                break
        return response

    def _route(self, request: Request, method: str, path: str) -> Response:
        route = {
            ("POST", "/upload/youtube/v3/videos"): self._start_upload,
            ("PUT", "/upload/youtube/v3/videos"): self._upload_chunk,
            ("POST", "/upload/youtube/v3/thumbnails/set"): self._thumbnail,
            ("GET", "/youtube/v3/channels"): self._channels,
            ("GET", "/youtube/v3/playlistItems"): self._playlist_items,
            ("POST", "/youtube/v3/playlistItems"): self._playlist_item_insert,
            ("DELETE", "/youtube/v3/playlistItems"): self._playlist_item_delete,
            ("GET", "/youtube/v3/playlists"): self._playlists_list,
            ("POST", "/youtube/v3/playlists"): self._playlist_insert,
            ("GET", "/youtube/v3/captions"): self._captions_list,
            ("POST", "/upload/youtube/v3/captions"): self._caption_insert,
            ("PUT", "/upload/youtube/v3/captions"): self._caption_update,
            ("DELETE", "/youtube/v3/captions"): self._caption_delete,
            ("GET", "/youtube/v3/videos"): self._videos_list,
            ("PUT", "/youtube/v3/videos"): self._videos_update,
            ("DELETE", "/youtube/v3/videos"): self._videos_delete,
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
        data = request.get_data()
        if re.fullmatch(r"bytes \*/\d+", content_range) or session["video_id"]:
            # A finished session answers every later PUT with its video, never a second one.
            return self._progress(session)
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if not m:
            return self._error(400, "badContentRange", content_range)
        start, end, total = map(int, m.groups())
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
        playlist_id = request.args.get("playlistId", "")
        if playlist_id != "UUfake":
            if playlist_id not in self.playlists:
                return self._error(404, "playlistNotFound")
            items = [{**item, "snippet": {**item["snippet"], "position": n}} for n, item in enumerate(self.playlist_items[playlist_id])]
            return self._json(self._page(items, request, 50))
        if not self.uploads:
            # What YouTube answers for the uploads playlist of a channel that never uploaded.
            return self._error(404, "playlistNotFound")
        items = [{"contentDetails": {"videoId": v}} for v in self.uploads]
        return self._json(self._page(items, request, 50))

    def _playlist_item_insert(self, request: Request) -> Response:
        snippet = json.loads(request.get_data()).get("snippet", {})
        items = self.playlist_items.get(snippet.get("playlistId", ""))
        if items is None:
            return self._error(404, "playlistNotFound")
        video_id = snippet.get("resourceId", {}).get("videoId", "")
        if video_id not in self.videos:
            return self._error(404, "videoNotFound")
        position = snippet.get("position", len(items))
        if not 0 <= position <= len(items):
            return self._error(400, "invalidPlaylistItemPosition")
        item = {"kind": "youtube#playlistItem", "id": f"PLI{next(self._ids)}",
                "snippet": {"playlistId": snippet["playlistId"], "resourceId": {"kind": "youtube#video", "videoId": video_id}},
                "contentDetails": {"videoId": video_id}}
        items.insert(position, item)
        return self._json({**item, "snippet": {**item["snippet"], "position": position}})

    def _playlist_item_delete(self, request: Request) -> Response:
        for items in self.playlist_items.values():
            for item in items:
                if item["id"] == request.args.get("id"):
                    items.remove(item)
                    return Response(b"", status=204)
        return self._error(404, "playlistItemNotFound")

    def _playlists_list(self, request: Request) -> Response:
        if request.args.get("mine") != "true":
            return self._error(400, "badRequest", "tests expect mine=true")
        return self._json(self._page(list(self.playlists.values()), request, 50))

    def _playlist_insert(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        problem = self._metadata_problem({"snippet": {**body.get("snippet", {}), "tags": []}})
        if problem:
            self.rejections.append(problem)
            return self._error(400, problem)
        playlist_id = f"PL{next(self._ids):08d}"
        self.playlists[playlist_id] = {"kind": "youtube#playlist", "id": playlist_id, "snippet": body["snippet"],
                                       "status": body.get("status", {"privacyStatus": "public"})}
        self.playlist_items[playlist_id] = []
        return self._json(self.playlists[playlist_id])

    @staticmethod
    def _multipart(request: Request) -> tuple[dict, bytes]:
        """The JSON metadata and the media of a multipart/related upload (the client writes "\\n" line ends)."""
        delimiter = b"\n--" + request.mimetype_params.get("boundary", "").encode()
        chunks = (b"\n" + request.get_data()).split(delimiter)[1:-1]  # drop the preamble and the closing "--"
        parts = [chunk.removeprefix(b"\n").partition(b"\n\n")[2] for chunk in chunks]
        return json.loads(parts[0]), parts[1]

    def _caption_insert(self, request: Request) -> Response:
        if request.args.get("uploadType") != "multipart":
            return self._error(400, "badRequest", "tests expect uploadType=multipart")
        meta, media = self._multipart(request)
        snippet = meta.get("snippet", {})
        if snippet.get("videoId") not in self.videos:
            return self._error(404, "videoNotFound")
        if not snippet.get("language") or not media.strip():
            return self._error(400, "invalidMetadata" if not snippet.get("language") else "contentRequired")
        if any(c["snippet"]["language"] == snippet["language"] and c["snippet"].get("name", "") == snippet.get("name", "")
               for c in self.captions_of(snippet["videoId"])):
            return self._error(409, "captionExists")
        caption_id = f"CAP{next(self._ids)}"
        self.captions[caption_id] = {"kind": "youtube#caption", "id": caption_id, "snippet": snippet, "_data": media}
        return self._json({k: v for k, v in self.captions[caption_id].items() if k != "_data"})

    def _caption_update(self, request: Request) -> Response:
        meta, media = self._multipart(request)
        caption = self.captions.get(meta.get("id", ""))
        if caption is None:
            return self._error(404, "captionNotFound")
        caption["_data"] = media
        caption["snippet"] = {**caption["snippet"], **{k: v for k, v in meta.get("snippet", {}).items() if k == "isDraft"}}
        return self._json({k: v for k, v in caption.items() if k != "_data"})

    def _captions_list(self, request: Request) -> Response:
        video_id = request.args.get("videoId", "")
        if video_id not in self.videos:
            return self._error(404, "videoNotFound")
        return self._json({"items": [{k: v for k, v in c.items() if k != "_data"} for c in self.captions_of(video_id)]})

    def _caption_delete(self, request: Request) -> Response:
        if self.captions.pop(request.args.get("id", ""), None) is None:
            return self._error(404, "captionNotFound")
        return Response(b"", status=204)

    def _videos_delete(self, request: Request) -> Response:
        video_id = request.args.get("id", "")
        if self.videos.pop(video_id, None) is None:
            return self._error(404, "videoNotFound")
        self.uploads.remove(video_id)
        self.thumbnails.pop(video_id, None)
        for caption_id in [c["id"] for c in self.captions_of(video_id)]:
            del self.captions[caption_id]
        # Playlists keep an entry for it ("Deleted video") until it is removed from them.
        self.deleted.append(video_id)
        return Response(b"", status=204)

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
        parts = set(request.args.get("part", "").split(","))
        problem = self._metadata_problem({"snippet": body.get("snippet", video["snippet"]), "status": body.get("status", {})})
        if problem:
            self.rejections.append(problem)
            return self._error(400, problem)
        if "snippet" in parts:
            video["snippet"] = body["snippet"]
        if "status" in parts:
            # The whole status is replaced (a field left out is reset), as YouTube does.
            video["status"] = {**body["status"], "uploadStatus": video["status"]["uploadStatus"]}
        return self._json(video)

    def _comment_threads(self, request: Request) -> Response:
        if request.args.get("textFormat") != "plainText":
            return self._error(400, "badRequest", "tests expect textFormat=plainText")
        items = self.comments.get(request.args.get("videoId", ""), [])
        return self._json(self._page(items, request, self.comment_page_size))
