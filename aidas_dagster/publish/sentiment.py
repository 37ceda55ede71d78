"""Offline Korean sentiment for viewer comments: a small lexicon with negation and intensifiers.

Korean attaches endings to stems (좋아요, 좋았다, 좋은), so the lexicon holds stems and matches
inside words, longest first (재미없 before 재미있, 비호감 before 호감). Rules:
- negation: 안/못 before a word or fused to it (안 좋아, 안좋아), or 않/아니 right after it
  (좋지 않아) flips its polarity; a negated negative is only mildly positive (나쁘지 않다);
- intensifiers (너무, 진짜, 완전, 개-, 핵- …) strengthen the next sentiment word;
- ㅋㅋ and ㅎㅎ are laughter (mildly positive); ㅠㅠ/ㅜㅜ strengthen whatever the comment
  already feels, and alone are mildly sad.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POSITIVE: dict[str, float] = {
    "최고": 2.0, "명작": 2.0, "꿀잼": 2.0, "존잼": 2.0, "재밌": 1.5, "재미있": 1.5, "대박": 1.5,
    "사랑": 1.5, "설레": 1.5, "설렘": 1.5, "귀엽": 1.5, "귀여": 1.5, "멋있": 1.5, "멋지": 1.5, "멋져": 1.5,
    "감동": 1.5, "완벽": 1.5, "훌륭": 1.5, "짱": 1.5, "좋": 1.0, "예쁘": 1.2, "예뻐": 1.2, "이쁘": 1.2,
    "이뻐": 1.2, "잘생": 1.2, "매력": 1.2, "찰떡": 1.2, "호감": 1.0, "행복": 1.0, "힐링": 1.0, "기대": 1.0,
    "응원": 1.0, "웃기": 1.0, "웃겨": 1.0, "소름": 1.0, "케미": 1.0, "팬이": 1.0, "고마": 1.0, "감사": 1.0,
    "재미": 0.5,
}
NEGATIVE: dict[str, float] = {
    "노잼": -2.0, "재미없": -2.0, "최악": -2.0, "별로": -1.5, "지루": -1.5, "실망": -1.5, "짜증": -1.5,
    "억지": -1.5, "싫": -1.5, "비호감": -1.5, "발연기": -1.5, "유치": -1.0, "어색": -1.0, "답답": -1.0,
    "나쁘": -1.0, "나빠": -1.0, "못생": -1.2, "밉": -1.0, "불쾌": -1.5, "뻔하": -1.0, "뻔해": -1.0,
    "허무": -1.0, "아쉽": -0.8, "아쉬": -0.8, "의미없": -1.0, "고구마": -1.0, "루즈": -1.0, "느려": -0.8,
}
LEXICON = {**POSITIVE, **NEGATIVE}
_BY_LENGTH = sorted(LEXICON, key=len, reverse=True)

INTENSIFIERS = {"너무", "진짜", "정말", "완전", "엄청", "넘", "진심", "매우", "아주", "겁나", "레알", "개", "핵", "존나", "제일", "가장"}
FUSED_INTENSIFIERS = ("개", "핵", "존")
NEGATORS = {"안", "못"}
POST_NEGATORS = ("않", "아니", "못하")
INTENSIFY = 1.5
LAUGH = re.compile(r"[ㅋㅎ]{2,}")
CRY = re.compile(r"[ㅠㅜ]{2,}|😭|😢")
POSITIVE_EMOJI = "❤♥😍🥰😊👍💕💖😆🤣😂"
NEGATIVE_EMOJI = "😡👎🤮😒😠💢"
_CLAUSE_BREAK = re.compile(r"[.!?\n~…,;]+|\s(?:근데|그런데|하지만|그러나|반면)\s")


@dataclass(frozen=True)
class Sentiment:
    score: float  # -1 … +1
    raw: float

    @property
    def label(self) -> str:
        return "positive" if self.score > 0.15 else "negative" if self.score < -0.15 else "neutral"


def split_clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_BREAK.split(text) if c and c.strip()]


def _normalise(text: str) -> str:
    text = text.lower()
    # Spaced compounds read as one word: 재미 없다 -> 재미없다, 재미 있다 -> 재미있다.
    text = re.sub(r"재미(?:가|는|도)?\s*(없|있)", r"재미\1", text)
    text = re.sub(r"의미\s+없", "의미없", text)
    return text


def _hits(token: str) -> list[tuple[int, str]]:
    """Lexicon words inside a token, longest first, not overlapping: (position, word)."""
    taken = [False] * len(token)
    found = []
    for word in _BY_LENGTH:
        start = token.find(word)
        while start != -1:
            span = range(start, start + len(word))
            if not any(taken[i] for i in span):
                for i in span:
                    taken[i] = True
                found.append((start, word))
            start = token.find(word, start + 1)
    return sorted(found)


def analyse(text: str) -> Sentiment:
    text = _normalise(text)
    raw = 0.0
    tokens = re.sub(r"[ㅋㅎㅠㅜ]{2,}", " ", text).split()
    for i, token in enumerate(tokens):
        hits = _hits(token)
        if not hits:
            continue
        previous = tokens[i - 1] if i > 0 else ""
        before = tokens[i - 2] if i > 1 else ""
        following = " ".join(tokens[i + 1 : i + 3])
        for position, word in hits:
            value = LEXICON[word]
            prefix = token[:position]
            # Negation: a negator word before, fused before (안좋아), or 않/아니 after (좋지 않아).
            negated = (
                previous in NEGATORS
                or prefix in NEGATORS
                or any(token[position + len(word) :].find(n) != -1 for n in ("않", "아니"))
                or following.startswith(POST_NEGATORS)
            )
            if previous in INTENSIFIERS or before in INTENSIFIERS and previous in NEGATORS or prefix in FUSED_INTENSIFIERS:
                value *= INTENSIFY
            if negated:
                value = -value if value > 0 else -value * 0.5
            raw += value
    laughs = LAUGH.findall(text)
    if laughs:
        raw += 0.5 + (0.5 if max(len(run) for run in laughs) >= 5 else 0.0)
    raw += sum(text.count(e) for e in POSITIVE_EMOJI) - sum(text.count(e) for e in NEGATIVE_EMOJI)
    if CRY.search(text):
        raw = raw * 1.3 if raw else -0.3
    return Sentiment(score=round(raw / (abs(raw) + 1.5), 3), raw=round(raw, 3))
