"""Plain checks of a dialogue track; each returns the list of problems found (empty: all good)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aidas_dagster.story.models import Roster
from aidas_dagster.voice.analysis import longest_silence, peak_dbfs, read_wav
from aidas_dagster.voice.casting import shared_voices
from aidas_dagster.voice.models import AudioTrack

# Korean speech runs roughly 2-9 syllables a second across voices and emotions.
SYLLABLES_PER_SECOND = (1.5, 10.0)
# Whole track: the longest pause the layout may stretch to is 8 s (a scene change).
MAX_SILENCE_SECONDS = 9.0
# Inside one line: a breath or a dramatic pause, never a second and a half of nothing.
MAX_LINE_SILENCE_SECONDS = 1.5
# A clipped waveform sits flat at full scale: this many samples in a row at >= CLIP_LEVEL.
CLIP_LEVEL = 0.999
CLIP_RUN = 3
# Quieter than this peak (dBFS) is no audio at all.
SILENT_PEAK_DBFS = -50.0


def syllables(text: str) -> int:
    return sum(1 for ch in text if "가" <= ch <= "힣") or len(text.split())


def clipped_runs(samples: np.ndarray) -> int:
    """How many runs of CLIP_RUN or more consecutive samples sit at full scale."""
    at_max = np.abs(samples) >= CLIP_LEVEL
    if not at_max.any():
        return 0
    padded = np.concatenate(([0], at_max.astype(np.int8), [0]))
    edges = np.diff(padded)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int(np.sum(ends - starts >= CLIP_RUN))


def _where(line) -> str:
    return f"line {line.index + 1} ({line.speaker_name})"


def missing_audio(track: AudioTrack) -> list[str]:
    """Every line has an audio file with sound in it."""
    problems = []
    for line in track.lines:
        path = Path(line.wav_path)
        if not path.is_file():
            problems.append(f"{_where(line)}: audio file {line.wav_path} is missing")
            continue
        try:
            samples, _rate = read_wav(path)
        except (OSError, EOFError, ValueError) as exc:
            problems.append(f"{_where(line)}: audio file {line.wav_path} is unreadable ({exc})")
            continue
        if peak_dbfs(samples) < SILENT_PEAK_DBFS:
            problems.append(f"{_where(line)}: audio file {line.wav_path} is silent")
    return problems


def implausible_durations(track: AudioTrack) -> list[str]:
    """Each line lasts as long as its text takes to say (syllables per second within bounds)."""
    problems = []
    low, high = SYLLABLES_PER_SECOND
    for line in track.lines:
        seconds = line.end - line.start
        rate = syllables(line.text) / seconds if seconds > 0 else float("inf")
        if not low <= rate <= high:
            problems.append(
                f"{_where(line)}: {seconds:.2f} s for {syllables(line.text)} syllables ({rate:.1f}/s) is implausible"
            )
    return problems


def clipping_and_silences(track: AudioTrack, dialogue_wav: Path) -> list[str]:
    """No clipped line or mix; no long silence inside a line; no dead air on the track."""
    problems = []
    for line in track.lines:
        path = Path(line.wav_path)
        if not path.is_file():
            continue  # reported by missing_audio
        samples, rate = read_wav(path)
        runs = clipped_runs(samples)
        if runs:
            problems.append(f"{_where(line)}: clipped in {runs} place(s)")
        gap = longest_silence(samples, rate)
        if gap > MAX_LINE_SILENCE_SECONDS:
            problems.append(f"{_where(line)}: a {gap:.1f} s silence inside the line")
    if not dialogue_wav.exists():
        return problems + [f"dialogue track {dialogue_wav} is missing"]
    samples, rate = read_wav(dialogue_wav)
    if clipped_runs(samples) or peak_dbfs(samples) > -0.1:
        problems.append(f"dialogue track clips (peak {peak_dbfs(samples):.2f} dBFS)")
    silence = longest_silence(samples, rate)
    if silence > MAX_SILENCE_SECONDS:
        problems.append(f"dialogue track has a {silence:.1f} s silence")
    return problems


def shared_voice_problems(roster: Roster) -> list[str]:
    """No two characters of the series share a voice on any provider."""
    return shared_voices({c.id: c.voice for c in roster.characters})


def track_problems(track: AudioTrack, dialogue_wav: Path) -> list[str]:
    """Every problem of the track itself (audio, durations, clipping, silences)."""
    return missing_audio(track) + implausible_durations(track) + clipping_and_silences(track, dialogue_wav)
