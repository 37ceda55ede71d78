"""Plain checks of a dialogue track; each returns the list of problems found."""

from __future__ import annotations

from pathlib import Path

from aidas_dagster.voice.analysis import longest_silence, peak_dbfs, read_wav
from aidas_dagster.voice.models import AudioTrack

# Korean speech runs roughly 2-9 syllables a second across voices and emotions.
SYLLABLES_PER_SECOND = (1.5, 10.0)
MAX_SILENCE_SECONDS = 9.0


def syllables(text: str) -> int:
    return sum(1 for ch in text if "가" <= ch <= "힣") or len(text.split())


def track_problems(track: AudioTrack, dialogue_wav: Path) -> list[str]:
    problems = []
    for line in track.lines:
        where = f"line {line.index + 1} ({line.speaker_name})"
        if not Path(line.wav_path).exists():
            problems.append(f"{where}: audio file {line.wav_path} is missing")
            continue
        seconds = line.end - line.start
        rate = syllables(line.text) / seconds if seconds > 0 else float("inf")
        low, high = SYLLABLES_PER_SECOND
        if not low <= rate <= high:
            problems.append(f"{where}: {seconds:.2f} s for {syllables(line.text)} syllables is implausible")
    if not dialogue_wav.exists():
        return problems + [f"dialogue track {dialogue_wav} is missing"]
    samples, rate = read_wav(dialogue_wav)
    if peak_dbfs(samples) > -0.1:
        problems.append(f"dialogue track clips (peak {peak_dbfs(samples):.2f} dBFS)")
    silence = longest_silence(samples, rate)
    if silence > MAX_SILENCE_SECONDS:
        problems.append(f"dialogue track has a {silence:.1f} s silence")
    return problems
