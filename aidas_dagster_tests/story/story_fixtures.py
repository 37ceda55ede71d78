"""Small but valid story library data for tests that must not depend on the shipped settings, and a
whole series written by the offline engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story import offline_engine as oe
from aidas_dagster.story.library import STORY_DATA_DIR
from aidas_dagster.story.models import EpisodeScript, Roster, SeriesBible
from aidas_dagster.voice.casting import cast_voices

_ROLE_KEYS = [
    ("lead_m", "main", "male", None),
    ("lead_f", "main", "female", None),
    ("friend_m", "major_supporting", "male", None),
    ("friend_f", "major_supporting", "female", None),
    ("rival", "major_supporting", "male", None),
    ("boss", "major_supporting", "female", None),
    ("father", "supporting", "male", "fam"),
    ("mother", "supporting", "female", "fam"),
    ("sister", "supporting", "female", "fam"),
    ("junior", "minor", "male", None),
    ("client", "minor", "female", None),
    ("neighbor", "minor", "male", None),
]
_AGES = {"father": [55, 60], "mother": [52, 58], "sister": [20, 24]}


def setting_dict(key: str, keywords: list[str], occupations: dict[str, list[str]], place: str, kind: str,
                 genre_hint: str = "drama", word: str = "") -> dict:
    """A setting whose every role, place and line carries `word` (or the key) so tests can trace it."""
    w = word or key
    roles = []
    for rk, imp, gender, fam in _ROLE_KEYS:
        roles.append({
            "key": rk, "role": f"{w} {rk}", "importance": imp, "gender": gender,
            "age": _AGES.get(rk, [26, 34]),
            "occupations": occupations.get(rk, [f"{w} 직원", f"{w} 매니저"]),
            "personality": ["다정함", "솔직함", "고집스러움", "밝음", "신중함"],
            "backgrounds": [f"{w}에서 오래 일했다", f"{w}에 새로 왔다"],
            "goals": [f"{w}에서 인정받기", "가족 지키기", "꿈 이루기"],
            "secrets": [f"{w}의 빚"], "speech_style": "부드러운 존댓말",
            "home": {"name": f"{{{rk}}}의 집", "said": "집", "kind": "home"},
            "work": [f"{w} 업무", f"{w} 준비"], "family": fam or "",
        })
    conflicts = [
        {"keyword": f"{w} 사건 {i}", "description": f"{{lead_m|이/가}} {w} 사건 {i}에 휘말린다",
         "chars": ["lead_m", "friend_m"], "resolution": f"{{lead_f|이/가}} {w} 사건 {i}를 정리한다"}
        for i in range(1, 13)
    ]
    return {
        "key": key, "label": f"{w} 세계", "keywords": keywords, "genre_hint": genre_hint,
        "institutions": [f"{w} 본부", f"{w} 센터"],
        "vocabulary": [f"{w}어{i}" for i in range(12)], "props": [f"{w} 소품{i}" for i in range(6)],
        "locations": [{"name": f"{{institution}} {place}{i}", "said": f"{place}{i}", "kind": kind} for i in range(6)],
        "roles": roles,
        "relations": [{"a": "lead_m", "b": k, "type": "동료", "intimacy": 30, "arc": f"{{lead_m|과/와}} {{{k}}}의 거리"}
                      for k, *_ in _ROLE_KEYS[1:11]],
        "loglines": [f"{{institution}}의 {{lead_m|과/와}} {{lead_f|이/가}} {{theme|을/를}} 그리는 {{episodes}}부작 {{genre}}",
                     f"{{title}}: {w}에서 만난 두 사람, {{lead_f|과/와}} {{lead_m}}의 {{episodes}}부작 {{genre}}"],
        "main_conflicts": [{"keyword": f"{w} 위기", "description": f"{w}이 문을 닫을 위기", "chars": ["lead_m", "rival"],
                            "resolution": f"{{lead_m|이/가}} {w}을 지킨다"}],
        "conflicts": conflicts,
        "subplots": [{"title": f"{w} 서브플롯 {i}", "chars": ["friend_m", "friend_f"], "description": f"{{friend_m}}의 {w} 이야기 {i}"}
                     for i in range(3)],
        "titles": [f"{w} 제목 {i}" for i in range(16)],
        "atmospheres": [f"{w} 분위기 {i}" for i in range(4)],
        "lines": {"worry": [f"{w}어1 때문에 걱정이에요. {{K|은/는}} 어떻게 될까요?"]},
        "exchanges": {"greet": [[f"{{L}}, {w}어2 확인했어요?", f"네, {w}어3까지 다 봤어요."]]},
    }


GENRES = {
    "drama": ["드라마", "drama", "휴먼"],
    "romance": ["로맨스", "멜로", "romance"],
    "romantic_comedy": ["로맨틱 코미디", "로코", "romcom"],
    "comedy": ["코미디", "시트콤", "comedy"],
    "thriller": ["스릴러", "미스터리", "thriller"],
    "medical": ["메디컬", "의학 드라마", "의학", "medical"],
    "legal": ["법정 드라마", "법정물", "법정", "legal"],
    "historical": ["사극", "시대극", "historical"],
}


def genre_dict(key: str, words: list[str]) -> dict:
    return {
        "key": key, "label": f"{key} 장르", "words": words,
        "structure": [["act1", "시작"], ["act2", "전개"], ["act3", "결말"]],
        "min_characters": 4, "character_roles": ["주인공", "상대역", "조력자"],
        "beats": [{"name": "inciting_incident", "progress": 0.0, "description": "{lead_m|이/가} 사건을 만난다"},
                  {"name": "turning_point", "progress": 0.5, "description": "전환점"},
                  {"name": "major_crisis", "progress": 0.8, "description": "위기"},
                  {"name": "resolution", "progress": 1.0, "description": "해결"}],
        "arc": [{"name": "기", "end": 0.25, "description": "기"}, {"name": "승", "end": 0.5, "description": "승"},
                {"name": "전", "end": 0.8, "description": "전"}, {"name": "결", "end": 1.0, "description": "결"}],
        "tone": f"{key} 톤", "themes": ["성장", "관계"], "flavors": ["drama"],
        "cliffhangers": ["위기 발생", "비밀 발각", "선택의 기로"],
        "priority": -10 if key == "drama" else 0,
    }


def write_library(root: Path, settings: dict[str, dict]) -> Path:
    (root / "settings").mkdir(parents=True, exist_ok=True)
    (root / "genres").mkdir(parents=True, exist_ok=True)
    for key, data in settings.items():
        (root / "settings" / f"{key}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for key, words in GENRES.items():
        (root / "genres" / f"{key}.yaml").write_text(yaml.safe_dump(genre_dict(key, words), allow_unicode=True), encoding="utf-8")
    for name in ("premise.yaml", "names.yaml", "composed.yaml"):  # the composer's own data, as shipped
        shutil.copy(STORY_DATA_DIR / name, root / name)
    return root


def tiny_library(root: Path) -> Path:
    """Three settings: a hospital, a law firm, an office."""
    return write_library(root, {
        "hospital": setting_dict("hospital", ["병원", "응급실", "레지던트", "의사", "간호사", "hospital"],
                                 {"lead_m": ["응급의학과 레지던트", "외과 전공의"], "lead_f": ["응급실 간호사", "외과 레지던트"]},
                                 "응급실", "hospital", "medical", "병원"),
        "law": setting_dict("law", ["법정", "변호사", "로펌", "재판", "검사", "law"],
                            {"lead_m": ["검사", "로펌 변호사"], "lead_f": ["로펌 신입 변호사", "국선 변호사"]},
                            "법정", "courtroom", "legal", "로펌"),
        "office": setting_dict("office", ["회사", "신입사원", "사무실", "팀장", "직장"],
                               {"lead_m": ["기획팀 대리", "영업팀 팀장"], "lead_f": ["신입사원", "마케팅팀 사원"]},
                               "사무실", "office", "drama", "회사"),
    })


def produce(config: SeriesConfig, episodes: int | None = None) -> tuple[SeriesBible, Roster, list[EpisodeScript]]:
    bible = oe.write_bible(config)
    roster = oe.write_roster(config, bible, cast_voices)
    state = oe.initial_state(bible, roster)
    scripts = []
    for episode in range(1, (episodes or config.total_episodes) + 1):
        script = oe.write_script(bible, roster, state, episode)
        scripts.append(script)
        state = script.state_after
    return bible, roster, scripts
