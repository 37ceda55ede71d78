"""The visual plan of an episode: how every line looks on screen, and its mouth motion.

One LineClip per line of the dialogue track. The speaker's avatar strategy (spec 4.3) picks the
shot: leads are drawn whole and lip-synced (over the listener's shoulder when addressing someone
present), major supporting characters in profile or silhouette (and sometimes as a card), minor
characters as a contextual card. Scenes with three or more people get group shots.
"""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np

from aidas_dagster.core.storage import fingerprint
from aidas_dagster.picture.avatars import profile_key
from aidas_dagster.picture.models import ClipPlan, Cutaway, LineClip
from aidas_dagster.story.models import EpisodeScript, Line, Roster, Scene
from aidas_dagster.voice.models import AudioTrack, TrackLine

PLAN_VERSION = 3
MOUTH_HZ = 10  # at most 10 mouth changes a second: faster reads as flicker
PARTIAL_CARD_PERCENT = 30
SILENCE_RMS = 0.004  # about -48 dBFS: below this the mouth is closed whatever the line's level
# Reaction cutaways (spec 4.3: min(0.3 × line, 2 s)); shorter lines stay on the speaker, since a
# cut every second reads as nervous and the speaker's mouth must be seen to carry the line.
CUTAWAY_SHARE = 0.3
CUTAWAY_MAX_SECONDS = 2.0
CUTAWAY_MIN_LINE_SECONDS = 2.5


def frame_span(start: float, end: float, fps: int) -> tuple[int, int]:
    """The video frames [f0, f1) of a line: it starts on the frame nearest its start and lasts its
    own length in frames (at least one). The length depends only on the line itself, so a line
    that moves along the track keeps its frames, mouth and subtitle timing exactly."""
    f0 = round(start * fps)
    return f0, f0 + max(1, round((end - start) * fps))


def scene_starts(track: AudioTrack) -> dict[int, float]:
    """Where each scene begins on the track (the first at 0). A cut sits in the middle of the
    silence between two scenes, so fades and music changes happen while nobody speaks."""
    ordered = sorted(track.scenes, key=lambda s: s.start)
    spoken: dict[int, tuple[float, float]] = {}
    for tl in track.lines:
        lo, hi = spoken.get(tl.scene, (tl.start, tl.end))
        spoken[tl.scene] = (min(lo, tl.start), max(hi, tl.end))
    starts = {ordered[0].number: 0.0} if ordered else {}
    for prev, nxt in zip(ordered, ordered[1:]):
        cut = nxt.start
        if prev.number in spoken and nxt.number in spoken and spoken[nxt.number][0] > spoken[prev.number][1]:
            cut = (spoken[prev.number][1] + spoken[nxt.number][0]) / 2
        starts[nxt.number] = cut
    return starts


def line_spans(track: AudioTrack, fps: int) -> dict[int, tuple[int, int]]:
    """Every line's frames [f0, f1) (see frame_span)."""
    return {tl.index: frame_span(tl.start, tl.end, fps) for tl in track.lines}


def read_wav_mono(path: Path) -> tuple[np.ndarray, int]:
    """Samples as float32 in [-1, 1] (channels averaged) and the sample rate."""
    with wave.open(str(path), "rb") as w:
        sr, width, channels, n = w.getframerate(), w.getsampwidth(), w.getnchannels(), w.getnframes()
        raw = w.readframes(n)
    if width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 4:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2147483648.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        v = (b[:, 0].astype(np.int32) | (b[:, 1].astype(np.int32) << 8) | (b[:, 2].astype(np.int32) << 16))
        x = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / 8388608.0
    else:
        raise ValueError(f"{path}: unsupported WAV sample width {width} bytes")
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    return x, sr


def mouth_string(samples: np.ndarray, sample_rate: int, n_frames: int, fps: int, offset: float = 0.0) -> str:
    """One digit per video frame: 0 closed, 1 half, 2 open, from the loudness envelope.

    Frame k covers audio [offset + k/fps, offset + (k+1)/fps). The state is decided per block of
    fps/10 frames (so it changes at most 10 times a second), with thresholds relative to the
    line's own loudness, so quiet and loud voices both move the mouth.
    """
    if n_frames <= 0:
        return ""
    hold = max(1, round(fps / MOUTH_HZ))
    sq = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    blocks = (n_frames + hold - 1) // hold
    edges = np.round((offset + np.arange(blocks + 1) * hold / fps) * sample_rate).astype(np.int64)
    edges = np.clip(edges, 0, len(samples))
    counts = np.maximum(edges[1:] - edges[:-1], 1)
    rms = np.sqrt((sq[edges[1:]] - sq[edges[:-1]]) / counts)
    voiced = rms[rms > SILENCE_RMS]
    if voiced.size == 0:
        return "0" * n_frames
    ref = float(np.percentile(voiced, 90))
    state = np.where(rms >= 0.55 * ref, 2, np.where(rms >= 0.2 * ref, 1, 0))
    state[rms <= SILENCE_RMS] = 0
    return "".join(str(s) for s in np.repeat(state, hold)[:n_frames])


def _partial_as_card(line: TrackLine, scene_pos: int) -> bool:
    # Deterministic, and independent of the words, so editing a line's text keeps its shot.
    h = int(hashlib.sha256(f"{line.speaker}|{line.scene}|{scene_pos}".encode()).hexdigest()[:8], 16)
    return h % 100 < PARTIAL_CARD_PERCENT


def reaction_cutaway(
    line: TrackLine, script_line: Line | None, present: list[str], characters: dict, front: dict[str, list[str]]
) -> Cutaway | None:
    """The listener's reaction shot at the end of a line, when the listener is present, has a face
    on screen (not a voice-only character) and reacts, and the line is long enough to cut away."""
    if script_line is None or not script_line.reaction or not script_line.listener:
        return None
    who = script_line.listener
    listener = characters.get(who)
    if who == line.speaker or who not in present or listener is None or listener.avatar_strategy == "voice_only":
        return None
    sprites = front.get(profile_key(who)) if listener.avatar_strategy == "partial_avatar" else None
    sprites = sprites or front.get(who)
    length = line.end - line.start
    if not sprites or length < CUTAWAY_MIN_LINE_SECONDS:
        return None
    seconds = min(CUTAWAY_SHARE * length, CUTAWAY_MAX_SECONDS)
    return Cutaway(character=who, sprite=sprites[0], reaction=script_line.reaction, seconds=round(seconds, 3))


def present_characters(scene: Scene | None, lines: list[TrackLine]) -> list[str]:
    """Who is in the scene, in stage order: the scene's cast, then anyone else who speaks in it."""
    order = list(scene.characters) if scene else []
    for line in lines:
        if line.speaker not in order:
            order.append(line.speaker)
    return order


def plan_clips(
    script: EpisodeScript, roster: Roster, track: AudioTrack, sprites: dict[str, list[Path]], fps: int = 30
) -> ClipPlan:
    """One LineClip per line of the track (see the module docstring for the rules)."""
    characters = roster.by_id()
    scenes = {s.number: s for s in script.scenes}
    script_lines: list[Line] = [line for _scene, line in script.lines()]
    by_scene: dict[int, list[TrackLine]] = {}
    for tl in track.lines:
        by_scene.setdefault(tl.scene, []).append(tl)
    front = {k: [str(p) for p in v] for k, v in sprites.items()}

    clips: list[LineClip] = []
    for scene_no, lines in sorted(by_scene.items()):
        scene = scenes.get(scene_no)
        present = present_characters(scene, lines)
        group = len(present) >= 3
        for pos, tl in enumerate(lines):
            character = characters.get(tl.speaker)
            strategy = character.avatar_strategy if character else "voice_only"
            script_line = script_lines[tl.index] if tl.index < len(script_lines) else None
            listener = script_line.listener if script_line else None
            f0, f1 = frame_span(tl.start, tl.end, fps)
            samples, sr = read_wav_mono(Path(tl.wav_path))
            # Frame f0 shows the line's first sound (within half a frame of it on the track), so
            # the mouth depends on the line alone, not on where the line sits.
            mouth = mouth_string(samples, sr, f1 - f0, fps)
            clip = dict(
                index=tl.index, scene=tl.scene, speaker=tl.speaker, strategy=strategy, mouth=mouth, start=tl.start, end=tl.end
            )
            own = front.get(tl.speaker)
            if strategy == "partial_avatar":
                own = front.get(profile_key(tl.speaker)) or own
            as_card = (
                strategy == "voice_only"
                or not own
                or (strategy == "partial_avatar" and _partial_as_card(tl, pos))
            )
            clip["cutaway"] = reaction_cutaway(tl, script_line, present, characters, front)
            if as_card:
                # A partial avatar's card keeps its profile or silhouette: a mystery stays one.
                portrait = (front.get(profile_key(tl.speaker)) or front.get(tl.speaker) or [None])[0]
                clips.append(LineClip(**clip, kind="card", shot="card", portrait=portrait))
                continue
            if group:
                others = [front[c][0] for c in present if c != tl.speaker and c in front]
                clips.append(LineClip(**clip, kind="sprite", shot="group", sprite_paths=own, group_sprites=others))
            elif listener and listener != tl.speaker and listener in present and listener in front:
                clips.append(
                    LineClip(
                        **clip, kind="sprite", shot="over_shoulder", sprite_paths=own,
                        listener=listener, listener_sprite=front[listener][0],
                    )
                )
            else:
                clips.append(LineClip(**clip, kind="sprite", shot="single", sprite_paths=own, listener=listener))
    inputs = fingerprint(
        PLAN_VERSION,
        track.fingerprint,
        fps,
        [(s.number, s.characters, [(ln.speaker, ln.listener, ln.reaction) for ln in s.lines]) for s in script.scenes],
        [(c.id, c.avatar_strategy) for c in roster.characters],
        {k: [Path(p).name for p in v] for k, v in sorted(front.items())},
    )
    return ClipPlan(series_id=track.series_id, episode_number=track.episode_number, fps=fps, clips=clips, fingerprint=inputs)
