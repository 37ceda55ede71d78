"""The resumable upload session, driven by hand: the session is started with its own POST and saved
before the first chunk, chunks are bytes (a re-send by httplib2 carries them), and a failed chunk is
followed by status queries with their own retry budget (see youtube.py's docstring for the protocol).

A mixin of YouTubePublisher: it uses the publisher's service, http, `_call`, policies and progress hook.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from googleapiclient.errors import HttpError

from aidas_dagster.core.ledger import LedgerEntry
from aidas_dagster.core.paid_call import ProviderError
from aidas_dagster.publish.youtube_api import classify_youtube_error

DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024  # a multiple of 256 KiB, as the protocol asks


class SessionGone(RuntimeError):
    """The saved resumable session no longer exists on the server."""


def _next_byte(resp) -> int:
    """The first byte a 308 answer says the server still needs (Range: bytes=0-N, or none yet)."""
    received = resp.get("range")
    return int(received.rsplit("-", 1)[1]) + 1 if received else 0


class ResumableUpload:
    # ---- upload ------------------------------------------------------------------------------
    def _probe(self, uri: str, size: int, series_id: str, episode: int) -> tuple[str, Any]:
        """Where a resumable session stands: ('done', video) | ('partial', next byte) | ('gone', None).

        Status queries have their own retry budget (`status_policy`): a burst of 503s while asking
        must not use up the attempts of the chunk that is being sent.
        """
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
        from googleapiclient.http import MediaIoBaseUpload  # ~0.3 s to import; only when uploading

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
