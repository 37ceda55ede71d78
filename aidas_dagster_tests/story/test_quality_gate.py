"""The quality gate tells apart scripts that belong to their series from flawed ones.

Each flaw is put into a good offline script on purpose: a script from another world, one that
repeats the last episode, one whose exchanges contradict themselves, one that forgets a character.
Each must score clearly lower than the good script and block.
"""

from __future__ import annotations

import pytest

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story import offline_engine as oe
from aidas_dagster.story import quality as q
from aidas_dagster.story.library import LocationData, SettingData
from aidas_dagster.story.models import EpisodeScript, Line, Location
from aidas_dagster.story.quality_signals import exchange_contradictions, repetition
from aidas_dagster.voice.casting import cast_voices

CONFIG = SeriesConfig(
    series_id="gate-love", title="짧은 첫사랑", genre="로맨틱 코미디", total_episodes=4, episode_duration=2,
    main_theme="첫사랑의 설렘과 성장", target_audience="20-30대 여성",
)  # fmt: skip


def _setting(key: str, vocabulary: list[str], places: list[tuple[str, str]]) -> SettingData:
    """A setting as the premise check reads it (only its words matter here)."""
    return SettingData.model_construct(
        key=key, vocabulary=vocabulary, props=[], roles=[],
        locations=[LocationData(name=n, said=s, kind="office") for n, s in places],
    )  # fmt: skip


@pytest.fixture(scope="module")
def series():
    bible = oe.write_bible(CONFIG)
    roster = oe.write_roster(CONFIG, bible, cast_voices)
    states = [oe.initial_state(bible, roster)]
    scripts: list[EpisodeScript] = []
    for episode in (1, 2, 3):
        script = oe.write_script(bible, roster, states[-1], episode)
        scripts.append(script)
        states.append(script.state_after)
    places = sorted({s.location for script in scripts for s in script.scenes})
    # The world these scripts are written in, as the premise analysis records it in the bible.
    said = {place: place.split()[-1] for place in places}
    bible = bible.model_copy(
        update={"setting": "startup", "locations": [Location(name=p, said=said[p], kind="office") for p in places]}
    )
    words = sorted({w for script in scripts for _s, line in script.lines() for w in ("카페", "투자", "웹툰", "마감", "대표님") if w in line.text})
    library = {
        "startup": _setting("startup", words + ["투자 유치", "사업 계획서"], [(p, said[p]) for p in places]),
        "law": _setting("law", ["공판", "변론", "증인 신문", "재판부", "피고인", "항소"], [("서울중앙지법 법정", "법정")]),
    }
    return bible, roster, states, scripts, library


def _score(series, script: EpisodeScript, episode: int = 3):
    bible, roster, states, scripts, library = series
    return q.quality_score(script, roster, states[episode - 1], CONFIG, scripts[: episode - 1], bible, library)


def test_a_good_script_fits_its_premise_and_does_not_block(series):
    report = _score(series, series[3][2])
    assert report.categories["premise_fit"] >= 0.9
    assert not [b for b in report.blocking if b.startswith(("premise", "repetition", "contradiction"))]


def test_a_script_from_another_world_scores_lower_and_blocks(series):
    _bible, _roster, _states, scripts, _library = series
    good = _score(series, scripts[2])
    court = scripts[2].model_copy(deep=True)
    law_talk = [
        "재판부가 증인 신문을 다시 하자고 했어요.", "피고인 쪽 변론이 생각보다 탄탄해요.",
        "공판 날짜가 당겨졌어요. 항소는 그다음 문제예요.", "증인 신문 준비는 끝났어요?",
    ]  # fmt: skip
    for scene in court.scenes:
        scene.location = "서울중앙지법 법정"
        for i, line in enumerate(scene.lines):
            line.text = law_talk[i % len(law_talk)] + f" {i}번째예요."
    bad = _score(series, court)
    assert bad.categories["premise_fit"] < 0.6
    assert bad.score < good.score - 10
    assert any(b.startswith("premise:") for b in bad.blocking)
    assert any("공판" in p or "변론" in p or "증인 신문" in p for p in bad.problems)


def test_a_script_repeating_the_last_episode_scores_lower_and_blocks(series):
    _bible, _roster, _states, scripts, _library = series
    good = _score(series, scripts[2])
    copied = scripts[2].model_copy(deep=True)
    old = [line.text for _s, line in scripts[1].lines()]
    for n, (_scene, line) in enumerate(copied.lines()):
        if n % 2 == 0:
            line.text = old[n % len(old)]
    bad = _score(series, copied)
    assert bad.categories["dialogue_naturalness"] < good.categories["dialogue_naturalness"] - 0.3
    assert bad.score < good.score - 4
    assert any(b.startswith("repetition:") and "word for word" in b for b in bad.blocking)


def test_lines_said_twice_in_one_episode_are_counted_and_block_from_three(series):
    _bible, _roster, _states, scripts, _library = series
    assert repetition(scripts[2])[1] == []  # the engine never repeats a line within an episode
    twice = scripts[2].model_copy(deep=True)
    lines = [line for _s, line in twice.lines()]
    for n in (1, 2):
        lines[-n].text = lines[n - 1].text
    repeated, problems, blocking = repetition(twice)
    assert len(repeated) == 2 and problems and not blocking
    lines[-3].text = lines[2].text
    assert repetition(twice)[2] == ["3 lines repeat an earlier line of this episode"]


def _exchange(series, lines: list[tuple[str, str, str]]) -> EpisodeScript:
    """Episode 3 with an exchange of (speaker, listener, text) put at the start of its first scene."""
    _bible, roster, _states, scripts, _library = series
    script = scripts[2].model_copy(deep=True)
    scene = script.scenes[0]
    a, b = scene.characters[0], scene.characters[1]
    who = {"A": a, "B": b}
    scene.lines = [Line(speaker=who[s], listener=who[t], text=text, emotion="angry") for s, t, text in lines] + scene.lines
    return script


def test_a_speaker_who_apologises_and_then_demands_the_apology_contradicts_themselves(series):
    script = _exchange(series, [
        ("A", "B", "제가 급하게 뛰다가 부딪쳤네요. 정말 죄송해요."),
        ("B", "A", "커피가 다 쏟아졌잖아요. 이 옷 어떡할 거예요?"),
        ("A", "B", "그래도 먼저 사과하세요. 그쪽도 앞을 안 봤잖아요."),
    ])  # fmt: skip
    found = exchange_contradictions(script, series[2][2])
    assert any("demands an apology for what they apologised for" in f for f in found)
    good = _score(series, series[3][2])
    bad = _score(series, script)
    assert any(b.startswith("contradiction:") for b in bad.blocking)
    assert bad.categories["character_consistency"] < good.categories["character_consistency"]


def test_forgiving_an_apology_never_made_is_a_contradiction(series):
    script = _exchange(series, [
        ("A", "B", "왜 연락도 없이 이제 와요? 한참 기다렸어요."),
        ("B", "A", "알았어요. 이번 한 번은 사과 받을게요."),
    ])  # fmt: skip
    assert any("accepts an apology" in f for f in exchange_contradictions(script, series[2][2]))
    honest = _exchange(series, [
        ("A", "B", "연락도 없이 늦어서 정말 미안해요."),
        ("B", "A", "알았어요. 이번 한 번은 사과 받을게요."),
    ])  # fmt: skip
    assert not [f for f in exchange_contradictions(honest, series[2][2]) if "accepts an apology" in f]


def test_meeting_for_the_first_time_someone_already_met_is_a_contradiction(series):
    script = _exchange(series, [
        ("A", "B", "어제 얘기한 거 생각해 봤어요?"),
        ("B", "A", "네, 생각해 봤어요."),
        ("A", "B", "처음 뵙겠습니다. 잘 부탁드려요."),
    ])  # fmt: skip
    assert any("'for the first time'" in f for f in exchange_contradictions(script, series[2][2]))


def test_a_forgotten_character_blocks(series):
    _bible, roster, states, scripts, _library = series
    quiet = next(c.id for c in roster.characters if c.importance == "main")
    silenced = []
    for script in scripts:
        copy = script.model_copy(deep=True)
        for scene in copy.scenes:
            scene.lines = [ln for ln in scene.lines if quiet not in (ln.speaker, ln.listener)]
            scene.characters = [c for c in scene.characters if c != quiet]
        copy.scenes = [sc for sc in copy.scenes if sc.lines]
        silenced.append(copy)
    bible, _r, _s, _sc, library = series
    bad = q.quality_score(silenced[2], roster, states[2], CONFIG, silenced[:2], bible, library)
    good = _score(series, scripts[2])
    assert any("nobody is forgotten" in b or "lead" in b for b in bad.blocking)
    assert bad.score < good.score
