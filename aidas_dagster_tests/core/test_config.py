"""A producer's series config: good ones load, bad ones name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from aidas_dagster.core.config import SeriesConfigError, load_series_config
from aidas_dagster.core.storage import DEFAULT_SERIES_DIR

GOOD = """title: 첫사랑은 처음이라서
genre: 로맨틱 코미디
total_episodes: 16
episode_duration: 10
main_theme: 첫사랑의 설렘과 성장
target_audience: 20-30대 여성
"""


def test_sample_series_config_loads():
    config = load_series_config(DEFAULT_SERIES_DIR / "first-love.yaml")
    assert config.series_id == "first-love"
    assert config.title == "첫사랑은 처음이라서"
    assert (config.total_episodes, config.episode_duration) == (16, 10)
    assert config.episode_seconds == 600


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (GOOD.replace("title: 첫사랑은 처음이라서\n", ""), "title"),
        (GOOD.replace("total_episodes: 16", "total_episodes: 열여섯"), "total_episodes"),
        (GOOD.replace("total_episodes: 16", "total_episodes: 0"), "total_episodes"),
        (GOOD.replace("total_episodes: 16", "total_episodes: 500"), "total_episodes"),
        (GOOD.replace("episode_duration: 10", "episode_duration: -3"), "episode_duration"),
        (GOOD.replace("episode_duration: 10", "episode_duration: '10'"), "episode_duration"),
        (GOOD.replace("genre: 로맨틱 코미디", "genre: '   '"), "genre"),
        (GOOD + "budget: 100\n", "budget"),
        (GOOD.replace("title: 첫사랑은 처음이라서", "title: [첫사랑"), "YAML syntax error at line 2"),
        ("- just\n- a list\n", "mapping"),
    ],
)
def test_bad_config_names_file_and_field(tmp_path: Path, text: str, field: str):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SeriesConfigError) as err:
        load_series_config(path)
    message = str(err.value)
    assert str(path) in message
    assert field in message


def test_non_utf8_config_is_named(tmp_path: Path):
    path = tmp_path / "euckr.yaml"
    path.write_bytes(GOOD.encode("euc-kr"))
    with pytest.raises(SeriesConfigError, match="not UTF-8") as err:
        load_series_config(path)
    assert "euckr.yaml" in str(err.value)


def test_series_id_must_be_a_safe_partition_key(tmp_path: Path):
    path = tmp_path / "First Love|2.yaml"
    path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(SeriesConfigError, match="series id"):
        load_series_config(path)


def test_missing_file_is_named(tmp_path: Path):
    with pytest.raises(SeriesConfigError, match="cannot read"):
        load_series_config(tmp_path / "nowhere.yaml")
