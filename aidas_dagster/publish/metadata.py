"""Upload metadata from the spec's templates (4.5.2), within YouTube's limits.

Limits: title ≤ 100 characters, description ≤ 5,000 bytes, tags ≤ 500 characters in all, and no
angle brackets in title or description. Text over a limit is trimmed here so the server never
rejects it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story.models import EpisodeScript

TITLE_MAX_CHARS = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX_CHARS = 500
CATEGORY_ENTERTAINMENT = "24"
SEOUL = ZoneInfo("Asia/Seoul")

TITLE_TEMPLATE = "{drama_title} EP.{episode_number} - {episode_title}"
DESCRIPTION_TEMPLATE = """{drama_title} {episode_number}화 - {episode_title}

📺 AI가 만든 새로운 형태의 웹드라마
🎭 출연: AI 아바타
✍️ 각본: AI ({writer})
🎵 음성: AI ({voice})

[줄거리]
{episode_summary}

[다음 이야기]
매일 {release_time} 업로드!

#AI드라마 #웹드라마 #{genre_tag}
"""
BASE_TAGS = ["AI드라마", "웹드라마", "AI", "인공지능", "AIContent", "WebDrama", "KDrama"]

# The series playlist. Its description ends with the key line that finds it again after a crash.
PLAYLIST_TITLE_TEMPLATE = "{drama_title} 전편 몰아보기"
PLAYLIST_DESCRIPTION_TEMPLATE = """{drama_title} - 전 {total_episodes}화, 1화부터 순서대로

📺 AI가 만든 새로운 형태의 웹드라마
🎭 장르: {genre} · 주제: {main_theme}
매일 {release_time} 새 에피소드 업로드!

#AI드라마 #웹드라마 #{genre_tag}
"""
PLAYLIST_KEY_PREFIX = "aidas-series:"


class PlaylistMetadata(BaseModel):
    """The series playlist's title and description (the key line included)."""

    series_id: str
    title: str
    description: str

    @property
    def key(self) -> str:
        return playlist_key(self.series_id)


def playlist_key(series_id: str) -> str:
    return f"{PLAYLIST_KEY_PREFIX}{series_id}"


class VideoMetadata(BaseModel):
    title: str
    description: str
    tags: list[str]
    category_id: str = CATEGORY_ENTERTAINMENT
    privacy_status: str = "private"
    publish_at: str | None = None
    made_for_kids: bool = False
    contains_synthetic_media: bool = True
    default_language: str = "ko"


def _clean(text: str) -> str:
    return text.replace("<", "‹").replace(">", "›")


def _trim_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - len("…".encode())].decode("utf-8", errors="ignore").rstrip() + "…"


def _trim_tags(tags: list[str]) -> list[str]:
    kept: list[str] = []
    used = 0
    for tag in dict.fromkeys(t.strip() for t in tags if t.strip()):
        tag = _clean(tag)
        # YouTube counts a tag with a space as if quoted, plus a separator between tags.
        cost = tags_length([tag]) + (1 if kept else 0)
        if used + cost > TAGS_MAX_CHARS:
            continue
        kept.append(tag)
        used += cost
    return kept


def korean_hour(hour: int) -> str:
    """19 -> "저녁 7시", as the spec's "매일 저녁 7시 업로드!" says it."""
    if hour == 0:
        return "밤 12시"
    if hour < 6:
        return f"새벽 {hour}시"
    if hour < 12:
        return f"아침 {hour}시"
    if hour == 12:
        return "낮 12시"
    return f"{'오후' if hour < 18 else '저녁'} {hour - 12}시"


def publish_slot(episode_day: date, hour: int, tz: ZoneInfo = SEOUL) -> datetime:
    return datetime.combine(episode_day, time(hour=hour), tzinfo=tz)


def next_publish_slot(now: datetime, hour: int, tz: ZoneInfo | str = SEOUL) -> datetime:
    """The next daily release slot (default Asia/Seoul) after `now`."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = now.astimezone(tz)
    slot = publish_slot(local.date(), hour, tz)
    return slot if slot > local else slot + timedelta(days=1)


def next_release(now: datetime, hour: int, tz: ZoneInfo | str = SEOUL, previous: datetime | None = None) -> datetime:
    """The episode's release slot: the next daily slot after `now`, and a day after the previous
    episode's slot, so one series releases one episode a day in order."""
    slot = next_publish_slot(now, hour, tz)
    if previous is not None:
        while slot <= previous:
            slot += timedelta(days=1)
    return slot


def tags_length(tags: list[str]) -> int:
    """Characters YouTube counts for a tag list: a tag with a space counts quoted, plus separators."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def metadata_problems(title: str, description: str, tags: list[str]) -> list[str]:
    """Why YouTube would reject this metadata (empty when it is within every limit)."""
    problems = []
    if not title.strip():
        problems.append("title is empty")
    if len(title) > TITLE_MAX_CHARS:
        problems.append(f"title is {len(title)} characters (limit {TITLE_MAX_CHARS})")
    size = len(description.encode("utf-8"))
    if size > DESCRIPTION_MAX_BYTES:
        problems.append(f"description is {size} bytes (limit {DESCRIPTION_MAX_BYTES})")
    if tags_length(tags) > TAGS_MAX_CHARS:
        problems.append(f"tags take {tags_length(tags)} characters (limit {TAGS_MAX_CHARS})")
    for field, text in (("title", title), ("description", description), ("tags", "".join(tags))):
        if "<" in text or ">" in text:
            problems.append(f"{field} contains an angle bracket (< or >)")
    return problems


def tags_with_key(tags: list[str], key_tag: str) -> list[str]:
    """The upload key first (it must survive trimming), then the other tags within the limit."""
    rest = _trim_tags(tags)
    kept = [key_tag]
    for tag in rest:
        if tag != key_tag and tags_length(kept + [tag]) <= TAGS_MAX_CHARS:
            kept.append(tag)
    return kept


def build_metadata(
    config: SeriesConfig,
    script: EpisodeScript,
    *,
    character_names: list[str],
    writer: str = "offline story engine",
    voice: str = "offline speech",
    publish_at: datetime | None = None,
    hour: int = 19,
) -> VideoMetadata:
    values = {
        "drama_title": config.title,
        "episode_number": script.episode_number,
        "episode_title": script.title,
        "episode_summary": script.summary,
        "genre_tag": config.genre.replace(" ", ""),
        "writer": writer,
        "voice": voice,
        "release_time": korean_hour(hour),
    }
    title = _clean(TITLE_TEMPLATE.format(**values))
    if len(title) > TITLE_MAX_CHARS:
        title = title[: TITLE_MAX_CHARS - 1].rstrip() + "…"
    description = _trim_bytes(_clean(DESCRIPTION_TEMPLATE.format(**values)), DESCRIPTION_MAX_BYTES)
    tags = _trim_tags(BASE_TAGS + [config.title, config.genre, *character_names])
    return VideoMetadata(
        title=title,
        description=description,
        tags=tags,
        publish_at=publish_at.isoformat() if publish_at else None,
    )


def build_playlist_metadata(config: SeriesConfig, *, hour: int = 19) -> PlaylistMetadata:
    """Title and description of the series playlist from the templates, within YouTube's limits;
    the description's last line is the key `aidas-series:<id>`, kept whatever is trimmed."""
    values = {
        "drama_title": config.title,
        "total_episodes": config.total_episodes,
        "genre": config.genre,
        "genre_tag": config.genre.replace(" ", ""),
        "main_theme": config.main_theme,
        "release_time": korean_hour(hour),
    }
    title = _clean(PLAYLIST_TITLE_TEMPLATE.format(**values))
    if len(title) > TITLE_MAX_CHARS:
        title = title[: TITLE_MAX_CHARS - 1].rstrip() + "…"
    key_line = "\n" + playlist_key(config.series_id)
    body = _trim_bytes(_clean(PLAYLIST_DESCRIPTION_TEMPLATE.format(**values)), DESCRIPTION_MAX_BYTES - len(key_line.encode()))
    return PlaylistMetadata(series_id=config.series_id, title=title, description=body.rstrip("\n") + "\n" + key_line)
