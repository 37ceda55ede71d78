"""The story library: data files load and validate, bad ones fail naming file and field, and the
built-in worlds (now data) still write the sample series' story."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from aidas_dagster.core.config import SeriesConfig, load_series_config
from aidas_dagster.core.storage import DEFAULT_SERIES_DIR
from aidas_dagster.story.place_kinds import BACKDROP_KINDS
from aidas_dagster.story import library, offline_engine
from aidas_dagster.story.genres import TEMPLATES, genre_match
from aidas_dagster.story.library import STORY_DATA_DIR, SettingData, StoryDataError
from aidas_dagster.story.world import WORLDS, RoleChoice, locations, world_from_data
from aidas_dagster.voice.casting import cast_voices

BUILT_IN_WORLDS = ["first_love", "gallery_case", "happy_arcade", "printing_house"]
OWN_GENRES = ["comedy", "drama", "romance", "romantic_comedy", "thriller"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the real worlds, genres and lines to break one file at a time."""
    for folder in ("worlds", "lines"):
        shutil.copytree(STORY_DATA_DIR / folder, tmp_path / folder)
    (tmp_path / "genres").mkdir()
    for key in OWN_GENRES:
        shutil.copy(STORY_DATA_DIR / "genres" / f"{key}.yaml", tmp_path / "genres")
    return tmp_path


def edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_shipped_data_is_valid():
    assert library.check() == []
    assert set(OWN_GENRES) <= set(library.genres())


def test_the_four_worlds_load_with_named_roles_and_drawable_places():
    worlds = library.worlds()
    assert sorted(worlds) == BUILT_IN_WORLDS
    for key, data in worlds.items():
        assert all(r.name and r.given for r in data.roles), key
        assert data.genre_hint in library.genres()
        world = WORLDS[key]
        assert len(world.cast) >= 10
        assert [c.name for c in world.cast] == [r.name for r in data.roles]
        places = locations(world)
        assert {p.name for p in places} >= {name for name, _said in world.places}
        assert all(p.kind in BACKDROP_KINDS for p in places), key


def test_the_line_library_loads_every_table():
    lib = library.line_library()
    assert len(lib.dialogue.moves) > 50 and "greet" in lib.dialogue.moves
    assert "여운" in lib.cliffhangers.descriptions
    assert set(lib.emotions.words) == set(library.EMOTIONS)


# --- bad files fail at load, naming the file and the field -----------------------------------------


def test_a_missing_field_names_file_and_field(root):
    path = root / "worlds" / "first_love.yaml"
    edit(path, lambda d: d.pop("titles"))
    with pytest.raises(StoryDataError) as err:
        library.load_world(path)
    assert err.value.path == path
    assert "first_love.yaml" in str(err.value) and "titles: Field required" in str(err.value)


def test_a_wrong_type_names_the_nested_field(root):
    path = root / "worlds" / "gallery_case.yaml"
    edit(path, lambda d: d["roles"][2].update(age="쉰하나"))
    with pytest.raises(StoryDataError) as err:
        library.load_world(path)
    assert "gallery_case.yaml" in str(err.value)
    assert any(p.startswith("roles.2.age") for p in err.value.problems), err.value.problems


def test_a_yaml_syntax_error_names_file_and_line(root):
    path = root / "genres" / "thriller.yaml"
    path.write_text("label: 스릴러\nwords: [스릴러, thriller\ntone: 긴장\n", encoding="utf-8")
    with pytest.raises(StoryDataError) as err:
        library.load_genre(path)
    assert "thriller.yaml" in str(err.value) and "YAML syntax error at line" in str(err.value)


def test_an_unknown_backdrop_kind_names_the_location(root):
    path = root / "worlds" / "happy_arcade.yaml"
    edit(path, lambda d: d["locations"][1].update(kind="chicken_shop"))
    with pytest.raises(StoryDataError) as err:
        library.load_world(path)
    assert any(p.startswith("locations.1.kind") and "chicken_shop" in p for p in err.value.problems)


def test_a_world_role_without_a_name_is_refused(root):
    path = root / "worlds" / "printing_house.yaml"
    edit(path, lambda d: d["roles"][0].update(name=""))
    with pytest.raises(StoryDataError) as err:
        library.load_world(path)
    assert any(p.startswith("roles.0.name") for p in err.value.problems)


def test_a_bad_line_table_names_the_move_and_placeholder(root):
    path = root / "lines" / "dialogue.yaml"
    edit(path, lambda d: d["moves"]["greet"]["lines"].append("{Q}, 안녕하세요."))
    with pytest.raises(StoryDataError) as err:
        library.load_lines(path)
    assert "dialogue.yaml" in str(err.value)
    assert err.value.problems == ["moves.greet.lines[12]: unknown line placeholder {Q}"]
    shutil.copy(STORY_DATA_DIR / "lines" / "dialogue.yaml", path)
    edit(root / "lines" / "emotions.yaml", lambda d: d["words"].pop("calm"))
    with pytest.raises(StoryDataError, match=r"emotions\.yaml(.|\n)*words: missing emotions \['calm'\]"):
        library.line_library(root)
    (root / "lines" / "jokes.yaml").write_text("a: 1\n", encoding="utf-8")
    assert any("jokes.yaml" in p and "unknown line table" in p for p in library.check(root))


def test_check_reports_every_bad_file_and_dangling_genre_references(root):
    edit(root / "genres" / "romantic_comedy.yaml", lambda d: d.update(blend=["romance", "slapstick"]))
    edit(root / "worlds" / "first_love.yaml", lambda d: d.update(genre_hint="sitcom"))
    edit(root / "genres" / "drama.yaml", lambda d: d.pop("beats"))
    problems = library.check(root)
    assert any("romantic_comedy.yaml" in p and "'slapstick'" in p for p in problems)
    assert any("first_love.yaml" in p and "genre_hint: 'sitcom'" in p for p in problems)
    assert any("drama.yaml" in p and "beats: Field required" in p for p in problems)


def test_an_unknown_world_names_the_file_it_looked_for():
    with pytest.raises(StoryDataError, match=r"worlds/space_opera\.yaml(.|\n)*no built-in world 'space_opera'"):
        library.world_data("space_opera")


# --- genres from their words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "word"),
    [
        ("로맨스 코미디", "romantic_comedy", "코미디"),  # romance and comedy words together: the blend
        ("범죄 스릴러", "thriller", "스릴러"),
        ("Sitcom", "comedy", "sitcom"),
        ("가족 드라마", "family", "가족"),  # a specific genre outranks the broad drama
        ("대하 사극", "historical", "사극"),
        ("다큐멘터리", "drama", None),  # no word matches: the fallback, with no reason
    ],
)
def test_genre_words_and_priorities_pick_the_template(text, key, word):
    found, words = genre_match(text)
    assert found == key
    assert (word in words) if word else words == []
    assert TEMPLATES[found].key == key


def test_a_specific_genre_wins_over_a_broad_one_sharing_its_word():
    horror = library.genres()["thriller"].model_copy(
        update={"key": "horror", "words": ["호러", "공포"], "priority": 0}
    )
    with_horror = {**library.genres(), "horror": horror}
    assert genre_match("공포 스릴러", with_horror) == ("horror", ["공포"])
    assert genre_match("호러", with_horror)[0] == "horror"
    without = {k: g for k, g in library.genres().items() if k != "horror"}
    assert genre_match("호러", without)[0] == "thriller"  # without a horror genre, the thriller keeps its words
    assert genre_match("범죄 스릴러", with_horror)[0] == "thriller"


# --- worlds as data still write their stories -------------------------------------------------------


def test_the_sample_series_still_writes_the_first_love_story():
    config = load_series_config(DEFAULT_SERIES_DIR / "first-love.yaml")
    assert config.world == "first_love"
    bible = offline_engine.write_bible(config)
    roster = offline_engine.write_roster(config, bible, cast_voices)
    names = [c.name for c in roster.characters]
    assert names[:2] == ["강민준", "이수진"] and len(names) == 12
    state = offline_engine.initial_state(bible, roster)
    script = offline_engine.write_script(bible, roster, state, 1)
    places = {name for name, _said in WORLDS["first_love"].places} | {c.home for c in WORLDS["first_love"].cast}
    assert {s.location for s in script.scenes} <= places
    assert "민준" in bible.logline and "수진" in bible.logline


def test_a_configs_world_is_the_world_it_is_written_in():
    config = SeriesConfig(
        series_id="gallery-romcom",
        title="미술관의 봄",
        genre="로맨틱 코미디",
        total_episodes=4,
        episode_duration=3,
        main_theme="다시 만난 사람",
        target_audience="20-30대",
        world="gallery_case",
    )
    bible = offline_engine.write_bible(config)
    roster = offline_engine.write_roster(config, bible, cast_voices)
    assert bible.genre_key == "romantic_comedy"
    assert [c.name for c in roster.characters][:2] == ["한도윤", "윤서진"]


def test_world_from_data_builds_a_setting_with_the_chosen_names():
    data = library.world_data("first_love").model_dump()
    for role in data["roles"]:
        role.update(name="", given="", personality=[*role["personality"], "성실함"][:3])
    setting = SettingData.model_validate(data)  # the same world as a setting: 12 roles, 6 places
    with pytest.raises(ValueError, match="role 'lead_m' has no fixed name"):
        world_from_data(setting)
    chosen = {r.key: RoleChoice(f"박{r.key}", r.key) for r in setting.roles}
    chosen["lead_f"] = RoleChoice("오하린", "하린", occupation="신입 변호사", age=29)
    world = world_from_data(setting, chosen)
    lead_f = next(c for c in world.cast if c.key == "lead_f")
    assert (lead_f.name, lead_f.given, lead_f.occupation, lead_f.age) == ("오하린", "하린", "신입 변호사", 29)
    assert [c.key for c in world.cast] == [r.key for r in setting.roles]
    assert world.place_kinds["하늘의 카페"] == "cafe"
