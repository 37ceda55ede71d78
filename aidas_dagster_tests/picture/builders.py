"""A tiny episode built by hand (script, roster, dialogue track) and frame grabs, shared by the picture tests."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
from PIL import Image

from aidas_dagster.picture.avatars import draw_roster_sprites
from aidas_dagster.picture.clips import plan_clips
from aidas_dagster.picture.probe import ffmpeg_exe
from aidas_dagster.picture.render import render_final_cut
from aidas_dagster.story.models import (
    Appearance,
    Character,
    EpisodeScript,
    Line,
    Roster,
    Scene,
    StoryState,
    VoiceCasting,
    VoiceProfile,
)
from aidas_dagster.voice.models import AudioTrack, TrackLine, TrackScene, WordTiming

SR = 22050
FPS = 30
SERIES = "test-series"
TITLE = "짧은 첫사랑"


# ---------------------------------------------------------------- a tiny episode, built by hand


def make_character(n: int, name: str, importance: str, strategy: str, gender: str, **look: str) -> Character:
    appearance = dict(skin="#f1c9a5", hair="#2b1d16", hair_style="long", outfit="#c0504d", outfit_style="casual",
                      eye="#3b2a20", accessory="none")  # fmt: skip
    appearance.update(look)
    return Character(
        id=f"CHAR{n:03d}", name=name, role="주인공" if importance == "main" else "조연", importance=importance, gender=gender,
        age=28, occupation="디자이너", personality=["밝음"], background="서울", goals=["성공"], speech_style="존댓말",
        voice_profile=VoiceProfile(gender=gender, age_group="young_adult", tone="밝은", speaking_style="또박또박"),
        appearance=Appearance(**appearance), avatar_strategy=strategy,
        voice=VoiceCasting(provider="offline", voice_id=f"f{n}", pitch=50, pitch_range=50, rate=170),
    )  # fmt: skip


def make_roster() -> Roster:
    return Roster(
        series_id=SERIES,
        characters=[
            make_character(1, "한지우", "main", "full_avatar", "female", hair_style="long", outfit="#d9667a", outfit_style="dress", accessory="earrings"),
            make_character(2, "강태오", "main", "full_avatar", "male", skin="#e0b48e", hair="#1a1a1a", hair_style="side_part",
                           outfit="#2f3b52", outfit_style="suit", accessory="tie"),
            make_character(3, "박서연", "major_supporting", "partial_avatar", "female", hair="#6b3b22", hair_style="bob",
                           outfit="#4f8a6e", outfit_style="cardigan", accessory="glasses"),
            make_character(4, "김부장", "minor", "voice_only", "male", hair_style="short", outfit="#8a5a9a", outfit_style="suit"),
        ],
        relationships=[],
    )  # fmt: skip


# (scene, speaker, listener, text, seconds)
LINES = [
    (1, "CHAR001", "CHAR002", "안녕하세요, 오랜만이에요.", 1.6),
    (1, "CHAR002", "CHAR001", "정말 반가워요. 잘 지냈어요?", 1.8),
    (2, "CHAR004", None, "내일 회의는 취소됐습니다.", 1.5),
    (2, "CHAR001", "CHAR002", "그럼 우리 둘이 이야기해요.", 1.6),
]
SCENES = {
    1: ("성수동 카페", "낮", "설렘", ["CHAR001", "CHAR002"]),
    2: ("회사 사무실", "밤", "긴장", ["CHAR001", "CHAR002", "CHAR004"]),
}
GAP = 0.4  # silence between lines
SCENE_GAP = 0.8


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """A voiced tone with syllables (loud/soft at ~5 Hz) and 0.15 s of silence at both ends."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    tone = np.sin(2 * np.pi * (170 + 30 * seed) * t) + 0.3 * np.sin(2 * np.pi * 2 * (170 + 30 * seed) * t)
    syll = np.clip(np.sin(2 * np.pi * 4.5 * t + rng.uniform(0, 3)) * 1.3, 0, 1) ** 0.7
    env = 0.06 + 0.94 * syll
    edge = int(0.15 * SR)
    env[:edge] = 0
    env[-edge:] = 0
    return (0.5 * tone * env).astype(np.float32)


def write_wav(path: Path, x: np.ndarray) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def make_episode(
    folder: Path, lines=LINES, scenes=SCENES, episode: int = 1, title: str = "다시 만난 날", reactions: dict[int, str] | None = None
) -> tuple[EpisodeScript, Roster, AudioTrack]:
    """The script, roster and dialogue track of `lines`; `reactions` gives some lines (by index) the
    listener's visible reaction."""
    folder.mkdir(parents=True, exist_ok=True)
    roster = make_roster()
    names = {c.id: c.name for c in roster.characters}
    reactions = reactions or {}
    script_scenes = []
    for number, (location, tod, mood, cast) in scenes.items():
        script_scenes.append(Scene(
            number=number, location=location, time_of_day=tod, atmosphere=mood, characters=cast,
            lines=[Line(speaker=sp, text=text, emotion="calm", listener=li, reaction=reactions.get(i, ""))
                   for i, (sc, sp, li, text, _s) in enumerate(lines) if sc == number],
        ))  # fmt: skip
    script = EpisodeScript(
        series_id=SERIES, episode_number=episode, title=title, scenes=script_scenes, summary="요약", key_events=["재회"],
        new_conflict="", partly_resolved="", cliffhanger="",
        state_after=StoryState(after_episode=episode, character_states={}, relationships={}, key_events=[], open_threads=[],
                               resolved_threads=[], summaries=["요약"]),
    )  # fmt: skip
    t = 0.3
    track_lines, parts, scene_spans = [], [np.zeros(int(0.3 * SR), np.float32)], {}
    previous_scene = None
    for i, (scene, speaker, _listener, text, seconds) in enumerate(lines):
        if previous_scene is not None and scene != previous_scene:
            parts.append(np.zeros(int(SCENE_GAP * SR), np.float32))
            t += SCENE_GAP
        previous_scene = scene
        audio = speech_like(seconds, i)
        wav = folder / f"line{i:03d}.wav"
        write_wav(wav, audio)
        start, end = t, t + len(audio) / SR
        tokens = text.split()
        step = (end - start - 0.3) / len(tokens)
        words = [WordTiming(text=w, start=start + 0.15 + k * step, end=start + 0.15 + (k + 1) * step) for k, w in enumerate(tokens)]
        track_lines.append(TrackLine(index=i, scene=scene, speaker=speaker, speaker_name=names[speaker], text=text, emotion="calm",
                                     start=start, end=end, wav_path=str(wav), words=words, provider="test"))  # fmt: skip
        span = scene_spans.setdefault(scene, [start, end])
        span[1] = end
        parts += [audio, np.zeros(int(GAP * SR), np.float32)]
        t = end + GAP
    dialogue = np.concatenate(parts)
    write_wav(folder / "dialogue.wav", dialogue)
    track = AudioTrack(
        series_id=SERIES, episode_number=episode, sample_rate=SR, dialogue_wav=str(folder / "dialogue.wav"),
        duration=len(dialogue) / SR, scenes=[TrackScene(number=n, start=s, end=e) for n, (s, e) in scene_spans.items()],
        lines=track_lines, fingerprint=f"test-{hash(tuple(x[3] for x in lines)) & 0xFFFFFFFF:x}",
    )  # fmt: skip
    return script, roster, track


def render(tmp: Path, script, roster, track, cache: Path, tag: str = "a"):
    sprites = draw_roster_sprites(roster, tmp / "avatars")
    plan = plan_clips(script, roster, track, sprites, fps=FPS)
    out = tmp / f"final-{tag}"
    cut = render_final_cut(plan, track, script, roster, TITLE, out / "ep.mp4", out / "ep.srt", out / "thumb.jpg", cache)
    return plan, cut


def grab(video: Path, t: float) -> Image.Image:
    png = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-ss", f"{t:.3f}", "-i", str(video), "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    import io

    return Image.open(io.BytesIO(png)).convert("RGB")
