"""Publishing to YouTube with google-api-python-client: exactly once, resumable, within quota.

This module is the publisher: its calls, the exactly-once lookup, metadata, re-cut replacement and
feedback. Beside it: youtube_api.py (the client and what its errors mean), youtube_state.py (key
tags and the state files), youtube_upload.py (the resumable session), youtube_attachments.py
(thumbnail, captions, series playlist).

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
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from googleapiclient.errors import HttpError

from aidas_dagster.core.ledger import CostLedger, LedgerEntry
from aidas_dagster.core.paid_call import OutOfCredit, ProviderError, RetryPolicy, call_with_retry
from aidas_dagster.core.storage import Storage, exclusive_lock, file_digest, fingerprint, read_json, write_json
from aidas_dagster.publish.feedback import CollectedFeedback, comments_from_api_items, statistics_from_api
from aidas_dagster.publish.local_channel import PublishedVideo
from aidas_dagster.publish.metadata import PlaylistMetadata, VideoMetadata, metadata_problems, tags_with_key
from aidas_dagster.publish.oauth import load_credentials, refresh_credentials
from aidas_dagster.publish.quota import QuotaCounter, QuotaDeferred
from aidas_dagster.publish.youtube_api import (
    MetadataRefused,
    build_youtube_client,
    classify_youtube_error,
    error_reason,
    iso_time,
    unless_gone,
)
from aidas_dagster.publish.youtube_attachments import VideoAttachments
from aidas_dagster.publish.youtube_state import Replacement, UploadState, key_tag, parse_key_tag, upload_key
from aidas_dagster.publish.youtube_upload import DEFAULT_CHUNK_BYTES, ResumableUpload, SessionGone

log = logging.getLogger(__name__)

DEAD_UPLOADS = {"failed", "rejected", "deleted"}
UploadDeferred = QuotaDeferred


class YouTubePublisher(ResumableUpload, VideoAttachments):
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
        with exclusive_lock(self.state_path(series_id, episode).with_suffix(".lock")):
            yield

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
        return bool(publish_at) and dt.datetime.fromisoformat(iso_time(publish_at)) <= self.clock() + self.release_margin

    def _delete_video(self, video_id: str, series_id: str, episode: int) -> None:
        delete = unless_gone(lambda: self.service.videos().delete(id=video_id).execute())
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
        kept = metadata.model_copy(update={"publish_at": iso_time(publish_at) if publish_at else state.record.metadata.publish_at})
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
                    metadata = metadata.model_copy(update={"publish_at": iso_time(scheduled)})
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
                if isinstance(cause, HttpError) and error_reason(cause) == "commentsDisabled":
                    note = "comments are disabled on this video"
                    break
                raise
            comments.extend(comments_from_api_items(page.get("items", []), f"commentThreads of {video_id}"))
            page_token = page.get("nextPageToken")
            if not page_token:
                break
        return CollectedFeedback(statistics=statistics, comments=comments[:max_comments], source="youtube", note=note)


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
    storage = Storage(storage_root)
    return YouTubePublisher(
        service, http, storage.youtube_dir(), QuotaCounter(storage.youtube_quota_path(), quota), ledger, chunk_bytes=chunk_bytes,
        credentials=credentials, token_file=Path(token_file), replace_after_release=replace_after_release,
    )
