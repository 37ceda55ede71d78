"""What goes with an uploaded video: its thumbnail, its Korean caption track from the SRT, and its
slot in the series playlist (found again by the key line `aidas-series:<id>` in its description),
each done at most once and recorded in the upload state.

A mixin of YouTubePublisher: it uses the publisher's service, state folder, `_call` and notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aidas_dagster.core.storage import exclusive_lock, file_digest, fingerprint, read_json, write_json
from aidas_dagster.publish.metadata import PlaylistMetadata, metadata_problems
from aidas_dagster.publish.youtube_api import MetadataRefused, unless_gone
from aidas_dagster.publish.youtube_state import PlaylistState, UploadState, parse_key_tag

CAPTION_LANGUAGE = "ko"
CAPTION_NAME = "한국어"


class VideoAttachments:
    def _set_thumbnail(self, video_id: str, thumbnail: Path, series_id: str, episode: int) -> None:
        from googleapiclient.http import MediaFileUpload  # ~0.3 s to import; only when publishing

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
        from googleapiclient.http import MediaInMemoryUpload  # ~0.3 s to import; only when publishing

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
        with exclusive_lock(self._playlist_state_path(series_id).with_suffix(".lock")):
            yield

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
        delete = unless_gone(lambda: self.service.playlistItems().delete(id=item_id).execute())
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
