"""The offline channel models the YouTube publisher: caption track, series playlist, and a re-cut
replacing the video before its release (crash-safe), kept after it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from aidas_dagster.core.storage import read_json
from aidas_dagster.publish.local_channel import CAPTION_FILE, LocalChannel
from aidas_dagster_tests.publish.builders import PLAYLIST, Crash, episode_files, metadata

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def publish(channel: LocalChannel, tmp_path: Path, episode: int, cut: int = 1, when: dt.datetime | None = None):
    video, thumb, captions = episode_files(tmp_path, episode, cut)
    meta = metadata(f"짧은 첫사랑 EP.{episode}", publish_at=when or NOW + dt.timedelta(days=episode))
    return channel.publish("short-love", episode, video, thumb, meta, captions=captions, playlist=PLAYLIST)


def videos(root: Path) -> list[str]:
    return sorted(p.parent.name for p in root.glob("*/video.json"))


def playlist_order(channel: LocalChannel) -> list[str]:
    return [i["video_id"] for i in read_json(channel.playlist_path("short-love"))["items"]]


def test_captions_and_a_playlist_in_episode_order_when_published_out_of_order(tmp_path):
    channel = LocalChannel(tmp_path / "channel")
    records = {n: publish(channel, tmp_path, n)[0] for n in (3, 1, 2)}
    assert playlist_order(channel) == [records[n].video_id for n in (1, 2, 3)]
    playlist = read_json(channel.playlist_path("short-love"))
    assert playlist["title"] == PLAYLIST.title and playlist["description"].endswith("aidas-series:short-love")
    captions = episode_files(tmp_path, 2)[2]
    assert (channel.root / records[2].video_id / CAPTION_FILE).read_bytes() == captions.read_bytes()
    assert publish(channel, tmp_path, 2)[1] is False


def test_a_recut_before_release_replaces_the_video_and_moves_slot_captions_thumbnail_and_release(tmp_path):
    channel = LocalChannel(tmp_path / "channel")
    first, _ = publish(channel, tmp_path, 1)
    ep2, _ = publish(channel, tmp_path, 2)
    record, changed = publish(channel, tmp_path, 1, cut=2)
    video, thumb, captions = episode_files(tmp_path, 1, 2)
    assert changed and record.video_id != first.video_id and record.cut_revision == 2
    assert videos(channel.root) == sorted([record.video_id, ep2.video_id])
    assert record.metadata.publish_at == first.metadata.publish_at
    assert (channel.root / record.video_id / CAPTION_FILE).read_bytes() == captions.read_bytes()
    assert (channel.root / record.video_id / "thumbnail.jpg").read_bytes() == thumb.read_bytes()
    assert playlist_order(channel) == [record.video_id, ep2.video_id]
    assert channel.find("short-love", 1) == record and any("replaced" in n for n in channel.notes)


@pytest.mark.parametrize("step", ["journal", "uploaded", "playlist", "switched"])
def test_a_local_replacement_killed_at_any_step_ends_with_one_video(tmp_path, step):
    channel = LocalChannel(tmp_path / "channel")
    first, _ = publish(channel, tmp_path, 1)

    def die(reached: str) -> None:
        if reached == step:
            raise Crash(step)

    dying = LocalChannel(tmp_path / "channel")
    dying.checkpoint = die
    with pytest.raises(Crash):
        publish(dying, tmp_path, 1, cut=2)
    assert channel.find("short-love", 1) is not None  # never zero
    record, _ = publish(LocalChannel(tmp_path / "channel"), tmp_path, 1, cut=2)
    assert videos(channel.root) == [record.video_id] != [first.video_id]
    assert playlist_order(channel) == [record.video_id]
    assert not list((channel.root / "episodes").rglob("*.replacing.json"))


def test_a_recut_after_release_keeps_the_released_video_unless_the_policy_says_replace(tmp_path):
    channel = LocalChannel(tmp_path / "channel")
    first, _ = publish(channel, tmp_path, 1, when=NOW + dt.timedelta(hours=1))
    later = LocalChannel(tmp_path / "channel", clock=lambda: NOW + dt.timedelta(hours=2))
    record, _ = publish(later, tmp_path, 1, cut=2, when=NOW + dt.timedelta(hours=1))
    assert record.video_id == first.video_id and record.video_digest == first.video_digest
    assert "keeps the released video" in later.kept_after_release
    assert (channel.root / first.video_id / CAPTION_FILE).read_bytes() == episode_files(tmp_path, 1, 1)[2].read_bytes()

    policy = LocalChannel(tmp_path / "channel", replace_after_release=True, clock=lambda: NOW + dt.timedelta(hours=2))
    replaced, _ = publish(policy, tmp_path, 1, cut=2, when=NOW + dt.timedelta(hours=1))
    assert replaced.video_id != first.video_id and videos(channel.root) == [replaced.video_id]
