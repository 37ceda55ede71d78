"""What the YouTube publisher remembers: the key tag every upload carries, and the per-episode
upload state (with a re-cut's replacement journal) and series playlist state it writes after every step.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from aidas_dagster.publish.local_channel import PublishedVideo


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
