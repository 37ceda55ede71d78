"""The soundtrack in reusable AAC pieces: a re-cut after an edit encodes only what changed, and its
joined audio has no seam; loudness is brought to the target; the music is ducked under speech."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from aidas_dagster.picture import loudness
from aidas_dagster.picture import soundtrack as snd
from aidas_dagster.picture.music import Bed
from aidas_dagster.picture.probe import ffmpeg_exe
from aidas_dagster.picture.timeline import build_timeline, sound_parts
from aidas_dagster_tests.picture.builders import LINES, SERIES, TITLE, make_episode, render


def _decode(path: Path) -> np.ndarray:
    pcm = subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-vn", "-f", "s16le", "-ac", "1", "-ar", str(snd.RATE), "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768


def _window(x: np.ndarray, at: int, half: int = 2 * snd.FRAME) -> np.ndarray:
    return x[max(0, at - half) : at + half]


def test_a_recut_reuses_audio_pieces_and_joins_them_without_a_seam(tmp_path):
    # Its own first cut and cache: the shared episode's cache may already hold this very re-cut
    # (another module makes the same edit), and then no piece would be encoded anew.
    tmp = tmp_path / "own"
    script, roster, track = make_episode(tmp / "audio")
    plan1, first = render(tmp, script, roster, track, tmp / "segments")
    cache = tmp / "segments"
    before = {p.name for p in cache.glob("*.aac")}
    # A longer first line moves every later line by a fraction of a frame (and of an AAC frame).
    edited = list(LINES)
    edited[0] = (1, "CHAR001", "CHAR002", "안녕하세요, 정말 오랜만이에요.", 2.113)
    script2, roster2, track2 = make_episode(tmp / "audio-seam", lines=edited)
    moved = (track2.lines[2].start - track.lines[2].start) * snd.RATE % snd.FRAME
    assert 20 < moved < snd.FRAME - 20  # not a whole number of AAC frames
    plan2, recut = render(tmp, script2, roster2, track2, cache, tag="seam")
    assert recut.audio_pieces_encoded < recut.audio_pieces
    assert recut.audio_frames_encoded < 0.6 * recut.audio_frames

    # The reference: the mix the pieces were cut from, as samples, and one continuous encode of it.
    timeline = build_timeline(plan2, track2, script2, roster2, TITLE)
    parts = sound_parts(timeline, track2)
    total = timeline.total_frames * (snd.RATE // timeline.fps)
    gains = snd.Gains(recut.audio_gain_db, snd._db(-1.0 - snd.TRUE_PEAK_HEADROOM_DB))
    pcm = snd.to_pcm16(snd.build_mix(parts, total, snd.Mixer(SERIES, gains)))
    source = pcm.astype(np.float64) / 32768
    (tmp_path / "mix.raw").write_bytes(pcm.tobytes())
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "s16le", "-ar", str(snd.RATE), "-ac", "1", "-i", str(tmp_path / "mix.raw"),
                    "-c:a", "aac", "-b:a", snd.BITRATE, "-f", "adts", str(tmp_path / "one.aac")], check=True)  # fmt: skip
    one_pass = _decode(tmp_path / "one.aac")[snd.FRAME :]  # its priming frame dropped
    joined = _decode(Path(recut.video_path))
    assert abs(len(joined) - total) < snd.FRAME  # the whole episode, nothing doubled or lost
    n = min(len(joined), len(source), len(one_pass))
    # No delay: the joined audio lines up with the mix sample for sample.
    mid = slice(snd.RATE, n - snd.RATE)
    lags = range(-32, 33)
    assert max(lags, key=lambda lag: float(np.dot(source[mid], joined[mid.start + lag : mid.stop + lag]))) == 0

    err_join, err_one = joined[:n] - source[:n], one_pass[:n] - source[:n]
    assert np.sqrt(np.mean(err_join**2)) < 1.3 * np.sqrt(np.mean(err_one**2)) < 0.01 * np.sqrt(np.mean(source**2))
    pieces = snd.plan_pieces(parts, -(-total // snd.FRAME), SERIES, gains)
    snd.glue_keys(pieces, parts, -(-total // snd.FRAME), SERIES, gains)
    snd.load_cached(pieces, cache)  # which cached encoding each piece's frames came from
    reused = [p.file(cache).name in before for p in pieces]
    mixed_seams = 0
    for k in range(1, len(pieces)):
        at = pieces[k].first * snd.FRAME
        mixed_seams += reused[k - 1] != reused[k]
        # At a seam the error is the codec's, as in one continuous encode: no click, no gap.
        j, o = _window(err_join, at), _window(err_one, at)
        assert np.sqrt(np.mean(j**2)) < 3 * np.sqrt(np.mean(o**2)) + 1e-4, f"a seam at sample {at}"
        assert np.max(np.abs(j)) < max(3 * np.max(np.abs(o)), 0.005), f"a click at sample {at}"
    assert mixed_seams >= 2  # reused pieces meet newly encoded ones

    # A glue piece is found in the cache by what it is mixed from: where the re-cut's glue has the
    # name of one of the first cut's, its samples are those of the first cut's piece.
    assert recut.audio_gain_db == first.audio_gain_db
    timeline1 = build_timeline(plan1, track, script, roster, TITLE)
    parts1 = sound_parts(timeline1, track)
    total1 = timeline1.total_frames * (snd.RATE // timeline1.fps)
    pcm1 = snd.to_pcm16(snd.build_mix(parts1, total1, snd.Mixer(SERIES, gains)))
    pieces1 = snd.plan_pieces(parts1, -(-total1 // snd.FRAME), SERIES, gains)
    snd.glue_keys(pieces1, parts1, -(-total1 // snd.FRAME), SERIES, gains)

    def samples(piece, pcm, frames):
        lead, trail = snd._roll(piece.first, piece.count, frames)
        return pcm[(piece.first - lead) * snd.FRAME : (piece.first + piece.count + trail) * snd.FRAME]

    earlier = {p.key: samples(p, pcm1, -(-total1 // snd.FRAME)) for p in pieces1 if p.part is None}
    same = [p for p in pieces if p.part is None and p.key in earlier]
    assert same  # the glue before the edited line
    assert all(np.array_equal(samples(p, pcm, -(-total // snd.FRAME)), earlier[p.key]) for p in same)
    assert any(p.part is None and p.key not in earlier for p in pieces)  # and the moved crossfades have new names


def test_the_cut_meets_the_loudness_target_measured_on_the_joined_file(episode):
    _tmp, _script, _roster, _track, _plan, cut = episode
    lufs, peak = snd.measure_loudness(Path(cut.video_path), ffmpeg_exe(), true_peak=True)
    assert lufs == pytest.approx(-14.0, abs=snd.LOUDNESS_TOLERANCE)
    assert peak <= -1.0
    assert cut.loudness_lufs == pytest.approx(lufs, abs=0.3)


def test_the_loudness_target_is_configurable_and_a_kept_gain_stays_within_tolerance(episode):
    _tmp, script, roster, track, plan, cut = episode
    timeline = build_timeline(plan, track, script, roster, TITLE)
    parts = sound_parts(timeline, track)
    total = timeline.total_frames * (snd.RATE // timeline.fps)
    pcm, gains, lufs = snd.normalised_mix(parts, total, SERIES, snd.Loudness(-20.0, -3.0), None)
    assert lufs == pytest.approx(-20.0, abs=snd.LOUDNESS_AIM)
    assert snd.measure_loudness(pcm, ffmpeg_exe())[0] == pytest.approx(lufs, abs=0.05)
    assert np.max(np.abs(pcm)) / 32768 <= snd._db(-3.0 - snd.TRUE_PEAK_HEADROOM_DB) + 1e-3
    # A gain within tolerance is kept (the cached pieces stay valid); one far off is replaced.
    _pcm, kept, _lufs = snd.normalised_mix(parts, total, SERIES, snd.Loudness(), cut.audio_gain_db + 0.2)
    assert kept.db == pytest.approx(cut.audio_gain_db + 0.2)
    _pcm, moved, far = snd.normalised_mix(parts, total, SERIES, snd.Loudness(), cut.audio_gain_db - 15)
    assert moved.db != pytest.approx(cut.audio_gain_db - 15) and far == pytest.approx(-14.0, abs=snd.LOUDNESS_TOLERANCE)
    unity = snd.normalised_mix(parts, total, SERIES, snd.Loudness(None), None)[1]
    assert unity.db == 0.0


def test_music_is_ducked_under_dialogue(episode):
    """The music alone: quieter wherever someone speaks, louder in pauses, loudest under the cards."""
    _tmp, script, roster, track, plan, cut = episode
    timeline = build_timeline(plan, track, script, roster, TITLE)
    parts = sound_parts(timeline, track)
    total = timeline.total_frames * (snd.RATE // timeline.fps)
    music = snd.build_mix(parts, total, snd.Mixer(SERIES, snd.Gains(cut.audio_gain_db, 0.84)), voices=False)

    def rms(t0: float, t1: float) -> float:
        return float(np.sqrt(np.mean(music[int(t0 * snd.RATE) : int(t1 * snd.RATE)] ** 2)))

    under_speech = [rms(3.0 + ln.start + 0.3, 3.0 + ln.end - 0.3) for ln in track.lines]
    scene_gap = (track.lines[1].end, track.lines[2].start)  # 0.4 s pause + 0.8 s scene change
    in_gap = rms(3.0 + scene_gap[0] + 0.35, 3.0 + scene_gap[1] - 0.35)
    title_card = rms(1.2, 2.5)
    assert min(under_speech) > 0.002  # the music plays on under the voices
    assert np.mean(under_speech) < 0.6 * in_gap < 0.6 * title_card


def test_a_bed_renders_any_window_of_its_loop_identically():
    bed = Bed(snd.RATE, SERIES, "설렘")
    whole = bed.render(-5000, 4 * bed.chord_len)
    assert np.array_equal(whole[12345 : 12345 + 9000], bed.render(-5000 + 12345, 9000))
    assert 0.5 < np.max(np.abs(bed.render(0, len(bed.progression) * bed.chord_len))) <= 0.9 + 1e-6
    assert not np.array_equal(whole, Bed(snd.RATE, SERIES, "긴장").render(-5000, 4 * bed.chord_len)[: len(whole)])


def test_peaks_are_limited_smoothly_and_quiet_signals_pass_untouched():
    t = np.arange(snd.RATE) / snd.RATE
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    x[20000:20100] += 1.5  # a spike
    y = snd.limit_peaks(x, 0.8)
    assert np.max(np.abs(y)) <= 0.8 + 1e-6
    assert np.allclose(y[:15000], x[:15000]) and np.allclose(y[25000:], x[25000:])  # only around the spike
    level = np.full(snd.RATE, 0.3, np.float32)
    level[20000:20100] = 1.5
    gain = snd.limit_peaks(level, 0.8) / level  # on a flat signal the limiter's gain shows as is
    assert np.max(np.abs(np.diff(gain))) < 0.01  # no step: the gain moves smoothly
    quiet = x * 0.1
    assert snd.limit_peaks(quiet, 0.8) is quiet


def test_one_peak_hold_limits_a_voice_at_every_gain_as_the_direct_limiter_does():
    """The loudness search limits each voice at several gains from one held maximum (PeakHold): at
    each gain it must equal the limiter written out sample by sample (need = min(1, ceiling/|g·x|),
    held at its minimum over every block of HOLD_BLOCK samples a sample's window reaches, averaged
    over the window before each sample), never limit less than the sample-exact hold, and keep
    the peaks under the ceiling."""
    rng = np.random.default_rng(7)
    t = np.arange(snd.RATE // 2) / snd.RATE
    x = (0.2 * np.sin(2 * np.pi * 180 * t) * (1 + rng.random(len(t)))).astype(np.float32)
    x[9000:9200] *= 4.0  # a shout
    x[300] = 0.9  # a click before the window's length: the hold reaches back past the start
    w, b, ceiling = snd.LIMIT_WINDOW, snd.HOLD_BLOCK, 0.7
    r = -(-(w + b - 1) // b)
    hold = snd.PeakHold(x)
    for gain in (0.5, 1.0, 2.5, 6.0, 20.0):
        g = x.astype(np.float64) * gain
        need = np.minimum(1.0, ceiling / np.maximum(np.abs(g), 1e-9))
        # Blocks from a window's length before the start (held too: the window before an early
        # sample reaches back there), nothing limited past the ends.
        blocks = np.ones(w + -(-len(x) // b) * b)
        blocks[w : w + len(x)] = need
        per_block = np.concatenate([np.ones(r), blocks.reshape(-1, b).min(axis=1), np.ones(r)])
        held = np.repeat(np.lib.stride_tricks.sliding_window_view(per_block, 2 * r + 1).min(axis=1), b)
        mean = np.convolve(held[1 : w + len(x)], np.ones(w) / w, mode="valid")  # sample i: held over (i - w, i]
        held = held[w : w + len(x)]
        got = hold.limited(gain, ceiling)
        assert np.max(np.abs(got)) <= ceiling + 1e-6
        assert np.allclose(got, g * mean, rtol=1e-5, atol=1e-6), gain
        exact = np.lib.stride_tricks.sliding_window_view(np.concatenate([np.ones(w), need, np.ones(w)]), 2 * w + 1).min(axis=1)
        assert np.all(held <= exact + 1e-12)  # a wider window: never less limiting
    assert np.array_equal(hold.limited(0.3, ceiling), x * np.float32(0.3))  # under the ceiling: the gain only


def test_a_crossfade_past_the_first_six_minutes_is_mixed_as_early_ones_are():
    # Past 2**24 samples (5:49 at 48 kHz) a float32 arange from the episode's start stalls: every
    # sample of a window got one crossfade weight. Two parts meeting at 6:00, no voices.
    at = 360 * snd.RATE // snd.FRAME * snd.FRAME
    first = snd.Part("a", 0, "calm", snd.MUSIC_GAP_DB, 1)
    second = snd.Part("b", at, "tense", snd.MUSIC_GAP_DB, 2)
    parts, total = [first, second], at + 10 * snd.RATE
    mixer = snd.Mixer(SERIES, snd.Gains(0.0, 1.0))
    z0, z1 = snd._zones(parts)[1]
    lo, hi = z0 - snd.RATE, z1 + snd.RATE
    mix = snd.build_mix(parts, total, mixer, lo=lo, hi=hi)
    alone_a = snd.build_mix([first], total, mixer, lo=lo, hi=hi)
    alone_b = snd.build_mix([second], total, mixer, lo=lo, hi=hi)
    assert np.array_equal(mix[: z0 - lo], alone_a[: z0 - lo])  # the first part's music alone up to the crossfade
    assert np.array_equal(mix[z1 - lo :], alone_b[z1 - lo :])  # the second's alone after it
    middle = (z0 + z1) // 2 - lo
    assert np.allclose(mix[middle - 8 : middle + 8], 0.5 * (alone_a + alone_b)[middle - 8 : middle + 8], atol=2e-3)
    # And the same samples in whichever window they are mixed.
    inner = snd.build_mix(parts, total, mixer, lo=z0 - 1000, hi=z1 + 1000)
    assert np.array_equal(inner, mix[z0 - 1000 - lo : z1 + 1000 - lo])


def test_a_recut_measures_its_loudness_from_its_first_change_on_as_a_whole_measurement_does(tmp_path):
    # Eight parts of music over 40 s; the re-cut changes the sixth (its chord), so the mix is the same
    # up to where the sixth's sound begins, and only the rest is mixed and measured again.
    span = 5 * snd.RATE // snd.FRAME * snd.FRAME

    def parts(changed: bool) -> list[snd.Part]:
        return [snd.Part(f"p{k}", k * span, "설렘" if k % 2 else "긴장", snd.MUSIC_GAP_DB, k + (7 if changed and k == 5 else 0))
                for k in range(8)]  # fmt: skip

    total = 8 * span
    steps = tmp_path / "ep.steps.npz"
    first = snd.make_soundtrack(parts(False), total, SERIES, tmp_path / "cache", tmp_path / "a.aac", ffmpeg_exe(), steps_file=steps)
    before = snd.MixSteps.load(steps)
    assert before is not None and len(before.energies) == total // 4800
    gains = snd.Gains(first.gain_db, snd.ceiling_of(snd.Loudness()))
    kept = before.unchanged(snd.MixSteps.of(parts(True), SERIES, gains, total, np.zeros(0)))
    assert 0 < kept < len(before.energies) and kept * 4800 <= 5 * span - snd.MARGIN - snd.XFADE

    recut = snd.make_soundtrack(parts(True), total, SERIES, tmp_path / "cache", tmp_path / "b.aac", ffmpeg_exe(),
                                previous_gain_db=first.gain_db, previous_lufs=first.lufs, steps_file=steps)  # fmt: skip
    assert recut.gain_db == first.gain_db
    whole = snd.build_pcm(parts(True), total, snd.Mixer(SERIES, gains))
    assert recut.lufs == pytest.approx(loudness.integrated_lufs(whole, snd.RATE), abs=1e-9)
    after = snd.MixSteps.load(steps)
    assert after is not None and np.allclose(after.energies, loudness.step_energies(whole, snd.RATE), rtol=1e-9)
    assert not np.allclose(after.energies, before.energies, rtol=1e-9)  # the change is measured, not taken over
