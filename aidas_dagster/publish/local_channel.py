"""The offline channel: records what would be uploaded, and models what the YouTube publisher does.

Per episode one video folder `<channel>/<video id>/` (video.json, thumbnail.jpg and the Korean
caption track captions.ko.srt); `<channel>/episodes/<series>/<episode>.json` points at the
episode's current video; `<channel>/playlists/<series>.json` is the series playlist, episodes in
order. Re-publishing an unchanged episode changes nothing.

A re-cut (a changed video file) is handled as on YouTube: before the release the new cut replaces
the video (a new id for the new cut revision, the release slot, thumbnail, captions and playlist
slot move to it, the old folder is deleted); after the release the released video stays and
`kept_after_release` says so, unless `replace_after_release` is set. A small journal
(`<episode>.replacing.json`) lets a run killed mid-replacement finish it: ids are derived from
(series, episode, cut revision), so a repeated step writes the same folder again.

The local channel has no viewers. For feedback it reads what a user drops beside a video's record:
`<channel>/<video id>/comments.json` (a commentThreads.list response, a list of such pages, or a
list of {"text", "author", "likes"} objects) and optionally `statistics.json` (a videos.list
`statistics` object). Without them, feedback is empty.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from aidas_dagster.core.storage import Storage, atomic_path, file_digest, read_json, write_json
from aidas_dagster.publish.feedback import CollectedFeedback, comments_from_fixture, statistics_from_api
from aidas_dagster.publish.metadata import PlaylistMetadata, VideoMetadata

CAPTION_FILE = "captions.ko.srt"  # the Korean caption track, as YouTube's captions.insert would hold it


class PublishedVideo(BaseModel):
    video_id: str
    channel: str
    series_id: str
    episode_number: int
    video_digest: str
    metadata: VideoMetadata
    uploaded_at: str
    revision: int
    url: str
    cut_revision: int = 1  # which cut of the episode this video is (a replacement is the next)


class LocalChannel:
    name = "local"

    def __init__(
        self,
        root: Path,
        *,
        replace_after_release: bool = False,
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self.root = Path(root)
        self.replace_after_release = replace_after_release
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.notes: list[str] = []
        self.kept_after_release: str | None = None
        self.checkpoint: Callable[[str], None] = lambda step: None  # tests kill the run there

    @staticmethod
    def video_id(series_id: str, episode: int, cut_revision: int = 1) -> str:
        # Eleven characters like a YouTube id, stable for the episode's cut.
        key = f"{series_id}/{episode}" if cut_revision == 1 else f"{series_id}/{episode}/r{cut_revision}"
        return "L" + hashlib.sha256(key.encode()).hexdigest()[:10]

    def record_path(self, video_id: str) -> Path:
        return self.root / video_id / "video.json"

    def _pointer(self, series_id: str, episode: int) -> Path:
        return self.root / "episodes" / series_id / f"{episode:03d}.json"

    def _journal(self, series_id: str, episode: int) -> Path:
        return self.root / "episodes" / series_id / f"{episode:03d}.replacing.json"

    def playlist_path(self, series_id: str) -> Path:
        return self.root / "playlists" / f"{series_id}.json"

    def find(self, series_id: str, episode: int) -> PublishedVideo | None:
        pointer = self._pointer(series_id, episode)
        video_id = read_json(pointer)["video_id"] if pointer.exists() else self.video_id(series_id, episode)
        path = self.record_path(video_id)
        return PublishedVideo.model_validate(read_json(path)) if path.exists() else None

    def _released(self, record: PublishedVideo) -> bool:
        if record.metadata.privacy_status == "public" and not record.metadata.publish_at:
            return True
        when = record.metadata.publish_at
        return bool(when) and dt.datetime.fromisoformat(when) <= self.clock()

    def publish(
        self, series_id: str, episode: int, video: Path, thumbnail: Path, metadata: VideoMetadata,
        *, captions: Path | None = None, playlist: PlaylistMetadata | None = None,
    ) -> tuple[PublishedVideo, bool]:
        """Record the upload (thumbnail, caption track, playlist slot); returns the record and whether anything changed."""
        self.notes, self.kept_after_release = [], None
        journal = self._journal(series_id, episode)
        if journal.exists():
            self._finish_replacement(series_id, episode, read_json(journal))
        digest = file_digest(video)
        existing = self.find(series_id, episode)
        cut_revision = existing.cut_revision if existing else 1
        if existing and existing.video_digest != digest:
            if self._released(existing) and not self.replace_after_release:
                self.kept_after_release = (
                    f"the final cut changed after {existing.video_id} was released; the channel keeps the released video "
                    "(its views and comments stay; set AIDAS_YOUTUBE_REPLACE_AFTER_RELEASE=1 to replace released videos)"
                )
                self.notes.append(self.kept_after_release)
                digest = existing.video_digest  # viewers see the cut that was released
            else:
                cut_revision += 1
        video_id = self.video_id(series_id, episode, cut_revision)
        folder = self.root / video_id
        caption_file = folder / CAPTION_FILE
        captions_current = (
            captions is None or self.kept_after_release is not None
            or (caption_file.exists() and file_digest(caption_file) == file_digest(captions))
        )
        in_playlist = playlist is None or self._playlist_has(playlist, episode, video_id)
        if existing and existing.video_id == video_id and existing.video_digest == digest and existing.metadata == metadata \
                and captions_current and in_playlist:
            return existing, False
        replacing = existing is not None and existing.video_id != video_id
        if replacing:
            # Journal first: a run killed from here on finishes this replacement.
            assert existing is not None
            write_json(self._journal(series_id, episode), {"old": existing.video_id, "new": video_id})
            self.checkpoint("journal")
        with atomic_path(folder / "thumbnail.jpg") as tmp:
            shutil.copyfile(thumbnail, tmp)
        if captions is not None and self.kept_after_release is None:
            with atomic_path(caption_file) as tmp:
                shutil.copyfile(captions, tmp)
        # The release slot moves to the new cut with the rest.
        publish_at = existing.metadata.publish_at if existing else metadata.publish_at
        record = PublishedVideo(
            video_id=video_id,
            channel=self.name,
            series_id=series_id,
            episode_number=episode,
            video_digest=digest,
            metadata=metadata.model_copy(update={"publish_at": publish_at}) if existing else metadata,
            uploaded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            revision=(existing.revision + 1) if existing else 1,
            url=(folder / "video.json").resolve().as_uri(),
            cut_revision=cut_revision,
        )
        # The video itself stays where the final cut wrote it; the record points at its digest.
        write_json(self.record_path(video_id), record)
        self.checkpoint("uploaded")
        if playlist is not None:
            self._place(playlist, episode, video_id)
            self.checkpoint("playlist")
        write_json(self._pointer(series_id, episode), {"video_id": video_id})
        self.checkpoint("switched")
        if replacing:
            assert existing is not None
            self._finish_replacement(series_id, episode, {"old": existing.video_id, "new": video_id})
            self.notes.append(
                f"replaced {existing.video_id} by {video_id} (cut revision {cut_revision}): release, thumbnail, "
                "caption track and playlist slot moved; the old video deleted"
            )
        return record, True

    def _finish_replacement(self, series_id: str, episode: int, job: dict) -> None:
        """After the switch: the old folder goes. Before it: nothing to undo, the old video still holds."""
        pointer = self._pointer(series_id, episode)
        switched = pointer.exists() and read_json(pointer)["video_id"] == job["new"]
        stale = job["old"] if switched else job["new"]
        shutil.rmtree(self.root / stale, ignore_errors=True)
        if not switched:
            self._drop_from_playlists(stale)
        self._journal(series_id, episode).unlink(missing_ok=True)

    # ---- the series playlist -------------------------------------------------------------------
    def _read_playlist(self, spec: PlaylistMetadata) -> dict:
        path = self.playlist_path(spec.series_id)
        data = read_json(path) if path.exists() else {"playlist_id": "LP" + hashlib.sha256(spec.series_id.encode()).hexdigest()[:10], "items": []}
        return {**data, "title": spec.title, "description": spec.description}

    def _playlist_has(self, spec: PlaylistMetadata, episode: int, video_id: str) -> bool:
        path = self.playlist_path(spec.series_id)
        if not path.exists():
            return False
        data = read_json(path)
        return {"episode": episode, "video_id": video_id} in data["items"] and data["title"] == spec.title \
            and data["description"] == spec.description

    def _place(self, spec: PlaylistMetadata, episode: int, video_id: str) -> None:
        """The episode's slot holds `video_id`; slots in episode order."""
        data = self._read_playlist(spec)
        items = [i for i in data["items"] if i["episode"] != episode] + [{"episode": episode, "video_id": video_id}]
        data["items"] = sorted(items, key=lambda i: i["episode"])
        write_json(self.playlist_path(spec.series_id), data)

    def _drop_from_playlists(self, video_id: str) -> None:
        for path in (self.root / "playlists").glob("*.json"):
            data = read_json(path)
            kept = [i for i in data["items"] if i["video_id"] != video_id]
            if kept != data["items"]:
                write_json(path, {**data, "items": kept})

    # ---- feedback -------------------------------------------------------------------------------
    def comments_path(self, video_id: str) -> Path:
        return self.root / video_id / "comments.json"

    def fetch_feedback(self, video_id: str, max_comments: int = 1000, series_id: str = "", episode: int = 0) -> CollectedFeedback:
        """Comments and statistics a user dropped into the video's folder; empty when there are none."""
        comments_file = self.comments_path(video_id)
        stats_file = self.root / video_id / "statistics.json"
        comments = comments_from_fixture(read_json(comments_file), str(comments_file)) if comments_file.exists() else []
        stats = statistics_from_api(read_json(stats_file)) if stats_file.exists() else statistics_from_api({})
        if not comments_file.exists():
            note = f"the local channel has no viewers; drop comments into {comments_file} to try feedback"
            return CollectedFeedback(statistics=stats, comments=[], source="local-empty", note=note)
        return CollectedFeedback(statistics=stats, comments=comments[:max_comments], source="local-fixture")


def load_publish_record(storage: Storage, series_id: str, episode: int) -> PublishedVideo:
    """The episode's publish record (`publish.json`): where its video is and with which metadata."""
    files = storage.episode(series_id, episode)
    return files.load(files.publish, PublishedVideo)
