"""A small hand-made cast and episode for the voice tests (builders shared by several test modules)."""

from __future__ import annotations

from aidas_dagster.story.models import (
    Appearance,
    Character,
    EpisodeScript,
    Line,
    Roster,
    Scene,
    StoryState,
    VoiceProfile,
)
from aidas_dagster.voice.casting import cast_voices


SERIES = "voice-test"

# id, name, gender, age group, speaking style, importance
PEOPLE = [
    ("CHAR001", "한지우", "female", "young_adult", "energetic", "main"),
    ("CHAR002", "강태오", "male", "adult", "confident", "main"),
    ("CHAR003", "박서연", "female", "middle_age", "gentle", "major_supporting"),
    ("CHAR004", "김부장", "male", "senior", "formal", "minor"),
]

# scene atmosphere, then (speaker, text, emotion)
SCENES: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "창으로 햇살이 드는 느긋한 분위기",
        [
            ("CHAR001", "안녕하세요, 오랜만이에요.", "happy"),
            ("CHAR002", "정말 반가워요. 그동안 잘 지냈어요?", "neutral"),
            ("CHAR001", "네, 덕분에요.", "shy"),
            ("CHAR002", "다행이네요.", "calm"),
        ],
    ),
    (
        "긴장감이 감도는 분위기",
        [
            ("CHAR004", "내일 회의는 갑자기 취소됐습니다.", "tense"),
            ("CHAR003", "그게 무슨 말이에요? 이유라도 알려 주세요.", "worried"),
            ("CHAR004", "저도 방금 들었습니다.", "sad"),
        ],
    ),
    (
        "두 사람만 남은 듯 고요한 분위기",
        [
            ("CHAR001", "그럼 우리 둘이서 조용히 이야기해요.", "calm"),
            ("CHAR002", "좋아요, 지금 당장 가요!", "excited"),
        ],
    ),
]


def syllables(text: str) -> int:
    return sum(1 for ch in text if "가" <= ch <= "힣")


def make_roster() -> Roster:
    profiles = {
        cid: VoiceProfile(gender=g, age_group=age, tone="밝은", speaking_style=style)
        for cid, _n, g, age, style, _i in PEOPLE
    }
    voices = cast_voices((cid, profiles[cid], imp) for cid, *_rest, imp in PEOPLE)
    look = Appearance(skin="#f1c9a5", hair="#2b1d16", hair_style="long", outfit="#c0504d", outfit_style="casual",
                      eye="#3b2a20", accessory="none")  # fmt: skip
    characters = [
        Character(
            id=cid, name=name, role="주인공" if imp == "main" else "조연", importance=imp, gender=g, age=30,
            occupation="회사원", personality=["밝음"], background="서울", goals=["성공"], speech_style="존댓말",
            voice_profile=profiles[cid], appearance=look, avatar_strategy="full_avatar", voice=voices[cid],
        )  # fmt: skip
        for cid, name, g, _age, _style, imp in PEOPLE
    ]
    return Roster(series_id=SERIES, characters=characters, relationships=[])


def make_script(scenes: list[tuple[str, list[tuple[str, str, str]]]] = SCENES) -> EpisodeScript:
    built = [
        Scene(
            number=n, location="카페", time_of_day="오후", atmosphere=mood,
            characters=sorted({s for s, _t, _e in lines}),
            lines=[Line(speaker=s, text=t, emotion=e) for s, t, e in lines],
        )  # fmt: skip
        for n, (mood, lines) in enumerate(scenes, 1)
    ]
    state = StoryState(after_episode=1, character_states={}, relationships={}, key_events=[], open_threads=[],
                       resolved_threads=[], summaries=["요약"])  # fmt: skip
    return EpisodeScript(
        series_id=SERIES, episode_number=1, title="첫 만남", scenes=built, summary="요약", key_events=[],
        new_conflict="", partly_resolved="", cliffhanger="", state_after=state,
    )  # fmt: skip
