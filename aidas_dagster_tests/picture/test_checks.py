"""The picture checks pass a proper cut and name what is wrong with a broken one.

Each broken file is made here with ffmpeg (one second of a grey picture and a tone) and differs
from the good one in one way only, so every check is shown to fail on its own.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aidas_dagster.picture.fonts import subtitle_font_path
from aidas_dagster.picture.models import FinalCut
from aidas_dagster.picture.probe import ffmpeg_exe
from aidas_dagster.picture.validation import cut_problems, missing_subtitle_glyphs
from aidas_dagster.voice.models import AudioTrack
from aidas_dagster_tests.picture.builders import make_episode

INTRO = OUTRO = 0.3
TRACK_SECONDS = 0.4  # so the cut is 1.0 s


def make_video(path: Path, *, size: str = "1920x1080", rate: int = 30, seconds: float = 1.0, audio_seconds: float | None = 1.0,
               vcodec: str = "libx264", fmt: str = "mp4") -> Path:  # fmt: skip
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=gray:s={size}:r={rate}:d={seconds}"]
    if audio_seconds is not None:
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={audio_seconds}", "-c:a", "aac"]
    cmd += ["-c:v", vcodec, *(["-preset", "ultrafast"] if vcodec == "libx264" else []), "-pix_fmt", "yuv420p", "-f", fmt, str(path)]
    subprocess.run(cmd, check=True)
    return path


def track(fingerprint: str = "track-1") -> AudioTrack:
    return AudioTrack(series_id="s", episode_number=1, sample_rate=22050, dialogue_wav="d.wav", duration=TRACK_SECONDS,
                      scenes=[], lines=[], fingerprint=fingerprint)  # fmt: skip


def cut_of(path: Path, track_fingerprint: str | None = "track-1") -> FinalCut:
    return FinalCut(series_id="s", episode_number=1, video_path=str(path), srt_path="x.srt", thumbnail_path="x.jpg", duration=1.0,
                    width=1920, height=1080, fps=30, segments=[], segments_encoded=0, render_seconds=1.0, fingerprint="f",
                    intro_seconds=INTRO, outro_seconds=OUTRO, track_duration=TRACK_SECONDS, track_fingerprint=track_fingerprint)  # fmt: skip


def test_a_proper_cut_passes(tmp_path):
    problems, info = cut_problems(cut_of(make_video(tmp_path / "good.mp4")), track())
    assert problems == []
    assert (info["width"], info["height"], info["video_codec"], info["audio_codec"]) == (1920, 1080, "h264", "aac")


@pytest.mark.parametrize(
    "name, make, expected",
    [
        ("small.mp4", dict(size="1280x720"), "resolution 1280x720, expected 1920x1080"),
        ("pal.mp4", dict(rate=25), "frame rate 25.0, expected 30"),
        ("silent.mp4", dict(audio_seconds=None), "no audio stream"),
        ("mpeg4.mp4", dict(vcodec="mpeg4"), "video codec mpeg4, expected h264"),
        ("cut.mkv", dict(fmt="matroska"), "container matroska,webm, expected mp4"),
        ("long.mp4", dict(seconds=2.0, audio_seconds=2.0), "duration 2.00 s, expected 1.00 s"),
        ("short-audio.mp4", dict(audio_seconds=0.3), "audio lasts 0.3"),
    ],
)
def test_each_check_fails_on_its_own_fault(tmp_path, name, make, expected):
    problems, _info = cut_problems(cut_of(make_video(tmp_path / name, **make)), track())
    assert len(problems) == 1 and expected in problems[0], problems


def test_missing_unreadable_and_stale_cuts_are_named(tmp_path):
    problems, _ = cut_problems(cut_of(tmp_path / "gone.mp4"), track())
    assert problems == [f"{tmp_path / 'gone.mp4'} is missing"]
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x01not a video" * 500)
    problems, _ = cut_problems(cut_of(junk), track())
    assert len(problems) == 1 and "junk.mp4 is not a readable video" in problems[0]
    good = make_video(tmp_path / "good.mp4")
    problems, _ = cut_problems(cut_of(good), track("track-2"))  # the dialogue was re-voiced since
    assert problems == ["the cut was built from an older dialogue track"]


def test_the_length_is_compared_with_the_cards_the_cut_was_made_with(tmp_path):
    good = make_video(tmp_path / "good.mp4")
    longer_cards = cut_of(good).model_copy(update={"intro_seconds": 1.0, "outro_seconds": 1.0})
    problems, _ = cut_problems(longer_cards, track())
    assert len(problems) == 1 and "expected 2.40 s" in problems[0]


def test_subtitle_glyph_check_finds_characters_the_font_lacks(tmp_path):
    script, _roster, _track = make_episode(tmp_path / "audio")
    font = subtitle_font_path()
    assert missing_subtitle_glyphs(script, font) == []
    script.scenes[0].lines[0].text = "좋아요 😀 정말𠀀"
    assert missing_subtitle_glyphs(script, font) == ["😀", "𠀀"]


def test_places_the_picture_stage_cannot_place_are_named(tmp_path):
    from aidas_dagster.picture.validation import generic_places

    script, _roster, _track = make_episode(
        tmp_path / "audio", scenes={1: ("성수동 카페", "낮", "설렘", ["CHAR001", "CHAR002"]), 2: ("어딘가 먼 곳", "밤", "", ["CHAR001"])}
    )
    assert generic_places(script, {}) == ["어딘가 먼 곳"]
    assert generic_places(script, {"어딘가 먼 곳": "forest"}) == []  # the bible's kind places it
