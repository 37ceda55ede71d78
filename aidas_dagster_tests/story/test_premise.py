"""Premise analysis: the config's words decide setting, genre, roles and conflict, and say why."""

from __future__ import annotations

import pytest

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story import library
from aidas_dagster.story import premise as pm
from aidas_dagster_tests.story.story_fixtures import tiny_library


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    root = tiny_library(tmp_path_factory.mktemp("story"))
    return library.settings(root), library.genres(root), pm.premise_words(root)


def config(title: str, genre: str, theme: str, audience: str = "20-30대") -> SeriesConfig:
    return SeriesConfig(
        series_id="p", title=title, genre=genre, total_episodes=3, episode_duration=1, main_theme=theme,
        target_audience=audience,
    )


def analyse(lib, *args, **kw):
    settings, genres, words = lib
    return pm.analyse_premise(config(*args, **kw), settings, genres, words)


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("변호사들의", "변호사"),  # plural + genitive
        ("응급실에서는", "응급실"),  # case + delimiter
        ("사람이", "사람"),  # 이 after a closed syllable
        ("변호사가", "변호사"),  # 가 after an open one
        ("작가", "작가"),  # 가 after a closed syllable is part of the word
        ("아이", "아이"),  # 이 after an open syllable is part of the word
        ("학교로", "학교"),
        ("서울로", "서울"),  # 로 after ㄹ
        ("병원으로", "병원"),
        ("현실적인", "현실"),
        ("목적", "목적"),  # 적 needs two syllables before it
        ("위험한", "위험"),
        ("첫사랑의", "첫사랑"),  # only one case particle: 랑 of 사랑 stays
        ("재판을", "재판"),
        ("medical", "medical"),
    ],
)
def test_particles_and_endings_come_off_only_where_grammar_allows(word, stem):
    assert pm.strip_word(word)[0] == stem


def test_tokens_split_on_spaces_and_punctuation_and_keep_what_was_written():
    tokens = pm.tokenize("첫 재판을 앞둔, 신참 변호사들의 '성장'!")
    assert [t.surface for t in tokens] == ["첫", "재판을", "앞둔", "신참", "변호사들의", "성장"]
    assert [t.stem for t in tokens] == ["첫", "재판", "앞둔", "신참", "변호사", "성장"]
    assert tokens[4].plural and not tokens[1].plural


def test_an_adnominal_verb_is_not_mistaken_for_a_topic_marker():
    tokens = pm.tokenize("등대를 지키는 사람들")
    assert tokens[1].stem == "지키는"  # not the noun "지키"


def test_a_law_premise_gives_setting_genre_roles_and_conflict_with_reasons(lib):
    p = analyse(lib, "법정의 봄", "법정 드라마", "첫 재판을 앞둔 신참 변호사들의 성장")
    assert [s.value for s in p.settings] == ["law"]
    assert {"변호사", "법정", "재판"} <= set(p.settings[0].words)
    assert p.genre.value == "legal" and p.genre.words == ["법정 드라마"]
    assert [r.value for r in p.roles] == ["신참 변호사"]
    assert pm.role_details(p) == [("신참 변호사", True)]
    assert p.conflict == "첫 재판"
    assert not p.composed_from_config
    notes = "\n".join(p.notes)
    assert "setting: law" in notes and "변호사들의→변호사 (theme)" in notes
    assert "genre: legal from the genre words" in notes
    assert "central conflict: '첫 재판'" in notes
    assert "재판" in p.nouns and "첫" not in p.nouns


def test_title_and_theme_outweigh_the_audience(lib):
    settings = lib[0]
    in_title = pm.score_settings(config("회사의 봄", "드라마", "하루"), settings, frozenset())[0]
    in_genre = pm.score_settings(config("봄", "회사 드라마", "하루"), settings, frozenset())[0]
    with_audience = pm.score_settings(config("회사의 봄", "드라마", "하루", audience="회사"), settings, frozenset())[0]
    assert in_title.key == in_genre.key == "office"
    assert in_title.score > in_genre.score
    assert with_audience.score - in_title.score == pytest.approx(in_title.score / 3)  # audience weighs 1, title 3


def test_the_audience_alone_never_chooses_a_setting(lib):
    p = analyse(lib, "별빛 정원", "드라마", "잃어버린 시간을 찾아서", audience="직장인 신입사원")
    assert p.settings == [] and p.composed_from_config


def test_a_word_inside_a_longer_word_counts_less_than_the_word_itself(lib):
    whole = pm.score_settings(config("법정", "드라마", "하루"), lib[0], frozenset())[0].score
    inside = pm.score_settings(config("법정물", "드라마", "하루"), lib[0], frozenset())[0].score
    assert 0 < inside < whole


def test_a_word_several_settings_share_counts_less(tmp_path):
    from aidas_dagster_tests.story.story_fixtures import setting_dict, write_library

    shared = setting_dict("a", ["공통어", "에이전트", "첩보원", "암호문", "접선지"], {}, "곳", "office")
    other = setting_dict("b", ["공통어", "비밀요원", "도청기", "은신처", "작전명"], {}, "곳", "office")
    root = write_library(tmp_path, {"a": shared, "b": other})
    settings = library.settings(root)
    one = pm.score_settings(config("첩보원", "드라마", "하루"), settings, frozenset())[0]
    both = pm.score_settings(config("공통어", "드라마", "하루"), settings, frozenset())[0]
    assert both.score == pytest.approx(one.score / 2)


@pytest.mark.parametrize(
    ("genre", "key"),
    [
        ("의학 드라마", "medical"),
        ("medical", "medical"),
        ("법정물", "legal"),
        ("사극", "historical"),
        ("로코", "romantic_comedy"),
        ("로맨틱 코미디", "romantic_comedy"),
        ("Romantic Comedy", "comedy"),  # the fixture's romcom words are 로맨틱 코미디/로코/romcom only
        ("휴먼 드라마", "drama"),
        ("crime thriller", "thriller"),
    ],
)
def test_free_text_genres_in_korean_and_english(lib, genre, key):
    assert analyse(lib, "제목", genre, "하루").genre.value == key


def test_an_unknown_genre_word_falls_back_in_order_and_says_so(lib):
    from_theme = analyse(lib, "별의 기록", "스팀펑크", "사극 속 궁녀들의 하루")
    assert from_theme.genre.value == "historical"
    assert "names no known genre; historical from the title/theme word '사극'" in "\n".join(from_theme.notes)
    from_setting = analyse(lib, "응급실 24시", "스팀펑크", "레지던트들의 하루")
    assert from_setting.genre.value == "medical"
    assert "the usual genre of setting hospital" in "\n".join(from_setting.notes)
    nothing = analyse(lib, "등대지기의 겨울", "스팀펑크", "외딴 섬 등대를 지키는 사람들의 우정")
    assert nothing.genre.value == "drama"
    assert "no setting matched; drama" in "\n".join(nothing.notes)


def test_a_premise_outside_the_library_is_composed_from_its_own_words(lib):
    p = analyse(lib, "등대지기의 겨울", "스팀펑크", "외딴 섬 등대를 지키는 사람들의 우정")
    assert p.composed_from_config and p.settings == []
    assert {"등대지기", "섬", "등대"} <= set(p.nouns)
    assert [r.value for r in p.roles] == ["등대지기"]  # a job by its ending, not from a list
    assert p.conflict == ""  # 섬, 등대 are places: where the story is, not what it turns on
    assert any(n.startswith("composed from the config's own words: 등대지기") for n in p.notes)


def test_roles_keep_the_configs_own_modifiers_and_two_word_jobs(lib):
    p = analyse(lib, "데뷔 전야", "드라마", "아이돌 연습생과 회사 신입사원의 동거")
    assert [r.value for r in p.roles] == ["아이돌 연습생", "회사 신입사원"]  # a place word in front belongs to the job
    assert pm.role_details(p) == [("아이돌 연습생", False), ("회사 신입사원", False)]


def test_the_central_conflict_skips_places_roles_and_words_every_story_has(lib):
    assert analyse(lib, "세자의 봄", "사극", "궁궐에 들어온 궁녀와 왕세자가 역모의 진실을 밝혀 가는 이야기").conflict == "역모의 진실"
    assert analyse(lib, "판교의 밤", "드라마", "투자 유치에 사활을 건 창업자들").conflict == "투자 유치"
    assert analyse(lib, "열여덟", "드라마", "전학생과 반장이 함께 준비하는 고3 마지막 축제").conflict == "마지막 축제"
    assert analyse(lib, "봄", "드라마", "깐깐한 팀장의 좌충우돌 회사 생활").conflict == "회사 생활"
    assert analyse(lib, "봄", "드라마", "아이돌 연습생들의 성장").conflict == ""


def test_tone_words_of_the_config_colour_the_tone(lib):
    p = analyse(lib, "유쾌한 로펌", "법정 드라마", "변호사들의 하루")
    assert p.tone.startswith("유쾌한 웃음이 끊이지 않는") and p.tone.endswith("legal 톤")


def test_the_analysis_is_deterministic(lib):
    a = analyse(lib, "법정의 봄", "법정 드라마", "첫 재판을 앞둔 신참 변호사들의 성장")
    b = analyse(lib, "법정의 봄", "법정 드라마", "첫 재판을 앞둔 신참 변호사들의 성장")
    assert a == b


def test_a_bad_premise_words_file_names_file_and_field(tmp_path):
    (tmp_path / "premise.yaml").write_text("stopwords: [a]\ngeneric: [b]\nrole_words: 3\n", encoding="utf-8")
    with pytest.raises(library.StoryDataError, match=r"premise.yaml.*\n.*role_words"):
        pm.premise_words(tmp_path)
