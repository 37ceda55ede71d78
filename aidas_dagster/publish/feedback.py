"""Viewer feedback of one episode: what was collected, and what it says.

Comments are data. They are cleaned (control characters, links and angle brackets removed, length
capped), counted and scored here; only numbers, character ids and fixed labels leave this module
towards the story. Viewers' suggestions are kept, cleaned, for the producer to read, and are never
handed to a writing model.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from aidas_dagster.publish.sentiment import analyse, split_clauses
from aidas_dagster.story.models import Roster

MAX_COMMENT_CHARS = 2000
MAX_SUGGESTION_CHARS = 200
MAX_SUGGESTIONS = 20

# Story elements viewers talk about: label -> words that name it.
ELEMENTS: dict[str, tuple[str, ...]] = {
    "story": ("스토리", "전개", "줄거리", "내용", "각본", "대본"),
    "romance": ("로맨스", "러브라인", "키스", "고백", "설렘", "케미", "커플"),
    "comedy": ("개그", "코미디", "웃음", "웃긴", "웃겨"),
    "twist": ("반전", "떡밥", "복선"),
    "ending": ("엔딩", "결말", "마무리", "마지막 장면"),
    "cliffhanger": ("다음 화", "다음화", "다음 편", "다음편", "궁금"),
    "voice": ("목소리", "음성", "더빙", "발음", "연기"),
    "visuals": ("영상", "화질", "그림", "아바타", "작화", "캐릭터 디자인"),
    "music": ("음악", "브금", "bgm", "ost", "배경음"),
    "subtitles": ("자막",),
}
# Pacing complaints: too slow / too fast.
PACING_SLOW = ("느리", "느려", "지루", "늘어지", "늘어져", "질질", "루즈", "고구마")
PACING_FAST = ("급전개", "너무 빠르", "너무 빨라", "급하게", "허무하", "생략")
# Phrases that mark a request or wish.
SUGGESTION_MARKERS = (
    "했으면", "하면 좋겠", "하면 좋을", "해주세요", "해 주세요", "주세요", "바랍니다", "나왔으면",
    "보고 싶", "보고싶", "많이 나", "더 나", "제발", "원해요",
)

_CONTROL = re.compile(r"[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_URL = re.compile(r"(https?://|www\.)\S+", re.IGNORECASE)


def sanitise(text: str, limit: int = MAX_COMMENT_CHARS) -> str:
    """Comment text made safe to store and show: no control or direction characters, links or angle brackets."""
    text = unicodedata.normalize("NFC", str(text))
    text = _CONTROL.sub("", text)
    text = _URL.sub("[링크]", text)
    text = text.replace("<", "‹").replace(">", "›").replace("`", "'")
    text = re.sub(r"[ \t]+", " ", text).strip()
    return text[:limit]


@dataclass(frozen=True)
class Comment:
    text: str
    author: str = ""
    author_id: str = ""
    likes: int = 0
    published_at: str = ""


@dataclass
class CollectedFeedback:
    statistics: dict[str, int]
    comments: list[Comment]
    source: str
    note: str = ""


def _int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def statistics_from_api(stats: dict) -> dict[str, int]:
    """videos.list statistics (counts arrive as strings) as integers."""
    return {
        "views": _int(stats.get("viewCount")),
        "likes": _int(stats.get("likeCount")),
        "favorites": _int(stats.get("favoriteCount")),
        "comments": _int(stats.get("commentCount")),
    }


def comments_from_api_items(items: Iterable[dict], where: str = "commentThreads") -> list[Comment]:
    """Top-level comments of commentThreads.list items; a malformed item names itself."""
    out = []
    for i, item in enumerate(items):
        try:
            snippet = item["snippet"]["topLevelComment"]["snippet"]
            text = snippet.get("textOriginal") or snippet.get("textDisplay") or ""
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{where}: item {i} has no snippet.topLevelComment.snippet ({exc})") from exc
        author_id = snippet.get("authorChannelId")
        out.append(
            Comment(
                text=sanitise(text),
                author=sanitise(snippet.get("authorDisplayName", ""), 100),
                author_id=str(author_id.get("value", "")) if isinstance(author_id, dict) else str(author_id or ""),
                likes=_int(snippet.get("likeCount")),
                published_at=str(snippet.get("publishedAt", "")),
            )
        )
    return out


def comments_from_fixture(data, where: str) -> list[Comment]:
    """Comments from a file a user drops in: a commentThreads.list response, a list of such pages,
    or a plain list of {"text", "author", "likes"} objects (or of strings)."""
    if isinstance(data, dict):
        return comments_from_api_items(data.get("items", []), where)
    if not isinstance(data, list):
        raise ValueError(f"{where}: expected a commentThreads response or a list of comments")
    out: list[Comment] = []
    for i, entry in enumerate(data):
        if isinstance(entry, str):
            out.append(Comment(text=sanitise(entry)))
        elif isinstance(entry, dict) and "items" in entry:
            out.extend(comments_from_api_items(entry["items"], where))
        elif isinstance(entry, dict) and isinstance(entry.get("text"), str):
            out.append(
                Comment(
                    text=sanitise(entry["text"]),
                    author=sanitise(str(entry.get("author", "")), 100),
                    author_id=str(entry.get("author_id", entry.get("author", ""))),
                    likes=_int(entry.get("likes")),
                )
            )
        else:
            raise ValueError(f"{where}: comment {i} is neither text nor an object with a 'text' field")
    return out


class CharacterPopularity(BaseModel):
    name: str
    mentions: int = 0
    positive: int = 0
    negative: int = 0
    score: float = Field(default=0.0, description="sum of the sentiment of the clauses that mention them, like-weighted")


class FeedbackReport(BaseModel):
    series_id: str
    episode: int
    video_id: str
    channel: str
    source: str
    collected_at: str
    statistics: dict[str, int]
    comments_analysed: int
    unique_authors: int
    overall_sentiment: float = Field(description="-1 (hostile) … +1 (delighted), mean over comments")
    sentiment_counts: dict[str, int]
    character_popularity: dict[str, CharacterPopularity] = Field(description="character id -> popularity")
    loved_elements: dict[str, int]
    disliked_elements: dict[str, int]
    pacing: dict[str, int] = Field(description="comments finding it too slow / too fast")
    suggestions: list[str] = Field(description="cleaned viewer requests, for people to read; never sent to a model")
    note: str = ""


def _name_patterns(roster: Roster) -> dict[str, list[str]]:
    """Names viewers use: the full name, and the given name when no other character shares it."""
    given = Counter(c.name[1:] for c in roster.characters if len(c.name) == 3)
    patterns: dict[str, list[str]] = {}
    for c in roster.characters:
        names = [c.name]
        if len(c.name) == 3 and given[c.name[1:]] == 1:
            names.append(c.name[1:])
        patterns[c.id] = names
    return patterns


def _mentions(clause: str, names: list[str]) -> bool:
    return any(name in clause for name in names)


def analyse_feedback(
    collected: CollectedFeedback,
    roster: Roster,
    *,
    series_id: str,
    episode: int,
    video_id: str,
    channel: str,
    collected_at: str,
) -> FeedbackReport:
    """Sentiment, character popularity, loved/disliked elements, pacing and suggestions of one episode.

    One comment per author counts (the longest), so one loud viewer is one voice.
    """
    by_author: dict[str, Comment] = {}
    anonymous: list[Comment] = []
    for c in collected.comments:
        if not c.text:
            continue
        who = c.author_id or c.author
        if not who:
            anonymous.append(c)
        elif who not in by_author or len(c.text) > len(by_author[who].text):
            by_author[who] = c
    comments = list(by_author.values()) + anonymous

    patterns = _name_patterns(roster)
    names = {c.id: c.name for c in roster.characters}
    popularity = {cid: CharacterPopularity(name=names[cid]) for cid in patterns}
    loved: Counter[str] = Counter()
    disliked: Counter[str] = Counter()
    pacing: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    suggestions: list[str] = []
    total = 0.0
    for comment in comments:
        weight = 1.0 + math.log1p(max(0, comment.likes)) / 4  # liked comments speak a little louder
        overall = analyse(comment.text)
        total += overall.score
        counts[overall.label] += 1
        feeling: dict[str, float] = {}  # character id -> how this comment feels about them
        # Each comment counts once per element and per pacing complaint, however many clauses repeat it.
        comment_loved: set[str] = set()
        comment_disliked: set[str] = set()
        comment_pacing: set[str] = set()
        for clause in split_clauses(comment.text):
            s = analyse(clause)
            lowered = clause.lower()
            for cid, pats in patterns.items():
                if _mentions(clause, pats):
                    # A wish to see more of someone counts as liking them.
                    wish = any(m in clause for m in SUGGESTION_MARKERS) and s.score >= 0
                    feeling[cid] = feeling.get(cid, 0.0) + (s.score if s.score else (0.5 if wish else 0.0))
            for element, words in ELEMENTS.items():
                if any(w in lowered for w in words):
                    if s.score > 0:
                        comment_loved.add(element)
                    elif s.score < 0:
                        comment_disliked.add(element)
            if any(w in lowered for w in PACING_SLOW):
                comment_pacing.add("too_slow")
            if any(w in lowered for w in PACING_FAST):
                comment_pacing.add("too_fast")
            if len(suggestions) < MAX_SUGGESTIONS and any(m in clause for m in SUGGESTION_MARKERS):
                suggestions.append(sanitise(clause, MAX_SUGGESTION_CHARS))
        for cid, value in feeling.items():
            pop = popularity[cid]
            pop.mentions += 1
            pop.positive += value > 0
            pop.negative += value < 0
            pop.score = round(pop.score + value * weight, 3)
        loved.update(comment_loved)
        disliked.update(comment_disliked)
        pacing.update(comment_pacing)
    return FeedbackReport(
        series_id=series_id,
        episode=episode,
        video_id=video_id,
        channel=channel,
        source=collected.source,
        collected_at=collected_at,
        statistics=collected.statistics,
        comments_analysed=len(comments),
        unique_authors=len(by_author),
        overall_sentiment=round(total / len(comments), 3) if comments else 0.0,
        sentiment_counts={k: counts.get(k, 0) for k in ("positive", "neutral", "negative")},
        character_popularity={cid: p for cid, p in popularity.items() if p.mentions},
        loved_elements=dict(loved.most_common()),
        disliked_elements=dict(disliked.most_common()),
        pacing={k: pacing.get(k, 0) for k in ("too_slow", "too_fast")},
        suggestions=suggestions,
        note=collected.note,
    )
