"""The voice booth offline: espeak-ng Korean voices, the line cache, and the laid-out dialogue track.

Everything here really synthesises speech (espeak-ng in-process is hundreds of times real time),
on a small hand-made episode and roster cast with the project's own casting rules.
"""

from __future__ import annotations

import csv
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from aidas_dagster.story.models import Roster, VoiceCasting
from aidas_dagster.voice.analysis import (
    longest_silence,
    loudness_envelope,
    peak_dbfs,
    pitch_estimate,
    read_wav,
)
from aidas_dagster.voice.line_cache import SpeechError, synthesize_line
from aidas_dagster.voice.offline_tts import OfflineSpeech, calculate_modulation
from aidas_dagster.voice.track import KEEP_RHYTHM, MAX_LINE_PAUSE, MAX_SCENE_PAUSE, build_track, read_track
from aidas_dagster_tests.voice.builders import SCENES, make_script, syllables

class CountingProvider:
    """Wraps a provider and counts calls; optionally fails on the n-th call or returns no audio."""

    def __init__(self, inner: OfflineSpeech, fail_on: int | None = None, empty: bool = False):
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.calls: list[str] = []
        self.fail_on = fail_on
        self.empty = empty

    def synthesize(self, text: str, casting: VoiceCasting, emotion: str, atmosphere: str = ""):
        self.calls.append(text)
        if self.fail_on is not None and len(self.calls) >= self.fail_on:
            raise RuntimeError("provider went away")
        if self.empty:
            return b"", [], 22050
        return self.inner.synthesize(text, casting, emotion, atmosphere)


@pytest.fixture(scope="module")
def speech() -> OfflineSpeech:
    return OfflineSpeech()


def as_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


# ---------------------------------------------------------------- one line


def test_korean_line_is_audible_with_plausible_duration_and_word_timings(speech: OfflineSpeech, roster: Roster):
    text = "오늘 저녁에 같이 밥 먹을래요? 제가 맛있는 곳을 알아요."
    pcm, words, rate = speech.synthesize(text, roster.character("CHAR001").voice, "neutral")
    samples = as_float(pcm)
    duration = len(samples) / rate
    assert speech.model.startswith("espeak-ng-")
    assert rate > 8000
    assert float(np.sqrt(np.mean(samples**2))) > 0.02  # about -34 dBFS: clearly audible
    assert 3.0 <= syllables(text) / duration <= 7.0, f"{duration:.2f} s for {syllables(text)} syllables"
    # trimmed: speech begins and ends within ~80 ms of the file's edges
    assert longest_silence(samples[: int(0.3 * rate)], rate, -45) < 0.12
    # every word, in order, with increasing times inside the audio
    assert [w.text for w in words] == text.split()
    assert words[0].start == 0.0
    assert words[-1].end == pytest.approx(duration, abs=1e-3)
    for a, b in zip(words, words[1:]):
        assert a.start < b.start
        assert a.end == pytest.approx(b.start)
    assert all(0 <= w.start <= w.end <= duration + 1e-6 for w in words)


def test_castings_give_measurably_different_voices(speech: OfflineSpeech, roster: Roster):
    text = "안녕하세요. 만나서 정말 반갑습니다. 오늘도 좋은 하루 보내세요."
    pitch = {}
    for c in roster.characters:
        pcm, _words, rate = speech.synthesize(text, c.voice, "neutral")
        pitch[c.id] = pitch_estimate(as_float(pcm), rate)
    # women above men by far, and the two women clearly apart (a young adult and a middle-aged one)
    assert min(pitch["CHAR001"], pitch["CHAR003"]) > 1.5 * max(pitch["CHAR002"], pitch["CHAR004"]), pitch
    assert abs(pitch["CHAR001"] - pitch["CHAR003"]) / pitch["CHAR003"] > 0.10, pitch
    # the older man sits lower (espeak compresses low pitches, so male voices differ less in pitch)
    assert pitch["CHAR004"] < pitch["CHAR002"], pitch


def test_emotion_moves_the_delivery(speech: OfflineSpeech, roster: Roster):
    casting = roster.character("CHAR001").voice
    text = "정말 그렇게 생각해요? 저는 잘 모르겠어요."
    lengths, pitches = {}, {}
    for emotion in ("neutral", "happy", "sad"):
        pcm, _w, rate = speech.synthesize(text, casting, emotion)
        lengths[emotion] = len(pcm) / 2 / rate
        pitches[emotion] = pitch_estimate(as_float(pcm), rate)
    assert lengths["sad"] > lengths["neutral"] > lengths["happy"]
    assert pitches["happy"] > pitches["neutral"] > pitches["sad"]
    # atmosphere: a tense scene speeds up, a quiet one is softer
    assert calculate_modulation(casting, "neutral", "긴장감이 감도는 분위기").rate > casting.rate
    assert calculate_modulation(casting, "neutral", "고요한 분위기").volume < 1.0
    # every adjustment stays inside espeak's ranges
    extreme = VoiceCasting(provider="offline", voice_id="f1", pitch=99, pitch_range=99, rate=450)
    m = calculate_modulation(extreme, "surprised", "떠들썩한 분위기")
    assert (m.pitch, m.pitch_range, m.rate) == (99, 99, 450)
    low = VoiceCasting(provider="offline", voice_id="m1", pitch=0, pitch_range=0, rate=80)
    m = calculate_modulation(low, "sad", "조용한 분위기")
    assert (m.pitch, m.pitch_range, m.rate) == (0, 0, 80)


def test_unknown_variant_falls_back_to_backup_voice(speech: OfflineSpeech):
    casting = VoiceCasting(provider="offline", voice_id="no-such-variant", pitch=50, pitch_range=50, rate=160,
                           backup_voice_id="f2")  # fmt: skip
    assert speech.voice_name(casting) == "ko+f2"
    assert speech.voice_name(casting.model_copy(update={"backup_voice_id": ""})) == "ko"
    assert speech.voice_name(casting.model_copy(update={"voice_id": "Mr serious"})) == "ko+Mr serious"


def test_threads_share_the_engine_safely(speech: OfflineSpeech, roster: Roster):
    """espeak-ng is one global engine; concurrent callers must each get their own line in their own voice.

    (espeak-ng keeps some wave state between calls, so repeats differ by a few samples, not bytes-equal.)
    """
    jobs = [(c.voice, t) for c in roster.characters for _m, lines in SCENES[:2] for _s, t, _e in lines]

    def voice(job: tuple[VoiceCasting, str]) -> tuple[list[str], float, float]:
        pcm, words, rate = speech.synthesize(job[1], job[0], "neutral")
        return [w.text for w in words], len(pcm) / 2 / rate, pitch_estimate(as_float(pcm), rate)

    expected = [voice(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(voice, jobs))
    for (words, seconds, f0), (want_words, want_seconds, want_f0) in zip(got, expected):
        assert words == want_words
        assert seconds == pytest.approx(want_seconds, rel=0.05)
        assert f0 == pytest.approx(want_f0, rel=0.05)


def test_empty_audio_is_a_clear_error_naming_the_line(speech: OfflineSpeech, roster: Roster, tmp_path: Path):
    provider = CountingProvider(speech, empty=True)
    with pytest.raises(SpeechError, match="그동안 잘 지냈어요"):
        synthesize_line(provider, "그동안 잘 지냈어요?", roster.character("CHAR001").voice, "neutral", "", tmp_path)
    assert not list(tmp_path.rglob("*.wav")) and not list(tmp_path.rglob("*.json"))
    with pytest.raises(SpeechError, match="no audio"):
        speech.synthesize("   ", roster.character("CHAR001").voice, "neutral")


# ---------------------------------------------------------------- cache


def test_line_cache_hits_and_reuses_only_unchanged_lines(speech: OfflineSpeech, roster: Roster, tmp_path: Path):
    cache = tmp_path / "cache"
    provider = CountingProvider(speech)
    first = build_track(make_script(), roster, provider, cache, tmp_path / "a")
    total = sum(len(lines) for _m, lines in SCENES)
    assert len(provider.calls) == total

    provider.calls.clear()
    again = build_track(make_script(), roster, provider, cache, tmp_path / "b")
    assert provider.calls == []
    assert again.fingerprint == first.fingerprint
    assert [(l.start, l.end) for l in again.lines] == [(l.start, l.end) for l in first.lines]
    mood, (first_line, *_rest) = SCENES[0]
    line = synthesize_line(provider, first_line[1], roster.character("CHAR001").voice, "happy", mood, cache)
    assert line.cache_hit and provider.calls == []

    edited = [(mood, list(lines)) for mood, lines in SCENES]
    edited[1][1][1] = ("CHAR003", "그게 무슨 소리예요? 설명 좀 해 주세요.", "worried")
    changed = build_track(make_script(edited), roster, provider, cache, tmp_path / "c")
    assert provider.calls == ["그게 무슨 소리예요? 설명 좀 해 주세요."]
    assert changed.fingerprint != first.fingerprint
    # cache entries are WAV + JSON pairs named by content
    wavs = sorted(cache.rglob("*.wav"))
    assert len(wavs) == total + 1
    assert all(w.with_suffix(".json").is_file() and w.parent.name == w.stem[:2] for w in wavs)


def test_emotion_or_atmosphere_change_revoices_the_line(speech: OfflineSpeech, roster: Roster, tmp_path: Path):
    provider = CountingProvider(speech)
    casting = roster.character("CHAR002").voice
    a = synthesize_line(provider, "알겠습니다.", casting, "neutral", "", tmp_path)
    b = synthesize_line(provider, "알겠습니다.", casting, "angry", "", tmp_path)
    c = synthesize_line(provider, "알겠습니다.", casting, "angry", "긴장된 분위기", tmp_path)
    d = synthesize_line(provider, "알겠습니다.", casting, "angry", "긴장된 분위기", tmp_path)
    assert len(provider.calls) == 3
    assert len({a.wav_path, b.wav_path, c.wav_path}) == 3
    assert d.wav_path == c.wav_path and d.cache_hit and not c.cache_hit
    assert d.words == c.words and d.duration == pytest.approx(c.duration)


# ---------------------------------------------------------------- the track


def test_track_layout(speech: OfflineSpeech, roster: Roster, tmp_path: Path):
    out = tmp_path / "audio"
    track = build_track(make_script(), roster, speech, tmp_path / "cache", out)
    texts = [t for _m, lines in SCENES for _s, t, _e in lines]

    # files, and the manifest reads back identical
    assert Path(track.dialogue_wav) == (out / "dialogue.wav").resolve()
    assert read_track(out / "track.json") == track
    assert not list(out.glob("*.part"))
    samples, rate = read_wav(track.dialogue_wav)
    assert rate == track.sample_rate
    assert len(samples) / rate == pytest.approx(track.duration, abs=1e-3)
    with wave.open(track.dialogue_wav) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)

    # lines in script order, no overlaps, natural pauses, framed by the edge pads
    assert [l.text for l in track.lines] == texts
    assert [l.index for l in track.lines] == list(range(len(texts)))
    assert track.lines[0].start == pytest.approx(0.5, abs=0.01)
    assert track.duration - track.lines[-1].end == pytest.approx(0.5, abs=0.01)
    for a, b in zip(track.lines, track.lines[1:]):
        gap = b.start - a.end
        if a.scene == b.scene:
            assert 0.15 <= gap <= 1.2, (a.text, gap)
        else:
            assert gap == pytest.approx(1.6, abs=0.01)
    assert all(Path(l.wav_path).is_absolute() and Path(l.wav_path).is_file() for l in track.lines)
    assert {l.speaker_name for l in track.lines} == {"한지우", "강태오", "박서연", "김부장"}

    # scenes contiguous from 0 to the end, each holding its lines
    assert [s.number for s in track.scenes] == [1, 2, 3]
    assert track.scenes[0].start == 0.0 and track.scenes[-1].end == track.duration
    for a, b in zip(track.scenes, track.scenes[1:]):
        assert a.end == b.start
    for line in track.lines:
        scene = track.scenes[line.scene - 1]
        assert scene.start <= line.start < line.end <= scene.end

    # word times are on the track, inside their line
    for line in track.lines:
        assert [w.text for w in line.words] == line.text.split()
        assert all(line.start - 1e-6 <= w.start <= w.end <= line.end + 1e-6 for w in line.words)

    # levelled and unclipped: every line near the target loudness, no peak above -1 dBFS
    assert peak_dbfs(samples) <= -0.99
    for line in track.lines:
        part = samples[round(line.start * rate) : round(line.end * rate)]
        level = 20 * np.log10(np.sqrt(np.mean(part**2)))
        assert -30 < level < -14, (line.text, level)
        assert peak_dbfs(part) > -25  # there is speech where the table says so
    # silence between lines really is silence
    gap = samples[round(track.lines[0].end * rate) + 10 : round(track.lines[1].start * rate) - 10]
    assert peak_dbfs(gap) < -60

    # the timing table mirrors the manifest
    with (out / "timing.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["index", "scene", "speaker", "speaker_name", "start", "end", "text"]
    assert [r["text"] for r in rows] == texts
    assert float(rows[3]["start"]) == pytest.approx(track.lines[3].start, abs=1e-3)

    # mouth-shape envelope follows the speech
    env = loudness_envelope(samples, rate, fps=30)
    assert len(env) == int(np.ceil(track.duration * 30))
    first = track.lines[0]
    assert env[int(first.start * 30) + 3] > 10 * max(env[0], 1e-6)


def test_track_stretches_pauses_toward_the_target(speech: OfflineSpeech, roster: Roster, tmp_path: Path):
    cache = tmp_path / "cache"
    natural = build_track(make_script(), roster, speech, cache, tmp_path / "n")
    # a target we can reach: pauses grow, speech stays the same
    target = natural.duration + 12.0
    longer = build_track(make_script(), roster, speech, cache, tmp_path / "l", target_seconds=target)
    assert longer.duration == pytest.approx(target, abs=0.05)
    assert [l.end - l.start for l in longer.lines] == pytest.approx([l.end - l.start for l in natural.lines], abs=1e-3)
    for a, b in zip(longer.lines, longer.lines[1:]):
        assert b.start - a.end <= (MAX_LINE_PAUSE if a.scene == b.scene else MAX_SCENE_PAUSE) + 0.01
    assert longer.fingerprint != natural.fingerprint
    # an unreachable target: every pause at its cap, as close as we can get
    far = build_track(make_script(), roster, speech, cache, tmp_path / "f", target_seconds=natural.duration * 10)
    gaps = [(b.start - a.end, a.scene == b.scene) for a, b in zip(far.lines, far.lines[1:])]
    assert all(g == pytest.approx(MAX_LINE_PAUSE if same else MAX_SCENE_PAUSE, abs=0.01) for g, same in gaps)
    samples, rate = read_wav(far.dialogue_wav)
    assert longest_silence(samples, rate) < 9.0
    # within 3 % of the target (or longer): the natural layout is kept, never cut
    for t in (natural.duration * 0.5, natural.duration * 1.02):
        same = build_track(make_script(), roster, speech, cache, tmp_path / "s", target_seconds=t)
        assert same.duration == pytest.approx(natural.duration, abs=1e-3)
    # lead-in delays the first line
    led = build_track(make_script(), roster, speech, cache, tmp_path / "i", lead_in=2.0)
    assert led.lines[0].start == pytest.approx(natural.lines[0].start + 2.0, abs=0.01)
    assert led.scenes[0].start == 0.0


def gaps_of(track) -> list[float]:
    return [b.start - a.end for a, b in zip(track.lines, track.lines[1:])]


def edited_scenes(scene: int, line: int, text: str | None = None, insert: tuple | None = None):
    """SCENES twice over (six scenes), with one line of `scene` (1-based) rewritten or one inserted."""
    scenes = [(mood, list(lines)) for mood, lines in SCENES * 2]
    lines = scenes[scene - 1][1]
    if text is not None:
        speaker, _old, emotion = lines[line]
        lines[line] = (speaker, text, emotion)
    if insert is not None:
        lines.insert(line, insert)
    return scenes


def test_an_edit_keeps_the_rest_of_the_track_where_it_was(speech: OfflineSpeech, roster: Roster, tmp_path: Path):
    cache, out = tmp_path / "cache", tmp_path / "audio"
    script = make_script(SCENES * 2)
    target = build_track(script, roster, speech, cache, tmp_path / "natural").duration + 20.0
    before = build_track(script, roster, speech, cache, out, target_seconds=target)
    old_samples, _rate = read_wav(before.dialogue_wav)  # the next build writes over it

    edited = make_script(edited_scenes(3, 1, text="그게 무슨 말이에요? 이유라도 꼭 알려 주세요, 지금 바로요."))
    after = build_track(edited, roster, speech, cache, out, target_seconds=target)
    assert after.total_samples == before.total_samples  # the episode keeps its length to the sample
    moved = [a.index for a, b in zip(before.lines, after.lines) if (a.start_sample, a.text) != (b.start_sample, b.text)]
    # one short run of lines around the edited one (line 8) moved; the rest sit where they sat
    assert 8 in moved and moved == list(range(moved[0], moved[-1] + 1)) and len(moved) <= 4, moved
    # the audio outside the edited stretch is the same, sample for sample
    new_samples, _ = read_wav(after.dialogue_wav)
    lo = after.lines[moved[0] - 1].end_sample
    hi = after.lines[moved[-1] + 1].start_sample
    assert np.array_equal(new_samples[:lo], old_samples[:lo])
    assert np.array_equal(new_samples[hi:], old_samples[hi:])

    # the pauses that took the edit up keep the rhythm a fresh fit of the whole episode gives them
    fresh = build_track(edited, roster, speech, cache, tmp_path / "fresh", target_seconds=target)
    assert fresh.duration == pytest.approx(after.duration, abs=0.05)
    assert [b.start_sample for b in fresh.lines] != [b.start_sample for b in after.lines]
    assert fresh.fingerprint != after.fingerprint  # where the lines sit is part of the track
    for gap, fresh_gap in zip(gaps_of(after), gaps_of(fresh)):
        assert abs(gap - fresh_gap) <= KEEP_RHYTHM * fresh_gap + 1e-3
    # building the same script again keeps the edited layout
    again = build_track(edited, roster, speech, cache, out, target_seconds=target)
    assert [b.start_sample for b in again.lines] == [b.start_sample for b in after.lines]
    assert again.fingerprint == after.fingerprint


def test_an_added_line_widens_the_window_and_a_new_length_fits_afresh(
    speech: OfflineSpeech, roster: Roster, tmp_path: Path
):
    cache, out = tmp_path / "cache", tmp_path / "audio"
    script = make_script(SCENES * 2)
    target = build_track(script, roster, speech, cache, tmp_path / "natural").duration + 20.0
    before = build_track(script, roster, speech, cache, out, target_seconds=target)

    added = make_script(edited_scenes(5, 1, insert=("CHAR003", "잠깐만요, 저도 같이 가도 될까요? 할 말이 있어요.", "worried")))
    after = build_track(added, roster, speech, cache, out, target_seconds=target)
    assert after.total_samples == before.total_samples
    old_by_text = {(b.scene, b.text): b.start_sample for b in before.lines}
    kept = [b for b in after.lines if old_by_text.get((b.scene, b.text)) == b.start_sample]
    moved = [b.index for b in after.lines if b not in kept]
    # a longer window than an edit needs (a whole line and its pause to take up), still not the episode
    assert 14 in moved and moved == list(range(moved[0], moved[-1] + 1)) and len(moved) < len(after.lines) / 2, moved
    for gap, a, b in zip(gaps_of(after), after.lines, after.lines[1:]):
        assert 0.15 - 1e-3 <= gap <= (MAX_LINE_PAUSE if a.scene == b.scene else MAX_SCENE_PAUSE) + 0.01

    # a new length is a new fit, the same as a fresh folder's; so is a damaged previous manifest
    longer = build_track(added, roster, speech, cache, out, target_seconds=target + 10)
    fresh = build_track(added, roster, speech, cache, tmp_path / "fresh", target_seconds=target + 10)
    assert longer.duration == pytest.approx(target + 10, abs=0.05)
    assert [b.start_sample for b in longer.lines] == [b.start_sample for b in fresh.lines]
    (out / "track.json").write_text("{ half written", encoding="utf-8")
    rebuilt = build_track(script, roster, speech, cache, out, target_seconds=target + 10)
    assert rebuilt.duration == pytest.approx(target + 10, abs=0.05)


def test_crash_while_voicing_leaves_no_half_written_files(speech: OfflineSpeech, roster: Roster, tmp_path: Path):
    out = tmp_path / "audio"
    failing = CountingProvider(speech, fail_on=3)
    with pytest.raises(RuntimeError, match="provider went away"):
        build_track(make_script(), roster, failing, tmp_path / "cache", out)
    assert not (out / "dialogue.wav").exists() and not (out / "track.json").exists()
    assert not (out / "timing.csv").exists()
    assert not list(tmp_path.rglob("*.part"))
    # the two lines voiced before the crash are cached whole and reused
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 2

    # a crash during a rebuild leaves the previous complete track untouched
    good = build_track(make_script(), roster, speech, tmp_path / "cache", out)
    before = (out / "track.json").read_bytes(), (out / "dialogue.wav").read_bytes()
    edited = [(mood, list(lines)) for mood, lines in SCENES]
    edited[2][1][0] = ("CHAR001", "아니요, 다음에 이야기해요.", "sad")
    with pytest.raises(RuntimeError):
        build_track(make_script(edited), roster, CountingProvider(speech, fail_on=1), tmp_path / "cache", out)
    assert ((out / "track.json").read_bytes(), (out / "dialogue.wav").read_bytes()) == before
    assert read_track(out / "track.json").fingerprint == good.fingerprint
    assert not list(tmp_path.rglob("*.part"))


def test_unknown_speaker_is_a_clear_error(speech: OfflineSpeech, roster: Roster, tmp_path: Path):
    script = make_script([("조용한 분위기", [("CHAR009", "누구세요?", "neutral")])])
    with pytest.raises(KeyError, match="CHAR009"):
        build_track(script, roster, speech, tmp_path / "cache", tmp_path / "out")


# ---------------------------------------------------------------- analysis helpers


def test_analysis_helpers_on_known_signals(tmp_path: Path):
    rate = 16000
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    signal = np.concatenate([tone, np.zeros(rate * 2, dtype=np.float32), tone])
    assert pitch_estimate(signal, rate) == pytest.approx(150, rel=0.02)
    assert longest_silence(signal, rate) == pytest.approx(2.0, abs=0.02)
    assert peak_dbfs(signal) == pytest.approx(-6.02, abs=0.05)
    assert peak_dbfs(np.zeros(10, dtype=np.float32)) == -120.0
    env = loudness_envelope(signal, rate, fps=25)
    assert len(env) == 100
    assert env[10] == pytest.approx(0.5 / np.sqrt(2), rel=0.01) and env[50] == 0.0
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat((signal * 32767).astype("<i2"), 2).tobytes())
    back, back_rate = read_wav(path)
    assert back_rate == rate and back.dtype == np.float32 and len(back) == len(signal)
    assert np.max(np.abs(back - signal)) < 1e-3
