"""The YouTube publisher, with the real google-api-python-client, against a local YouTube server."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.core.ledger import CostLedger
from aidas_dagster.publish.metadata import build_metadata
from aidas_dagster.publish.quota import PACIFIC, QuotaSettings, next_reset
from aidas_dagster.publish.youtube import MetadataRefused, UploadDeferred
from aidas_dagster_tests.fakes.youtube_server import YouTubeServer
from aidas_dagster_tests.publish.builders import CHUNK, SRT, Crash, make_publisher, metadata

UPLOAD = "/upload/youtube/v3/videos"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    video = tmp_path / "ep001.mp4"
    video.write_bytes(bytes(range(256)) * 4000)  # 1,024,000 bytes: four chunks
    thumb = tmp_path / "thumbnail.jpg"
    thumb.write_bytes(b"\xff\xd8\xff\xe0" + b"thumb" * 100)
    return video, thumb


def crash_when(condition):
    def progress(sent: int, total: int) -> None:
        if condition(sent, total):
            raise Crash(f"killed at {sent}/{total}")

    return progress


def test_upload_is_a_scheduled_private_synthetic_video_with_thumbnail_and_key(tmp_path, fake, files):
    video, thumb = files
    record, changed = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())

    assert changed and list(fake.videos) == [record.video_id]
    uploaded = fake.videos[record.video_id]
    assert fake.video_bytes[record.video_id] == video.read_bytes()
    assert uploaded["status"]["privacyStatus"] == "private" and uploaded["status"]["publishAt"] == record.metadata.publish_at
    assert uploaded["status"]["selfDeclaredMadeForKids"] is False and uploaded["status"]["containsSyntheticMedia"] is True
    assert uploaded["snippet"]["categoryId"] == "24"
    assert any(t.startswith("aidas:short-love:001:") for t in uploaded["snippet"]["tags"])
    assert fake.thumbnails[record.video_id] == thumb.read_bytes()
    # One session, sent in 256 KiB chunks.
    assert len(fake.calls("POST", UPLOAD)) == 1 and len(fake.calls("PUT", UPLOAD)) == 4
    assert fake.rejections == []

    entries = list(CostLedger(tmp_path / "storage" / "ledger" / "costs.jsonl").entries())
    by_op = {e.operation: e for e in entries}
    # Default rule: the upload comes from the daily bucket of 100, the thumbnail costs 50 units,
    # the look for an earlier upload 1 unit per call.
    assert by_op["videos.insert"].units == 0 and "upload bucket" in by_op["videos.insert"].detail
    assert by_op["thumbnails.set"].units == 50 and by_op["playlistItems.list"].units == 1
    assert all(e.provider == "youtube" and e.cost_usd == 0 and e.unit == "quota units" for e in entries)
    quota = json.loads((tmp_path / "storage" / "youtube" / "quota.json").read_text())
    assert quota["units"] == sum(e.units for e in entries) and quota["inserts"] == 1

    # Publishing the same episode again sends nothing and changes nothing.
    before = len(fake.log)
    again, changed_again = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    assert not changed_again and again.video_id == record.video_id and len(fake.log) == before


def test_upload_interrupted_midway_resumes_where_the_server_stopped(tmp_path, fake, files):
    video, thumb = files
    size = video.stat().st_size
    dying = make_publisher(tmp_path, fake, on_progress=crash_when(lambda sent, total: sent == 2 * CHUNK))
    with pytest.raises(Crash):
        dying.publish("short-love", 1, video, thumb, metadata())
    assert fake.videos == {} and len(fake.sessions) == 1

    first_run = len(fake.log)
    record, changed = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())

    second_run = fake.log[first_run:]
    uploads = [c for c in second_run if c[1] == UPLOAD]
    assert uploads[0] == ("PUT", UPLOAD, f"bytes */{size}")  # asked where it stands ...
    assert uploads[1][2] == f"bytes {2 * CHUNK}-{3 * CHUNK - 1}/{size}"  # ... and went on from there
    assert not [c for c in second_run if c[0] == "POST" and c[1] == UPLOAD]  # no new session
    assert changed and list(fake.videos) == [record.video_id]
    assert fake.video_bytes[record.video_id] == video.read_bytes()


def test_killed_after_the_upload_finished_but_before_the_id_was_recorded_leaves_one_video(tmp_path, fake, files):
    video, thumb = files
    dying = make_publisher(tmp_path, fake, on_progress=crash_when(lambda sent, total: sent == total))
    with pytest.raises(Crash):
        dying.publish("short-love", 1, video, thumb, metadata())
    assert len(fake.videos) == 1

    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    assert list(fake.videos) == [record.video_id]
    assert len(fake.calls("POST", UPLOAD)) == 1
    assert fake.thumbnails[record.video_id] == thumb.read_bytes()


def test_with_the_upload_state_lost_the_video_is_found_on_the_channel_by_its_key(tmp_path, fake, files):
    video, thumb = files
    first, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    # Another upload on the channel, so the lookup has to read and match tags.
    other = tmp_path / "other.mp4"
    other.write_bytes(b"x" * 1000)
    make_publisher(tmp_path, fake).publish("short-love", 2, other, thumb, metadata("짧은 첫사랑 EP.2 - 둘째 날"))
    for state in (tmp_path / "storage" / "youtube" / "uploads" / "short-love").glob("001.*"):
        state.unlink()

    later_slot = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=3)
    found, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata(publish_at=later_slot))
    assert found.video_id == first.video_id and len(fake.videos) == 2
    assert found.metadata.publish_at == first.metadata.publish_at  # the release it was uploaded with
    assert len(fake.calls("POST", UPLOAD)) == 2  # episodes 1 and 2, nothing more
    operations = [e.operation for e in CostLedger(tmp_path / "storage" / "ledger" / "costs.jsonl").entries()]
    assert "playlistItems.list" in operations and "videos.list" in operations


def test_a_failed_upload_with_the_key_is_not_taken_for_the_episode(tmp_path, fake, files):
    video, thumb = files
    first, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    fake.videos[first.video_id]["status"]["uploadStatus"] = "failed"  # YouTube could not process it
    for state in (tmp_path / "storage" / "youtube" / "uploads" / "short-love").glob("001.*"):
        state.unlink()
    second, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    assert second.video_id != first.video_id and fake.video_bytes[second.video_id] == video.read_bytes()


def test_quota_exceeded_from_the_server_defers_to_the_next_pacific_day_without_retrying(tmp_path, fake, files):
    video, thumb = files
    fake.fail("POST", UPLOAD, 403, "quotaExceeded", times=10)
    publisher = make_publisher(tmp_path, fake)
    with pytest.raises(UploadDeferred) as deferred:
        publisher.publish("short-love", 1, video, thumb, metadata())
    assert deferred.value.until == next_reset().date()
    assert f"deferred until {next_reset().date().isoformat()}" in str(deferred.value)
    assert "quotaExceeded" in str(deferred.value)
    assert len(fake.calls("POST", UPLOAD)) == 1  # not retried

    # The rest of the day, nothing is even attempted.
    with pytest.raises(UploadDeferred):
        make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    assert len(fake.calls("POST", UPLOAD)) == 1 and fake.videos == {}


@pytest.mark.parametrize(
    "settings, reason",
    [
        (QuotaSettings(daily_units=2000, insert_rule="units"), "units"),
        (QuotaSettings(daily_inserts=1, insert_rule="bucket"), "upload(s)"),
    ],
)
def test_an_upload_beyond_todays_quota_is_deferred_before_anything_is_sent(tmp_path, fake, files, settings, reason):
    video, thumb = files
    make_publisher(tmp_path, fake, settings).publish("short-love", 1, video, thumb, metadata())
    sessions = len(fake.calls("POST", UPLOAD))
    with pytest.raises(UploadDeferred) as deferred:
        make_publisher(tmp_path, fake, settings).publish("short-love", 2, video, thumb, metadata("EP.2"))
    assert reason in str(deferred.value) and "deferred until" in str(deferred.value)
    assert len(fake.calls("POST", UPLOAD)) == sessions and len(fake.videos) == 1


def test_under_the_older_rule_an_upload_costs_1600_units(tmp_path, fake, files):
    video, thumb = files
    make_publisher(tmp_path, fake, QuotaSettings(insert_rule="units")).publish("short-love", 1, video, thumb, metadata())
    [insert] = [e for e in CostLedger(tmp_path / "storage" / "ledger" / "costs.jsonl").entries() if e.operation == "videos.insert"]
    assert insert.units == 1600
    quota = json.loads((tmp_path / "storage" / "youtube" / "quota.json").read_text())
    assert quota["units"] >= 1650 and quota["inserts"] == 0


def test_a_thumbnail_that_hits_the_quota_waits_and_is_set_by_the_next_run(tmp_path, fake, files):
    video, thumb = files
    fake.fail("POST", "/upload/youtube/v3/thumbnails/set", 403, "quotaExceeded")
    publisher = make_publisher(tmp_path, fake)
    record, _ = publisher.publish("short-love", 1, video, thumb, metadata())
    assert list(fake.videos) == [record.video_id] and fake.thumbnails == {}
    assert publisher.deferred_until == next_reset().date()

    (tmp_path / "storage" / "youtube" / "quota.json").unlink()  # the next Pacific day
    later = make_publisher(tmp_path, fake)
    again, changed = later.publish("short-love", 1, video, thumb, metadata())
    assert changed and again.video_id == record.video_id and fake.thumbnails[record.video_id] == thumb.read_bytes()
    assert later.deferred_until is None and len(fake.videos) == 1


def test_a_server_error_mid_upload_is_retried_from_where_the_server_stands(tmp_path, fake, files):
    video, thumb = files
    fake.fail("PUT", UPLOAD, 503, "backendError", times=1)
    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    assert list(fake.videos) == [record.video_id]
    assert fake.video_bytes[record.video_id] == video.read_bytes()


def test_metadata_over_a_limit_is_refused_with_a_clear_message_and_never_sent(tmp_path, fake, files):
    video, thumb = files
    long_description = metadata().model_copy(update={"description": "가" * 2000})  # 6,000 bytes
    with pytest.raises(MetadataRefused, match=r"description is 6000 bytes \(limit 5000\)"):
        make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, long_description)
    with pytest.raises(MetadataRefused, match="angle bracket"):
        make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata("EP.1 <script>"))
    with pytest.raises(MetadataRefused, match="title is 101 characters"):
        make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata("가" * 101))
    assert fake.log == []


def test_template_metadata_longer_than_the_limits_is_trimmed_and_accepted(tmp_path, fake, files):
    video, thumb = files
    config = SeriesConfig(
        series_id="short-love", title="첫" * 80, genre="로맨틱 코미디", total_episodes=3, episode_duration=1,
        main_theme="설렘", target_audience="20대",
    )
    script = SimpleNamespace(episode_number=1, title="긴 제목" * 20, summary="줄거리 " * 2000)
    meta = build_metadata(
        config, script, character_names=[f"인물{i:03d}" * 5 for i in range(40)],
        publish_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1),
    )
    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, meta)
    sent = fake.videos[record.video_id]["snippet"]
    assert len(sent["title"]) == 100 and len(sent["description"].encode()) <= 5000
    assert sent["tags"][0].startswith("aidas:short-love:001:")  # the key survives trimming
    assert fake.rejections == []


def test_edited_metadata_updates_the_same_video(tmp_path, fake, files):
    video, thumb = files
    first, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    edited, changed = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata("새 제목 EP.1"))
    assert changed and edited.video_id == first.video_id and edited.revision == 2
    assert list(fake.videos) == [first.video_id]
    assert fake.videos[first.video_id]["snippet"]["title"] == "새 제목 EP.1"
    assert edited.metadata.publish_at == first.metadata.publish_at  # the release slot never moves
    assert any(t.startswith("aidas:short-love:001:") for t in fake.videos[first.video_id]["snippet"]["tags"])


def test_a_release_slot_already_past_moves_to_the_same_hour_on_a_later_day(tmp_path, fake, files):
    video, thumb = files
    yesterday = (dt.datetime.now(PACIFIC) - dt.timedelta(days=1)).replace(hour=19, minute=0, second=0, microsecond=0)
    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata(publish_at=yesterday))
    scheduled = dt.datetime.fromisoformat(record.metadata.publish_at)
    assert scheduled > dt.datetime.now(dt.timezone.utc) and scheduled.time() == yesterday.time()
    assert fake.rejections == []


def test_feedback_reads_statistics_and_every_page_of_comments(tmp_path, fake, files):
    video, thumb = files
    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    fake.videos[record.video_id]["statistics"] = {"viewCount": "1234", "likeCount": "56", "favoriteCount": "0", "commentCount": "250"}
    fake.add_comments(record.video_id, [(f"viewer{i}", f"댓글 {i}", i % 3) for i in range(250)])

    collected = make_publisher(tmp_path, fake).fetch_feedback(record.video_id)
    assert collected.statistics == {"views": 1234, "likes": 56, "favorites": 0, "comments": 250}
    assert [c.text for c in collected.comments] == [f"댓글 {i}" for i in range(250)]
    assert len(fake.calls("GET", "/youtube/v3/commentThreads")) == 3


def _publish_in_child(tmp_path: Path, base_url: str, video: Path, thumb: Path) -> None:
    import traceback

    try:
        make_publisher(tmp_path, YouTubeServer(base_url=base_url)).publish("short-love", 1, video, thumb, metadata())
    except BaseException:
        (tmp_path / "child-error.txt").write_text(traceback.format_exc())
        raise


def test_a_process_killed_right_after_the_session_was_created_resumes_that_session(tmp_path, fake, files):
    """A real SIGKILL while the first chunk is on its way: no finally block gets to save anything."""
    import multiprocessing
    import os
    import signal
    import threading

    video, thumb = files
    started, killed = threading.Event(), threading.Event()
    child = multiprocessing.get_context("fork").Process(target=_publish_in_child, args=(tmp_path, fake.base_url, video, thumb))

    def kill_at_the_first_chunk(method: str, path: str, content_range: str) -> None:
        if method == "PUT" and path == UPLOAD and not killed.is_set():
            started.wait(10)
            os.kill(child.pid, signal.SIGKILL)
            killed.set()

    fake.on_request = kill_at_the_first_chunk
    child.start()
    started.set()
    child.join(30)
    error = tmp_path / "child-error.txt"
    assert killed.wait(10) and child.exitcode == -signal.SIGKILL, error.read_text() if error.exists() else child.exitcode
    assert len(fake.calls("POST", UPLOAD)) == 1 and fake.videos == {}
    fake.on_request = None

    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    assert len(fake.calls("POST", UPLOAD)) == 1  # the same session, no second insert
    assert list(fake.videos) == [record.video_id] and fake.video_bytes[record.video_id] == video.read_bytes()


@pytest.mark.parametrize("lost", [1, 2])
def test_a_lost_final_response_costs_seconds_not_a_minute(tmp_path, fake, files, lost):
    """The server stores the last chunk and the answer never arrives: httplib2 sends the request
    again by itself (once), and with it lost too, the publisher asks where the upload stands."""
    import time

    video, thumb = files
    size = video.stat().st_size
    last = rf"bytes \d+-{size - 1}/{size}"
    fake.drop("PUT", UPLOAD, content_range=last, times=lost)
    started = time.monotonic()
    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    elapsed = time.monotonic() - started

    assert elapsed < 5, f"a lost final response took {elapsed:.1f} s"
    assert list(fake.videos) == [record.video_id] and fake.video_bytes[record.video_id] == video.read_bytes()
    final_puts = [c for c in fake.calls("PUT", UPLOAD) if re.fullmatch(last, c[2])]
    assert len(final_puts) == 2  # sent again, with its bytes (the fake refuses a short body)
    status_queries = [c for c in fake.calls("PUT", UPLOAD) if c[2] == f"bytes */{size}"]
    assert len(status_queries) == (1 if lost == 2 else 0)


def test_status_queries_have_their_own_retry_budget(tmp_path, fake, files):
    video, thumb = files
    # One failed chunk, then five 503s while asking where the upload stands: more than the three
    # attempts a chunk has (make_publisher), within the status queries' own eight.
    fake.fail("PUT", UPLOAD, 503, "backendError", times=1, content_range=r"bytes \d+-")
    fake.fail("PUT", UPLOAD, 503, "backendError", times=5, content_range=r"bytes \*/")
    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    assert list(fake.videos) == [record.video_id] and fake.video_bytes[record.video_id] == video.read_bytes()
    assert len([c for c in fake.calls("PUT", UPLOAD) if c[2].startswith("bytes */")]) == 6


def test_a_chunk_that_keeps_failing_stops_after_its_attempts_and_the_next_run_resumes(tmp_path, fake, files):
    from aidas_dagster.core.paid_call import ProviderError

    video, thumb = files
    fake.fail("PUT", UPLOAD, 503, "backendError", times=3, content_range=rf"bytes {CHUNK}-")
    with pytest.raises(ProviderError, match=f"failed at byte {CHUNK} of .* after 3 attempt"):
        make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata())
    assert len(fake.calls("POST", UPLOAD)) == 1 and fake.video_bytes[record.video_id] == video.read_bytes()




@pytest.fixture
def srt(tmp_path: Path) -> Path:
    path = tmp_path / "ep001.srt"
    path.write_text(SRT, encoding="utf-8")
    return path


def ledger_ops(tmp_path: Path) -> list[tuple[str, int]]:
    return [(e.operation, e.units) for e in CostLedger(tmp_path / "storage" / "ledger" / "costs.jsonl").entries()]


def test_the_srt_becomes_a_korean_caption_track_and_a_changed_srt_updates_it(tmp_path, fake, files, srt):
    video, thumb = files
    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata(), captions=srt)
    [track] = fake.captions_of(record.video_id)
    assert track["snippet"]["language"] == "ko" and track["snippet"]["isDraft"] is False
    assert track["_data"] == srt.read_bytes()
    assert ("captions.insert", 400) in ledger_ops(tmp_path)

    # Unchanged: nothing sent.
    before = len(fake.log)
    assert make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata(), captions=srt)[1] is False
    assert len(fake.log) == before

    srt.write_text(SRT.replace("반가워요", "저도 반가워요"), encoding="utf-8")
    again, changed = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata(), captions=srt)
    assert changed and again.video_id == record.video_id and again.revision == 2
    [updated] = fake.captions_of(record.video_id)
    assert updated["id"] == track["id"] and updated["_data"] == srt.read_bytes()
    assert ("captions.update", 450) in ledger_ops(tmp_path)
    quota = json.loads((tmp_path / "storage" / "youtube" / "quota.json").read_text())
    assert quota["by_method"]["captions.insert"] == 1 and quota["by_method"]["captions.update"] == 1
    assert quota["units"] == sum(units for _op, units in ledger_ops(tmp_path))


def test_killed_after_the_caption_insert_landed_the_next_run_finds_it_instead_of_adding_a_second(tmp_path, fake, files, srt):
    video, thumb = files
    dying = make_publisher(tmp_path, fake)
    real_call = dying._call

    def call_then_die(method, *args, **kwargs):
        result = real_call(method, *args, **kwargs)
        if method == "captions.insert":
            raise Crash("killed before the caption id was recorded")
        return result

    dying._call = call_then_die
    with pytest.raises(Crash):
        dying.publish("short-love", 1, video, thumb, metadata(), captions=srt)

    record, _ = make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata(), captions=srt)
    assert len(fake.captions_of(record.video_id)) == 1
    assert len(fake.calls("POST", "/upload/youtube/v3/captions")) == 1
    assert len(fake.calls("GET", "/youtube/v3/captions")) == 1  # asked once, because an insert was pending
    assert make_publisher(tmp_path, fake).publish("short-love", 1, video, thumb, metadata(), captions=srt)[1] is False


def test_a_caption_track_that_hits_the_quota_is_deferred_and_added_by_the_next_run(tmp_path, fake, files, srt):
    video, thumb = files
    fake.fail("POST", "/upload/youtube/v3/captions", 403, "quotaExceeded")
    publisher = make_publisher(tmp_path, fake)
    record, _ = publisher.publish("short-love", 1, video, thumb, metadata(), captions=srt)
    assert list(fake.videos) == [record.video_id] and fake.captions == {}
    assert publisher.deferred_until == next_reset().date() and any("caption track" in n for n in publisher.notes)

    (tmp_path / "storage" / "youtube" / "quota.json").unlink()  # the next Pacific day
    later = make_publisher(tmp_path, fake)
    assert later.publish("short-love", 1, video, thumb, metadata(), captions=srt)[1]
    assert len(fake.captions_of(record.video_id)) == 1 and later.deferred_until is None


def test_an_upload_whose_caption_track_would_not_fit_today_waits_before_anything_is_sent(tmp_path, fake, files, srt):
    video, thumb = files
    # Bucket rule: the insert costs no units, thumbnail 50 + caption 400 = 450 > 400.
    with pytest.raises(UploadDeferred, match="needs 450 units"):
        make_publisher(tmp_path, fake, QuotaSettings(daily_units=400)).publish(
            "short-love", 1, video, thumb, metadata(), captions=srt
        )
    assert not fake.calls("POST", UPLOAD)
