"""The offline channel: records what would be uploaded, and gives each episode a stable id.

Publishing is idempotent: the id is derived from the series and episode, so re-publishing the
same episode updates its record instead of creating a second video.

The local channel has no viewers. For feedback it reads what a user drops beside a video's record:
`<channel>/<video id>/comments.json` (a commentThreads.list response, a list of such pages, or a
list of {"text", "author", "likes"} objects) and optionally `statistics.json` (a videos.list
`statistics` object). Without them, feedback is empty.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel

from aidas_dagster.core.storage import atomic_path, file_digest, read_json, write_json
from aidas_dagster.publish.feedback import CollectedFeedback, comments_from_fixture, statistics_from_api
from aidas_dagster.publish.metadata import VideoMetadata


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


class LocalChannel:
    name = "local"

    def __init__(self, root: Path):
        self.root = Path(root)

    @staticmethod
    def video_id(series_id: str, episode: int) -> str:
        # Eleven characters like a YouTube id, stable for the episode.
        return "L" + hashlib.sha256(f"{series_id}/{episode}".encode()).hexdigest()[:10]

    def record_path(self, video_id: str) -> Path:
        return self.root / video_id / "video.json"

    def find(self, series_id: str, episode: int) -> PublishedVideo | None:
        path = self.record_path(self.video_id(series_id, episode))
        return PublishedVideo.model_validate(read_json(path)) if path.exists() else None

    def publish(
        self, series_id: str, episode: int, video: Path, thumbnail: Path, metadata: VideoMetadata,
        *, captions: Path | None = None,
    ) -> tuple[PublishedVideo, bool]:
        """Record the upload (thumbnail and Korean caption track beside it); returns the record and whether anything changed."""
        video_id = self.video_id(series_id, episode)
        digest = file_digest(video)
        existing = self.find(series_id, episode)
        folder = self.root / video_id
        caption_file = folder / CAPTION_FILE
        captions_current = captions is None or (caption_file.exists() and file_digest(caption_file) == file_digest(captions))
        if existing and existing.video_digest == digest and existing.metadata == metadata and captions_current:
            return existing, False
        with atomic_path(folder / "thumbnail.jpg") as tmp:
            shutil.copyfile(thumbnail, tmp)
        if captions is not None:
            with atomic_path(caption_file) as tmp:
                shutil.copyfile(captions, tmp)
        record = PublishedVideo(
            video_id=video_id,
            channel=self.name,
            series_id=series_id,
            episode_number=episode,
            video_digest=digest,
            metadata=metadata,
            uploaded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            revision=(existing.revision + 1) if existing else 1,
            url=(folder / "video.json").resolve().as_uri(),
        )
        # The video itself stays where the final cut wrote it; the record points at its digest.
        write_json(self.record_path(video_id), record)
        return record, True

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
