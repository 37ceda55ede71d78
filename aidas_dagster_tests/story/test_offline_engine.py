"""The offline story engine writes a usable, continuous Korean series without any network."""

from __future__ import annotations

import re
import statistics
from itertools import pairwise

import pytest

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story import offline_engine as oe
from aidas_dagster.story.cast import pair_key
from aidas_dagster.story.genres import genre_key
from aidas_dagster.story.korean import hangul_syllables, thread_keyword, to_banmal
from aidas_dagster.story.models import EpisodeScript, Roster, SeriesBible
from aidas_dagster.story.validation import bible_problems, roster_problems, script_problems
from aidas_dagster.voice.casting import cast_voices
from aidas_dagster_tests.story.story_fixtures import produce

EMOTIONS = {"neutral", "happy", "sad", "angry", "surprised", "shy", "worried", "excited", "calm", "tense"}
SPEC_CAST = [
    "강민준",
    "이수진",
    "박지호",
    "김하늘",
    "차성훈",
    "한소영",
    "강정호",
    "이미경",
    "강민서",
    "이준호",
    "정유진",
    "김과장",
]


def romcom(**changes) -> SeriesConfig:
    fields = {
        "series_id": "first-love",
        "title": "첫사랑은 처음이라서",
        "genre": "로맨틱 코미디",
        "total_episodes": 16,
        "episode_duration": 10,
        "main_theme": "첫사랑의 설렘과 성장",
        "target_audience": "20-30대 여성",
    }
    return SeriesConfig(**{**fields, **changes})


def thriller() -> SeriesConfig:
    return SeriesConfig(
        series_id="gallery-night",
        title="미술관의 밤",
        genre="스릴러",
        total_episodes=16,
        episode_duration=10,
        main_theme="진실의 대가",
        target_audience="20-40대",
        world="gallery_case",  # the built-in world; without it the premise is composed (test_composition.py)
    )


@pytest.fixture(scope="module")
def first_love():
    return produce(romcom(world="first_love"))


@pytest.fixture(scope="module")
def gallery():
    return produce(thriller())


@pytest.fixture(params=["first_love", "gallery"])
def series(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("로맨틱 코미디", "romantic_comedy"),
        ("romcom", "romantic_comedy"),
        ("Romantic Comedy", "romantic_comedy"),
        ("로코", "romantic_comedy"),
        ("스릴러", "thriller"),
        ("미스터리", "thriller"),
        ("crime thriller", "thriller"),
        ("코미디", "comedy"),
        ("시트콤", "comedy"),
        ("멜로", "melodrama"),
        ("로맨스", "romance"),
        ("romance", "romance"),
        ("가족 드라마", "family"),
        ("역사극", "historical"),
        ("휴먼 드라마", "drama"),
        ("의학 드라마", "medical"),
        ("법정물", "legal"),
        ("청춘 학원물", "youth"),
        ("판타지 로맨스", "fantasy"),
        ("공포", "horror"),
        ("다큐멘터리", "drama"),
    ],
)
def test_free_text_genres_map_to_templates(text, key):
    assert genre_key(text) == key


def test_the_sample_series_gets_the_specs_cast_in_tiers(first_love):
    bible, roster, _ = first_love
    assert bible.genre_key == "romantic_comedy"
    assert [c.name for c in roster.characters] == SPEC_CAST
    assert [c.id for c in roster.characters] == [f"CHAR{i:03d}" for i in range(1, 13)]
    tiers = {c.name: c.importance for c in roster.characters}
    assert [n for n, t in tiers.items() if t == "main"] == ["강민준", "이수진"]
    assert [n for n, t in tiers.items() if t == "major_supporting"] == ["박지호", "김하늘", "차성훈", "한소영"]
    assert {n for n, t in tiers.items() if t == "supporting"} == {"강정호", "이미경", "강민서", "이준호"}
    minjun = roster.character("CHAR001")
    assert (minjun.age, minjun.occupation, minjun.personality) == (
        28,
        "스타트업 CEO",
        ["열정적", "다정함", "때로는 충동적"],
    )
    strategy = {
        "main": "full_avatar",
        "major_supporting": "partial_avatar",
        "supporting": "voice_only",
        "minor": "voice_only",
    }
    for c in roster.characters:
        assert c.avatar_strategy == strategy[c.importance]
        assert c.background and c.goals and c.secrets and c.speech_style
        assert c.appearance.hair_style in (
            ("short", "side_part", "curly", "bald") if c.gender == "male" else ("long", "bob", "ponytail", "curly")
        )
    assert roster_problems(roster) == []


def test_voices_are_unique_and_locked(first_love, gallery):
    for _bible, roster, _ in (first_love, gallery):
        voices = [(c.voice.voice_id, c.voice.pitch) for c in roster.characters]
        assert len(set(voices)) == len(voices)
    again = oe.write_roster(romcom(), first_love[0], cast_voices)
    assert [c.voice for c in again.characters] == [c.voice for c in first_love[1].characters]
    assert [c.appearance for c in again.characters] == [c.appearance for c in first_love[1].characters]


def test_relationship_matrix_links_every_lead_with_everyone(series):
    _bible, roster, _ = series
    pairs = {pair_key(r.a, r.b): r for r in roster.relationships}
    leads = [c.id for c in roster.characters if c.importance == "main"]
    for lead in leads:
        for other in roster.characters:
            if other.id != lead:
                assert pair_key(lead, other.id) in pairs, (lead, other.name)
    for r in roster.relationships:
        assert 0 <= r.intimacy <= 100 and r.type and re.search(r"[가-힣]", r.potential_arc)


def test_thriller_has_its_own_cast_with_detective_victim_and_suspects(gallery):
    bible, roster, _ = gallery
    assert bible.genre_key == "thriller"
    assert len(roster.characters) >= 10
    roles = " ".join(c.role for c in roster.characters)
    for word in ("형사", "용의자", "생존자"):
        assert word in roles
    assert any("진범" in s for c in roster.characters for s in c.secrets)
    assert roster_problems(roster) == []


def test_bible_outlines_every_episode_and_places_beats_by_progress(first_love, gallery):
    bible, roster, _ = first_love
    assert bible_problems(bible) == []
    assert [o.episode_number for o in bible.outlines] == list(range(1, 17))
    assert len(bible.arc) == 4 and 2 <= len(bible.subplots) <= 3
    beats = {b.beat: b.episode for b in bible.genre_beats}
    assert beats["first_meeting"] == 1
    assert beats["confession"] == 8  # 50 %
    assert beats["major_crisis"] == 13  # 80 %
    assert beats["resolution"] == 16
    assert "misunderstanding" in beats  # the comedy half of a romcom
    assert "confession" in bible.outline(8).beats
    ids = {c.id for c in roster.characters}
    for outline in bible.outlines:
        assert outline.title and re.search(r"[가-힣]", outline.main_event)
        assert set(outline.character_focus) <= ids
    assert bible.outline(16).cliffhanger_type == "여운"

    thriller_beats = {b.beat: b.episode for b in gallery[0].genre_beats}
    assert (thriller_beats["first_clue"], thriller_beats["major_revelation"], thriller_beats["final_twist"]) == (
        3,
        11,
        14,
    )


@pytest.mark.parametrize("episode", [1, 2, 3])
def test_scripts_have_scenes_lines_and_speakers_that_are_there(series, episode):
    bible, roster, scripts = series
    script = scripts[episode - 1]
    assert script_problems(script, roster, bible.config) == []
    assert len(script.scenes) >= 5
    assert 80 <= script.line_count <= 100
    cast = {c.id for c in roster.characters}
    for scene in script.scenes:
        assert re.search(r"[가-힣]", scene.location) and scene.time_of_day and scene.atmosphere
        for line in scene.lines:
            assert line.speaker in cast and line.speaker in scene.characters
            assert line.listener is None or (line.listener in scene.characters and line.listener != line.speaker)
            assert line.emotion in EMOTIONS
            assert re.search(r"[가-힣]", line.text)
    texts = [line.text for _scene, line in script.lines()]
    assert len(set(texts)) == len(texts), "no line is said twice in an episode"
    assert script.writer == "offline" and script.state_after.after_episode == episode
    assert (
        script.summary and script.key_events and script.new_conflict and script.partly_resolved and script.cliffhanger
    )
    assert script.character_developments


def test_lines_are_sized_for_the_offline_voice(series):
    _bible, _roster, scripts = series
    syllables = [hangul_syllables(line.text) for script in scripts for _s, line in script.lines()]
    assert 22 <= statistics.mean(syllables) <= 28
    assert min(syllables) >= 8 and max(syllables) <= 50


def test_episode_3_picks_up_the_threads_episode_2_left_open(series):
    _bible, _roster, scripts = series
    dialogue = " ".join(line.text for _s, line in scripts[2].lines())
    for thread in scripts[1].state_after.open_threads:
        assert thread_keyword(thread) in dialogue, thread


def test_each_episode_adds_a_conflict_and_resolves_a_thread(series):
    bible, _roster, scripts = series
    for before, script in pairwise(scripts):
        state = script.state_after
        assert script.new_conflict in state.open_threads and script.new_conflict not in before.state_after.open_threads
        resolved = thread_keyword(script.partly_resolved)
        assert resolved in " ".join(line.text for _s, line in script.lines())
        assert len(state.summaries) == script.episode_number
        assert state.summaries[:-1] == before.state_after.summaries
    assert bible.main_conflict in scripts[-2].state_after.open_threads
    assert bible.main_conflict in scripts[-1].state_after.resolved_threads


def test_relationships_move_gradually(series):
    _bible, roster, scripts = series
    previous = {pair_key(r.a, r.b): r.intimacy for r in roster.relationships}
    moved = False
    for script in scripts:
        now = script.state_after.relationships
        assert set(now) == set(previous)
        for pair, level in now.items():
            assert 0 <= level <= 100
            assert abs(level - previous[pair]) <= 10
            assert level - previous[pair] == script.relationship_changes.get(pair, 0)
        moved = moved or bool(script.relationship_changes)
        previous = now
    assert moved


def test_the_romance_grows_towards_the_confession(first_love):
    _bible, _roster, scripts = first_love
    leads = "CHAR001-CHAR002"
    levels = [s.state_after.relationships[leads] for s in scripts]
    assert levels[7] > levels[1]  # after the confession (episode 8) they are far closer than at the start
    assert levels[12] < levels[11]  # the crisis (episode 13) costs them


def test_nobody_is_forgotten(series):
    _bible, roster, scripts = series
    leads = [c.id for c in roster.characters if c.importance == "main"]
    spoke = [{line.speaker for _s, line in script.lines()} for script in scripts]
    for episode in spoke:
        assert set(leads) <= episode
    for c in roster.characters:
        assert any(c.id in episode for episode in spoke), c.name
        for start in range(len(spoke) - 2):  # at least once in every three consecutive episodes
            assert any(c.id in episode for episode in spoke[start : start + 3]), (c.name, start + 1)


def test_dialogue_keeps_speech_levels_and_avoids_unnatural_phrasing(first_love):
    _bible, roster, scripts = first_love
    names = {c.id: c.name for c in roster.characters}
    unnatural = [r"나는.*입니다", r"당신은.*입니까", r"그것은.*것입니다", r"당신", r"하는 것이다"]
    friends_banmal = polite_staff = 0
    for script in scripts:
        for _scene, line in script.lines():
            assert not any(re.search(p, line.text) for p in unnatural), line.text
            assert names[line.speaker] not in line.text, "nobody says their own full name"
            if (line.speaker, line.listener) == ("CHAR003", "CHAR001"):  # 지호 to his best friend: 반말
                assert not re.search(r"요[.?!]", line.text), line.text
                friends_banmal += 1
            if (line.speaker, line.listener) == ("CHAR012", "CHAR001"):  # 김과장 to his CEO: 존댓말
                assert re.search(r"(요|죠)[.?!]", line.text), line.text
                polite_staff += 1
    assert friends_banmal and polite_staff


def test_same_inputs_give_identical_output():
    config = romcom(total_episodes=4)
    first = produce(config)
    second = produce(config)
    assert first[0].model_dump_json() == second[0].model_dump_json()
    assert first[1].model_dump_json() == second[1].model_dump_json()
    assert [s.model_dump_json() for s in first[2]] == [s.model_dump_json() for s in second[2]]
    other = produce(romcom(series_id="first-love-2", total_episodes=4))
    assert other[2][1].model_dump_json() != first[2][1].model_dump_json()


@pytest.mark.parametrize("genre", ["로맨틱 코미디", "스릴러", "코미디", "드라마"])
def test_a_tiny_episode_is_still_a_whole_episode(genre):
    config = romcom(series_id="short-love", genre=genre, total_episodes=3, episode_duration=0.3)
    _bible, roster, scripts = produce(config)
    for before, script in zip([None, *scripts[:-1]], scripts, strict=True):
        assert script_problems(script, roster, config) == []
        assert script.line_count >= 4 and len(script.scenes) >= 1
        if before is not None:
            dialogue = " ".join(line.text for _s, line in script.lines())
            for thread in before.state_after.open_threads:
                assert thread_keyword(thread) in dialogue
    assert scripts[-1].cliffhanger


def test_writing_from_the_wrong_state_is_refused(first_love):
    bible, roster, scripts = first_love
    with pytest.raises(ValueError, match="state after episode 2"):
        oe.write_script(bible, roster, scripts[0].state_after, 3)
    with pytest.raises(ValueError, match="beyond its end"):
        oe.write_script(bible, roster, scripts[-1].state_after, 17)


def test_a_script_is_written_fast():
    import time

    bible, roster, _ = produce(romcom(total_episodes=2), episodes=0)
    state = oe.initial_state(bible, roster)
    start = time.perf_counter()
    oe.write_script(bible, roster, state, 1)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("genre", ["로맨틱 코미디", "스릴러", "코미디", "드라마", "로맨스"])
def test_whole_series_pass_the_quality_gate(genre):
    """Every episode of every genre's series: natural phrasing, one speech level per pair, continuity."""
    from aidas_dagster.story import quality as q

    config = romcom(series_id="gate", genre=genre, total_episodes=12)
    bible, roster, scripts = produce(config)
    assert q.preproduction_problems(bible, roster) == []
    state = oe.initial_state(bible, roster)
    for n, script in enumerate(scripts):
        earlier = scripts[max(0, n - 2) : n]
        assert q.phrasing_problems(script, roster) == [], script.episode_number
        assert q.continuity_problems(script, roster, state, earlier, config) == [], script.episode_number
        assert q.quality_score(script, roster, state, config, earlier).score >= q.DEFAULT_THRESHOLD
        state = script.state_after


def test_banmal_keeps_longer_first_person_particles_plain():
    assert to_banmal("왜 저한테는 한마디도 안 했어요?") == "왜 나한테는 한마디도 안 했어?"
    assert to_banmal("저한테만은 먼저 말해 줄 줄 알았어요.") == "나한테만은 먼저 말해 줄 줄 알았어."
    assert to_banmal("저기요, 저 좀 봐요.") == "저기, 나 좀 봐."
