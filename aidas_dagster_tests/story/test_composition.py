"""Composition, not selection: the offline writer writes the series the config describes.

For every setting of the library a config naming it in natural Korean (premise_configs.yaml, not the
setting's keyword list) gives a bible, cast, places and three short episodes of that setting that
pass the quality gate; two configs in one setting get different stories; a premise outside the
library is composed from the config's own words and says so.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story.place_kinds import BACKDROP_KINDS
from aidas_dagster.story import composer, library
from aidas_dagster.story import offline_engine as oe
from aidas_dagster.story import quality as q
from aidas_dagster.story.lines import LINES
from aidas_dagster.story.models import EpisodeScript, Roster, SeriesBible
from aidas_dagster.story.moves import PAIRED
from aidas_dagster.story.validation import script_problems
from aidas_dagster_tests.story.story_fixtures import produce

CONFIGS: dict[str, dict] = yaml.safe_load((Path(__file__).parent / "premise_configs.yaml").read_text(encoding="utf-8"))
SETTINGS = library.settings()
PRESENT = [key for key in CONFIGS if key in SETTINGS]
GENERAL_TEXT = json.dumps(LINES, ensure_ascii=False)


def config_for(key: str, **changes) -> SeriesConfig:
    fields = {"series_id": f"premise-{key}".replace("_", "-"), "total_episodes": 3, "episode_duration": 1.5}
    return SeriesConfig(**{**fields, **CONFIGS[key], **changes})


@functools.cache
def series(key: str) -> tuple[SeriesBible, Roster, list[EpisodeScript]]:
    return produce(config_for(key))


def dialogue(scripts: list[EpisodeScript]) -> str:
    return "\n".join(line.text for s in scripts for _scene, line in s.lines())


def said_in(word: str, text: str, _cache: dict = {}) -> bool:  # noqa: B006 - a per-text prefix index
    """`word` begins a word of `text` (실적 is not said in 현실적); multi-word phrases as they stand."""
    if " " in word:
        return word in text
    key = id(text)
    if _cache.get("key") != key:
        prefixes = {t[:i] for t in re.findall(r"[가-힣A-Za-z0-9]+", text) for i in range(1, len(t) + 1)}
        _cache.update(key=key, text=text, prefixes=prefixes)
    return word in _cache["prefixes"]


def assert_passes_the_gate(config: SeriesConfig, bible: SeriesBible, roster: Roster, scripts: list[EpisodeScript]):
    assert q.preproduction_problems(bible, roster) == []
    state = oe.initial_state(bible, roster)
    for n, script in enumerate(scripts):
        earlier = scripts[max(0, n - 2) : n]
        where = f"episode {script.episode_number}"
        assert script_problems(script, roster, config) == [], where
        assert q.phrasing_problems(script, roster) == [], where
        assert q.continuity_problems(script, roster, state, earlier, config) == [], where
        assert q.quality_score(script, roster, state, config, earlier).score >= q.DEFAULT_THRESHOLD, where
        texts = [line.text for _scene, line in script.lines()]
        assert [t for t, k in Counter(texts).items() if k > 1] == [], f"{where}: a line is repeated"
        state = script.state_after


def test_every_setting_has_a_natural_config():
    assert sorted(PRESENT) == sorted(SETTINGS), "write a config in premise_configs.yaml for every setting"


@pytest.mark.parametrize("key", PRESENT)
def test_a_config_naming_a_setting_writes_a_series_of_that_setting(key):
    config = config_for(key)
    bible, roster, scripts = series(key)
    setting = SETTINGS[key]
    assert bible.setting == key
    assert bible.premise is not None and bible.premise.settings[0].value == key
    assert bible.genre_key in library.genres()
    assert len(roster.characters) >= 10

    # The cast works where the setting works: every occupation is one of its roles' (or the config's).
    occupations = {o for r in setting.roles for o in r.occupations} | {m.value for m in bible.premise.roles}
    assert [c.occupation for c in roster.characters if c.occupation not in occupations] == []

    # Its places, each drawn as its kind; scenes happen there.
    said = {loc.said for loc in bible.locations}
    assert {loc.said for loc in setting.locations} <= said
    assert all(loc.kind in BACKDROP_KINDS and loc.kind != "generic" for loc in bible.locations)
    names = {loc.name for loc in bible.locations}
    assert {scene.location for s in scripts for scene in s.scenes} <= names

    # It talks in the setting's words.
    spoken = dialogue(scripts)
    used = {w for w in setting.vocabulary + setting.props if w in spoken}
    assert len(used) >= 2, f"setting words in the dialogue: {sorted(used)}"

    # And in no other setting's: words distinctive of other settings never turn up.
    own = setting.model_dump_json() + json.dumps(CONFIGS[key], ensure_ascii=False)
    written = spoken + bible.model_dump_json() + roster.model_dump_json()
    foreign = {
        w
        for other in SETTINGS.values()
        if other.key != key
        for w in other.vocabulary + [loc.said for loc in other.locations] + [o for r in other.roles for o in r.occupations]
        if len(w) >= 2 and w not in own and w not in GENERAL_TEXT
    }
    assert sorted(w for w in foreign if said_in(w, written)) == []

    assert_passes_the_gate(config, bible, roster, scripts)


def test_the_configs_role_becomes_the_leads_occupation():
    _bible, roster, _ = series("law")  # 첫 재판을 앞둔 신참 변호사들의 성장: both leads
    leads = [c for c in roster.characters if c.importance == "main"]
    assert [c.occupation for c in leads] == ["신참 변호사", "신참 변호사"]
    _bible, roster, _ = series("police")  # 신참 형사가 ...: one lead
    assert sorted(c.occupation for c in roster.characters if c.importance == "main").count("신참 형사") == 1


def test_the_main_conflict_is_built_around_the_theme():
    bible, _roster, scripts = series("law")
    assert bible.main_conflict.startswith("첫 재판: ")
    assert "첫 재판을 앞둔 신참 변호사들의 성장이" in bible.main_conflict
    assert "첫 재판" in dialogue(scripts)
    assert "법정의 봄" in bible.logline or "첫 재판을 앞둔 신참 변호사들의 성장" in bible.logline


def test_two_configs_in_one_setting_get_different_stories():
    a_bible, a_roster, _ = series("law")
    other = config_for("law", series_id="night-defense", title="변론의 밤", genre="법정물",
                       main_theme="국선 변호사가 억울한 피고인의 누명을 벗기는 과정")
    b_bible, b_roster, b_scripts = produce(other)
    assert b_bible.setting == a_bible.setting == "law"
    a_names, b_names = {c.name for c in a_roster.characters}, {c.name for c in b_roster.characters}
    assert len(a_names & b_names) <= 2
    assert a_bible.logline != b_bible.logline
    assert a_bible.main_conflict != b_bible.main_conflict
    a_threads = [o.sub_events for o in a_bible.outlines]
    b_threads = [o.sub_events for o in b_bible.outlines]
    assert a_threads != b_threads
    assert [o.title for o in a_bible.outlines] != [o.title for o in b_bible.outlines]
    assert_passes_the_gate(other, b_bible, b_roster, b_scripts)


def test_the_same_config_composes_the_same_world():
    config = config_for("hospital")
    assert composer.compose(config) == composer._compose(config, composer.analyse(config), library.STORY_DATA_DIR)


def test_setting_exchanges_stay_paired_with_their_replies():
    comp = composer.compose(config_for("hospital"))
    setting = SETTINGS["hospital"]
    checked = 0
    for move, pairs in setting.exchanges.items():
        openers, replies = comp.lines[move][1], comp.lines[PAIRED[move]][1]
        assert len(openers) == len(replies)
        for opener, reply in pairs:
            if opener in openers:
                assert openers.index(opener) == replies.index(reply)
                checked += 1
        general_openers, general_replies = LINES[move][1], LINES[PAIRED[move]][1]
        for o, r in zip(general_openers, general_replies, strict=True):
            assert openers.index(o) == replies.index(r)
    assert checked >= 10


UNKNOWN = {
    "title": "등대지기의 겨울",
    "genre": "스팀펑크",
    "main_theme": "외딴 섬 등대를 지키는 사람들의 우정",
    "target_audience": "30-50대",
}


def test_a_premise_outside_the_library_is_composed_from_its_own_words_and_logged(caplog):
    config = SeriesConfig(series_id="lighthouse", total_episodes=3, episode_duration=1.5, **UNKNOWN)
    with caplog.at_level(logging.INFO, logger="aidas_dagster.story"):
        bible, roster, scripts = produce(config)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "lighthouse: premise: composed from the config's own words: 등대지기" in logged
    assert "genre: '스팀펑크' names no known genre" in logged
    assert bible.premise.composed_from_config and bible.setting == ""
    assert bible.genre_key == "drama"
    assert len(roster.characters) >= 10
    leads = [c for c in roster.characters if c.importance == "main"]
    assert "등대지기" in [c.occupation for c in leads]
    kinds = {loc.said: loc.kind for loc in bible.locations}
    assert kinds["등대"] == "beach" and kinds["섬"] == "beach"
    assert bible.main_conflict.startswith("등대 존폐 위기: ")
    assert "등대" in dialogue(scripts)
    # Never an unrelated canned story: no built-in world's or setting's people, places or threads.
    own = (library.STORY_DATA_DIR / "composed.yaml").read_text(encoding="utf-8")
    canned = set()
    for data in [*library.worlds().values(), *SETTINGS.values()]:
        canned |= {r.name for r in data.roles if r.name} | {c.keyword for c in data.conflicts}
        canned |= {loc.name for loc in data.locations} | set(data.titles)
    written = bible.model_dump_json() + roster.model_dump_json() + dialogue(scripts)
    assert sorted(w for w in canned if len(w) >= 3 and w not in own and w in written) == []
    assert_passes_the_gate(config, bible, roster, scripts)


def test_a_built_in_world_keeps_its_fixed_cast_and_located_places():
    config = config_for("law", series_id="first-love", world="first_love")
    bible, roster, _ = produce(config, episodes=1)
    assert bible.setting == "" and roster.characters[0].name == "강민준"
    assert bible.locations and all(loc.kind in BACKDROP_KINDS and loc.kind != "generic" for loc in bible.locations)
    assert any("built-in world first_love" in n for n in bible.premise.notes)


@pytest.mark.parametrize("key", ["hospital", "police", "palace"])
def test_verbatim_line_reuse_across_a_16_episode_series_is_bounded(key):
    """Share of lines that repeat a line of an earlier episode (10-minute episodes: ~20-30%)."""
    config = config_for(key, total_episodes=16, episode_duration=3)
    _bible, _roster, scripts = produce(config)
    seen: set[str] = set()
    reused = total = 0
    for script in scripts:
        texts = [line.text for _scene, line in script.lines()]
        assert len(set(texts)) == len(texts)
        reused += sum(t in seen for t in texts)
        total += len(texts)
        seen |= set(texts)
    assert reused / total < 0.25, f"{key}: {reused}/{total} lines repeat an earlier episode"


@pytest.mark.parametrize("genre", sorted(library.genres()))
def test_every_genre_file_paces_a_composed_series(genre):
    """Each genre template (its first word as the config's genre) writes a series that passes the gate."""
    word = library.genres()[genre].words[0]
    config = config_for("restaurant", series_id=f"genre-{genre}".replace("_", "-"), genre=word, episode_duration=1)
    bible, roster, scripts = produce(config)
    assert bible.genre_key == genre and bible.setting == "restaurant"
    placed = {b.beat for b in bible.genre_beats}
    assert placed == {b.name for b in library.genres()[genre].beats}
    assert_passes_the_gate(config, bible, roster, scripts)


def test_bad_composer_data_fails_naming_file_and_field(tmp_path):
    (tmp_path / "names.yaml").write_text("surnames: [김]\nmodern: {}\nhistorical: {}\n", encoding="utf-8")
    with pytest.raises(library.StoryDataError, match=r"names.yaml.*\n.*surnames"):
        composer.names_data(tmp_path)
    (tmp_path / "composed.yaml").write_text("workplaces: [\n", encoding="utf-8")
    with pytest.raises(library.StoryDataError, match=r"composed.yaml: invalid story data:\n.*YAML syntax error at line 2"):
        composer.composed_data(tmp_path)


def test_names_are_unique_and_families_share_a_surname():
    for key in PRESENT:
        comp = composer.compose(config_for(key))
        givens = [c.given for c in comp.world.cast]
        assert len(set(givens)) == len(givens), key
        fathers = {}
        for c in comp.world.cast:
            if c.family and c.gender == "male" and c.age >= 45:
                fathers.setdefault(c.family, c.name[0])
        for c in comp.world.cast:
            if c.family in fathers and c.age < 40:
                assert c.name[0] == fathers[c.family], (key, c.name)
    palace = composer.compose(config_for("palace"))
    modern = set(composer.names_data().modern.male + composer.names_data().modern.female)
    assert sum(c.given not in modern for c in palace.world.cast if not c.given.endswith("이")) >= 6  # 사극 names


def test_a_historical_series_never_talks_modern():
    config = config_for("palace", series_id="palace-era", total_episodes=4, episode_duration=5)
    bible, roster, scripts = produce(config)
    modern = composer.composed_data().modern_words
    spoken = dialogue(scripts)
    assert sorted(w for w in modern if said_in(w, spoken)) == []
    moods = set(SETTINGS["palace"].atmospheres)
    assert {scene.atmosphere for s in scripts for scene in s.scenes} <= moods
    comp = composer.compose(config)
    for move, reply in PAIRED.items():  # left-out general pairs leave the others paired
        if move in LINES:
            kept = [(o, r) for o, r in zip(LINES[move][1], LINES[reply][1], strict=True) if o in comp.lines[move][1]]
            assert all(comp.lines[move][1].index(o) == comp.lines[reply][1].index(r) for o, r in kept)
    assert_passes_the_gate(config, bible, roster, scripts)
