"""The HeyGen provider against a local server speaking HeyGen's v3 wire protocol."""

from __future__ import annotations

import json
import logging
import math
import subprocess
import wave
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from aidas_dagster.core.ledger import Budget, BudgetLimits, CostLedger, LedgerEntry
from aidas_dagster.core.paid_call import RetryPolicy
from aidas_dagster.picture.heygen import (
    HeyGenAuthError,
    HeyGenAvatars,
    HeyGenClient,
    LineRequest,
    wants_provider_clip,
)
from aidas_dagster.picture.resources import AvatarStudio
from aidas_dagster.story.models import Appearance, Character, VoiceCasting, VoiceProfile
from aidas_dagster_tests.fakes.heygen_server import Fault, HeyGenServer

API_KEY = "hg-test-key-7f3a9c1e5b"
PRICE_PER_MINUTE = 1.2


class Crash(BaseException):
    """Stands in for the process dying (not an Exception, so nothing inside catches it)."""


def make_character(char_id: str, importance: str, strategy: str, name: str = "한지민") -> Character:
    return Character(
        id=char_id,
        name=name,
        role="주인공" if importance == "main" else "조연",
        importance=importance,
        gender="female",
        age=29,
        occupation="디자이너",
        personality=["밝음"],
        background="서울에서 일한다",
        goals=["꿈을 이룬다"],
        speech_style="존댓말",
        voice_profile=VoiceProfile(gender="female", age_group="young_adult", tone="bright", speaking_style="fast"),
        appearance=Appearance(
            skin="#f1c27d",
            hair="#222222",
            hair_style="bob",
            outfit="#3355aa",
            outfit_style="casual",
            eye="#331100",
            accessory="none",
        ),
        avatar_strategy=strategy,
        voice=VoiceCasting(provider="offline", voice_id="f3", pitch=50, pitch_range=50, rate=170),
    )


LEAD = make_character("CHAR001", "main", "full_avatar")
LEAD_2 = make_character("CHAR002", "main", "full_avatar", name="이도현")
SUPPORTING = make_character("CHAR003", "major_supporting", "partial_avatar", name="박서연")
MINOR = make_character("CHAR004", "minor", "voice_only", name="편의점 직원")
AVATAR_IDS = {"CHAR001": "av_lead_one", "CHAR002": "av_lead_two", "CHAR003": "av_support"}


def write_wav(path: Path, seconds: float, freq: float) -> Path:
    """A real 16 kHz mono PCM WAV of a sine tone (the frequency makes each line's bytes distinct)."""
    rate = 16000
    frames = bytearray()
    for i in range(int(seconds * rate)):
        sample = int(12000 * math.sin(2 * math.pi * freq * i / rate))
        frames += sample.to_bytes(2, "little", signed=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


@pytest.fixture(scope="session")
def result_mp4(tmp_path_factory) -> bytes:
    """A tiny real H.264 mp4, as HeyGen would hand back."""
    out = tmp_path_factory.mktemp("heygen") / "result.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=30",
            "-t",
            "1",
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(out),
        ],
        check=True,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def running_server():
    srv = HTTPServer(threaded=True)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server(running_server: HTTPServer):
    yield running_server
    running_server.clear()  # handlers and log: each test gets a fresh fake


@pytest.fixture
def fake(server: HTTPServer, result_mp4: bytes) -> HeyGenServer:
    return HeyGenServer(server, API_KEY, result_mp4).register()


@pytest.fixture
def ledger(tmp_path: Path) -> CostLedger:
    return CostLedger(tmp_path / "ledger" / "costs.jsonl")


@pytest.fixture
def line_wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "audio" / "line-000.wav", 1.5, 440.0)


def make_client(
    server: HTTPServer, *, key: str = API_KEY, sleep=lambda s: None, attempts: int = 4, **kwargs
) -> HeyGenClient:
    return HeyGenClient(
        key,
        base_url=server.url_for(""),
        poll_interval=0.0,
        timeout=(2.0, 5.0),
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=60.0),
        sleep=sleep,
        **kwargs,
    )


def make_avatars(client: HeyGenClient, cache: Path, ledger: CostLedger | None = None, **kwargs) -> HeyGenAvatars:
    return HeyGenAvatars(
        client, cache, ledger=ledger, avatar_ids=AVATAR_IDS, price_per_minute_usd=PRICE_PER_MINUTE, **kwargs
    )


def heygen_entries(ledger: CostLedger) -> list[LedgerEntry]:
    return [e for e in ledger.entries() if e.provider == "heygen"]


def test_success_downloads_the_clip_into_the_cache_and_a_second_call_sends_nothing(
    server, fake, ledger, line_wav, result_mp4, tmp_path
):
    cache = tmp_path / "cache" / "heygen"
    avatars = make_avatars(make_client(server), cache, ledger)

    clip = avatars.render_line(LEAD, line_wav, "ep001-line000", "short-love", 1)

    assert clip is not None and clip.parent == cache
    assert clip.read_bytes() == result_mp4
    # what HeyGen was asked for
    (job,) = fake.jobs.values()
    assert job.payload["type"] == "avatar" and job.payload["avatar_id"] == "av_lead_one"
    assert job.payload["voice_settings"]["locale"] == "ko-KR"
    assert fake.assets[job.payload["audio_asset_id"]]["bytes"] == line_wav.read_bytes()
    assert job.idempotency_key and job.polls == fake.pending_polls + 1  # waited through every status
    # the presigned result URL is fetched without the API key
    (download,) = fake.requests("GET", "/files/")
    assert download.api_key is None
    # the create is on the ledger: 1.5 s of audio, billed per second
    (entry,) = heygen_entries(ledger)
    assert (entry.operation, entry.unit, entry.cache_hit) == ("avatar_video", "seconds", False)
    assert entry.units == pytest.approx(1.5)
    assert entry.cost_usd == pytest.approx(2 / 60 * PRICE_PER_MINUTE)
    assert (entry.series_id, entry.episode) == ("short-love", 1)

    requests_before = len(fake.log)
    again = make_avatars(make_client(server), cache, ledger).render_line(
        LEAD, line_wav, "ep001-line000", "short-love", 1
    )
    assert again == clip
    assert len(fake.log) == requests_before
    hit = heygen_entries(ledger)[-1]
    assert hit.cache_hit and hit.cost_usd == 0.0


def test_rate_limit_is_waited_out_then_the_video_is_made(server, fake, ledger, line_wav, tmp_path):
    fake.add_fault("create", Fault("error", 429, "rate_limited", headers={"Retry-After": "7"}))
    waits: list[float] = []
    avatars = make_avatars(make_client(server, sleep=waits.append), tmp_path / "cache", ledger)

    clip = avatars.render_line(LEAD, line_wav, "ep001-line000", "short-love", 1)

    assert clip is not None and clip.exists()
    assert 7.0 in waits  # honoured Retry-After
    assert len(fake.creates()) == 2 and len(fake.jobs) == 1
    assert len([e for e in heygen_entries(ledger) if e.operation == "avatar_video"]) == 1


def test_a_failed_job_falls_back_with_its_reason_and_a_later_run_tries_with_a_new_key(
    server, fake, ledger, line_wav, tmp_path, caplog
):
    fake.fail_next_jobs = 1
    cache = tmp_path / "cache"
    avatars = make_avatars(make_client(server), cache, ledger)

    with caplog.at_level(logging.WARNING, logger="aidas_dagster.picture.heygen"):
        assert avatars.render_line(LEAD, line_wav, "ep001-line000", "short-love", 1) is None

    assert "avatar render failed" in avatars.outcomes["ep001-line000"]
    assert "avatar render failed" in caplog.text
    failed = [e for e in heygen_entries(ledger) if e.operation == "avatar_video_failed"]
    assert len(failed) == 1 and "avatar render failed" in failed[0].detail
    assert not list(cache.glob("*.mp4"))

    # the next run must not replay the failed job's key
    clip = make_avatars(make_client(server), cache, ledger).render_line(
        LEAD, line_wav, "ep001-line000", "short-love", 1
    )
    assert clip is not None
    first, second = fake.jobs.values()
    assert first.idempotency_key != second.idempotency_key


def test_out_of_credit_falls_back_and_stops_calling_heygen_for_the_run(server, fake, ledger, tmp_path):
    fake.credits = 0
    avatars = make_avatars(make_client(server), tmp_path / "cache", ledger)
    first = write_wav(tmp_path / "a.wav", 1.0, 300.0)
    second = write_wav(tmp_path / "b.wav", 1.0, 500.0)

    assert avatars.render_line(LEAD, first, "ep001-line000", "short-love", 1) is None
    requests_after_first = len(fake.log)
    assert avatars.render_line(LEAD_2, second, "ep001-line001", "short-love", 1) is None

    assert len(fake.log) == requests_after_first  # nothing more was sent
    assert len(fake.creates()) == 1 and not fake.jobs
    assert "out of credit" in avatars.outcomes["ep001-line000"]
    assert "out of credit" in avatars.outcomes["ep001-line001"]
    assert [e.operation for e in heygen_entries(ledger)] == ["avatar_video_refused"]


@pytest.mark.parametrize(
    "lost",
    [Fault("lose_reply", 500, "internal_error"), Fault("slow_reply", delay=0.6)],
    ids=["500-after-create", "reply-slower-than-timeout"],
)
def test_a_retried_create_whose_first_reply_was_lost_does_not_make_a_second_job(
    server, fake, ledger, line_wav, tmp_path, lost
):
    fake.add_fault("create", lost)
    client = make_client(server)
    client.timeout = (2.0, 0.3)

    clip = make_avatars(client, tmp_path / "cache", ledger).render_line(
        LEAD, line_wav, "ep001-line000", "short-love", 1
    )

    assert clip is not None
    assert len(fake.jobs) == 1
    creates = fake.creates()
    assert len(creates) == 2 and creates[0].idempotency_key == creates[1].idempotency_key
    assert len([e for e in heygen_entries(ledger) if e.operation == "avatar_video"]) == 1


def test_a_run_that_lost_the_create_reply_for_good_is_resumed_by_the_next_run_without_a_second_job(
    server, fake, ledger, line_wav, tmp_path
):
    fake.add_fault("create", Fault("lose_reply", 502, "bad_gateway"))
    cache = tmp_path / "cache"
    first_run = make_avatars(make_client(server, attempts=1), cache, ledger)
    assert first_run.render_line(LEAD, line_wav, "ep001-line000", "short-love", 1) is None
    assert len(fake.jobs) == 1  # HeyGen made it; we never heard

    clip = make_avatars(make_client(server), cache, ledger).render_line(
        LEAD, line_wav, "ep001-line000", "short-love", 1
    )

    assert clip is not None and len(fake.jobs) == 1
    assert len(fake.requests("POST", "/v3/assets")) == 1  # the audio asset id was kept too
    assert len([e for e in heygen_entries(ledger) if e.operation == "avatar_video"]) == 1


def test_a_crash_after_create_resumes_polling_instead_of_creating_again(server, fake, ledger, line_wav, tmp_path):
    cache = tmp_path / "cache"

    def die(_seconds: float) -> None:
        raise Crash()

    with pytest.raises(Crash):
        make_avatars(make_client(server, sleep=die), cache, ledger).render_line(
            LEAD, line_wav, "ep001-line000", "short-love", 1
        )
    (job_file,) = cache.glob("*.job.json")
    record = json.loads(job_file.read_text())
    assert record["video_id"] in fake.jobs and not list(cache.glob("*.mp4"))

    clip = make_avatars(make_client(server), cache, ledger).render_line(
        LEAD, line_wav, "ep001-line000", "short-love", 1
    )

    assert clip is not None and clip.exists()
    assert len(fake.creates()) == 1 and len(fake.jobs) == 1
    assert len([e for e in heygen_entries(ledger) if e.operation == "avatar_video"]) == 1


def test_a_job_that_vanished_at_heygen_is_made_again_on_the_next_run(server, fake, line_wav, tmp_path):
    def die(_seconds: float) -> None:
        raise Crash()

    cache = tmp_path / "cache"
    with pytest.raises(Crash):
        make_avatars(make_client(server, sleep=die), cache).render_line(LEAD, line_wav, "l0", "short-love", 1)
    fake.jobs.clear()  # HeyGen no longer knows the job (deleted, or past retention)

    resumed = make_avatars(make_client(server), cache)
    assert resumed.render_line(LEAD, line_wav, "l0", "short-love", 1) is None
    assert "not found" in resumed.outcomes["l0"]
    assert make_avatars(make_client(server), cache).render_line(LEAD, line_wav, "l0", "short-love", 1) is not None
    assert len(fake.jobs) == 1


def test_a_job_still_rendering_past_the_wait_falls_back_and_is_picked_up_next_run(server, fake, line_wav, tmp_path):
    fake.pending_polls = 5
    now = [0.0]

    def tick(seconds: float) -> None:
        now[0] += 10.0

    cache = tmp_path / "cache"
    slow = make_avatars(make_client(server, sleep=tick, clock=lambda: now[0]), cache, max_wait=25.0)
    assert slow.render_line(LEAD, line_wav, "ep001-line000", "short-love", 1) is None
    assert "still" in slow.outcomes["ep001-line000"]

    clip = make_avatars(make_client(server), cache).render_line(LEAD, line_wav, "ep001-line000", "short-love", 1)
    assert clip is not None and len(fake.jobs) == 1


def test_the_api_key_never_appears_in_errors_or_logs(server, fake, line_wav, tmp_path, caplog):
    wrong_key = "hg-WRONG-secret-0123456789"
    with pytest.raises(HeyGenAuthError) as refused:
        make_avatars(make_client(server, key=wrong_key), tmp_path / "c1").render_line(
            LEAD, line_wav, "ep001-line000", "short-love", 1
        )
    assert wrong_key not in str(refused.value) and "401" in str(refused.value)
    assert wrong_key not in repr(refused.value.__cause__) and wrong_key not in repr(make_client(server, key=wrong_key))

    # a server that quotes the key back must not get it into our messages or logs
    fake.add_fault("upload", Fault("echo_key"))
    avatars = make_avatars(make_client(server), tmp_path / "c2")
    with caplog.at_level(logging.DEBUG):
        assert avatars.render_line(LEAD, line_wav, "ep001-line000", "short-love", 1) is None
    assert "bad request from key ***" in avatars.outcomes["ep001-line000"]
    assert API_KEY not in avatars.outcomes["ep001-line000"] and API_KEY not in caplog.text


def test_who_gets_heygen_clips_and_how_the_budget_limits_them(server, fake, ledger, tmp_path):
    assert wants_provider_clip(LEAD) and not wants_provider_clip(SUPPORTING) and not wants_provider_clip(MINOR)
    assert wants_provider_clip(SUPPORTING, include_supporting=True) and not wants_provider_clip(
        MINOR, include_supporting=True
    )

    budget = Budget(ledger, BudgetLimits(daily_usd=100.0, provider_usd={"heygen": 10.0}))
    avatars = make_avatars(make_client(server), tmp_path / "cache", ledger, budget=budget, include_supporting=True)
    minor_wav = write_wav(tmp_path / "m.wav", 1.0, 200.0)
    assert avatars.render_line(MINOR, minor_wav, "l-minor", "short-love", 1) is None
    assert not fake.log  # minor characters never reach HeyGen

    # 85 % of the HeyGen budget spent: economy mode keeps HeyGen for leads only
    ledger.record(LedgerEntry("heygen", "avatar_video", 300, "seconds", 8.5, series_id="other", episode=1))
    support_wav = write_wav(tmp_path / "s.wav", 1.0, 350.0)
    lead_wav = write_wav(tmp_path / "l.wav", 1.0, 650.0)
    assert avatars.render_line(SUPPORTING, support_wav, "l-support", "short-love", 1) is None
    assert "economy" in avatars.outcomes["l-support"]
    assert avatars.render_line(LEAD, lead_wav, "l-lead", "short-love", 1) is not None

    # the limit reached: no paid call starts at all
    ledger.record(LedgerEntry("heygen", "avatar_video", 60, "seconds", 2.0, series_id="other", episode=1))
    creates = len(fake.creates())
    last_wav = write_wav(tmp_path / "x.wav", 1.0, 800.0)
    assert avatars.render_line(LEAD, last_wav, "l-late", "short-love", 1) is None
    assert "budget" in avatars.outcomes["l-late"] and len(fake.creates()) == creates


def test_a_lead_without_a_heygen_avatar_is_animated_from_its_portrait(server, fake, line_wav, tmp_path):
    from PIL import Image

    portrait = tmp_path / "lead.png"
    Image.new("RGB", (64, 64), (200, 120, 90)).save(portrait)
    avatars = HeyGenAvatars(make_client(server), tmp_path / "cache")  # no avatar ids configured

    assert avatars.render_line(LEAD, line_wav, "l0", "short-love", 1) is None  # neither id nor portrait
    clip = avatars.render_line(LEAD, line_wav, "l0", "short-love", 1, portrait=portrait)

    assert clip is not None
    (job,) = fake.jobs.values()
    assert job.payload["type"] == "image"
    assert fake.assets[job.payload["image"]["asset_id"]]["bytes"] == portrait.read_bytes()


def test_repeated_failures_stop_heygen_for_the_rest_of_the_run(server, fake, tmp_path):
    fake.fail_next_jobs = 5
    avatars = make_avatars(make_client(server), tmp_path / "cache", max_failures=2)
    wavs = [write_wav(tmp_path / f"{i}.wav", 0.5, 300.0 + 100 * i) for i in range(3)]

    results = [avatars.render_line(LEAD, w, f"l{i}", "short-love", 1) for i, w in enumerate(wavs)]

    assert results == [None, None, None]
    assert len(fake.jobs) == 2  # the third line did not try
    assert "failed 2 times" in avatars.outcomes["l2"]


def test_an_expired_result_url_is_refreshed_and_downloaded(server, fake, line_wav, tmp_path):
    fake.add_fault("download", Fault("error", 403, "expired"))
    clip = make_avatars(make_client(server), tmp_path / "cache").render_line(LEAD, line_wav, "l0", "short-love", 1)
    assert clip is not None and len(fake.requests("GET", "/files/")) == 2


def test_many_lines_render_concurrently_within_the_job_limit(server, fake, ledger, tmp_path):
    lines = [
        LineRequest(
            LEAD if i % 2 else LEAD_2, write_wav(tmp_path / f"{i}.wav", 0.5, 250.0 + 50 * i), f"l{i}", "short-love", 1
        )
        for i in range(6)
    ]
    avatars = make_avatars(make_client(server), tmp_path / "cache", ledger)

    clips = avatars.render_lines(lines, max_concurrent=2)

    assert all(clips[f"l{i}"] is not None for i in range(6))
    assert len({clips[f"l{i}"] for i in range(6)}) == 6
    assert len(fake.jobs) == 6 and fake.peak_active_jobs <= 2


def test_remaining_quota_reads_the_balance(server, fake):
    fake.credits = 42
    assert make_client(server).remaining_quota() == 42.0


def test_the_avatar_studio_resource_builds_the_provider_only_with_a_key(server, fake, ledger, line_wav, tmp_path):
    assert AvatarStudio().avatar_provider(tmp_path / "cache", ledger) is None

    studio = AvatarStudio(
        heygen_api_key=API_KEY,
        heygen_base_url=server.url_for(""),
        heygen_avatar_ids={"short-love:CHAR001": "av_series_lead"},
    )
    avatars = studio.avatar_provider(tmp_path / "cache", ledger)
    avatars.client.poll_interval = 0.0

    assert avatars.render_line(LEAD, line_wav, "l0", "short-love", 1) is not None
    (job,) = fake.jobs.values()
    assert job.payload["avatar_id"] == "av_series_lead"
