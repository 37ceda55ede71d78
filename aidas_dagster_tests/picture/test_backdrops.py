"""Backdrop kinds: every kind draws its own place, names map to kinds, the bible's kind wins."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aidas_dagster.story.place_kinds import BACKDROP_KINDS
from aidas_dagster.picture.backdrops import Backdrops, draw_backdrop, draw_place, location_kind, resolve_kind
from aidas_dagster.picture.places import UNGRADED
from aidas_dagster_tests.picture.builders import TITLE, make_episode

SELF_LIT = {"stage", "broadcast_studio", "film_set"}  # lit by their own rig: the time of day leaves them alone


def small(img: Image.Image) -> np.ndarray:
    return np.asarray(img.resize((96, 54), Image.BOX), dtype=np.float32)


@pytest.fixture(scope="module")
def drawings() -> dict[str, np.ndarray]:
    # One place name for all: whatever differs comes from the kind's drawer, not the seed.
    return {kind: small(draw_place("그곳", "낮", kind)) for kind in (*BACKDROP_KINDS, "generic")}


def test_the_kind_list_is_the_contract():
    assert len(BACKDROP_KINDS) == 52 and len(set(BACKDROP_KINDS)) == 52
    assert BACKDROP_KINDS[:3] == ("cafe", "office", "meeting_room") and BACKDROP_KINDS[-1] == "village"


def test_every_kind_draws_its_own_picture_not_the_generic_one(drawings):
    generic = drawings["generic"]
    kinds = list(BACKDROP_KINDS)
    for kind in kinds:
        img = drawings[kind]
        assert np.abs(img - generic).mean() > 20, f"{kind} looks like the generic fallback"
        assert img.std() > 15, f"{kind} is nearly flat: nothing drawn"
    # Pairwise: no two kinds draw (nearly) the same picture.
    closest = min(
        (np.abs(drawings[a] - drawings[b]).mean(), a, b) for i, a in enumerate(kinds) for b in kinds[i + 1 :]
    )
    assert closest[0] > 12, f"{closest[1]} and {closest[2]} look alike ({closest[0]:.1f})"


def test_every_kind_is_graded_by_the_time_of_day():
    """Outdoor kinds are graded while drawn (Scene.lit), rooms by the tint afterwards: either way
    night is darker, except where a place's own rig lights it."""
    for kind in BACKDROP_KINDS:
        if kind in UNGRADED:
            day, night = small(draw_place("그곳", "낮", kind)).mean(), small(draw_place("그곳", "밤", kind)).mean()
        else:
            day = night = None
        if kind in SELF_LIT:
            assert night == pytest.approx(day, abs=1.5), kind
        elif day is not None:
            assert night < day - 8, f"{kind}: night ({night:.0f}) not darker than day ({day:.0f})"
    for kind in ("courtroom", "kitchen", "airplane_cabin", "palace_hall"):  # rooms: the tint
        day = np.asarray(draw_backdrop("그곳", "낮", "", kind)).mean()
        night = np.asarray(draw_backdrop("그곳", "밤", "", kind)).mean()
        assert night < day - 8, f"{kind}: night ({night:.0f}) not darker than day ({day:.0f})"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("응급실", "hospital"), ("대학병원 응급실", "hospital"), ("병원 옥상", "rooftop"), ("수술실", "operating_room"),
        ("서울중앙지법 법정", "courtroom"), ("법원 복도 끝 법정", "courtroom"), ("방송국 보도국", "newsroom"),
        ("보도국", "newsroom"), ("방송국 스튜디오", "broadcast_studio"), ("궁궐", "palace_hall"), ("편전", "palace_hall"),
        ("궁궐 편전", "palace_hall"), ("창덕궁 후원", "palace_garden"), ("궁궐 정원", "palace_garden"), ("레스토랑 주방", "kitchen"),
        ("주방", "kitchen"), ("지우네 부엌", "kitchen"), ("체육관", "gym"), ("야구장 관중석", "stadium"), ("라커룸", "locker_room"),
        ("호텔 로비", "hotel_lobby"), ("호텔 객실", "hotel_room"), ("인천공항 출국장", "airport"), ("공항", "airport"),
        ("기내", "airplane_cabin"), ("비행기 안", "airplane_cabin"), ("신당", "shrine"), ("교실", "school"),
        ("3학년 2반 교실", "school"), ("강의실", "lecture_hall"), ("연습실", "practice_room"), ("기획사 연습실", "practice_room"),
        ("성수동 카페", "cafe"), ("카페 앞", "street"), ("지우네 거실", "home"), ("고깃집", "restaurant"), ("취조실", "interrogation_room"),
        ("강력팀 사무실", "office"), ("경찰서", "police"), ("구치소 접견실", "prison"), ("지하 주차장", "parking_lot"),
        ("한강 공원", "riverside"), ("시장 뒷골목", "alley"), ("전통시장", "market"), ("편의점", "shop"), ("와인바", "bar"),
        ("대감댁 사랑채", "hanok"), ("웹툰 작업실", "art_studio"), ("드라마 세트장", "film_set"), ("미술관 전시실", "gallery"),
        ("목공소", "workshop"), ("대나무숲", "forest"), ("해수욕장", "beach"), ("산 정상", "mountain"), ("시골 마을", "village"),
        ("학교 도서관", "library"), ("기숙사 방", "dormitory"), ("국과수 연구실", "lab"), ("12층 회의실", "meeting_room"),
        ("버스 정류장", "bus_stop"), ("지하철 승강장", "subway"), ("택시 안", "car"), ("콘서트 무대", "stage"), ("어딘가", "generic"),
        ("courtroom", "courtroom"), ("palace hall", "palace_hall"), ("대학병원 복도", "hospital"), ("학교 복도", "school"),
        ("버스 종점", "bus_stop"), ("혜리동물병원 진료실", "hospital"), ("서광인쇄소", "workshop"), ("만복치킨 주방", "kitchen"),
    ],
)  # fmt: skip
def test_the_keyword_rule_reads_the_head_noun(name, kind):
    assert location_kind(name) == kind


def test_the_bibles_kind_wins_over_the_keyword_rule():
    name = "병원 옥상"  # the keyword rule says rooftop
    assert resolve_kind(name) == "rooftop"
    assert resolve_kind(name, {name: "courtroom"}) == "courtroom"
    assert resolve_kind(name, {name: "no_such_kind"}) == "rooftop"  # a kind we cannot draw falls back
    assert resolve_kind("다른 곳 카페", {name: "courtroom"}) == "cafe"  # places the bible does not name
    bible = Backdrops(kinds={name: "courtroom"})
    legacy = Backdrops()  # an old bible with no located places
    assert bible.kind_of(name) == "courtroom" and legacy.kind_of(name) == "rooftop"
    got = bible.get(name, "밤", "긴장")
    assert got.tobytes() == draw_backdrop(name, "밤", "긴장", "courtroom").tobytes()
    assert got.tobytes() != legacy.get(name, "밤", "긴장").tobytes()
    assert bible.ident(name, "밤")[1] == "courtroom" and legacy.ident(name, "밤")[1] == "rooftop"


def test_the_cut_draws_each_scene_as_the_bible_says(tmp_path):
    """build_timeline hands the bible's kinds to the backdrops: the segments' fingerprints name the
    kind (so a changed kind re-encodes), and the picture is that kind's drawing."""
    from aidas_dagster.picture.avatars import draw_roster_sprites
    from aidas_dagster.picture.clips import plan_clips
    from aidas_dagster.picture.timeline import build_timeline

    script, roster, track = make_episode(tmp_path / "audio")  # scenes at 성수동 카페 and 회사 사무실
    plan = plan_clips(script, roster, track, draw_roster_sprites(roster, tmp_path / "avatars"))
    legacy = build_timeline(plan, track, script, roster, TITLE)
    located = build_timeline(plan, track, script, roster, TITLE, location_kinds={"성수동 카페": "palace_hall"})

    def kinds(timeline) -> set[str]:
        return {seg.spec["backdrop"][1] for seg in timeline.segments if "backdrop" in seg.spec}

    assert kinds(legacy) == {"cafe", "office"}
    assert kinds(located) == {"palace_hall", "office"}
    assert [s.spec for s in legacy.segments if s.view and s.view.location == "회사 사무실"] == [
        s.spec for s in located.segments if s.view and s.view.location == "회사 사무실"
    ]  # the other place's segments keep their names: nothing else re-encodes
    bg = located.painter.backdrops.get("성수동 카페", "낮", "설렘")
    assert bg.tobytes() == draw_backdrop("성수동 카페", "낮", "설렘", "palace_hall").tobytes()


def test_the_keyword_rule_reads_the_story_librarys_place_names():
    """Legacy bibles and written scripts carry names only: the rule must read the names the
    setting library uses (its own kinds are the judgement it is compared with)."""
    import re

    import yaml

    from aidas_dagster.core.storage import ASSETS_DATA

    def places(node):
        if isinstance(node, dict):
            if {"name", "kind"} <= set(node):
                yield node["name"], node["kind"]
            for value in node.values():
                yield from places(value)
        elif isinstance(node, list):
            for value in node:
                yield from places(value)

    names = {}
    for path in sorted((ASSETS_DATA / "story").rglob("*.yaml")):
        names.update(places(yaml.safe_load(path.read_text(encoding="utf-8"))))
    if len(names) < 50:
        pytest.skip("no setting library in assets_data/story")
    read = {name: location_kind(re.sub(r"\{\w+\}", "", name)) for name in names}
    generic = [n for n, k in read.items() if k == "generic"]
    agree = sum(read[n] == k for n, k in names.items()) / len(names)
    assert len(generic) <= 0.02 * len(names), generic
    assert agree >= 0.8, f"the rule agrees with the library on {agree:.0%} of {len(names)} places"
