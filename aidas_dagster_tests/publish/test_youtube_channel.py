"""Channel-grade publishing against the local YouTube server: the series playlist, and a re-cut
replacing the scheduled video (or not, once released)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aidas_dagster.core.ledger import CostLedger
from aidas_dagster.publish.metadata import build_playlist_metadata
from aidas_dagster.publish.quota import QuotaSettings
from aidas_dagster_tests.publish.builders import CONFIG, PLAYLIST, Crash, episode_files, make_publisher, metadata

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


def episode_videos(fake, episode: int = 1) -> list[str]:
    return [v for v, r in fake.videos.items() if any(t.startswith(f"aidas:short-love:{episode:03d}:") for t in r["snippet"]["tags"])]


def assert_replaced(tmp_path, fake, first, ep2, record):
    """Exactly one video for episode 1: the new cut, with the old release, thumbnail, captions and slot."""
    video, thumb, captions = episode_files(tmp_path, 1, 2)
    assert episode_videos(fake) == [record.video_id] and record.video_id != first.video_id
    assert fake.video_bytes[record.video_id] == video.read_bytes()
    status = fake.videos[record.video_id]["status"]
    assert status["privacyStatus"] == "private" and status["publishAt"] == first.metadata.publish_at
    assert record.metadata.publish_at == first.metadata.publish_at and record.video_digest != first.video_digest
    assert fake.thumbnails[record.video_id] == thumb.read_bytes()
    [track] = fake.captions_of(record.video_id)
    assert track["_data"] == captions.read_bytes() and track["snippet"]["language"] == "ko"
    [playlist_id] = fake.playlists
    assert fake.playlist_videos(playlist_id) == [record.video_id, ep2.video_id]
    assert first.video_id in fake.deleted and sorted(fake.scheduled()) == sorted([record.video_id, ep2.video_id])
    assert any(t.startswith("aidas:short-love:001:r2:") for t in fake.videos[record.video_id]["snippet"]["tags"])


def test_an_edit_before_release_replaces_the_scheduled_video_and_moves_everything_to_it(tmp_path, fake):
    first, _ = publish(tmp_path, fake, 1)
    ep2, _ = publish(tmp_path, fake, 2)
    publisher = make_publisher(tmp_path, fake)
    record, changed = publish(tmp_path, fake, 1, cut=2, publisher=publisher)
    assert changed and record.revision == first.revision + 1
    assert_replaced(tmp_path, fake, first, ep2, record)
    assert any("replaced" in note for note in publisher.notes)
    units = units_by_method(tmp_path)
    assert units["videos.delete"] == 50 and units["playlistItems.delete"] == 50 and units["captions.insert"] == 3 * 400  # ep 1, ep 2 and the new cut
    # Settled: again, nothing is sent.
    before = len(fake.log)
    assert publish(tmp_path, fake, 1, cut=2)[1] is False and len(fake.log) == before


def _kill_after(publisher, calls: int, box: dict) -> None:
    """Kill the run right after its `calls`-th API call came back, before anything recorded it."""
    real_call = publisher._call

    def call(method, *args, **kwargs):
        result = real_call(method, *args, **kwargs)
        box["n"] += 1
        box["last"] = method
        if box["n"] == calls:
            raise Crash(f"killed right after {method}")
        return result

    publisher._call = call


@pytest.mark.parametrize("calls", range(1, 11))  # a replacement makes 10 calls
def test_a_replacement_killed_after_any_call_ends_with_exactly_one_video(tmp_path, fake, calls):
    first, _ = publish(tmp_path, fake, 1)
    ep2, _ = publish(tmp_path, fake, 2)
    dying = make_publisher(tmp_path, fake)
    box = {"n": 0, "last": ""}
    _kill_after(dying, calls, box)
    try:
        publish(tmp_path, fake, 1, cut=2, publisher=dying)
    except Crash:
        # Only between the two calls of the switch are both scheduled; never none.
        scheduled = [v for v in fake.scheduled() if v != ep2.video_id]
        assert len(scheduled) == (2 if box["last"] == "videos.update" else 1), box
    else:
        pytest.skip(f"the replacement makes fewer than {calls} calls")
    record, _ = publish(tmp_path, fake, 1, cut=2)
    assert_replaced(tmp_path, fake, first, ep2, record)
    # Videos made: ep 1, ep 2 and the new cut once. (Killed right after the server handed out a
    # session URI, before it was saved, a second session starts: a session without bytes is no video.)
    assert len(fake.videos) + len(fake.deleted) == 3
    assert len(fake.calls("POST", "/upload/youtube/v3/videos")) == 3 + (box["last"] == "videos.insert" and box["n"] == calls)


@pytest.mark.parametrize("step", ["journal", "uploaded", "thumbnail", "captions", "playlist", "scheduled", "old deleted", "old entry removed", "mid-upload"])
def test_a_replacement_killed_at_each_step_ends_with_exactly_one_video(tmp_path, fake, step):
    from aidas_dagster_tests.publish.builders import CHUNK

    first, _ = publish(tmp_path, fake, 1)
    ep2, _ = publish(tmp_path, fake, 2)
    dying = make_publisher(tmp_path, fake)

    def die(reached: str) -> None:
        if reached == step:
            raise Crash(f"killed after {step}")

    dying.checkpoint = die
    if step == "mid-upload":
        dying.on_progress = lambda sent, total: die("mid-upload") if sent == CHUNK else None
    with pytest.raises(Crash):
        publish(tmp_path, fake, 1, cut=2, publisher=dying)
    assert 1 <= len([v for v in fake.scheduled() if v != ep2.video_id]) <= (2 if step == "scheduled" else 1)
    record, _ = publish(tmp_path, fake, 1, cut=2)
    assert_replaced(tmp_path, fake, first, ep2, record)
    assert len(fake.calls("POST", "/upload/youtube/v3/videos")) == 3


def test_an_edit_after_release_keeps_the_public_video_and_says_so(tmp_path, fake):
    first, _ = publish(tmp_path, fake, 1)
    fake.videos[first.video_id]["status"].update(privacyStatus="public")  # YouTube released it at publishAt
    fake.videos[first.video_id]["status"].pop("publishAt")
    old_track = fake.captions_of(first.video_id)[0]["_data"]
    publisher = make_publisher(tmp_path, fake)
    record, _ = publish(tmp_path, fake, 1, cut=2, publisher=publisher)
    assert episode_videos(fake) == [first.video_id] and record.video_id == first.video_id
    assert record.video_digest == first.video_digest  # the record says which cut viewers see
    assert "keeps the public video" in publisher.kept_after_release and "AIDAS_YOUTUBE_REPLACE_AFTER_RELEASE" in publisher.kept_after_release
    assert fake.captions_of(first.video_id)[0]["_data"] == old_track  # its captions keep the old cut's timing
    assert len(fake.calls("POST", "/upload/youtube/v3/videos")) == 1 and fake.deleted == []


def test_with_the_policy_set_an_edit_after_release_replaces_the_public_video(tmp_path, fake):
    first, _ = publish(tmp_path, fake, 1)
    fake.videos[first.video_id]["status"].update(privacyStatus="public")
    fake.videos[first.video_id]["status"].pop("publishAt")
    publisher = make_publisher(tmp_path, fake)
    publisher.replace_after_release = True
    record, _ = publish(tmp_path, fake, 1, cut=2, publisher=publisher)
    assert episode_videos(fake) == [record.video_id] != [first.video_id]
    assert fake.videos[record.video_id]["status"]["privacyStatus"] == "public" and first.video_id in fake.deleted
    [playlist_id] = fake.playlists
    assert fake.playlist_videos(playlist_id) == [record.video_id]


def test_released_while_the_replacement_was_under_way_the_old_video_stays_and_the_new_one_goes(tmp_path, fake):
    first, _ = publish(tmp_path, fake, 1)
    publisher = make_publisher(tmp_path, fake)

    def release_now(step: str) -> None:
        if step == "playlist":
            fake.videos[first.video_id]["status"].update(privacyStatus="public")

    publisher.checkpoint = release_now
    record, _ = publish(tmp_path, fake, 1, cut=2, publisher=publisher)
    assert episode_videos(fake) == [first.video_id] == [record.video_id]
    assert "released before its replacement was ready" in publisher.kept_after_release
    [playlist_id] = fake.playlists
    assert fake.playlist_videos(playlist_id) == [first.video_id]


def test_cut_again_while_a_replacement_was_under_way_the_half_made_video_goes(tmp_path, fake):
    first, _ = publish(tmp_path, fake, 1)
    dying = make_publisher(tmp_path, fake)

    def die(step: str) -> None:
        if step == "playlist":
            raise Crash(step)

    dying.checkpoint = die
    with pytest.raises(Crash):
        publish(tmp_path, fake, 1, cut=2, publisher=dying)
    half_made = [v for v in episode_videos(fake) if v != first.video_id]
    assert len(half_made) == 1 and fake.scheduled() == [first.video_id]

    record, _ = publish(tmp_path, fake, 1, cut=3)
    assert episode_videos(fake) == [record.video_id] and set(fake.deleted) == {first.video_id, half_made[0]}
    assert fake.video_bytes[record.video_id] == episode_files(tmp_path, 1, 3)[0].read_bytes()
    [playlist_id] = fake.playlists
    assert fake.playlist_videos(playlist_id) == [record.video_id] and fake.scheduled() == [record.video_id]
