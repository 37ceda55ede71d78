"""The publish assets in Dagster: YouTube publishing with quota deferral, viewer feedback from the
local channel's dropped-in comments, and the outline adjustments episode_script reads."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import dagster as dg
import pytest
from google.oauth2.credentials import Credentials

from aidas_dagster.core.storage import Storage, read_json, write_json
from aidas_dagster.operations.registry import register
from aidas_dagster.partitions import EpisodePartition
from aidas_dagster.picture.models import FinalCut
from aidas_dagster.publish.assets import outline_adjustments, viewer_feedback, youtube_video
from aidas_dagster.publish.schedules import deferred_uploads
from aidas_dagster.publish.checks import adjustments_within_bounds, metadata_within_youtube_limits
from aidas_dagster.publish.local_channel import LocalChannel
from aidas_dagster.publish.metadata import VideoMetadata
from aidas_dagster.publish.oauth import save_credentials
from aidas_dagster.publish.quota import next_reset
from aidas_dagster.publish.resources import Channel
from aidas_dagster.story.adjustments import apply_adjustments, load_adjustments
from aidas_dagster.story.models import load_bible, load_roster
from aidas_dagster.story.engine import OfflineStoryEngine
from aidas_dagster_tests.fakes.youtube_server import YouTubeServer
from aidas_dagster.voice.casting import cast_voices

SERIES = "short-love"


def key(episode: int) -> dg.MultiPartitionKey:
    return EpisodePartition(SERIES, episode).key


@pytest.fixture
def written(instance, studio):
    """Bible, cast and the first two scripts of the 3-episode short series, as the story assets write them."""
    register(instance, Path(studio.series_dir))
    storage = Storage(studio.storage_root)
    engine = OfflineStoryEngine()
    config = studio.series_config(SERIES)
    bible = engine.write_bible(config)
    roster = engine.write_roster(config, bible, cast_voices)
    write_json(storage.bible_path(SERIES), bible)
    write_json(storage.roster_path(SERIES), roster)
    state = engine.initial_state(bible, roster)
    for episode in (1, 2):
        script = engine.write_script(bible, roster, state, episode)
        write_json(storage.script_path(SERIES, episode), script)
        state = script.state_after
    return storage


def fake_final_cut(storage: Storage, episode: int) -> None:
    """Stand-in files for the cut (the publisher sends bytes; rendering is tested elsewhere)."""
    final = storage.final_dir(SERIES, episode)
    final.mkdir(parents=True, exist_ok=True)
    video, thumb = storage.video_path(SERIES, episode), final / "thumbnail.jpg"
    video.write_bytes(bytes([episode]) * 300_000)
    thumb.write_bytes(b"\xff\xd8\xff" + bytes([episode]) * 500)
    cut = FinalCut(
        series_id=SERIES, episode_number=episode, video_path=str(video), srt_path=str(final / "x.srt"),
        thumbnail_path=str(thumb), duration=18.0, width=1920, height=1080, fps=30, segments=[], segments_encoded=0,
        render_seconds=0.0, fingerprint="test",
    )
    write_json(storage.final_manifest_path(SERIES, episode), cut)


def materialization(result: dg.ExecuteInProcessResult) -> dict:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_youtube_video_publishes_once_and_defers_on_quota_without_failing(written, instance, studio, httpserver, tmp_path):
    fake = YouTubeServer(base_url=httpserver.url_for("").rstrip("/"))
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    token = tmp_path / "token.json"
    save_credentials(
        Credentials(token="test-access-token", refresh_token="r", client_id="c", client_secret="s",
                    expiry=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(hours=1)),
        token,
    )
    resources = {"studio": studio, "channel": Channel(youtube_token_file=str(token), youtube_api_root=fake.base_url)}
    for episode in (1, 2):
        fake_final_cut(written, episode)

    def publish(episode: int) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [youtube_video, metadata_within_youtube_limits], partition_key=key(episode), instance=instance, resources=resources
        )

    first = publish(1)
    assert first.success and materialization(first)["status"] == "published"
    record = read_json(written.publish_record_path(SERIES, 1))
    assert record["channel"] == "youtube" and list(fake.videos) == [record["video_id"]]
    assert [c.passed for c in first.get_asset_check_evaluations()] == [True]
    assert publish(1).success and len(fake.videos) == 1  # again: still one video

    # Feedback comes from the same channel: statistics and every page of comments.
    fake.comment_page_size = 2
    fake.add_comments(record["video_id"], [("a", "진짜 재밌어요", 3), ("b", "지루해요", 0), ("c", "다음 화 기대돼요", 1)])
    fake.videos[record["video_id"]]["statistics"]["viewCount"] = "321"
    feedback = dg.materialize([viewer_feedback], partition_key=key(1), instance=instance, resources=resources)
    report = read_json(written.episode(SERIES, 1).feedback)
    assert feedback.success and report["source"] == "youtube" and report["statistics"]["views"] == 321
    assert report["comments_analysed"] == 3 and report["sentiment_counts"] == {"positive": 2, "neutral": 0, "negative": 1}
    assert len(fake.calls("GET", "/youtube/v3/commentThreads")) == 2

    fake.fail("POST", "/upload/youtube/v3/videos", 403, "quotaExceeded", times=5)
    deferred = publish(2)
    meta = materialization(deferred)
    until = next_reset().date().isoformat()
    assert deferred.success and meta["status"] == "deferred" and meta["deferred_until"] == until
    assert "quotaExceeded" in meta["reason"] and len(fake.calls("POST", "/upload/youtube/v3/videos")) == 2
    assert not written.publish_record_path(SERIES, 2).exists()
    assert [c.passed for c in deferred.get_asset_check_evaluations()] == [True]

    # After the reset the schedule asks for exactly that partition again; not before.
    with dg.build_schedule_context(scheduled_execution_time=dt.datetime.now(dt.timezone.utc), resources={"studio": studio}) as today:
        assert isinstance(deferred_uploads(today), dg.SkipReason)
    with dg.build_schedule_context(scheduled_execution_time=next_reset() + dt.timedelta(minutes=15), resources={"studio": studio}) as tomorrow:
        [request] = deferred_uploads(tomorrow)
    assert request.partition_key == key(2) and until in request.run_key


def praise_comments(name: str, count: int) -> list[dict]:
    given = name[1:]
    lines = [f"{name} 너무 좋아요 ㅋㅋ", f"{given} 나올 때가 제일 재밌어요", f"{name} 더 많이 나왔으면 좋겠어요", f"{given} 진짜 멋있어요"]
    return [{"text": lines[i % len(lines)], "author": f"viewer{i}", "likes": i % 4} for i in range(count)]


def feedback_round(written, instance, studio, comments: list[dict], channel: Channel) -> dg.ExecuteInProcessResult:
    fake_final_cut(written, 1)
    meta = VideoMetadata(title="짧은 첫사랑 EP.1", description="1화", tags=["웹드라마"])
    record, _ = LocalChannel(written.channel_dir()).publish(SERIES, 1, written.video_path(SERIES, 1), written.final_dir(SERIES, 1) / "thumbnail.jpg", meta)
    write_json(written.publish_record_path(SERIES, 1), record)
    (written.channel_dir() / record.video_id / "comments.json").write_text(json.dumps(comments, ensure_ascii=False))
    resources = {"studio": studio, "channel": channel}
    assert dg.materialize([viewer_feedback], partition_key=key(1), instance=instance, resources=resources).success
    return dg.materialize([outline_adjustments, adjustments_within_bounds], partition_key=SERIES, instance=instance, resources=resources)


def test_praise_in_dropped_comments_raises_a_supporting_characters_focus_in_the_next_unwritten_outline(written, instance, studio):
    bible, roster = load_bible(studio.storage, SERIES), load_roster(studio.storage, SERIES)
    mains = {c.id for c in roster.characters if c.importance == "main"}
    # A supporting character who is not already right after the leads in episode 3's outline.
    focus3 = bible.outline(3).character_focus
    favourite = next(
        c for c in roster.characters
        if c.importance != "main" and len(c.name) == 3 and (c.id not in focus3 or focus3.index(c.id) > len(mains))
    )

    result = feedback_round(written, instance, studio, praise_comments(favourite.name, 24), Channel(feedback_future_episodes=1))
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    report = read_json(written.episode(SERIES, 1).feedback)
    assert report["source"] == "local-fixture" and report["comments_analysed"] == 24
    assert max(report["character_popularity"].items(), key=lambda kv: kv[1]["score"])[0] == favourite.id

    adjusted = apply_adjustments(bible, load_adjustments(written, SERIES))
    new_focus = adjusted.outline(3).character_focus
    assert new_focus.index(favourite.id) == len(mains) and set(new_focus[: len(mains)]) == mains
    assert set(new_focus) - set(focus3) <= {favourite.id}
    # Episodes 1-2 are written; the bound is one future outline and the series has only three.
    assert [adjusted.outline(n) for n in (1, 2)] == [bible.outline(n) for n in (1, 2)]


def test_a_handful_of_comments_leaves_every_outline_alone(written, instance, studio):
    bible, roster = load_bible(studio.storage, SERIES), load_roster(studio.storage, SERIES)
    supporting = next(c for c in roster.characters if c.importance == "major_supporting")
    result = feedback_round(written, instance, studio, praise_comments(supporting.name, 4), Channel())
    assert result.success
    adjustments = load_adjustments(written, SERIES)
    assert adjustments.adjustments == [] and "4 comments" in adjustments.skipped_reason
    assert apply_adjustments(bible, adjustments) == bible


def test_feedback_on_the_local_channel_without_comments_is_empty_and_says_where_to_drop_them(written, instance, studio):
    fake_final_cut(written, 1)
    meta = VideoMetadata(title="짧은 첫사랑 EP.1", description="1화", tags=["웹드라마"])
    record, _ = LocalChannel(written.channel_dir()).publish(SERIES, 1, written.video_path(SERIES, 1), written.final_dir(SERIES, 1) / "thumbnail.jpg", meta)
    write_json(written.publish_record_path(SERIES, 1), record)
    result = dg.materialize([viewer_feedback], partition_key=key(1), instance=instance, resources={"studio": studio, "channel": Channel()})
    report = read_json(written.episode(SERIES, 1).feedback)
    assert result.success and report["source"] == "local-empty" and report["comments_analysed"] == 0
    assert "comments.json" in report["note"]


def test_new_feedback_of_an_episode_requests_the_outline_adjustments_of_its_series_once(studio):
    from aidas_dagster.definitions import build_definitions

    # An instance entered here, in the test's own context: loading definitions reads the instance
    # that is current in this context (the shared fixture's may belong to another context).
    with dg.instance_for_test() as instance:
        register(instance, Path(studio.series_dir))
        defs = build_definitions(studio=studio)
        before = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert before.get_requested_partitions(outline_adjustments.key) == set()
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=viewer_feedback.key, partition=key(1)))
        after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=before.cursor)
        assert after.get_requested_partitions(outline_adjustments.key) == {SERIES}
        settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after.cursor)
        assert settled.get_requested_partitions(outline_adjustments.key) == set()


def test_on_the_local_channel_a_recut_before_release_replaces_the_video_with_playlist_and_captions(written, instance, studio):
    storage = written
    resources = {"studio": studio, "channel": Channel()}
    fake_final_cut(storage, 1)
    srt = storage.final_dir(SERIES, 1) / "x.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\n첫 대사\n", encoding="utf-8")
    assert dg.materialize([youtube_video], partition_key=key(1), instance=instance, resources=resources).success
    first = read_json(storage.publish_record_path(SERIES, 1))
    channel = storage.channel_dir()
    assert (channel / first["video_id"] / "captions.ko.srt").read_text(encoding="utf-8") == srt.read_text(encoding="utf-8")

    # The producer's edit, re-cut: a different file and a changed line.
    storage.video_path(SERIES, 1).write_bytes(b"recut" * 60_000)
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\n고친 대사\n", encoding="utf-8")
    result = dg.materialize([youtube_video], partition_key=key(1), instance=instance, resources=resources)
    meta = materialization(result)
    second = read_json(storage.publish_record_path(SERIES, 1))
    assert result.success and second["video_id"] != first["video_id"] and meta["cut_revision"] == 2
    assert meta["latest_cut_on_channel"] is True
    assert second["metadata"]["publish_at"] == first["metadata"]["publish_at"]  # the release slot moved with it
    assert sorted(p.parent.name for p in channel.glob("*/video.json")) == [second["video_id"]]
    assert "고친 대사" in (channel / second["video_id"] / "captions.ko.srt").read_text(encoding="utf-8")
    playlist = read_json(channel / "playlists" / f"{SERIES}.json")
    assert [i["video_id"] for i in playlist["items"]] == [second["video_id"]]
    assert playlist["description"].splitlines()[-1] == f"aidas-series:{SERIES}"
