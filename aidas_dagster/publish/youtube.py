"""Publishing to YouTube with google-api-python-client: exactly once, resumable, within quota.

Same interface as the local channel: `find(series_id, episode)` and
`publish(series_id, episode, video, thumbnail, metadata) -> (record, changed)`.

Exactly once. Every upload carries a key tag `aidas:<series>:<episode>:r<cut>:<digest8>`. Per episode a
small state file (atomic JSON under `<storage>/youtube/uploads/`) remembers the resumable session
URI as soon as the server hands it out, then the video id as soon as the upload completes.
A later run, in this process or another:
1. with a video id recorded: never uploads again (it updates the metadata or thumbnail if changed);
2. with a session recorded: asks the server where it stands (`PUT` empty body, `Content-Range:
   bytes */total`): 308 + Range → continues from there; 200/201 → the upload had finished (the
   crash came before the id was recorded) and the answer is the video; 404/410 → the session expired;
3. with neither (or an expired session): looks through the channel's uploads (channels.list,
   then playlistItems.list + videos.list, 2 units per 50 videos, at most `lookup_pages` pages) for a
   video with the episode's key tag before starting a new upload.
Uploads are driven here, not by googleapiclient's next_chunk: the session is started with its own
POST and saved before the first chunk, chunks are bytes (a re-send by httplib2 carries them), and
a failed chunk is followed by status queries with their own retry budget.

With the video come its thumbnail, a Korean caption track from the SRT and a slot in the series
playlist (found again by the key line `aidas-series:<id>` in its description).

A changed cut (a producer's edit) replaces the video while it is not released yet — see
`_replace` and the `Replacement` journal; once released the public video is kept
(`kept_after_release` says so) unless `replace_after_release` is set.

Quota. Every call is counted in the Pacific-day counter (quota.py) before it is sent and recorded
in the cost ledger (provider "youtube", quota units, $0). An upload is only started when the insert
and its thumbnail fit in what is left today; otherwise, or when the server answers `quotaExceeded`,
`UploadDeferred` says until when. Transient failures (5xx, 429, rate limits, dropped connections)
are retried through `call_with_retry`; `quotaExceeded` never is.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aidas_dagster.core.ledger import CostLedger, LedgerEntry
from aidas_dagster.core.paid_call import (
    Decision,
    OutOfCredit,
    ProviderError,
    RetryPolicy,
    call_with_retry,
    retry_after_seconds,
)
from aidas_dagster.core.storage import file_digest, fingerprint, read_json, write_json
from aidas_dagster.publish.feedback import CollectedFeedback, comments_from_api_items, statistics_from_api
from aidas_dagster.publish.local_channel import PublishedVideo
from aidas_dagster.publish.metadata import PlaylistMetadata, VideoMetadata, metadata_problems, tags_with_key
from aidas_dagster.publish.oauth import load_credentials, refresh_credentials
from aidas_dagster.publish.quota import QuotaCounter, QuotaDeferred, quota_path

log = logging.getLogger(__name__)

QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"}
DEAD_UPLOADS = {"failed", "rejected", "deleted"}
RETRY_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError", "internalError"}
DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024  # a multiple of 256 KiB, as the protocol asks
CAPTION_LANGUAGE = "ko"
CAPTION_NAME = "한국어"
UploadDeferred = QuotaDeferred


class MetadataRefused(ValueError):
    """Title, description or tags break a YouTube limit; nothing was sent."""


def _iso(timestamp: str) -> str:
    """YouTube's "2026-11-26T10:00:00Z" (or with an offset) in Python's isoformat."""
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).isoformat()


def upload_key(series_id: str, episode: int) -> str:
    return f"aidas:{series_id}:{episode:03d}"


KEY_TAG = re.compile(r"aidas:(?P<series>[a-z0-9-]+):(?P<episode>\d{3}):(?:r(?P<revision>\d+):)?(?P<digest>[0-9a-f]{8})")


def key_tag(series_id: str, episode: int, revision: int, digest: str) -> str:
    """`aidas:<series>:<episode>:r<revision>:<digest8>`; the first cut's tag may lack `r1:` (older uploads)."""
    return f"{upload_key(series_id, episode)}:r{revision}:{digest[:8]}"


def parse_key_tag(tag: str) -> tuple[str, int, int, str] | None:
    """(series, episode, revision, digest8) of a key tag, or None for any other tag."""
    m = KEY_TAG.fullmatch(tag)
    if not m:
        return None
    return m["series"], int(m["episode"]), int(m["revision"] or 1), m["digest"]


def build_youtube_client(credentials=None, api_root: str | None = None):
    """(service, http) for YouTube Data API v3 from the discovery document shipped with the client.

    `api_root` replaces https://youtube.googleapis.com/ (tests use a local server); the http object
    is google's `build_http()` (which does not follow 308 as a redirect), authorised when
    credentials are given.
    """
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
        import google_auth_httplib2

        http = google_auth_httplib2.AuthorizedHttp(credentials, http=http)
    return build_from_document(doc, http=http), http


def _error_reason(exc: BaseException) -> str:
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
    import httplib2
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError):
        reason = _error_reason(exc)
        status = exc.resp.status
        if reason in QUOTA_REASONS:
            return Decision("failover")
        if status == 429 or status >= 500 or reason in RETRY_REASONS:
            return Decision("retry", _retry_after(exc))
        return Decision("fail")
    if isinstance(exc, (httplib2.HttpLib2Error, OSError, TimeoutError)):
        return Decision("retry")
    return Decision("fail")


class Replacement(BaseModel):
    """The journal of a re-cut replacing the episode's video, written before each step is taken.

    Steps, each done at most once whatever is killed when: upload the new cut (private, not
    scheduled: it cannot go public by itself) → its thumbnail → its caption track → its playlist
    slot (inserted before the old entry, then the old entry removed) → give it the old video's
    release (publishAt, or public) → delete the old video → the state takes the new video.
    """

    old_video_id: str
    old_status: dict = {}  # privacyStatus/publishAt of the old video when the replacement began
    revision: int
    video_digest: str
    size: int
    session_uri: str | None = None
    video_id: str | None = None
    thumbnail_digest: str | None = None
    caption_id: str | None = None
    caption_digest: str | None = None
    caption_pending: str | None = None
    playlist_item: str | None = None
    old_item_removed: bool = False
    scheduled: bool = False
    old_deleted: bool = False


class UploadState(BaseModel):
    """What one episode's upload has reached; written after every step."""

    key: str
    video_digest: str = ""
    size: int = 0
    session_uri: str | None = None
    video_id: str | None = None
    thumbnail_digest: str | None = None
    snippet_fingerprint: str | None = None
    caption_id: str | None = None
    caption_digest: str | None = None
    caption_pending: str | None = None  # digest of a captions.insert sent but not yet answered
    playlist_item: str | None = None  # "<playlist id>/<item id>" of the video in the series playlist
    revision: int = 1  # of the cut on the channel: the key tag's r<n>
    replacement: Replacement | None = None
    record: PublishedVideo | None = None


class PlaylistState(BaseModel):
    """The series playlist, once it is known (created or found by its key)."""

    series_id: str
    playlist_id: str
    fingerprint: str


class YouTubePublisher:
    name = "youtube"

    def __init__(
        self,
        service,
        http,
        state_dir: Path | str,
        quota: QuotaCounter,
        ledger: CostLedger | None = None,
        *,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        lookup_pages: int = 4,
        policy: RetryPolicy = RetryPolicy(),
        status_policy: RetryPolicy = RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=30.0),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        credentials=None,
        token_file: Path | None = None,
        replace_after_release: bool = False,
        release_margin: dt.timedelta = dt.timedelta(minutes=10),
    ):
        self.service = service
        self.http = http
        self.state_dir = Path(state_dir)
        self.quota = quota
        self.ledger = ledger
        self.chunk_bytes = chunk_bytes
        self.lookup_pages = lookup_pages
        self.policy = policy  # per call, and per chunk of an upload
        self.status_policy = status_policy  # per status query of a resumable upload
        self.sleep = sleep
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.on_progress = on_progress
        # Refreshed here before a call when expired, so a failed refresh is a YouTubeAuthError
        # (the authorised http would refresh too, and fail with a raw transport error).
        self.credentials = credentials
        self.token_file = token_file
        # A re-cut replaces a released (public) video only when asked: its views and comments go with it.
        self.replace_after_release = replace_after_release
        # A release closer than this counts as released: a replacement could not finish before it.
        self.release_margin = release_margin
        self.kept_after_release: str | None = None  # set when a re-cut was not applied to a released video
        # Called with a step's name after each step of a replacement is recorded (tests kill there).
        self.checkpoint: Callable[[str], None] = lambda step: None
        self.notes: list[str] = []  # what the last publish() did, for the asset's log
        # The video is up; its thumbnail, caption track or playlist slot waits for quota until then.
        self.deferred_until: dt.date | None = None

    # ---- state -------------------------------------------------------------------------------
    def state_path(self, series_id: str, episode: int) -> Path:
        return self.state_dir / "uploads" / series_id / f"{episode:03d}.json"

    def _load(self, series_id: str, episode: int) -> UploadState | None:
        path = self.state_path(series_id, episode)
        if not path.exists():
            return None
        try:
            return UploadState.model_validate(read_json(path))
        except ValueError as exc:
            raise ValueError(f"{path}: upload state is unreadable ({exc}); check it before deleting it") from exc

    def _save(self, series_id: str, episode: int, state: UploadState) -> None:
        write_json(self.state_path(series_id, episode), state)

    @contextmanager
    def _episode_lock(self, series_id: str, episode: int) -> Iterator[None]:
        """Two runs of one episode never upload side by side."""
        lock = self.state_path(series_id, episode).with_suffix(".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # ---- calls -------------------------------------------------------------------------------
    def _call(
        self, method: str, what: str, fn: Callable[[], Any], *, series_id: str = "", episode: int = 0, count: bool = True,
        policy: RetryPolicy | None = None,
    ):
        """One API call: counted against quota first, retried when transient, recorded in the ledger."""
        self._fresh_token()
        units = self.quota.spend(method, what=what) if count else 0
        try:
            return call_with_retry(
                fn, what=f"YouTube {method} ({what})", classify=classify_youtube_error, policy=policy or self.policy,
                sleep=self.sleep,
            )
        except OutOfCredit as exc:
            raise self.quota.mark_exhausted(what) from exc
        finally:
            if self.ledger is not None and count:
                self.ledger.record(
                    LedgerEntry("youtube", method, units, "quota units", 0.0, series_id=series_id, episode=episode, detail=what)
                )

    def _fresh_token(self) -> None:
        if self.credentials is not None and self.token_file is not None and not self.credentials.valid:
            refresh_credentials(self.credentials, self.token_file)

    def _uploads_playlist(self) -> str:
        cache = self.state_dir / "channel.json"
        if cache.exists():
            return read_json(cache)["uploads_playlist"]
        reply = self._call(
            "channels.list", "find the uploads playlist",
            lambda: self.service.channels().list(part="contentDetails", mine=True).execute(),
        )
        items = reply.get("items") or []
        if not items:
            raise ValueError("YouTube channels.list(mine=true) returned no channel for this token")
        playlist = items[0]["contentDetails"]["relatedPlaylists"]["uploads"]
        write_json(cache, {"channel_id": items[0].get("id", ""), "uploads_playlist": playlist})
        return playlist

    def find_uploaded(self, series_id: str, episode: int, revision: int | None = None) -> dict | None:
        """A video on the channel carrying this episode's key tag (of `revision`, if given; newest uploads first)."""
        key = upload_key(series_id, episode) + ":"

        def matches(tag: str) -> bool:
            parsed = parse_key_tag(tag)
            return parsed is not None and parsed[:2] == (series_id, episode) and revision in (None, parsed[2])

        playlist = self._uploads_playlist()
        page_token = None
        for _ in range(self.lookup_pages):
            params = {"part": "contentDetails", "playlistId": playlist, "maxResults": 50}
            if page_token:
                params["pageToken"] = page_token
            try:
                page = self._call(
                    "playlistItems.list", f"look for {key[:-1]}",
                    lambda: self.service.playlistItems().list(**params).execute(),
                    series_id=series_id, episode=episode,
                )
            except ProviderError as exc:
                # A channel that never uploaded answers 404 playlistNotFound for its uploads playlist.
                if getattr(getattr(exc.__cause__, "resp", None), "status", None) == 404:
                    return None
                raise
            ids = [item["contentDetails"]["videoId"] for item in page.get("items", [])]
            if ids:
                videos = self._call(
                    "videos.list", f"look for {key[:-1]}",
                    lambda: self.service.videos().list(part="snippet,status", id=",".join(ids), maxResults=50).execute(),
                    series_id=series_id, episode=episode,
                )
                for video in videos.get("items", []):
                    if not any(matches(tag) for tag in video.get("snippet", {}).get("tags", [])):
                        continue
                    state = video.get("status", {}).get("uploadStatus")
                    if state in DEAD_UPLOADS:
                        self.notes.append(f"video {video['id']} has this episode's key but its upload {state}; ignoring it")
                        continue
                    return video
            page_token = page.get("nextPageToken")
            if not page_token:
                return None
        return None

    # ---- metadata ----------------------------------------------------------------------------
    def _future_publish_at(self, publish_at: str | None) -> str | None:
        """A release time in the past cannot be scheduled: move it to the same hour on the next day ahead."""
        if not publish_at:
            return None
        when = dt.datetime.fromisoformat(publish_at)
        now = self.clock() + dt.timedelta(minutes=5)
        while when <= now:
            when += dt.timedelta(days=1)
        return when.isoformat()

    @staticmethod
    def _snippet(metadata: VideoMetadata, key_tag: str) -> dict:
        return {
            "title": metadata.title,
            "description": metadata.description,
            "tags": tags_with_key(metadata.tags, key_tag),
            "categoryId": metadata.category_id,
            "defaultLanguage": metadata.default_language,
            "defaultAudioLanguage": metadata.default_language,
        }

    @staticmethod
    def _snippet_fingerprint(snippet: dict) -> str:
        return fingerprint({k: snippet.get(k) for k in ("title", "description", "tags", "categoryId")})

    @staticmethod
    def check_metadata(snippet: dict) -> None:
        problems = metadata_problems(snippet["title"], snippet["description"], snippet["tags"])
        if problems:
            raise MetadataRefused(
                f"YouTube upload refused before sending: {'; '.join(problems)} — "
                "shorten the series/episode title or summary (build_metadata trims text it makes itself)"
            )

    # ---- upload ------------------------------------------------------------------------------
    def _probe(self, uri: str, size: int, series_id: str, episode: int) -> tuple[str, Any]:
        """Where a resumable session stands: ('done', video) | ('partial', next byte) | ('gone', None).

        Status queries have their own retry budget (`status_policy`): a burst of 503s while asking
        must not use up the attempts of the chunk that is being sent.
        """
        from googleapiclient.errors import HttpError

        def ask():
            resp, content = self.http.request(uri, "PUT", headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"})
            if resp.status in (200, 201):
                return "done", json.loads(content)
            if resp.status == 308:
                return "partial", _next_byte(resp)
            if resp.status in (404, 410):
                return "gone", None
            raise HttpError(resp, content, uri=uri)

        # Part of the insert already paid for: no extra quota.
        return self._call(
            "videos.insert", "ask where the upload stands", ask,
            series_id=series_id, episode=episode, count=False, policy=self.status_policy,
        )

    def _start_session(self, body: dict, size: int, what: str) -> str:
        """POST the metadata; the server hands out the session URI before any byte of the file is sent."""
        from googleapiclient.errors import HttpError
        from googleapiclient.http import MediaIoBaseUpload

        # The discovery client builds the URL (uploadType=resumable) and the JSON body; the bytes
        # are sent by _send_chunks, so the session URI can be saved before the first of them.
        media = MediaIoBaseUpload(io.BytesIO(), mimetype="video/mp4", resumable=True)
        request = self.service.videos().insert(part="snippet,status", body=body, media_body=media, notifySubscribers=True)
        headers = {
            **request.headers,
            "X-Upload-Content-Type": "video/mp4",
            "X-Upload-Content-Length": str(size),
            "Content-Length": str(len(request.body or b"")),
        }

        def start() -> str:
            resp, content = self.http.request(request.uri, "POST", body=request.body, headers=headers)
            if resp.status == 200 and "location" in resp:
                return resp["location"]
            raise HttpError(resp, content, uri=request.uri)

        return self._call("videos.insert", what + " (start the session)", start, count=False)

    def _send_chunks(self, uri: str, video: Path, size: int, offset: int, what: str, series_id: str, episode: int) -> dict:
        """PUT the file from `offset` in chunks until the server answers with the video resource.

        Each chunk is read into bytes: httplib2 re-sends a request by itself when the response is
        lost, and a re-sent file slice would declare N bytes and send none (a stall until the socket
        times out); bytes are sent again in full. A failed chunk is followed by a status query
        (its own budget) and sent again from where the server stands.
        """
        from googleapiclient.errors import HttpError

        attempt = 0
        with video.open("rb") as fh:
            while True:
                fh.seek(offset)
                data = fh.read(self.chunk_bytes)
                end = offset + len(data) - 1
                headers = {"Content-Range": f"bytes {offset}-{end}/{size}", "Content-Length": str(len(data))}
                self._fresh_token()  # an upload can outlast the token's hour
                try:
                    resp, content = self.http.request(uri, "PUT", body=data, headers=headers)
                    if resp.status in (200, 201):
                        outcome: tuple[str, Any] = ("done", json.loads(content))
                    elif resp.status == 308:
                        outcome = ("partial", _next_byte(resp))
                    else:
                        raise HttpError(resp, content, uri=uri)
                except Exception as exc:  # noqa: BLE001 - classified below
                    attempt += 1
                    decision = classify_youtube_error(exc)
                    if decision.verdict == "failover":
                        raise self.quota.mark_exhausted(what) from exc
                    if isinstance(exc, HttpError) and exc.resp.status in (404, 410):
                        raise SessionGone(uri) from exc
                    if decision.verdict == "fail" or attempt >= self.policy.max_attempts:
                        raise ProviderError(
                            f"YouTube videos.insert ({what}) failed at byte {offset} of {size} after {attempt} attempt(s): {exc}"
                        ) from exc
                    self.sleep(self.policy.delay(attempt, decision.retry_after))
                    outcome = self._probe(uri, size, series_id, episode)
                    if outcome[0] == "gone":
                        raise SessionGone(uri) from exc
                if outcome[0] == "done":
                    if self.on_progress is not None:
                        self.on_progress(size, size)
                    return outcome[1]
                if outcome[1] > offset:
                    attempt = 0  # the server took bytes: the next chunk has its own attempts
                elif outcome[1] == offset and not data:
                    raise ProviderError(f"YouTube videos.insert ({what}): the server wants byte {offset} of a {size}-byte file")
                offset = outcome[1]
                if self.on_progress is not None:
                    self.on_progress(offset, size)

    def _upload(self, slot, save: Callable[[], None], video: Path, body: dict, series_id: str, episode: int) -> dict:
        """The upload of `video` through `slot.session_uri` (resumed when set); `save` persists the slot."""
        size = video.stat().st_size
        if size == 0:
            raise ValueError(f"{video}: the video file is empty; nothing to upload")
        what = f"upload {series_id} ep {episode}"
        if slot.session_uri:
            status, answer = self._probe(slot.session_uri, size, series_id, episode)
            if status == "done":
                self.notes.append("the upload had already finished; took the video from its session")
                return answer
            if status == "gone":
                raise SessionGone(slot.session_uri)
            offset = answer
            self.notes.append(f"resumed the upload at byte {answer} of {size}")
        else:
            units = self.quota.spend("videos.insert", what=what)
            if self.ledger is not None:
                bucket = " (+1 of the daily upload bucket)" if self.quota.settings.inserts("videos.insert") else ""
                self.ledger.record(
                    LedgerEntry("youtube", "videos.insert", units, "quota units", 0.0,
                                series_id=series_id, episode=episode, detail=what + bucket)
                )
            slot.session_uri = self._start_session(body, size, what)
            # Saved before the first chunk: a process killed from here on resumes this session.
            save()
            offset = 0
            if self.on_progress is not None:
                self.on_progress(0, size)
        return self._send_chunks(slot.session_uri, video, size, offset, what, series_id, episode)

    def _set_thumbnail(self, video_id: str, thumbnail: Path, series_id: str, episode: int) -> None:
        from googleapiclient.http import MediaFileUpload

        mimetype = "image/png" if thumbnail.suffix.lower() == ".png" else "image/jpeg"
        self._call(
            "thumbnails.set", f"thumbnail of {series_id} ep {episode}",
            lambda: self.service.thumbnails().set(videoId=video_id, media_body=MediaFileUpload(str(thumbnail), mimetype=mimetype)).execute(),
            series_id=series_id, episode=episode,
        )

    def _find_caption(self, video_id: str, series_id: str, episode: int) -> str | None:
        """The id of the video's Korean track named CAPTION_NAME, if there is one."""
        reply = self._call(
            "captions.list", f"captions of {series_id} ep {episode}",
            lambda: self.service.captions().list(part="snippet", videoId=video_id).execute(),
            series_id=series_id, episode=episode,
        )
        for item in reply.get("items", []):
            snippet = item.get("snippet", {})
            if snippet.get("language") == CAPTION_LANGUAGE and snippet.get("name", "") == CAPTION_NAME:
                return item["id"]
        return None

    def _sync_captions(self, state: UploadState, srt: Path, series_id: str, episode: int, save: Callable[[], None]) -> bool:
        """The video's Korean caption track holds `srt`: inserted once, updated when the SRT changes.

        A crash after the insert was sent and before its answer was recorded is recovered by
        captions.list (50 units), only then: `caption_pending` says an insert may have landed.
        """
        from googleapiclient.http import MediaInMemoryUpload

        digest = file_digest(srt)
        if state.caption_id and state.caption_digest == digest:
            return False
        what = f"caption track of {series_id} ep {episode}"
        if state.caption_id is None and state.caption_pending:
            found = self._find_caption(state.video_id or "", series_id, episode)
            if found:
                state.caption_id, state.caption_digest = found, state.caption_pending
            state.caption_pending = None
            save()
            if state.caption_id and state.caption_digest == digest:
                return True
        data = srt.read_bytes()
        media = lambda: MediaInMemoryUpload(data, mimetype="application/octet-stream", resumable=False)  # noqa: E731
        if state.caption_id is None:
            state.caption_pending = digest
            save()
            body = {"snippet": {"videoId": state.video_id, "language": CAPTION_LANGUAGE, "name": CAPTION_NAME, "isDraft": False}}
            reply = self._call(
                "captions.insert", what,
                lambda: self.service.captions().insert(part="snippet", body=body, media_body=media()).execute(),
                series_id=series_id, episode=episode,
            )
            state.caption_id, state.caption_pending = reply["id"], None
            self.notes.append(f"caption track ({CAPTION_LANGUAGE}) added")
        else:
            body = {"id": state.caption_id, "snippet": {"isDraft": False}}
            self._call(
                "captions.update", what,
                lambda: self.service.captions().update(part="snippet", body=body, media_body=media()).execute(),
                series_id=series_id, episode=episode,
            )
            self.notes.append(f"caption track ({CAPTION_LANGUAGE}) updated")
        state.caption_digest = digest
        save()
        return True

    # ---- series playlist --------------------------------------------------------------------
    def _playlist_state_path(self, series_id: str) -> Path:
        return self.state_dir / "playlists" / f"{series_id}.json"

    @contextmanager
    def _series_lock(self, series_id: str) -> Iterator[None]:
        """Episodes of one series published side by side never create two playlists."""
        lock = self._playlist_state_path(series_id).with_suffix(".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _find_playlist(self, key: str) -> dict | None:
        """The channel's playlist whose description carries `key` as a line (1 unit per 50 playlists)."""
        page_token = None
        for _ in range(self.lookup_pages):
            params = {"part": "snippet", "mine": True, "maxResults": 50}
            if page_token:
                params["pageToken"] = page_token
            page = self._call("playlists.list", f"look for {key}", lambda: self.service.playlists().list(**params).execute())
            for item in page.get("items", []):
                if key in item.get("snippet", {}).get("description", "").splitlines():
                    return item
            page_token = page.get("nextPageToken")
            if not page_token:
                return None
        return None

    def series_playlist(self, spec: PlaylistMetadata) -> str:
        """The id of the series playlist: remembered, else found by its key, else created (once)."""
        path = self._playlist_state_path(spec.series_id)
        body = {
            "snippet": {"title": spec.title, "description": spec.description, "defaultLanguage": "ko"},
            "status": {"privacyStatus": "public"},
        }
        fp = fingerprint(body)
        with self._series_lock(spec.series_id):
            state = PlaylistState.model_validate(read_json(path)) if path.exists() else None
            if state is None:
                # Looked for first, every time nothing is remembered: a crash right after an
                # insert left a playlist that only this finds.
                found = self._find_playlist(spec.key)
                if found is None:
                    problems = metadata_problems(spec.title, spec.description, [])
                    if problems:
                        raise MetadataRefused(f"series playlist of {spec.series_id} refused before sending: {'; '.join(problems)}")
                    found = self._call(
                        "playlists.insert", f"playlist of {spec.series_id}",
                        lambda: self.service.playlists().insert(part="snippet,status", body=body).execute(),
                        series_id=spec.series_id,
                    )
                    self.notes.append(f"created the series playlist {found['id']}")
                    fp_found = fp
                else:
                    fp_found = fingerprint({"snippet": {k: found.get("snippet", {}).get(k) for k in ("title", "description", "defaultLanguage")},
                                            "status": found.get("status", body["status"])})
                state = PlaylistState(series_id=spec.series_id, playlist_id=found["id"], fingerprint=fp_found)
                write_json(path, state)
            if state.fingerprint != fp:
                self._call(
                    "playlists.update", f"playlist of {spec.series_id}",
                    lambda: self.service.playlists().update(part="snippet,status", body={"id": state.playlist_id, **body}).execute(),
                    series_id=spec.series_id,
                )
                state.fingerprint = fp
                write_json(path, state)
                self.notes.append("updated the series playlist's title/description")
            return state.playlist_id

    def _playlist_items(self, playlist_id: str, series_id: str, episode: int) -> list[tuple[str, str]]:
        """(item id, video id) of every entry, in playlist order (1 unit per 50)."""
        items: list[tuple[str, str]] = []
        page_token = None
        while True:
            params = {"part": "snippet", "playlistId": playlist_id, "maxResults": 50}
            if page_token:
                params["pageToken"] = page_token
            page = self._call(
                "playlistItems.list", f"series playlist of {series_id}",
                lambda: self.service.playlistItems().list(**params).execute(),
                series_id=series_id, episode=episode,
            )
            items += [(i["id"], i["snippet"]["resourceId"]["videoId"]) for i in page.get("items", [])]
            page_token = page.get("nextPageToken")
            if not page_token:
                return items

    def _episodes_of(self, series_id: str, video_ids: list[str], episode: int) -> dict[str, int]:
        """Episode number of each video: from the upload states, else from its key tag (videos.list)."""
        known: dict[str, int] = {}
        for path in sorted((self.state_dir / "uploads" / series_id).glob("*.json")):
            state = UploadState.model_validate(read_json(path))
            number = int(path.stem)
            for vid in (state.video_id, state.replacement.video_id if state.replacement else None,
                        state.replacement.old_video_id if state.replacement else None):
                if vid:
                    known[vid] = number
        unknown = [v for v in dict.fromkeys(video_ids) if v not in known]
        for start in range(0, len(unknown), 50):
            ids = ",".join(unknown[start : start + 50])
            reply = self._call(
                "videos.list", f"episodes in the playlist of {series_id}",
                lambda: self.service.videos().list(part="snippet", id=ids, maxResults=50).execute(),
                series_id=series_id, episode=episode,
            )
            for video in reply.get("items", []):
                for tag in video.get("snippet", {}).get("tags", []):
                    parsed = parse_key_tag(tag)
                    if parsed and parsed[0] == series_id:
                        known[video["id"]] = parsed[1]
        return known

    def _insert_item(self, playlist_id: str, video_id: str, position: int, series_id: str, episode: int) -> str:
        body = {"snippet": {"playlistId": playlist_id, "position": position,
                            "resourceId": {"kind": "youtube#video", "videoId": video_id}}}
        reply = self._call(
            "playlistItems.insert", f"{series_id} ep {episode} into its playlist",
            lambda: self.service.playlistItems().insert(part="snippet", body=body).execute(),
            series_id=series_id, episode=episode,
        )
        return reply["id"]

    def _delete_item(self, item_id: str, series_id: str, episode: int) -> None:
        from googleapiclient.errors import HttpError

        def delete():
            try:
                self.service.playlistItems().delete(id=item_id).execute()
            except HttpError as exc:
                if exc.resp.status != 404:  # already gone: what we wanted
                    raise

        self._call("playlistItems.delete", f"old entry of {series_id} ep {episode}", delete, series_id=series_id, episode=episode)

    def _sync_playlist(self, state: UploadState, spec: PlaylistMetadata, series_id: str, episode: int, save: Callable[[], None]) -> bool:
        """The episode's video is in the series playlist, after every earlier episode and before every later one.

        The playlist is read before each insert, so a crash after an insert never adds the video
        twice, and episodes published out of order still end up in episode order.
        """
        playlist_id = self.series_playlist(spec)
        if state.playlist_item and state.playlist_item.startswith(playlist_id + "/"):
            return False
        items = self._playlist_items(playlist_id, series_id, episode)
        mine = next((item for item, vid in items if vid == state.video_id), None)
        if mine is None:
            episodes = self._episodes_of(series_id, [vid for _item, vid in items], episode)
            # Right after the last entry of an earlier episode (entries of no episode stay where they are).
            position = max((i + 1 for i, (_item, vid) in enumerate(items) if episodes.get(vid, episode) < episode), default=0)
            mine = self._insert_item(playlist_id, state.video_id or "", position, series_id, episode)
            self.notes.append(f"added to the series playlist at position {position + 1}")
        state.playlist_item = f"{playlist_id}/{mine}"
        save()
        return True

    def _defer(self, what: str, exc: QuotaDeferred) -> None:
        self.deferred_until = min(filter(None, (self.deferred_until, exc.until)))
        self.notes.append(f"{what} not done yet, the next run after the quota resets does it: {exc}")

    # ---- replacing a re-cut --------------------------------------------------------------------
    def _live_status(self, video_id: str, series_id: str, episode: int) -> dict | None:
        """The video's status on the channel now (videos.list, 1 unit); None when it is gone."""
        reply = self._call(
            "videos.list", f"status of {series_id} ep {episode}",
            lambda: self.service.videos().list(part="status", id=video_id).execute(),
            series_id=series_id, episode=episode,
        )
        items = reply.get("items") or []
        return items[0].get("status", {}) if items else None

    def _released(self, status: dict) -> bool:
        if status.get("privacyStatus") == "public":
            return True
        publish_at = status.get("publishAt")
        return bool(publish_at) and dt.datetime.fromisoformat(_iso(publish_at)) <= self.clock() + self.release_margin

    def _delete_video(self, video_id: str, series_id: str, episode: int) -> None:
        from googleapiclient.errors import HttpError

        def delete():
            try:
                self.service.videos().delete(id=video_id).execute()
            except HttpError as exc:
                if exc.resp.status != 404:  # already gone: what we wanted
                    raise

        self._call("videos.delete", f"replaced video of {series_id} ep {episode}", delete, series_id=series_id, episode=episode)

    def _replace(self, state: UploadState, video: Path, digest: str, thumbnail: Path, captions: Path | None,
                 playlist: PlaylistMetadata | None, metadata: VideoMetadata, series_id: str, episode: int) -> bool:
        """Replace the episode's video by the new cut while it is not yet released; True when replaced.

        Every step is recorded in `state.replacement` before the next one starts, so a run killed
        anywhere continues where it stopped: the new cut is uploaded once, and until the switch
        only the old video is scheduled (the new one is private without publishAt). The switch is
        two calls back to back: the new video gets the old one's release, then the old one is deleted.
        """
        save = lambda: self._save(series_id, episode, state)  # noqa: E731
        job = state.replacement
        if job is not None and job.video_digest != digest and not job.scheduled:
            # Cut again while a replacement was under way: its half-made video goes, the new cut starts afresh.
            if job.video_id:
                if job.playlist_item:
                    self._delete_item(job.playlist_item.split("/", 1)[1], series_id, episode)
                self._delete_video(job.video_id, series_id, episode)
            self.notes.append("the cut changed again during a replacement; started it afresh")
            state.replacement = job = None
            save()
        if job is None:
            assert state.video_id is not None
            live = self._live_status(state.video_id, series_id, episode)
            if live is None:
                # Deleted on the channel by hand: upload the episode as if for the first time.
                self.notes.append(f"video {state.video_id} is no longer on the channel; uploading the episode again")
                state.video_id, state.record, state.snippet_fingerprint = None, None, None
                state.thumbnail_digest = state.caption_id = state.caption_digest = state.playlist_item = None
                save()
                return False
            if self._released(live) and not self.replace_after_release:
                self.kept_after_release = (
                    f"the final cut changed after {state.video_id} was released; the channel keeps the public video "
                    "(its views and comments stay; set AIDAS_YOUTUBE_REPLACE_AFTER_RELEASE=1 to replace released videos)"
                )
                self.notes.append(self.kept_after_release)
                return False
            plan = {
                "videos.insert": 1, "thumbnails.set": 1, "videos.list": 1, "videos.update": 1, "videos.delete": 1,
                **({"captions.insert": 1} if captions else {}),
                **({"playlistItems.list": 1, "playlistItems.insert": 1, "playlistItems.delete": 1} if playlist else {}),
            }
            self.quota.ensure(f"replacement of {series_id} ep {episode}", plan)
            job = Replacement(
                old_video_id=state.video_id, old_status=live, revision=state.revision + 1,
                video_digest=digest, size=video.stat().st_size,
            )
            state.replacement = job
            save()
            self.checkpoint("journal")

        if job.video_id is None:
            tag = key_tag(series_id, episode, job.revision, digest)
            snippet = {**self._snippet(metadata, tag)}
            self.check_metadata(snippet)
            # Private and not scheduled: if everything stopped here, it could never go public by itself.
            body = {"snippet": snippet, "status": {
                "privacyStatus": "private",
                "selfDeclaredMadeForKids": metadata.made_for_kids,
                "containsSyntheticMedia": metadata.contains_synthetic_media,
            }}
            resource = None
            if job.session_uri:
                try:
                    resource = self._upload(job, save, video, body, series_id, episode)
                except SessionGone:
                    # The session expired, perhaps after it finished: look for the upload by its tag.
                    job.session_uri = None
                    save()
                    resource = self.find_uploaded(series_id, episode, revision=job.revision)
                    if resource is not None:
                        self.notes.append(f"found the replacement {resource['id']} already on the channel")
            if resource is None:
                resource = self._upload(job, save, video, body, series_id, episode)
            job.video_id, job.session_uri = resource["id"], None
            save()
            self.checkpoint("uploaded")
        thumb_digest = file_digest(thumbnail)
        if job.thumbnail_digest != thumb_digest:
            self._set_thumbnail(job.video_id, thumbnail, series_id, episode)
            job.thumbnail_digest = thumb_digest
            save()
            self.checkpoint("thumbnail")
        if captions is not None and self._sync_captions(job, captions, series_id, episode, save):
            self.checkpoint("captions")
        if playlist is not None and job.playlist_item is None:
            self._sync_playlist(job, playlist, series_id, episode, save)
            self.checkpoint("playlist")
        if not job.scheduled:
            live = self._live_status(job.old_video_id, series_id, episode) or job.old_status
            if self._released(live) and not self._released(job.old_status) and not self.replace_after_release:
                # Released while the replacement was under way: too late; the new video goes, the old stays.
                if job.playlist_item:
                    self._delete_item(job.playlist_item.split("/", 1)[1], series_id, episode)
                self._delete_video(job.video_id, series_id, episode)
                state.replacement = None
                save()
                self.kept_after_release = (
                    f"{job.old_video_id} was released before its replacement was ready; the channel keeps it "
                    "(the replacement upload was deleted)"
                )
                self.notes.append(self.kept_after_release)
                return False
            status = {
                "privacyStatus": live.get("privacyStatus", "private"),
                "selfDeclaredMadeForKids": metadata.made_for_kids,
                "containsSyntheticMedia": metadata.contains_synthetic_media,
            }
            if live.get("publishAt") and status["privacyStatus"] == "private":
                status["publishAt"] = live["publishAt"]
            self._call(
                "videos.update", f"release of {series_id} ep {episode} moves to the new cut",
                lambda: self.service.videos().update(part="status", body={"id": job.video_id, "status": status}).execute(),
                series_id=series_id, episode=episode,
            )
            job.scheduled, job.old_status = True, live
            save()
            self.checkpoint("scheduled")
        if not job.old_deleted:
            self._delete_video(job.old_video_id, series_id, episode)
            job.old_deleted = True
            save()
            self.checkpoint("old deleted")
        if playlist is not None and not job.old_item_removed:
            # YouTube leaves a "Deleted video" entry in the playlist; the slot now belongs to the new cut.
            old_item = state.playlist_item.split("/", 1)[1] if state.playlist_item else None
            if old_item is None:
                playlist_id = self.series_playlist(playlist)
                old_item = next((i for i, v in self._playlist_items(playlist_id, series_id, episode) if v == job.old_video_id), None)
            if old_item:
                self._delete_item(old_item, series_id, episode)
            job.old_item_removed = True
            save()
            self.checkpoint("old entry removed")
        # The state takes the new video.
        state.video_id, state.video_digest, state.size, state.revision = job.video_id, job.video_digest, job.size, job.revision
        state.thumbnail_digest = job.thumbnail_digest
        state.caption_id, state.caption_digest, state.caption_pending = job.caption_id, job.caption_digest, None
        state.playlist_item = job.playlist_item
        state.snippet_fingerprint = self._snippet_fingerprint(self._snippet(metadata, key_tag(series_id, episode, job.revision, digest)))
        assert state.record is not None
        publish_at = job.old_status.get("publishAt")
        kept = metadata.model_copy(update={"publish_at": _iso(publish_at) if publish_at else state.record.metadata.publish_at})
        state.record = self._record(state, series_id, episode, kept, revision=state.record.revision)
        state.replacement = None
        save()
        self.notes.append(
            f"replaced {job.old_video_id} by {job.video_id} (cut revision {job.revision}): release, thumbnail, "
            "caption track and playlist slot moved; the old video deleted"
        )
        return True

    # ---- the interface -----------------------------------------------------------------------
    def find(self, series_id: str, episode: int) -> PublishedVideo | None:
        state = self._load(series_id, episode)
        return state.record if state and state.video_id else None

    def publish(
        self, series_id: str, episode: int, video: Path, thumbnail: Path, metadata: VideoMetadata,
        *, captions: Path | None = None, playlist: PlaylistMetadata | None = None,
    ) -> tuple[PublishedVideo, bool]:
        """Upload (or resume, or find) the episode's one video, with its thumbnail and Korean caption
        track (`captions`, an SRT) and its slot in the series playlist (`playlist`); returns the record
        and whether anything changed.

        Raises UploadDeferred when today's quota cannot take it, MetadataRefused when the metadata breaks a limit.
        """
        self.notes = []
        self.deferred_until = None
        self.kept_after_release = None
        video, thumbnail = Path(video), Path(thumbnail)
        captions = Path(captions) if captions else None
        digest = file_digest(video)
        key = upload_key(series_id, episode)
        metadata = metadata.model_copy(update={"publish_at": self._future_publish_at(metadata.publish_at)})
        snippet = self._snippet(metadata, key_tag(series_id, episode, 1, digest))
        self.check_metadata(snippet)
        with self._episode_lock(series_id, episode):
            state = self._load(series_id, episode) or UploadState(key=key)
            had_record = state.record is not None
            changed = False
            if state.replacement is not None or (state.video_id and state.video_digest != digest):
                changed = self._replace(state, video, digest, thumbnail, captions, playlist, metadata, series_id, episode)
                had_record = state.record is not None
            if state.video_id is None:
                extras = {
                    "thumbnails.set": 1,
                    **({"captions.insert": 1} if captions else {}),
                    **({"playlistItems.list": 1, "playlistItems.insert": 1} if playlist else {}),
                }
                resource = self._obtain_video(state, video, digest, snippet, metadata, series_id, episode, extras)
                state.video_id = resource["id"]
                parsed = next(
                    (p for p in map(parse_key_tag, resource.get("snippet", {}).get("tags", [])) if p and p[:2] == (series_id, episode)),
                    (series_id, episode, 1, digest[:8]),
                )
                state.revision = parsed[2]
                state.video_digest = digest if parsed[3] == digest[:8] else parsed[3]
                state.snippet_fingerprint = (
                    self._snippet_fingerprint(resource["snippet"]) if resource.get("snippet") else None
                )
                state.session_uri = None
                # A video found from an earlier run keeps the release time it was uploaded with.
                scheduled = resource.get("status", {}).get("publishAt")
                if scheduled:
                    metadata = metadata.model_copy(update={"publish_at": _iso(scheduled)})
                state.record = self._record(state, series_id, episode, metadata, revision=1)
                self._save(series_id, episode, state)
                changed = True

            # Keep the key tag the video was uploaded with, so later lookups still find it (and a
            # cut kept after release does not look like new metadata on every run).
            snippet = {**snippet, "tags": tags_with_key(metadata.tags, key_tag(series_id, episode, state.revision, state.video_digest))}
            if state.snippet_fingerprint != self._snippet_fingerprint(snippet):
                self.check_metadata(snippet)
                self._call(
                    "videos.update", f"metadata of {series_id} ep {episode}",
                    lambda: self.service.videos().update(part="snippet", body={"id": state.video_id, "snippet": snippet}).execute(),
                    series_id=series_id, episode=episode,
                )
                state.snippet_fingerprint = self._snippet_fingerprint(snippet)
                # The release slot stays what was scheduled at upload; only the text changed.
                assert state.record is not None
                kept = metadata.model_copy(update={"publish_at": state.record.metadata.publish_at})
                state.record = self._record(state, series_id, episode, kept, revision=state.record.revision)
                self._save(series_id, episode, state)
                changed = True
                self.notes.append("updated title/description/tags")

            thumb_digest = file_digest(thumbnail)
            if state.thumbnail_digest != thumb_digest:
                try:
                    self._set_thumbnail(state.video_id, thumbnail, series_id, episode)
                except QuotaDeferred as exc:
                    self._defer("thumbnail", exc)
                else:
                    state.thumbnail_digest = thumb_digest
                    self._save(series_id, episode, state)
                    changed = True
            if captions is not None and self.kept_after_release is None:  # a kept cut keeps its own captions' timing
                try:
                    changed |= self._sync_captions(state, captions, series_id, episode, lambda: self._save(series_id, episode, state))
                except QuotaDeferred as exc:
                    self._defer("caption track", exc)
            if playlist is not None:
                try:
                    changed |= self._sync_playlist(state, playlist, series_id, episode, lambda: self._save(series_id, episode, state))
                except QuotaDeferred as exc:
                    self._defer("playlist slot", exc)
            assert state.record is not None
            if changed and had_record:
                state.record = state.record.model_copy(update={"revision": state.record.revision + 1})
                self._save(series_id, episode, state)
            return state.record, changed

    def _obtain_video(self, state, video, digest, snippet, metadata, series_id, episode, extras: dict[str, int]) -> dict:
        """The episode's video resource: from the saved session, from the channel, or a new upload."""
        size = video.stat().st_size
        if state.session_uri and (state.video_digest != digest or state.size != size):
            # The cut changed before the upload finished: that session would make a mixed file.
            self.notes.append("the cut changed during an unfinished upload; that session is abandoned")
            state.session_uri = None
        if state.session_uri:
            resource = self._resume_or_none(state, video, snippet, metadata, series_id, episode)
            if resource is not None:
                return resource
        resource = self.find_uploaded(series_id, episode)
        if resource is not None:
            self.notes.append(f"found video {resource['id']} already on the channel; not uploading again")
            return resource
        # Started only when the episode can be completed today: the upload and what goes with it.
        self.quota.ensure(f"upload of {series_id} ep {episode}", {"videos.insert": 1, **extras})
        state.video_digest, state.size = digest, size
        self._save(series_id, episode, state)
        self.notes.append("uploaded")
        return self._upload(state, lambda: self._save(series_id, episode, state), video, self._body(snippet, metadata), series_id, episode)

    def _resume_or_none(self, state, video, snippet, metadata, series_id, episode) -> dict | None:
        try:
            return self._upload(state, lambda: self._save(series_id, episode, state), video, self._body(snippet, metadata), series_id, episode)
        except SessionGone:
            self.notes.append("the saved upload session had expired")
            state.session_uri = None
            self._save(series_id, episode, state)
            return None

    @staticmethod
    def _body(snippet: dict, metadata: VideoMetadata) -> dict:
        status = {
            "privacyStatus": metadata.privacy_status,
            "selfDeclaredMadeForKids": metadata.made_for_kids,
            "containsSyntheticMedia": metadata.contains_synthetic_media,
        }
        if metadata.publish_at:
            # Scheduled release: the video stays private until publishAt.
            status["privacyStatus"] = "private"
            status["publishAt"] = metadata.publish_at
        return {"snippet": snippet, "status": status}

    def _record(self, state: UploadState, series_id: str, episode: int, metadata: VideoMetadata, revision: int) -> PublishedVideo:
        return PublishedVideo(
            video_id=state.video_id or "",
            channel=self.name,
            series_id=series_id,
            episode_number=episode,
            video_digest=state.video_digest,
            metadata=metadata,
            uploaded_at=self.clock().isoformat(timespec="seconds"),
            revision=revision,
            url=f"https://www.youtube.com/watch?v={state.video_id}",
            cut_revision=state.revision,
        )

    # ---- feedback ----------------------------------------------------------------------------
    def fetch_feedback(self, video_id: str, max_comments: int = 1000, series_id: str = "", episode: int = 0) -> CollectedFeedback:
        """Statistics (videos.list) and top-level comments (commentThreads.list, all pages up to max_comments)."""
        from googleapiclient.errors import HttpError

        reply = self._call(
            "videos.list", f"statistics of {video_id}",
            lambda: self.service.videos().list(part="statistics", id=video_id).execute(),
            series_id=series_id, episode=episode,
        )
        items = reply.get("items") or []
        if not items:
            raise ValueError(f"YouTube has no video {video_id!r} on this channel (deleted?); feedback not collected")
        statistics = statistics_from_api(items[0].get("statistics", {}))
        comments = []
        note = ""
        page_token = None
        while len(comments) < max_comments:
            params = {"part": "snippet", "videoId": video_id, "maxResults": min(100, max_comments - len(comments)), "textFormat": "plainText"}
            if page_token:
                params["pageToken"] = page_token
            try:
                page = self._call(
                    "commentThreads.list", f"comments of {video_id}",
                    lambda: self.service.commentThreads().list(**params).execute(),
                    series_id=series_id, episode=episode,
                )
            except Exception as exc:  # noqa: BLE001 - disabled comments are an answer, not a failure
                cause = exc.__cause__
                if isinstance(cause, HttpError) and _error_reason(cause) == "commentsDisabled":
                    note = "comments are disabled on this video"
                    break
                raise
            comments.extend(comments_from_api_items(page.get("items", []), f"commentThreads of {video_id}"))
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        return CollectedFeedback(statistics=statistics, comments=comments[:max_comments], source="youtube", note=note)


class SessionGone(RuntimeError):
    """The saved resumable session no longer exists on the server."""


def _next_byte(resp) -> int:
    """The first byte a 308 answer says the server still needs (Range: bytes=0-N, or none yet)."""
    received = resp.get("range")
    return int(received.rsplit("-", 1)[1]) + 1 if received else 0


def youtube_publisher(
    storage_root: Path | str,
    *,
    token_file: Path,
    api_root: str | None = None,
    token_uri: str | None = None,
    quota=None,
    ledger: CostLedger | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    replace_after_release: bool = False,
) -> YouTubePublisher:
    """The YouTube publisher for a storage root: token loaded (refreshed if expired), state under <root>/youtube."""
    credentials = load_credentials(token_file, token_uri=token_uri)
    service, http = build_youtube_client(credentials, api_root)
    state_dir = Path(storage_root) / "youtube"
    return YouTubePublisher(
        service, http, state_dir, QuotaCounter(quota_path(storage_root), quota), ledger, chunk_bytes=chunk_bytes,
        credentials=credentials, token_file=Path(token_file), replace_after_release=replace_after_release,
    )
