"""Casting (spec 4.2.2) and the voice checks.

The sample series' roster is written by the offline story engine and voiced offline; measured median
F0 per character shows that no two characters of a gender sit on the same pitch.
"""

from __future__ import annotations

import itertools
import wave
from pathlib import Path

import numpy as np
import pytest

from aidas_dagster.core.config import load_series_config
from aidas_dagster.core.storage import PROJECT_ROOT
from aidas_dagster.story.engine import OfflineStoryEngine
from aidas_dagster.story.models import Roster, VoiceProfile
from aidas_dagster.voice.analysis import pitch_estimate
from aidas_dagster.voice.casting import (
    DEFAULT_PREMIUM_VOICES,
    VOICE_TABLE_ENV,
    PremiumVoice,
    VoiceTableError,
    cast_voices,
    load_premium_voices,
    shared_voices,
)
from aidas_dagster.voice.elevenlabs import voice_settings
from aidas_dagster.voice.google_tts import GoogleSpeech
from aidas_dagster.voice.models import AudioTrack, TrackLine, TrackScene
from aidas_dagster.voice.offline_tts import OfflineSpeech
from aidas_dagster.voice.track import build_track
from aidas_dagster.voice.validation import (
    clipped_runs,
    clipping_and_silences,
    implausible_durations,
    missing_audio,
    shared_voice_problems,
    track_problems,
)
from aidas_dagster_tests.voice.builders import make_roster, make_script

# Two sentences, so one sentence's melody does not decide a character's pitch.
SAMPLE_TEXTS = ("안녕하세요. 만나서 정말 반갑습니다. 오늘도 좋은 하루 보내세요.", "그게 무슨 말이야? 나는 전혀 몰랐어. 이제라도 말해 줘서 고마워.")
MIN_F0_RATIO = 1.05  # ~0.85 semitone: two voices this far apart are heard as different


@pytest.fixture(scope="module")
def sample_roster() -> Roster:
    config = load_series_config(PROJECT_ROOT / "assets_data" / "series" / "first-love.yaml")
    engine = OfflineStoryEngine()
    return engine.write_roster(config, engine.write_bible(config), cast_voices)


def measured_f0(speech: OfflineSpeech, roster: Roster) -> dict[str, float]:
    f0 = {}
    for c in roster.characters:
        pcm = b"".join(speech.synthesize(text, c.voice, "neutral")[0] for text in SAMPLE_TEXTS)
        f0[c.id] = pitch_estimate(np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, 22050)
    return f0


def test_sample_series_characters_all_sound_different_offline(sample_roster: Roster):
    speech = OfflineSpeech()
    assert len(sample_roster.characters) >= 10
    assert shared_voice_problems(sample_roster) == []
    f0 = measured_f0(speech, sample_roster)
    rows = []
    for c in sorted(sample_roster.characters, key=lambda c: f0[c.id]):
        rows.append(f"{c.id} {c.name} {c.gender:6} {c.voice_profile.age_group:11} {c.voice.offline_voice_id:10} "
                    f"pitch {c.voice.pitch:2} rate {c.voice.rate} -> {f0[c.id]:.0f} Hz")  # fmt: skip
    print("\n".join(rows))
    by_id = sample_roster.by_id()
    for a, b in itertools.combinations(sample_roster.characters, 2):
        if a.gender == b.gender:
            ratio = max(f0[a.id], f0[b.id]) / min(f0[a.id], f0[b.id])
            assert ratio >= MIN_F0_RATIO, f"{a.name} {f0[a.id]:.0f} Hz vs {b.name} {f0[b.id]:.0f} Hz"
    # men and women sit in their own natural ranges, and age orders pitch within a gender
    men = [f0[c.id] for c in sample_roster.characters if c.gender == "male"]
    women = [f0[c.id] for c in sample_roster.characters if c.gender == "female"]
    assert max(men) < 170 and min(men) > 80 and min(women) > 165 and max(women) < 330
    assert min(women) > max(men)
    order = {"young": 0, "young_adult": 1, "adult": 2, "middle_age": 3, "senior": 4}
    for a, b in itertools.combinations(sample_roster.characters, 2):
        if a.gender == b.gender and order[a.voice_profile.age_group] < order[b.voice_profile.age_group]:
            assert f0[a.id] > f0[b.id], (by_id[a.id].name, by_id[b.id].name)


def test_casting_by_importance_gender_and_age(sample_roster: Roster):
    premium = {v.voice_id: v for v in DEFAULT_PREMIUM_VOICES}
    for c in sample_roster.characters:
        v = c.voice
        if c.importance in ("main", "major_supporting"):
            assert v.provider == "elevenlabs" and v.voice_id == v.elevenlabs_voice_id
            assert premium[v.elevenlabs_voice_id].gender == c.gender
        else:
            assert v.provider == "google" and v.voice_id == v.google_voice and not v.elevenlabs_voice_id
        # a fixed voice on every lower provider, of the character's gender
        assert v.google_voice.startswith("ko-KR-") and v.offline_voice_id
        assert (v.offline_voice_id in ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "Gene", "Mr serious")) == (
            c.gender == "male"
        )
    ids = [c.voice.elevenlabs_voice_id for c in sample_roster.characters if c.voice.elevenlabs_voice_id]
    assert len(ids) == len(set(ids))
    # the same roster always gets the same voices (the id seeds them)
    again = cast_voices((c.id, c.voice_profile, c.importance) for c in sample_roster.characters)
    assert all(again[c.id] == c.voice for c in sample_roster.characters)


def test_premium_table_runs_out_gracefully_and_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    profile = VoiceProfile(gender="female", age_group="adult", tone="", speaking_style="gentle")
    people = [(f"CHAR{i:03d}", profile, "main") for i in range(1, 5)]
    one = (PremiumVoice("only-one", "Solo", "female", "middle_aged"),)
    cast = cast_voices(people, premium_voices=one)
    assert [c.provider for c in cast.values()].count("elevenlabs") == 1  # nobody shares the one voice
    assert shared_voices(cast) == []

    table = tmp_path / "voices.yaml"
    table.write_text("- {voice_id: abc123, name: 하나, gender: female, age: young}\n", encoding="utf-8")
    monkeypatch.setenv(VOICE_TABLE_ENV, str(table))
    assert cast_voices(people[:1])["CHAR001"].elevenlabs_voice_id == "abc123"
    for body, problem in [("[]", "non-empty"), ('[{"voice_id": "x", "gender": "robot"}]', "gender"),
                          ('[{"gender": "male"}]', "voice_id"), ('[{"voice_id": "x", "gender": "male", "age": "teen"}]', "age")]:  # fmt: skip
        bad = tmp_path / "bad.json"
        bad.write_text(body)
        with pytest.raises(VoiceTableError, match=problem):
            load_premium_voices(bad)


def test_emotion_moves_every_provider():
    casting = make_roster().character("CHAR001").voice
    google = GoogleSpeech(client=None)
    rates = {e: google.audio_settings(casting, e, "") for e in ("neutral", "happy", "sad")}
    assert rates["happy"][0] > rates["neutral"][0] > rates["sad"][0]  # speakingRate
    assert rates["happy"][1] > rates["neutral"][1] > rates["sad"][1]  # pitch (semitones)
    assert google.audio_settings(casting, "neutral", "긴장감이 감도는 분위기")[0] > rates["neutral"][0]
    el = {e: voice_settings(casting, e, "") for e in ("neutral", "angry", "sad")}
    assert el["angry"]["speed"] > el["neutral"]["speed"] > el["sad"]["speed"]
    assert el["angry"]["stability"] < el["neutral"]["stability"] < el["sad"]["stability"]  # angrier is less steady
    assert all(0.7 <= s["speed"] <= 1.2 for s in el.values())


# ---------------------------------------------------------------- checks


def _wav(path: Path, samples: np.ndarray, rate: int = 16000) -> str:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes())
    return str(path)


def test_checks_pass_a_real_track_and_catch_each_fault(tmp_path: Path):
    roster = make_roster()
    track = build_track(make_script(), roster, OfflineSpeech(), tmp_path / "cache", tmp_path / "out")
    assert track_problems(track, Path(track.dialogue_wav)) == []
    assert shared_voice_problems(roster) == []

    rate = 16000
    t = np.arange(rate * 2) / rate
    speech = 0.3 * np.sin(2 * np.pi * 180 * t)
    clipped = np.clip(3 * np.sin(2 * np.pi * 180 * t), -1, 1)
    gappy = np.concatenate([speech[:rate], np.zeros(2 * rate), speech[:rate]])

    def line(i, path, start, end, text="안녕하세요 반갑습니다"):
        return TrackLine(index=i, scene=1, speaker="CHAR001", speaker_name="지우", text=text, emotion="neutral",
                         start=start, end=end, wav_path=path, provider="offline")  # fmt: skip

    lines = [
        line(0, _wav(tmp_path / "ok.wav", speech), 0.0, 2.0),
        line(1, str(tmp_path / "gone.wav"), 2.5, 4.5),
        line(2, _wav(tmp_path / "clip.wav", clipped), 5.0, 7.0),
        line(3, _wav(tmp_path / "gap.wav", gappy), 7.5, 11.5),
        line(4, _wav(tmp_path / "fast.wav", speech), 12.0, 12.2),
        line(5, _wav(tmp_path / "mute.wav", np.zeros(rate)), 13.0, 15.0),
    ]
    mix = _wav(tmp_path / "mix.wav", np.concatenate([clipped, np.zeros(rate * 10)]))
    bad = AudioTrack(series_id="s", episode_number=1, sample_rate=rate, dialogue_wav=mix, duration=16.0,
                     scenes=[TrackScene(number=1, start=0, end=16.0)], lines=lines, fingerprint="x")  # fmt: skip
    missing = missing_audio(bad)
    assert any("line 2" in p and "missing" in p for p in missing) and any("line 6" in p and "silent" in p for p in missing)
    assert len(missing) == 2
    durations = implausible_durations(bad)
    assert len(durations) == 1 and "line 5" in durations[0]
    audio = clipping_and_silences(bad, Path(mix))
    assert any("line 3" in p and "clipped" in p for p in audio)
    assert any("line 4" in p and "2.0 s silence inside" in p for p in audio)
    assert any("dialogue track clips" in p for p in audio) and any("10.0 s silence" in p for p in audio)
    assert clipped_runs(np.array([0.2, 1.0, 1.0, 1.0, 0.1, -1.0, -1.0])) == 1

    twin = roster.model_copy(deep=True)
    twin.characters[1].voice = twin.characters[0].voice
    problems = shared_voice_problems(twin)
    assert problems and all("CHAR001 and CHAR002" in p for p in problems)


def test_a_large_cast_still_shares_no_voice():
    ages = ["young", "young_adult", "adult", "middle_age", "senior"]
    styles = ["energetic", "shy", "formal", "casual"]
    people = [
        (f"CHAR{i:03d}", VoiceProfile(gender=("male", "female")[i % 2], age_group=ages[i % 5], tone="",
                                      speaking_style=styles[i % 4]), ("main", "major_supporting", "supporting", "minor")[i % 4])
        for i in range(1, 27)
    ]  # fmt: skip
    cast = cast_voices(people)
    assert len(cast) == 26 and shared_voices(cast) == []
    # 13 of a gender: more than the 10 espeak variants, so some share a variant but never a pitch
    pairs = [(c.offline_voice_id, c.pitch) for c in cast.values()]
    assert len(set(pairs)) == len(pairs)
    assert len([c for c in cast.values() if c.provider == "elevenlabs"]) <= len(DEFAULT_PREMIUM_VOICES)
