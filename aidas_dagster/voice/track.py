"""The episode's dialogue track: every line voiced, levelled and laid out with natural pauses.

Lines come from the content-addressed line cache (so only changed lines are voiced again), are
normalised to one loudness (plus a small emotional offset: the angry line stays louder than the
shy one), and are placed one after another with pauses that follow the conversation: a breath
between lines, longer after a question or a heavy line, shorter in a quick exchange, and a longer
gap between scenes. When the episode needs a given length, the pauses stretch toward it; speech
is never cut or sped up.

An edit keeps the rest of the episode where it was. When `out_dir` holds this episode's previous
track (same target and lead-in), every unchanged line keeps its exact place on the sample grid, and
only the pauses next to what changed take up the difference: a window around the edit, widened a
pause at a time until its pauses stay within their caps and within `KEEP_RHYTHM` of what the whole
episode's fit would give them. Subtitles, picture and music after the edit then do not move, so a
re-cut renders only the edited stretch. Where no window works (a big rewrite), the whole episode
is fitted again.

Outputs (all written atomically, the manifest last): `dialogue.wav`, `timing.csv`, `track.json`.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

from aidas_dagster.core.storage import TrackFiles, fingerprint, read_json, write_json, write_text
from aidas_dagster.story.models import EpisodeScript, Line, Roster, Scene
from aidas_dagster.voice.analysis import read_wav
from aidas_dagster.voice.line_cache import SpeechProvider, synthesize_line, write_wav
from aidas_dagster.voice.models import AudioTrack, TrackLine, TrackScene, WordTiming
from aidas_dagster.voice.offline_tts import calculate_modulation

# Bump when the layout or levelling changes, so fingerprints (and freshness stamps) change too.
LAYOUT_VERSION = 2

# Levels (dBFS).
TARGET_RMS_DB = -20.0
PEAK_CEILING_DB = -1.0
MAX_EMOTION_GAIN_DB = 4.0

# Pauses (seconds).
EDGE_PAD = 0.5  # silence at the very start and end of the track
LINE_PAUSE = 0.45  # between lines of one scene
SCENE_PAUSE = 1.6  # between scenes
MAX_LINE_PAUSE = 4.0  # limits when stretching toward a target length
MAX_SCENE_PAUSE = 8.0
STRETCH_BELOW = 0.97  # stretch only when the natural layout is shorter than this share of the target
# An edit's window keeps each pause within this share of what a fit of the whole episode gives it,
# so the edited stretch keeps the episode's rhythm; and the kept layout may be this far off the
# length that fit would give (it never drifts further over repeated edits).
KEEP_RHYTHM = 0.25
KEEP_LENGTH_SECONDS = 0.02

# A little extra silence after lines that need to land; a quick exchange of short lines runs tighter.
EMOTION_PAUSE = {"sad": 0.3, "worried": 0.2, "shy": 0.2, "surprised": 0.2, "angry": 0.15, "tense": 0.15}
QUESTION_PAUSE = 0.15
SAME_SPEAKER_PAUSE = -0.1  # the same person carrying on barely stops
QUICK_LINE_SECONDS = 1.3
QUICK_FACTOR = 0.6


@dataclass
class _Voiced:
    scene: Scene
    line: Line
    speaker_name: str
    wav_path: str
    words: list[WordTiming]
    provider: str  # who actually voiced the line (a chain may fail over)
    samples: np.ndarray  # levelled float32 at the track's sample rate


# -- levelling ----------------------------------------------------------------------------------


def _speech_rms(samples: np.ndarray, sample_rate: int) -> float:
    """RMS over the speaking parts only (20 ms frames within 25 dB of the loudest), so the pauses
    inside a line do not make it come out louder after normalising."""
    hop = max(1, sample_rate // 50)
    usable = len(samples) - len(samples) % hop
    if usable == 0:
        return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    energy = np.mean(np.square(samples[:usable].reshape(-1, hop), dtype=np.float64), axis=1)
    active = energy[energy >= energy.max() * 10 ** (-25 / 10)]
    return float(np.sqrt(active.mean()))


def _limit(samples: np.ndarray, ceiling: float, sample_rate: int) -> np.ndarray:
    """Peak limiter: a smooth gain that dips just around peaks above `ceiling` (no hard clipping).

    The per-sample gain needed is min-filtered then averaged over the same 5 ms window; the average
    of minima taken over windows that all contain a sample never exceeds that sample's need, so the
    result is guaranteed under the ceiling.
    """
    level = np.abs(samples)
    if level.max(initial=0.0) <= ceiling:
        return samples
    need = np.minimum(1.0, ceiling / np.maximum(level, 1e-9))
    width = max(3, int(0.005 * sample_rate) | 1)  # odd, so windows are centred
    half = width // 2
    padded = np.pad(need, half, mode="edge")
    floor = np.lib.stride_tricks.sliding_window_view(padded, width).min(axis=1)
    smooth = np.convolve(np.pad(floor, half, mode="edge"), np.ones(width) / width, mode="valid")
    return (samples * np.minimum(smooth, need)).astype(np.float32)


def level_line(samples: np.ndarray, sample_rate: int, gain_db: float = 0.0) -> np.ndarray:
    """Normalise to TARGET_RMS_DB (+ gain_db), then keep every peak under PEAK_CEILING_DB."""
    current = _speech_rms(samples, sample_rate)
    if current <= 0:
        return samples.astype(np.float32)
    gain = 10 ** ((TARGET_RMS_DB + gain_db) / 20) / current
    levelled = (samples.astype(np.float64) * gain).astype(np.float32)
    out = _limit(levelled, 10 ** (PEAK_CEILING_DB / 20), sample_rate)
    # 5 ms fades: lines were trimmed by the provider, so avoid clicks at the cut.
    fade = min(len(out) // 2, int(0.005 * sample_rate))
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        out[:fade] *= ramp
        out[-fade:] *= ramp[::-1]
    return out


def _resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear resampling; only needed if a provider changes its rate between lines."""
    if rate == target:
        return samples
    count = max(1, round(len(samples) * target / rate))
    return np.interp(np.arange(count) * rate / target, np.arange(len(samples)), samples).astype(np.float32)


# -- pauses -------------------------------------------------------------------------------------


def line_pause(prev: Line, prev_seconds: float, nxt: Line, next_seconds: float) -> float:
    """The natural silence between two lines of one scene."""
    pause = LINE_PAUSE
    if prev.text.rstrip().endswith("?"):
        pause += QUESTION_PAUSE
    pause += EMOTION_PAUSE.get(prev.emotion, 0.0)
    if prev.speaker == nxt.speaker:
        pause += SAME_SPEAKER_PAUSE
    elif prev_seconds < QUICK_LINE_SECONDS and next_seconds < QUICK_LINE_SECONDS:
        pause *= QUICK_FACTOR  # a quick back-and-forth
    return max(0.15, pause)


def stretch_pauses(pauses: list[float], caps: list[float], extra: float) -> list[float]:
    """Scale all pauses by one factor (keeping their rhythm), each held at its cap, so together they
    grow by `extra` seconds, or as close as the caps allow."""
    if extra <= 0 or not pauses:
        return list(pauses)
    base = sum(pauses)

    def grown(factor: float) -> float:
        return sum(min(p * factor, c) for p, c in zip(pauses, caps)) - base

    top = max(c / p for p, c in zip(pauses, caps) if p > 0)
    if grown(top) <= extra:
        return [max(p, c) for p, c in zip(pauses, caps)]
    lo, hi = 1.0, top
    for _ in range(60):  # bisection: grown() is monotonic in the factor
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if grown(mid) < extra else (lo, mid)
    return [min(p * hi, max(p, c)) for p, c in zip(pauses, caps)]


def _samples(seconds: list[float], room: int, rate: int) -> list[int]:
    """Pauses on the sample grid, rounded cumulatively so that together they fill exactly `room`."""
    edges = [0]
    total = 0.0
    for pause in seconds:
        total += pause
        edges.append(round(total * rate))
    edges[-1] = room
    return [b - a for a, b in zip(edges, edges[1:])]


def _line_key(scene: int, speaker: str, text: str, emotion: str, samples: int) -> tuple:
    return scene, speaker, text, emotion, samples


def kept_layout(
    previous: AudioTrack, keys: list[tuple], lengths: list[int], naturals: list[float], caps: list[float],
    fitted: list[float], first: int, end_pad: int,
) -> list[int] | None:  # fmt: skip
    """The pauses (in samples) that keep every line `previous` also had in its exact place, or None
    when no window around the changes can take them up (see the module's docstring).

    `keys` and `lengths` describe the new lines, `naturals` and `caps` their pauses, `fitted` what a
    fit of the whole episode gives those pauses; `first` is the first line's start and `end_pad`
    the silence after the last line (both in samples).
    """
    rate = previous.sample_rate
    old = previous.lines
    if previous.total_samples is None or any(tl.start_sample is None or tl.end_sample is None for tl in old):
        return None  # written before tracks kept their sample grid
    old_keys = [_line_key(tl.scene, tl.speaker, tl.text, tl.emotion, tl.end_sample - tl.start_sample) for tl in old]
    n = len(keys)
    starts: dict[int, int] = {0: first}  # new line -> where it must start; n is the end of the last pause
    starts[n] = previous.total_samples - end_pad
    kept: set[int] = set()  # pauses between two lines that followed each other before and still do
    for i, j, size in SequenceMatcher(None, old_keys, keys, autojunk=False).get_matching_blocks():
        for k in range(size):
            starts[j + k] = old[i + k].start_sample
            if k + 1 < size:
                kept.add(j + k)
    if starts[0] != first:
        return None  # the first line moved: a different lead-in
    bounds = sorted(starts)

    def fit(a: int, b: int) -> list[int] | None:
        """Pauses a..b-1 (the last line has none after it) filling the room between lines a and b."""
        span = range(a, min(b, n - 1))
        room = starts[b] - starts[a] - sum(lengths[a:b])
        if b == a + 1 and a in kept:
            return [room]  # unchanged: as it was
        if not span:
            return [] if room == 0 else None
        nat = [naturals[i] for i in span]
        if room < round(sum(nat) * rate):
            return None
        grown = stretch_pauses(nat, [caps[i] for i in span], room / rate - sum(nat))
        if abs(sum(grown) - room / rate) > 1e-3:
            return None  # more room than the caps allow
        if any(g > caps[i] + 1e-9 or abs(g - fitted[i]) > KEEP_RHYTHM * fitted[i] for g, i in zip(grown, span)):
            return None
        return _samples(grown, room, rate)

    windows = [fit(a, b) for a, b in zip(bounds, bounds[1:])]
    while (bad := next((k for k, w in enumerate(windows) if w is None), None)) is not None:
        if len(bounds) <= 3:
            return None  # the window is the whole episode: fit it whole instead
        # Widen toward the smaller neighbour (the edges of the track stay put).
        left = bounds[bad] - bounds[bad - 1] if bad > 0 else None
        right = bounds[bad + 2] - bounds[bad + 1] if bad + 2 < len(bounds) else None
        drop = bad if right is None or (left is not None and left < right) else bad + 1
        del bounds[drop]
        windows[drop - 1 : drop + 1] = [fit(bounds[drop - 1], bounds[drop])]
    pauses = [0] * len(naturals)
    for a, window in zip(bounds, windows):
        pauses[a : a + len(window)] = window
    return pauses


def _previous_track(out_dir: Path) -> AudioTrack | None:
    try:
        return read_track(TrackFiles(out_dir).manifest)
    except (FileNotFoundError, ValueError):
        return None  # none yet, or unreadable: the layout is fitted afresh


# -- the track ----------------------------------------------------------------------------------


def track_fingerprint(
    script: EpisodeScript, roster: Roster, provider: SpeechProvider, target_seconds: float | None, lead_in: float
) -> str:
    """Hash of everything that shapes the track: lines, castings, provider, target and layout rules."""
    lines = [
        [scene.number, scene.atmosphere, line.speaker, line.text, line.emotion] for scene, line in script.lines()
    ]
    speakers = sorted({line.speaker for _scene, line in script.lines()})
    castings = {cid: [roster.character(cid).name, roster.character(cid).voice] for cid in speakers}
    return fingerprint(
        LAYOUT_VERSION, script.series_id, script.episode_number, lines, castings,
        provider.name, provider.model, target_seconds, lead_in,
    )


def _voice_lines(
    script: EpisodeScript, roster: Roster, provider: SpeechProvider, cache_dir: Path
) -> tuple[list[_Voiced], int]:
    voiced: list[_Voiced] = []
    track_rate = 0
    for scene, line in script.lines():
        character = roster.character(line.speaker)
        casting = character.voice
        synth = synthesize_line(provider, line.text, casting, line.emotion, scene.atmosphere, cache_dir)
        samples, rate = read_wav(synth.wav_path)
        track_rate = track_rate or rate  # the first line's rate is the track's
        gain_db = 20 * math.log10(calculate_modulation(casting, line.emotion, scene.atmosphere).volume)
        gain_db = max(-MAX_EMOTION_GAIN_DB, min(MAX_EMOTION_GAIN_DB, gain_db))
        levelled = level_line(_resample(samples, rate, track_rate), track_rate, gain_db)
        voiced.append(_Voiced(scene, line, character.name, synth.wav_path, synth.words, synth.provider, levelled))
    return voiced, track_rate


def _timing_csv(lines: list[TrackLine]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["index", "scene", "speaker", "speaker_name", "start", "end", "text"])
    for tl in lines:
        writer.writerow([tl.index, tl.scene, tl.speaker, tl.speaker_name, f"{tl.start:.3f}", f"{tl.end:.3f}", tl.text])
    return buf.getvalue()


def build_track(
    script: EpisodeScript,
    roster: Roster,
    provider: SpeechProvider,
    cache_dir: Path,
    out_dir: Path,
    target_seconds: float | None = None,
    lead_in: float = 0.0,
) -> AudioTrack:
    """Voice every line and lay them on one track in `out_dir` (dialogue.wav, timing.csv, track.json).

    `target_seconds` is the whole track's wished length (lead-in and edge pads included): shorter
    natural layouts get their pauses stretched toward it. `lead_in` adds silence before the first line.
    Nothing is written until every line has been voiced, and the manifest is written last.
    """
    out_dir = Path(out_dir).resolve()
    voiced, rate = _voice_lines(script, roster, provider, Path(cache_dir))

    # Natural pauses after each line but the last: within a scene, or at a scene change.
    pauses: list[float] = []
    caps: list[float] = []
    for prev, nxt in zip(voiced, voiced[1:]):
        if prev.scene is not nxt.scene:
            pauses.append(SCENE_PAUSE)
            caps.append(MAX_SCENE_PAUSE)
        else:
            pauses.append(line_pause(prev.line, len(prev.samples) / rate, nxt.line, len(nxt.samples) / rate))
            caps.append(MAX_LINE_PAUSE)
    lead = max(0.0, lead_in)
    lengths = [len(v.samples) for v in voiced]
    natural = lead + 2 * EDGE_PAD + sum(lengths) / rate + sum(pauses)
    stretched = target_seconds is not None and natural < STRETCH_BELOW * target_seconds
    fitted = stretch_pauses(pauses, caps, target_seconds - natural) if stretched else pauses
    gaps = [round(p * rate) for p in fitted]

    first = round((lead + EDGE_PAD) * rate)
    end_pad = round(EDGE_PAD * rate)
    previous = _previous_track(out_dir) if stretched else None
    if previous is not None and (previous.sample_rate, previous.target_seconds, previous.lead_in) == (
        rate, target_seconds, lead
    ) and abs((previous.total_samples or 0) - (first + sum(lengths) + sum(gaps) + end_pad)) <= KEEP_LENGTH_SECONDS * rate:
        # The same episode fitted to the same length: keep what did not change where it was.
        keys = [_line_key(v.scene.number, v.line.speaker, v.line.text, v.line.emotion, n) for v, n in zip(voiced, lengths)]
        gaps = kept_layout(previous, keys, lengths, pauses, caps, fitted, first, end_pad) or gaps

    # Place lines on a sample grid (cumulative, so rounding never drifts).
    cursor = first
    placed: list[tuple[int, _Voiced]] = []
    for i, v in enumerate(voiced):
        placed.append((cursor, v))
        cursor += len(v.samples)
        if i < len(gaps):
            cursor += gaps[i]
    total = cursor + end_pad
    mix = np.zeros(total, dtype=np.float32)
    track_lines: list[TrackLine] = []
    for index, (at, v) in enumerate(placed):
        mix[at : at + len(v.samples)] = v.samples  # lines never overlap: a plain copy
        start, end = at / rate, (at + len(v.samples)) / rate
        track_lines.append(
            TrackLine(
                index=index,
                scene=v.scene.number,
                speaker=v.line.speaker,
                speaker_name=v.speaker_name,
                text=v.line.text,
                emotion=v.line.emotion,
                start=round(start, 4),
                end=round(end, 4),
                wav_path=v.wav_path,
                words=[
                    WordTiming(text=w.text, start=round(start + w.start, 4), end=round(min(start + w.end, end), 4))
                    for w in v.words
                ],
                provider=v.provider,
                start_sample=at,
                end_sample=at + len(v.samples),
            )
        )
    duration = total / rate

    # Scenes are contiguous: each runs from its first line (0 for the first) to the next scene's first line.
    scene_starts: list[tuple[int, float]] = []
    for tl in track_lines:
        if not scene_starts or scene_starts[-1][0] != tl.scene:
            scene_starts.append((tl.scene, 0.0 if not scene_starts else tl.start))
    scenes = [
        TrackScene(number=num, start=begin, end=scene_starts[k + 1][1] if k + 1 < len(scene_starts) else duration)
        for k, (num, begin) in enumerate(scene_starts)
    ]

    pcm = np.clip(np.round(mix * 32767.0), -32768, 32767).astype("<i2").tobytes()
    files = TrackFiles(Path(out_dir))
    dialogue = files.dialogue
    track = AudioTrack(
        series_id=script.series_id,
        episode_number=script.episode_number,
        sample_rate=rate,
        dialogue_wav=str(dialogue),
        duration=duration,
        scenes=scenes,
        lines=track_lines,
        # Where the lines sit is part of the track: an edit's kept layout differs from a fresh fit.
        fingerprint=fingerprint(track_fingerprint(script, roster, provider, target_seconds, lead_in), [at for at, _v in placed]),
        target_seconds=target_seconds,
        lead_in=lead,
        total_samples=total,
    )
    write_wav(dialogue, pcm, rate)
    write_text(files.timing_table, _timing_csv(track_lines))
    write_json(files.manifest, track)  # last: its presence means the track is complete
    return track


def read_track(path: Path | str) -> AudioTrack:
    """The manifest written by `build_track` (`out_dir/track.json`)."""
    return AudioTrack.model_validate(read_json(Path(path)))
