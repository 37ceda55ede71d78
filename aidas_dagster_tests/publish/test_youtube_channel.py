"""Channel-grade publishing against the local YouTube server: the series playlist, and a re-cut
replacing the scheduled video (or not, once released)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.core.ledger import CostLedger
from aidas_dagster.publish.metadata import build_playlist_metadata
from aidas_dagster.publish.quota import QuotaSettings
from aidas_dagster_tests.publish.test_youtube_publisher import (  # noqa: F401 - fixtures
    SRT,
    Crash,
    fake,
    files,
    make_publisher,
    metadata,
    srt,
)

CONFIG = SeriesConfig(
    series_id="short-love", title="짧은 첫사랑", genre="로맨틱 코미디", total_episodes=3, episode_duration=1,
    main_theme="설렘", target_audience="20대",
)
PLAYLIST = build_playlist_metadata(CONFIG)


def episode_files(tmp_path: Path, episode: int, cut: int = 1) -> tuple[Path, Path, Path]:
    folder = tmp_path / f"ep{episode:03d}-cut{cut}"
    folder.mkdir(exist_ok=True)
    video, thumb, captions = folder / "video.mp4", folder / "thumbnail.jpg", folder / "captions.srt"
    video.write_bytes(bytes([episode, cut]) * 300_000)
    thumb.write_bytes(b"\xff\xd8\xff" + bytes([episode, cut]) * 300)
    captions.write_text(SRT.replace("반가워요", f"{episode}화 {cut}번째 편집"), encoding="utf-8")
    return video, thumb, captions


def publish(tmp_path, fake, episode: int, cut: int = 1, publisher=None, **kwargs):
    video, thumb, captions = episode_files(tmp_path, episode, cut)
    publisher = publisher or make_publisher(tmp_path, fake, **kwargs)
    return publisher.publish(
        "short-love", episode, video, thumb, metadata(f"짧은 첫사랑 EP.{episode}"), captions=captions, playlist=PLAYLIST
    )


def units_by_method(tmp_path: Path) -> dict[str, int]:
    totals: dict[str, int] = {}
    for e in CostLedger(tmp_path / "storage" / "ledger" / "costs.jsonl").entries():
        totals[e.operation] = totals.get(e.operation, 0) + e.units
    return totals


def test_the_playlist_title_and_description_come_from_the_templates_with_the_key_line_last():
    assert PLAYLIST.title == "짧은 첫사랑 전편 몰아보기"
    assert "전 3화" in PLAYLIST.description and "저녁 7시" in PLAYLIST.description
    assert PLAYLIST.description.splitlines()[-1] == "aidas-series:short-love"
    long = build_playlist_metadata(CONFIG.model_copy(update={"title": "첫" * 200, "main_theme": "설렘" * 3000}))
    assert len(long.title) <= 100 and len(long.description.encode()) <= 5000
    assert long.description.splitlines()[-1] == "aidas-series:short-love"


def test_one_playlist_per_series_with_episodes_in_order_when_published_out_of_order(tmp_path, fake):
    ids = {}
    for episode in (3, 1, 2):
        record, _ = publish(tmp_path, fake, episode)
        ids[episode] = record.video_id
    [playlist_id] = fake.playlists
    playlist = fake.playlists[playlist_id]
    assert playlist["snippet"]["title"] == PLAYLIST.title and playlist["snippet"]["description"] == PLAYLIST.description
    assert fake.playlist_videos(playlist_id) == [ids[1], ids[2], ids[3]]
    units = units_by_method(tmp_path)
    assert units["playlists.insert"] == 50 and units["playlistItems.insert"] == 3 * 50
    assert units["playlists.list"] == 1  # looked for once, then remembered
    quota = json.loads((tmp_path / "storage" / "youtube" / "quota.json").read_text())
    assert quota["units"] == sum(units.values())

    # Publishing again changes nothing and sends nothing.
    before = len(fake.log)
    assert publish(tmp_path, fake, 2)[1] is False and len(fake.log) == before


def test_a_crash_after_the_playlist_was_created_or_the_episode_added_never_duplicates_either(tmp_path, fake):
    for deadly in ("playlists.insert", "playlistItems.insert"):
        dying = make_publisher(tmp_path, fake)
        real_call = dying._call

        def call_then_die(method, *args, _real=real_call, _deadly=deadly, **kwargs):
            result = _real(method, *args, **kwargs)
            if method == _deadly:
                raise Crash(f"killed right after {method}")
            return result

        dying._call = call_then_die
        with pytest.raises(Crash):
            publish(tmp_path, fake, 2 if deadly == "playlists.insert" else 1, publisher=dying)

    for episode in (1, 2, 3):
        publish(tmp_path, fake, episode)
    [playlist_id] = fake.playlists
    order = fake.playlist_videos(playlist_id)
    assert len(order) == 3 == len(set(order)) == len(fake.videos)
    episode_of = {v: int(next(t for t in r["snippet"]["tags"] if t.startswith("aidas:"))[17:20]) for v, r in fake.videos.items()}
    assert [episode_of[v] for v in order] == [1, 2, 3]


def test_a_playlist_found_by_its_key_when_the_local_state_is_lost(tmp_path, fake):
    publish(tmp_path, fake, 1)
    for path in (tmp_path / "storage" / "youtube" / "playlists").glob("*.json"):
        path.unlink()
    publish(tmp_path, fake, 2)
    [playlist_id] = fake.playlists
    assert len(fake.playlist_videos(playlist_id)) == 2


def test_a_playlist_slot_that_hits_the_quota_waits_for_the_next_run(tmp_path, fake):
    fake.fail("POST", "/youtube/v3/playlistItems", 403, "quotaExceeded")
    publisher = make_publisher(tmp_path, fake)
    record, _ = publish(tmp_path, fake, 1, publisher=publisher)
    assert publisher.deferred_until is not None and any("playlist slot" in n for n in publisher.notes)
    [playlist_id] = fake.playlists
    assert fake.playlist_videos(playlist_id) == []
    (tmp_path / "storage" / "youtube" / "quota.json").unlink()  # the next Pacific day
    publish(tmp_path, fake, 1)
    assert fake.playlist_videos(playlist_id) == [record.video_id]


def test_the_upload_plan_counts_caption_and_playlist_under_the_older_insert_rule(tmp_path, fake):
    # 1,600 + thumbnail 50 + caption 400 + playlist list 1 + insert 50 = 2,101 > 2,100 - lookups already spent.
    settings = QuotaSettings(daily_units=2100, insert_rule="units")
    from aidas_dagster.publish.youtube import UploadDeferred

    with pytest.raises(UploadDeferred, match="needs 2101 units"):
        publish(tmp_path, fake, 1, quota=settings)
    assert fake.videos == {}
