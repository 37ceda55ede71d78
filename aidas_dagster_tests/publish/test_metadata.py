"""Upload metadata from the spec's templates (4.5.2) and the release slot."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.publish.metadata import SEOUL, BASE_TAGS, build_metadata, metadata_problems, next_release

CONFIG = SeriesConfig(
    series_id="first-love", title="첫사랑은 처음이라서", genre="로맨틱 코미디", total_episodes=16, episode_duration=10,
    main_theme="첫사랑", target_audience="20-30대",
)


def test_title_description_and_tags_follow_the_spec_templates():
    script = SimpleNamespace(episode_number=3, title="비 오는 날", summary="두 사람이 우산 하나를 나눠 쓴다.")
    meta = build_metadata(CONFIG, script, character_names=["강민준", "이수진"], writer="gpt-4o-mini", voice="ElevenLabs", hour=19)
    assert meta.title == "첫사랑은 처음이라서 EP.3 - 비 오는 날"
    assert meta.description.startswith("첫사랑은 처음이라서 3화 - 비 오는 날\n")
    for line in ("✍️ 각본: AI (gpt-4o-mini)", "🎵 음성: AI (ElevenLabs)", "[줄거리]\n두 사람이 우산 하나를 나눠 쓴다.",
                 "매일 저녁 7시 업로드!", "#AI드라마 #웹드라마 #로맨틱코미디"):
        assert line in meta.description
    assert meta.tags[: len(BASE_TAGS)] == BASE_TAGS and {"첫사랑은 처음이라서", "강민준", "이수진"} <= set(meta.tags)
    assert (meta.category_id, meta.privacy_status, meta.made_for_kids, meta.contains_synthetic_media) == ("24", "private", False, True)
    assert metadata_problems(meta.title, meta.description, meta.tags) == []


def test_angle_brackets_from_a_script_never_reach_the_metadata():
    script = SimpleNamespace(episode_number=1, title="<비밀>", summary="a < b > c")
    meta = build_metadata(CONFIG, script, character_names=[])
    assert "<" not in meta.title + meta.description and ">" not in meta.title + meta.description


def test_release_is_the_next_daily_slot_and_a_day_after_the_previous_episode():
    now = dt.datetime(2026, 11, 25, 20, 0, tzinfo=SEOUL)  # after today's 19:00 slot
    assert next_release(now, 19) == dt.datetime(2026, 11, 26, 19, 0, tzinfo=SEOUL)
    previous = dt.datetime(2026, 11, 27, 19, 0, tzinfo=SEOUL)
    assert next_release(now, 19, previous=previous) == dt.datetime(2026, 11, 28, 19, 0, tzinfo=SEOUL)
    assert next_release(now, 9, "America/New_York").hour == 9
