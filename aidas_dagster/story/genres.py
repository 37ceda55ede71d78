"""Genre templates (spec 7.1): how a series of a genre is paced.

A genre template says its acts, the beats that must happen and where (by progress through the
series), the tone and the dialogue flavours. Korean text may hold `{key}` or `{key|이/가}`
placeholders (a cast key, with the particle chosen by the engine).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

GENRE_KEYS = ("romance", "thriller", "comedy", "romantic_comedy", "drama")


# ---------------------------------------------------------------------------------------------
# Genre templates
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BeatSpec:
    name: str
    progress: float  # 0.0 = first episode, 1.0 = last
    description: str
    title: str = ""  # episode title used when this beat lands in an episode


@dataclass(frozen=True)
class ArcSpec:
    name: str
    end: float  # fraction of the series at which this part ends
    description: str


@dataclass(frozen=True)
class GenreTemplate:
    key: str
    label: str
    structure: tuple[tuple[str, str], ...]  # act -> description, as in the spec
    required_elements: tuple[str, ...]
    pacing: tuple[tuple[str, float], ...]
    min_characters: int
    character_roles: tuple[str, ...]
    beats: tuple[BeatSpec, ...]
    arc: tuple[ArcSpec, ArcSpec, ArcSpec, ArcSpec]
    tone: str
    themes: tuple[str, ...]
    world: str
    flavors: tuple[str, ...]  # dialogue flavours the engine mixes in
    comedy_beats_per_episode: int = 0


_ROMANCE_BEATS = (
    BeatSpec("first_meeting", 0.0, "{lead_m|과/와} {lead_f|이/가} 최악의 첫 만남을 한다", "최악의 첫 만남"),
    BeatSpec(
        "growing_attraction", 0.2, "서로를 의식하기 시작한 두 사람 사이에 묘한 설렘이 싹튼다", "자꾸 신경 쓰이는 사람"
    ),
    BeatSpec("first_conflict", 0.3, "{lead_f}의 비밀과 {lead_m}의 자존심이 처음으로 부딪친다", "첫 번째 다툼"),
    BeatSpec("confession", 0.5, "{lead_m|이/가} {lead_f}에게 마음을 고백한다", "고백의 온도"),
    BeatSpec("major_crisis", 0.8, "숨겨 온 비밀이 드러나며 두 사람이 헤어질 위기를 맞는다", "멀어지는 거리"),
    BeatSpec("resolution", 1.0, "모든 오해를 넘어 두 사람이 서로의 첫사랑이 된다", "처음이라서, 다시"),
)

_COMEDY_BEATS = (
    BeatSpec("character_quirks", 0.0, "괴짜 같은 인물들의 버릇과 사정이 한꺼번에 드러난다", "어서 오세요, 이 동네"),
    BeatSpec("misunderstanding", 0.3, "사소한 오해가 눈덩이처럼 불어나 모두가 들썩인다", "오해는 눈덩이처럼"),
    BeatSpec("running_gag", 0.45, "반복되는 농담이 모두의 입버릇이 된다", "또 그 소리"),
    BeatSpec("slapstick_moment", 0.6, "계획이 엉망으로 꼬이며 대소동이 벌어진다", "대소동"),
    BeatSpec("big_mixup", 0.8, "모든 오해가 한자리에서 터지는 대혼란이 벌어진다", "한꺼번에 터진 날"),
    BeatSpec("heartwarming_resolution", 1.0, "소동 끝에 모두가 서로의 진심을 확인한다", "결국은 우리"),
)

_THRILLER_BEATS = (
    BeatSpec(
        "inciting_incident", 0.0, "사건이 터지고 {lead_m|과/와} {lead_f|이/가} 수수께끼에 뛰어든다", "어둠 속의 미술관"
    ),
    BeatSpec("first_clue", 0.2, "첫 번째 결정적 단서가 발견된다", "첫 번째 단서"),
    BeatSpec("red_herring", 0.35, "모두가 엉뚱한 용의자를 범인으로 의심한다", "엇나간 화살"),
    BeatSpec("clue_revelation", 0.5, "흩어진 단서들이 하나의 방향을 가리키기 시작한다", "이어지는 점들"),
    BeatSpec("false_climax", 0.6, "범인을 잡았다고 믿는 순간, 진실이 빠져나간다", "잡았다는 착각"),
    BeatSpec("major_revelation", 0.7, "사건의 숨은 동기가 드러난다", "숨은 동기"),
    BeatSpec("final_twist", 0.9, "가장 믿었던 사람이 진범이라는 반전이 드러난다", "가장 가까운 곳"),
    BeatSpec("resolution", 1.0, "진실이 밝혀지고 남은 사람들이 상처를 딛고 일어선다", "진실의 무게"),
)

_DRAMA_BEATS = (
    BeatSpec("inciting_incident", 0.0, "한 통의 소식으로 {lead_f}의 일상이 흔들리기 시작한다", "돌아온 봄"),
    BeatSpec("secret_hinted", 0.25, "가족이 숨겨 온 비밀의 실마리가 보인다", "닫힌 서랍"),
    BeatSpec("turning_point", 0.5, "{lead_m|과/와} {lead_f|이/가} 서로에게 기대며 관계가 전환점을 맞는다", "기댈 어깨"),
    BeatSpec("secret_revealed", 0.7, "오래 묻어 둔 가족의 비밀이 드러난다", "묻어 둔 이야기"),
    BeatSpec("major_crisis", 0.8, "모든 것을 잃을 수 있는 위기가 찾아온다", "무너지는 밤"),
    BeatSpec("reconciliation", 1.0, "상처를 마주한 가족이 화해하고 새로운 봄을 맞는다", "다시 찍는 첫 장"),
)

_GI_SEUNG_JEON_GYEOL = ("기: 만남과 설정", "승: 관계 발전과 갈등 심화", "전: 위기와 절정", "결: 해결과 새로운 시작")

TEMPLATES: dict[str, GenreTemplate] = {
    "romance": GenreTemplate(
        key="romance",
        label="로맨스",
        structure=(("act1", "만남과 끌림 (20%)"), ("act2", "관계 발전과 갈등 (60%)"), ("act3", "위기와 해결 (20%)")),
        required_elements=tuple(b.name for b in _ROMANCE_BEATS),
        pacing=(("confession_timing", 0.5), ("crisis_timing", 0.8)),
        min_characters=4,
        character_roles=("주인공", "상대역", "조력자", "방해자"),
        beats=_ROMANCE_BEATS,
        arc=(
            ArcSpec(_GI_SEUNG_JEON_GYEOL[0], 0.2, "인물 소개와 배경 설정, 우연이 겹치는 첫 만남"),
            ArcSpec(_GI_SEUNG_JEON_GYEOL[1], 0.62, "끌림과 오해가 반복되며 관계가 깊어지고 갈등이 쌓인다"),
            ArcSpec(_GI_SEUNG_JEON_GYEOL[2], 0.82, "숨겨 온 비밀이 터지며 관계가 가장 큰 위기를 맞는다"),
            ArcSpec(_GI_SEUNG_JEON_GYEOL[3], 1.0, "오해를 풀고 서로를 선택하며 새로운 시작을 맞는다"),
        ),
        tone="설렘과 애틋함이 교차하는 섬세한 감성 톤",
        themes=("처음이라 서툰 사랑", "비밀과 진심", "성장"),
        world="first_love",
        flavors=("romance",),
    ),
    "romantic_comedy": GenreTemplate(
        key="romantic_comedy",
        label="로맨틱 코미디",
        structure=(
            ("act1", "만남과 끌림, 엉뚱한 첫인상 (20%)"),
            ("act2", "오해와 소동 속 관계 발전 (60%)"),
            ("act3", "위기와 유쾌한 해결 (20%)"),
        ),
        required_elements=tuple(b.name for b in _ROMANCE_BEATS) + tuple(b.name for b in _COMEDY_BEATS),
        pacing=(("confession_timing", 0.5), ("crisis_timing", 0.8), ("misunderstanding", 0.3)),
        min_characters=5,
        character_roles=("주인공", "상대역", "조력자", "방해자", "감초"),
        beats=tuple(sorted(_ROMANCE_BEATS + _COMEDY_BEATS, key=lambda b: b.progress)),
        arc=(
            ArcSpec(_GI_SEUNG_JEON_GYEOL[0], 0.2, "엉뚱한 첫 만남과 인물들의 사정, 웃음 속에 시작되는 인연"),
            ArcSpec(_GI_SEUNG_JEON_GYEOL[1], 0.62, "오해와 소동이 이어지며 티격태격하던 두 사람이 가까워진다"),
            ArcSpec(_GI_SEUNG_JEON_GYEOL[2], 0.82, "비밀이 들통나고 관계가 흔들리는 가장 큰 위기"),
            ArcSpec(_GI_SEUNG_JEON_GYEOL[3], 1.0, "모두의 응원 속에 서툰 첫사랑이 제자리를 찾는다"),
        ),
        tone="밝고 경쾌한 웃음 속에 설렘과 성장을 담은 따뜻한 톤",
        themes=("처음이라 서툰 사랑", "비밀과 진심", "곁에 있는 사람들의 응원"),
        world="first_love",
        flavors=("romance", "comedy"),
        comedy_beats_per_episode=10,
    ),
    "thriller": GenreTemplate(
        key="thriller",
        label="스릴러",
        structure=(
            ("act1", "사건 발생과 수수께끼 (25%)"),
            ("act2", "추적과 단서 수집 (50%)"),
            ("act3", "반전과 해결 (25%)"),
        ),
        required_elements=(
            "inciting_incident",
            "red_herrings",
            "clue_revelations",
            "false_climax",
            "true_villain_reveal",
            "resolution",
        ),
        pacing=(("first_clue", 0.2), ("major_revelation", 0.7), ("final_twist", 0.9)),
        min_characters=6,
        character_roles=("주인공", "조력자", "용의자들", "진범", "희생자"),
        beats=_THRILLER_BEATS,
        arc=(
            ArcSpec("기: 사건 발생", 0.25, "사건이 터지고 수수께끼와 인물들이 드러난다"),
            ArcSpec("승: 추적과 단서", 0.6, "단서를 쫓을수록 용의자가 늘고 거짓말이 쌓인다"),
            ArcSpec("전: 반전", 0.85, "숨은 동기가 드러나고 믿었던 것들이 무너진다"),
            ArcSpec("결: 진실", 1.0, "진범과 마주하고 남은 사람들이 진실의 대가를 치른다"),
        ),
        tone="서늘하고 긴장감 있는 톤, 매 회 끝에 숨을 멈추게 하는 반전",
        themes=("진실의 대가", "믿음과 배신", "기억"),
        world="gallery_case",
        flavors=("thriller",),
    ),
    "comedy": GenreTemplate(
        key="comedy",
        label="코미디",
        structure=(
            ("act1", "캐릭터 소개와 상황 설정 (30%)"),
            ("act2", "오해와 소동 (50%)"),
            ("act3", "해결과 교훈 (20%)"),
        ),
        required_elements=(
            "character_quirks",
            "misunderstandings",
            "running_gags",
            "slapstick_moments",
            "heartwarming_resolution",
        ),
        pacing=(("misunderstanding", 0.3), ("slapstick_moment", 0.6)),
        min_characters=5,
        character_roles=("주인공", "상대역", "감초", "방해자", "동네 사람들"),
        beats=_COMEDY_BEATS,
        arc=(
            ArcSpec("기: 이 동네 사람들", 0.3, "괴짜 인물들과 골목의 사정이 소개된다"),
            ArcSpec("승: 오해와 소동", 0.6, "오해가 오해를 부르며 소동이 커진다"),
            ArcSpec("전: 대혼란", 0.8, "모든 소동이 한꺼번에 터진다"),
            ArcSpec("결: 웃음과 교훈", 1.0, "소동 끝에 서로의 진심을 알게 된다"),
        ),
        tone="빠른 호흡의 유쾌한 소동극, 끝은 뭉클하게",
        themes=("이웃과 공동체", "실패해도 괜찮아", "가족 같은 이웃"),
        world="happy_arcade",
        flavors=("comedy",),
        comedy_beats_per_episode=10,
    ),
    "drama": GenreTemplate(
        key="drama",
        label="드라마",
        structure=(("act1", "귀향과 균열 (25%)"), ("act2", "비밀과 갈등 (50%)"), ("act3", "위기와 화해 (25%)")),
        required_elements=tuple(b.name for b in _DRAMA_BEATS),
        pacing=(("turning_point", 0.5), ("crisis_timing", 0.8)),
        min_characters=6,
        character_roles=("주인공", "상대역", "가족", "방해자", "이웃"),
        beats=_DRAMA_BEATS,
        arc=(
            ArcSpec("기: 돌아온 사람", 0.25, "주인공이 고향으로 돌아오며 멈춰 있던 관계가 다시 움직인다"),
            ArcSpec("승: 비밀과 갈등", 0.6, "가족과 이웃의 비밀이 하나씩 드러나며 갈등이 깊어진다"),
            ArcSpec("전: 무너지는 것들", 0.85, "지키려던 것을 모두 잃을 위기가 온다"),
            ArcSpec("결: 화해", 1.0, "상처를 마주하고 서로를 용서하며 새 출발을 한다"),
        ),
        tone="잔잔하지만 깊은 울림이 있는 가족 드라마 톤",
        themes=("가족", "화해", "다시 시작하는 용기"),
        world="printing_house",
        flavors=("drama",),
    ),
}

_ROMCOM_WORDS = ("로코", "romcom", "로맨틱코미디", "romanticcomedy")
_ROMANCE_WORDS = ("로맨스", "로맨틱", "멜로", "연애", "사랑", "순정", "romance", "romantic", "love", "melo")
_COMEDY_WORDS = ("코미디", "코메디", "코믹", "시트콤", "개그", "comedy", "comic", "sitcom", "funny", "humor")
_THRILLER_WORDS = (
    "스릴러",
    "미스터리",
    "미스테리",
    "추리",
    "서스펜스",
    "범죄",
    "수사",
    "호러",
    "공포",
    "느와르",
    "thriller",
    "mystery",
    "suspense",
    "crime",
    "detective",
    "noir",
    "horror",
)


def genre_key(genre: str) -> str:
    """Map a free-text genre (Korean or English) to a template key; unknown genres are `drama`."""
    text = re.sub(r"[\s\-_/·,.&+()]", "", genre.lower())
    romance = any(w in text for w in _ROMANCE_WORDS)
    comedy = any(w in text for w in _COMEDY_WORDS)
    if any(w in text for w in _ROMCOM_WORDS) or (romance and comedy):
        return "romantic_comedy"
    if any(w in text for w in _THRILLER_WORDS):
        return "thriller"
    if romance:
        return "romance"
    if comedy:
        return "comedy"
    return "drama"


# The spec names some required elements in the plural or by their purpose; the beat that fulfils them.
ELEMENT_BEATS = {
    "red_herrings": "red_herring",
    "clue_revelations": "clue_revelation",
    "true_villain_reveal": "final_twist",
    "misunderstandings": "misunderstanding",
    "running_gags": "running_gag",
    "slapstick_moments": "slapstick_moment",
}


def missing_elements(template: GenreTemplate, placed_beats: list[str]) -> list[str]:
    """The template's required elements (spec 7.1) that no placed beat fulfils."""
    placed = set(placed_beats)
    return [e for e in template.required_elements if ELEMENT_BEATS.get(e, e) not in placed]


def template_for(genre: str) -> GenreTemplate:
    """The template for a free-text genre or a template key."""
    return TEMPLATES[genre] if genre in TEMPLATES else TEMPLATES[genre_key(genre)]


def episode_at(progress: float, total_episodes: int) -> int:
    """The episode at a point of the series (0.0 → 1, 1.0 → last); rounds half up, never banker's."""
    return max(1, min(total_episodes, math.floor(progress * total_episodes + 0.5)))


def place_beats(template: GenreTemplate, total_episodes: int) -> list[tuple[BeatSpec, int]]:
    return [(beat, episode_at(beat.progress, total_episodes)) for beat in template.beats]


def arc_episodes(template: GenreTemplate, total_episodes: int) -> list[list[int]]:
    """Split episodes 1..N into the four arc parts; every episode in exactly one part.

    With four or more episodes every part gets at least one; shorter series leave a part empty.
    """
    n = total_episodes
    ends: list[int] = []
    prev = 0
    for i, part in enumerate(template.arc):
        end = n if i == 3 else math.floor(part.end * n + 0.5)
        if n >= 4:
            end = max(end, prev + 1)  # each part non-empty
            end = min(end, n - (3 - i))  # leave room for the parts after it
        end = max(prev, min(end, n))
        ends.append(end)
        prev = end
    parts, start = [], 1
    for end in ends:
        parts.append(list(range(start, end + 1)))
        start = end + 1
    return parts
