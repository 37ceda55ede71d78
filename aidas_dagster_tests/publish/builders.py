"""Builders shared by the publish tests: a publisher on the local YouTube server, metadata, episode files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from google.oauth2.credentials import Credentials

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.core.ledger import CostLedger
from aidas_dagster.core.paid_call import RetryPolicy
from aidas_dagster.publish.metadata import VideoMetadata, build_playlist_metadata
from aidas_dagster.publish.quota import QuotaCounter, QuotaSettings
from aidas_dagster.publish.youtube import YouTubePublisher, build_youtube_client
from aidas_dagster_tests.fakes.youtube_server import YouTubeServer

CHUNK = 256 * 1024
SRT = "1\n00:00:01,000 --> 00:00:03,500\n서연: 안녕하세요, 처음 뵙겠습니다.\n\n2\n00:00:04,000 --> 00:00:06,000\n민준: 반가워요.\n"


class Crash(BaseException):
    """Stands in for the process dying (SIGKILL, power loss): nothing catches it."""


def make_publisher(tmp_path: Path, fake: YouTubeServer, quota: QuotaSettings | None = None, on_progress=None) -> YouTubePublisher:
    """A fresh client and publisher, as a new process would build them from the same storage."""
    service, http = build_youtube_client(Credentials(token="test-access-token"), fake.base_url)
    return YouTubePublisher(
        service,
        http,
        tmp_path / "storage" / "youtube",
        QuotaCounter(tmp_path / "storage" / "youtube" / "quota.json", quota or QuotaSettings()),
        CostLedger(tmp_path / "storage" / "ledger" / "costs.jsonl"),
        chunk_bytes=CHUNK,
        policy=RetryPolicy(max_attempts=3, base_delay=0.0),
        sleep=lambda s: None,
        on_progress=on_progress,
    )


def metadata(title: str = "짧은 첫사랑 EP.1 - 첫 만남", publish_at: dt.datetime | None = None) -> VideoMetadata:
    when = publish_at or (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).replace(microsecond=0)
    return VideoMetadata(
        title=title,
        description="짧은 첫사랑 1화 - 첫 만남\n\n[줄거리]\n두 사람이 처음 만난다.",
        tags=["AI드라마", "웹드라마", "짧은 첫사랑"],
        publish_at=when.isoformat(),
    )


CONFIG = SeriesConfig(
    series_id="short-love", title="짧은 첫사랑", genre="로맨틱 코미디", total_episodes=3, episode_duration=1,
    main_theme="설렘", target_audience="20대",
)
PLAYLIST = build_playlist_metadata(CONFIG)


def episode_files(tmp_path: Path, episode: int, cut: int = 1) -> tuple[Path, Path, Path]:
    folder = tmp_path / f"ep{episode:03d}-cut{cut}"
    folder.mkdir(exist_ok=True)
    video, thumb, captions = folder / "video.mp4", folder / "thumbnail.jpg", folder / "captions.srt"
    video.write_bytes(bytes([episode, cut]) * 300_000)
    thumb.write_bytes(b"\xff\xd8\xff" + bytes([episode, cut]) * 300)
    captions.write_text(SRT.replace("반가워요", f"{episode}화 {cut}번째 편집"), encoding="utf-8")
    return video, thumb, captions
