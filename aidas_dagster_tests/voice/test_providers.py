"""The voice booth's real providers and failover chain, against local servers speaking their wire protocols.

The official `elevenlabs` SDK and `google-cloud-texttospeech` (REST, v1beta1) clients talk to a
pytest-httpserver that answers like the services do: ElevenLabs `/v1/text-to-speech/{voice_id}/with-timestamps`
with base64 PCM and a character alignment, Google `/v1beta1/text:synthesize` with a LINEAR16 WAV and
SSML mark timepoints, and their error bodies (429 `system_busy`, 401 `quota_exceeded`, 503, 403 billing).
Every request is counted per line text at the server.
"""

from __future__ import annotations

import json
import re
import wave
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from aidas_dagster.core.ledger import Budget, BudgetLimits, CostLedger
from aidas_dagster.core.paid_call import RetryPolicy
from aidas_dagster.story.models import Roster
from aidas_dagster.voice.line_cache import SpeechError, synthesize_line
from aidas_dagster.voice.offline_tts import OfflineSpeech
from aidas_dagster.voice.providers import SpeechChain, build_speech_provider
from aidas_dagster.voice.track import build_track
from aidas_dagster_tests.fakes.elevenlabs_server import ElevenLabsServer
from aidas_dagster_tests.fakes.google_tts_server import GoogleTTSServer
from aidas_dagster_tests.fakes.speech_audio import SECONDS_PER_CHAR, voice_freq
from aidas_dagster_tests.voice.builders import SCENES, make_roster, make_script

FAST = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.01)


@pytest.fixture
def eleven(httpserver: HTTPServer) -> ElevenLabsServer:
    fake = ElevenLabsServer()
    httpserver.expect_request(re.compile(r"^/v1/text-to-speech/[^/]+/with-timestamps$"), method="POST").respond_with_handler(fake.handle)
    return fake


@pytest.fixture
def google(httpserver: HTTPServer) -> GoogleTTSServer:
    fake = GoogleTTSServer()
    httpserver.expect_request("/v1beta1/text:synthesize", method="POST").respond_with_handler(fake.handle)
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"access_token": "ya29.local-test", "expires_in": 3600, "token_type": "Bearer"}
    )
    return fake


@pytest.fixture
def service_account(tmp_path: Path, httpserver: HTTPServer) -> Path:
    """A real service-account key file (fresh RSA key) whose token endpoint is the local server."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "aidas-test", "private_key_id": "k1", "private_key": pem.decode(),
        "client_email": "tts@aidas-test.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": httpserver.url_for("/token"),
    }))  # fmt: skip
    return path


def base_url(httpserver: HTTPServer) -> str:
    return httpserver.url_for("").rstrip("/")


def chain(httpserver: HTTPServer, tmp_path: Path, *, google_sa: Path | None = None, eleven_key: str | None = "el-test-key",
          sleeps: list | None = None, limits: BudgetLimits | None = None, policy: RetryPolicy = FAST) -> SpeechChain:  # fmt: skip
    ledger = CostLedger(tmp_path / "ledger.jsonl")
    provider = build_speech_provider(
        elevenlabs_api_key=eleven_key,
        elevenlabs_base_url=base_url(httpserver),
        google_credentials_file=str(google_sa) if google_sa else None,
        google_endpoint=base_url(httpserver),
        ledger=ledger,
        budget=Budget(ledger, limits or BudgetLimits()),
        series_id="voice-test",
        episode=1,
        policy=policy,
        sleep=(sleeps if sleeps is not None else []).append,
    )
    assert isinstance(provider, SpeechChain)
    return provider


def lead_lines() -> list[str]:
    return [t for _m, lines in SCENES for s, t, _e in lines if s == "CHAR001"]


def all_lines() -> list[str]:
    return [t for _m, lines in SCENES for _s, t, _e in lines]


def dominant_freq(wav_path: str) -> float:
    with wave.open(wav_path) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        rate = w.getframerate()
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * rate / len(samples))


# ---------------------------------------------------------------- ElevenLabs


def test_elevenlabs_voices_leads_with_timestamps_that_reach_the_track(
    httpserver: HTTPServer, eleven: ElevenLabsServer, google: GoogleTTSServer, service_account: Path, roster: Roster,
    tmp_path: Path,
):
    speech = chain(httpserver, tmp_path, google_sa=service_account)
    assert speech.name == "elevenlabs>google>offline"
    track = build_track(make_script(), roster, speech, tmp_path / "cache", tmp_path / "out")

    # leads and major supporting characters on ElevenLabs, the minor one on Google, each once per line
    by_speaker = {line.speaker: line.provider for line in track.lines}
    assert by_speaker == {"CHAR001": "elevenlabs", "CHAR002": "elevenlabs", "CHAR003": "elevenlabs", "CHAR004": "google"}
    premium_texts = [l.text for l in track.lines if l.provider == "elevenlabs"]
    assert eleven.texts() == Counter(premium_texts)
    assert google.texts() == Counter(l.text for l in track.lines if l.provider == "google")

    # the wire: key header, model, raw PCM, the character's own voice and settings moved by emotion
    first = eleven.requests[0]
    assert first["key"] == "el-test-key"
    assert first["model_id"] == "eleven_multilingual_v2"
    assert first["query"]["output_format"] == "pcm_24000"
    for req in eleven.requests:
        speaker = next(l.speaker for l in track.lines if l.text == req["text"])
        assert req["voice_id"] == roster.character(speaker).voice.elevenlabs_voice_id
        assert 0.7 <= req["voice_settings"]["speed"] <= 1.2
    speeds = {r["text"]: r["voice_settings"]["speed"] for r in eleven.requests}
    assert speeds["좋아요, 지금 당장 가요!"] > speeds["정말 반가워요. 그동안 잘 지냈어요?"]  # excited vs neutral
    assert google.requests[0]["voice"] == {"languageCode": "ko-KR", "name": roster.character("CHAR004").voice.google_voice}
    assert google.requests[0]["enableTimePointing"] == ["SSML_MARK"]
    assert google.requests[0]["auth"].startswith("Bearer ")

    # character alignment -> word timings on the track: each word starts with its first character
    line = track.lines[0]
    assert line.text == "안녕하세요, 오랜만이에요."
    assert [w.text for w in line.words] == ["안녕하세요,", "오랜만이에요."]
    assert line.words[0].start == pytest.approx(line.start, abs=0.002)
    assert line.words[1].start == pytest.approx(line.start + 7 * SECONDS_PER_CHAR, abs=0.002)
    # Google's mark timepoints likewise
    g_line = next(l for l in track.lines if l.provider == "google")
    assert g_line.words[1].start - g_line.start == pytest.approx((len(g_line.text.split()[0]) + 1) * SECONDS_PER_CHAR, abs=0.01)
    # the audio is each character's own voice
    assert dominant_freq(line.wav_path) == pytest.approx(voice_freq(roster.character("CHAR001").voice.elevenlabs_voice_id), abs=2)

    # every call is in the ledger with its characters and cost; a rebuild costs nothing and calls no one
    entries = list(speech.ledger.entries())
    assert len(entries) == len(track.lines) and not any(e.cache_hit for e in entries)
    el_entry = next(e for e in entries if e.provider == "elevenlabs")
    assert el_entry.unit == "characters" and el_entry.units > 0 and el_entry.cost_usd == pytest.approx(el_entry.units * 0.0003)
    assert el_entry.series_id == "voice-test" and el_entry.episode == 1
    count = len(eleven.requests) + len(google.requests)
    again = chain(httpserver, tmp_path, google_sa=service_account)
    rebuilt = build_track(make_script(), roster, again, tmp_path / "cache", tmp_path / "out2")
    assert len(eleven.requests) + len(google.requests) == count
    assert [l.provider for l in rebuilt.lines] == [l.provider for l in track.lines]
    hits = [e for e in again.ledger.entries() if e.cache_hit]
    assert len(hits) == len(track.lines) and all(e.cost_usd == 0 for e in hits)


def test_rate_limit_backs_off_then_succeeds(httpserver: HTTPServer, eleven: ElevenLabsServer, roster: Roster, tmp_path: Path):
    text = lead_lines()[0]
    eleven.failures[text] = [
        (429, {"status": "system_busy", "message": "busy"}, {"Retry-After": "0.5"}),
        (429, {"status": "too_many_concurrent_requests", "message": "slow down"}, {}),
    ]
    sleeps: list[float] = []
    speech = chain(httpserver, tmp_path, sleeps=sleeps, policy=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=5))
    line = synthesize_line(speech, text, roster.character("CHAR001").voice, "happy", "", tmp_path / "cache")
    assert line.provider == "elevenlabs" and not line.cache_hit
    assert eleven.texts()[text] == 3
    assert len(sleeps) == 2 and sleeps[0] >= 0.5  # the server's Retry-After is honoured
    assert speech.out == {}


def test_quota_exceeded_fails_over_to_google_for_the_rest_of_the_run(
    httpserver: HTTPServer, eleven: ElevenLabsServer, google: GoogleTTSServer, service_account: Path, roster: Roster,
    tmp_path: Path,
):
    eleven.fail_everything = (401, {"status": "quota_exceeded", "message": "This request exceeds your quota."})
    sleeps: list[float] = []
    speech = chain(httpserver, tmp_path, google_sa=service_account, sleeps=sleeps)
    track = build_track(make_script(), roster, speech, tmp_path / "cache", tmp_path / "out")

    assert len(eleven.requests) == 1 and sleeps == []  # not retried, and never asked again this run
    assert "elevenlabs" in speech.out
    assert all(l.provider == "google" for l in track.lines)
    assert google.texts() == Counter(all_lines())  # every line once
    # each character keeps one consistent backup voice, and no two share one
    voices = {}
    for req in google.requests:
        speaker = next(l.speaker for l in track.lines if l.text == GoogleTTSServer.text_of(req))
        voices.setdefault(speaker, set()).add((req["voice"]["name"], req["audioConfig"].get("pitch", 0.0)))
        assert req["voice"]["name"] == roster.character(speaker).voice.google_voice
    names = {speaker: {name for name, _pitch in v} for speaker, v in voices.items()}
    assert all(len(v) == 1 for v in names.values())
    assert len({(roster.character(s).voice.google_voice, roster.character(s).voice.google_pitch) for s in voices}) == len(voices)
    ledger = list(speech.ledger.entries())
    assert {e.provider for e in ledger} == {"google"}

    # next run: every line is found in the cache under the provider that voiced it; no one is called
    before = len(eleven.requests), len(google.requests)
    rerun = chain(httpserver, tmp_path, google_sa=service_account)
    build_track(make_script(), roster, rerun, tmp_path / "cache", tmp_path / "out2")
    assert (len(eleven.requests), len(google.requests)) == before


def test_a_5xx_or_429_on_one_line_is_retried_without_revoicing_the_others(
    httpserver: HTTPServer, eleven: ElevenLabsServer, google: GoogleTTSServer, service_account: Path, roster: Roster,
    tmp_path: Path,
):
    flaky_el = lead_lines()[1]
    flaky_google = next(t for _m, lines in SCENES for s, t, _e in lines if s == "CHAR004")
    eleven.failures[flaky_el] = [(503, {"status": "service_unavailable", "message": "try later"}, {})]
    google.failures[flaky_google] = [(429, "Resource has been exhausted (e.g. check quota)."), (503, "unavailable")]
    speech = chain(httpserver, tmp_path, google_sa=service_account)
    track = build_track(make_script(), roster, speech, tmp_path / "cache", tmp_path / "out")
    counts = eleven.texts() + google.texts()
    assert counts[flaky_el] == 2 and counts[flaky_google] == 3
    assert all(n == 1 for text, n in counts.items() if text not in (flaky_el, flaky_google))
    assert next(l for l in track.lines if l.text == flaky_el).provider == "elevenlabs"
    assert next(l for l in track.lines if l.text == flaky_google).provider == "google"


def test_a_line_failing_after_its_retries_falls_back_for_that_line_only(
    httpserver: HTTPServer, eleven: ElevenLabsServer, roster: Roster, tmp_path: Path
):
    broken = lead_lines()[0]
    eleven.failures[broken] = [(502, {"status": "bad_gateway", "message": "x"}, {})] * FAST.max_attempts
    speech = chain(httpserver, tmp_path)  # no Google: the offline voice is the backup
    track = build_track(make_script(), roster, speech, tmp_path / "cache", tmp_path / "out")
    providers = {l.text: l.provider for l in track.lines}
    assert providers[broken] == "offline"
    assert speech.out == {}  # not out of credit: later lines stay on ElevenLabs
    assert [p for t, p in providers.items() if t in lead_lines()[1:]] == ["elevenlabs"] * (len(lead_lines()) - 1)
    assert eleven.texts()[broken] == FAST.max_attempts


def test_timeouts_are_retried(httpserver: HTTPServer, roster: Roster, tmp_path: Path):
    import time as _time

    calls: list[str] = []
    fake = ElevenLabsServer()

    def slow_then_fast(request: Request) -> Response:
        calls.append("x")
        if len(calls) == 1:
            _time.sleep(1.5)  # past the 1 s client timeout
        return fake.handle(request)

    httpserver.expect_request(re.compile(r"^/v1/text-to-speech/[^/]+/with-timestamps$")).respond_with_handler(slow_then_fast)
    speech = chain(httpserver, tmp_path)
    speech.providers[0].timeout_seconds = 1
    line = synthesize_line(speech, "잠깐만요.", roster.character("CHAR001").voice, "neutral", "", tmp_path / "c")
    assert line.provider == "elevenlabs" and len(calls) == 2


def test_budget_economy_uses_flash_and_an_exhausted_budget_uses_the_backup(
    httpserver: HTTPServer, eleven: ElevenLabsServer, google: GoogleTTSServer, service_account: Path, roster: Roster,
    tmp_path: Path,
):
    casting = roster.character("CHAR001").voice
    from aidas_dagster.core.ledger import LedgerEntry

    # 85 % of the ElevenLabs budget spent today: economy mode, flash v2.5 at half price
    speech = chain(httpserver, tmp_path, google_sa=service_account, limits=BudgetLimits(100.0, {"elevenlabs": 1.0}))
    speech.ledger.record(LedgerEntry("elevenlabs", "text_to_speech", 1000, "characters", 0.85))
    line = synthesize_line(speech, "오늘은 조금 아껴서 말할게요.", casting, "neutral", "", tmp_path / "cache")
    assert line.provider == "elevenlabs"
    assert eleven.requests[-1]["model_id"] == "eleven_flash_v2_5"
    assert eleven.requests[-1]["language_code"] == "ko"
    last = list(speech.ledger.entries())[-1]
    assert last.cost_usd == pytest.approx(len("오늘은 조금 아껴서 말할게요.") * 0.00015)
    # a line cached before economy mode is still reused (no call)
    n = len(eleven.requests)
    assert synthesize_line(speech, "오늘은 조금 아껴서 말할게요.", casting, "neutral", "", tmp_path / "cache").cache_hit
    assert len(eleven.requests) == n

    # budget exhausted: ElevenLabs is not asked at all, the character's Google voice speaks
    speech.ledger.record(LedgerEntry("elevenlabs", "text_to_speech", 1000, "characters", 0.2))
    line = synthesize_line(speech, "이제 예산이 바닥났어요.", casting, "neutral", "", tmp_path / "cache")
    assert line.provider == "google" and len(eleven.requests) == n
    assert google.requests[-1]["voice"]["name"] == casting.google_voice


def test_google_account_refused_falls_to_offline_and_no_provider_is_a_clear_error(
    httpserver: HTTPServer, google: GoogleTTSServer, service_account: Path, roster: Roster, tmp_path: Path
):
    casting = roster.character("CHAR004").voice  # a minor character: cast on Google
    google.failures["그럼 다음에 봬요."] = [(403, "Billing is disabled for project aidas-test")]
    speech = chain(httpserver, tmp_path, google_sa=service_account, eleven_key=None)
    assert speech.name == "google>offline"
    line = synthesize_line(speech, "그럼 다음에 봬요.", casting, "neutral", "", tmp_path / "cache")
    assert line.provider == "offline" and "google" in speech.out
    # sticky: the next line goes straight to the offline voice
    synthesize_line(speech, "안녕히 가세요.", casting, "neutral", "", tmp_path / "cache")
    assert len(google.requests) == 1

    alone = SpeechChain([speech.providers[0]])  # Google only, taken out: nothing left
    alone.out["google"] = "out of credit"
    with pytest.raises(SpeechError, match="안녕히 가세요"):
        alone.voice("안녕히 가세요.", casting, "neutral")


# ---------------------------------------------------------------- one edit, one line


def test_editing_one_line_revoices_exactly_that_line(
    httpserver: HTTPServer, eleven: ElevenLabsServer, google: GoogleTTSServer, service_account: Path, roster: Roster,
    tmp_path: Path,
):
    cache = tmp_path / "cache"
    first = build_track(make_script(), roster, chain(httpserver, tmp_path, google_sa=service_account), cache, tmp_path / "a")
    files = {l.index: (l.wav_path, Path(l.wav_path).read_bytes()) for l in first.lines}
    calls_before = len(eleven.requests) + len(google.requests)

    edited = [(mood, list(lines)) for mood, lines in SCENES]
    edited[0][1][1] = ("CHAR002", "정말 반가워요. 요즘 어떻게 지내요?", "neutral")
    second = build_track(make_script(edited), roster, chain(httpserver, tmp_path, google_sa=service_account), cache, tmp_path / "b")

    assert len(eleven.requests) + len(google.requests) == calls_before + 1
    assert eleven.requests[-1]["text"] == "정말 반가워요. 요즘 어떻게 지내요?"
    for line in second.lines:
        if line.index == 1:
            assert line.wav_path != files[1][0]
            continue
        path, data = files[line.index]
        assert line.wav_path == path and Path(path).read_bytes() == data


# ---------------------------------------------------------------- factory


def test_factory_without_keys_is_offline(tmp_path: Path):
    plain = build_speech_provider()
    assert isinstance(plain, OfflineSpeech)
    ledger = CostLedger(tmp_path / "ledger.jsonl")
    recorded = build_speech_provider(ledger=ledger, series_id="s", episode=2)
    assert isinstance(recorded, SpeechChain)
    assert (recorded.name, recorded.model) == (plain.name, plain.model)  # same cache keys and fingerprints
    casting = make_roster().character("CHAR001").voice
    synthesize_line(recorded, "안녕하세요.", casting, "neutral", "", tmp_path / "cache")
    synthesize_line(recorded, "안녕하세요.", casting, "neutral", "", tmp_path / "cache")
    entries = list(ledger.entries())
    assert [(e.provider, e.cache_hit, e.cost_usd, e.units) for e in entries] == [
        ("offline", False, 0.0, 6), ("offline", True, 0.0, 6)
    ]  # fmt: skip
    with pytest.raises(ValueError, match="sa.json"):
        bad = tmp_path / "sa.json"
        bad.write_text("{}")
        build_speech_provider(google_credentials_file=str(bad))
