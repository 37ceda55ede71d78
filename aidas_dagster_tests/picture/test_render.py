"""The picture stage on a tiny hand-made episode: sprites, clip plan, and a real rendered cut.

The line WAVs are tones with a syllable-like loudness envelope made here with numpy, so these
tests do not depend on the voice module. The episode is ~13 s of video, rendered once per test
session (the `episode` fixture in conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidas_dagster.picture.avatars import contact_sheet, draw_profile, draw_roster_sprites, draw_sprites
from aidas_dagster.picture.backdrops import draw_backdrop, location_kind
from aidas_dagster.picture.clips import frame_span, line_spans, mouth_string, plan_clips
from aidas_dagster.picture.fonts import missing_glyphs, subtitle_font_path
from aidas_dagster.picture.music import music_bed
from aidas_dagster.picture.probe import probe
from aidas_dagster.picture.subtitles import subtitle_cues, wrap_text
from aidas_dagster.picture import fonts
from aidas_dagster.voice.models import TrackLine, WordTiming

from aidas_dagster_tests.picture.builders import (
    FPS,
    LINES,
    SERIES,
    SR,
    TITLE,
    grab,
    make_episode,
    make_roster,
    render,
    speech_like,
)


# ---------------------------------------------------------------- the cut


def test_cut_is_1080p30_h264_aac_of_the_right_length(episode):
    _tmp, _script, _roster, track, _plan, cut = episode
    info = probe(cut.video_path)
    assert (info["video_codec"], info["width"], info["height"], info["audio_codec"]) == ("h264", 1920, 1080, "aac")
    assert info["fps"] == pytest.approx(30.0)
    assert info["audio_sample_rate"] == 48000
    assert float(info["duration"]) == pytest.approx(3.0 + track.duration + 3.0, abs=1 / 30)
    # Every segment's spare frames were dropped at the join: exactly the planned frames remain.
    assert info["video_frames"] == 90 + round(track.duration * 30) + 90
    assert cut.duration == pytest.approx(3.0 + track.duration + 3.0, abs=1 / 30)
    # intro; per scene a lead-in, one segment per line and a fade-out; outro
    assert len(cut.segments) == len(set(cut.segments)) == 1 + 2 * (1 + 2 + 1) + 1
    assert cut.segments_encoded == len(cut.segments)


def test_srt_has_every_line_offset_by_the_intro(episode):
    _tmp, _script, _roster, track, _plan, cut = episode
    blocks = Path(cut.srt_path).read_text(encoding="utf-8").strip().split("\n\n")
    assert len(blocks) == len(track.lines)
    for block, line in zip(blocks, track.lines):
        _n, times, *text = block.split("\n")
        start, end = (_seconds(x) for x in times.split(" --> "))
        assert start == pytest.approx(line.start + 3.0, abs=0.002)
        assert end == pytest.approx(line.end + 3.0, abs=0.002)
        assert " ".join(text) == line.text


def _seconds(stamp: str) -> float:
    hms, ms = stamp.split(",")
    h, m, s = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def test_thumbnail_is_a_720p_jpeg_under_2mb_with_the_leads_and_title(episode):
    _tmp, _script, roster, _track, _plan, cut = episode
    path = Path(cut.thumbnail_path)
    with Image.open(path) as im:
        assert (im.format, im.size) == ("JPEG", (1280, 720))
        arr = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert path.stat().st_size < 2_000_000
    from aidas_dagster.picture.avatars import hex_rgb

    def share(rgb, x0, x1) -> float:  # of the lower part of one half, in a lead's outfit colour
        area = arr[400:, x0:x1]
        return float(np.all(np.abs(area - np.array(rgb, dtype=np.int16)) <= 30, axis=2).mean())

    jiwoo, taeo = (hex_rgb(c.appearance.outfit) for c in roster.characters[:2])  # the two leads
    assert share(jiwoo, 0, 640) > 0.05 and share(taeo, 640, 1280) > 0.05  # one on each side
    assert share(jiwoo, 640, 1280) < 0.01
    assert np.all(arr[40:150, 200:1080] > 235, axis=2).sum() > 3000  # the series title, in white


def _subtitle_white(img: Image.Image) -> int:
    band = np.asarray(img.crop((160, 900, 1760, 1075)))
    return int(np.all(band > 235, axis=2).sum())


def test_frames_show_subtitles_and_the_speaker_changes(episode):
    tmp, _script, _roster, track, plan, cut = episode
    video = Path(cut.video_path)
    first, second = track.lines[0], track.lines[1]
    a = grab(video, 3.0 + (first.start + first.end) / 2)
    b = grab(video, 3.0 + (second.start + second.end) / 2)
    a.save(tmp / "line0.png")
    assert _subtitle_white(a) > 1500 and _subtitle_white(b) > 1500  # white subtitle text is burned in
    # Different speaker, different picture (outside the subtitle band).
    diff = np.abs(np.asarray(a.crop((0, 0, 1920, 860)), np.int16) - np.asarray(b.crop((0, 0, 1920, 860)), np.int16))
    assert diff.mean() > 8
    # In the pause before scene 2 there is no subtitle.
    pause = grab(video, 3.0 + first.end + 0.2)
    assert _subtitle_white(pause) < 200
    assert [c.shot for c in plan.clips] == ["over_shoulder", "over_shoulder", "card", "group"]


def changed(a, b) -> list[int]:
    return [i for i, (x, y) in enumerate(zip(a.segments, b.segments, strict=True)) if x != y]


def test_rerender_reuses_segments_and_an_edit_reencodes_one_line(episode):
    tmp, script, roster, track, _plan, _cut = episode
    _plan2, again = render(tmp, script, roster, track, tmp / "segments", tag="b")
    assert again.segments_encoded == 0
    edited = list(LINES)
    edited[3] = (2, "CHAR001", "CHAR002", "그럼 우리끼리 이야기해요.", 1.6)  # same length, new words
    script2, roster2, track2 = make_episode(tmp / "audio2", lines=edited)
    drawn = sorted((tmp / "segments").glob("t-*.jpg"))
    _plan3, third = render(tmp, script2, roster2, track2, tmp / "segments", tag="c")
    assert third.segments_encoded == 1
    assert changed(again, third) == [7]  # intro, scene 1 (in, 2 lines, out), scene 2 (in, line 2, line 3)
    # The thumbnail shows nothing the edit changed: the one drawn for the first cut is reused.
    assert len(drawn) == 1 and sorted((tmp / "segments").glob("t-*.jpg")) == drawn
    assert Path(third.thumbnail_path).read_bytes() == drawn[0].read_bytes()
    retitled = script2.model_copy(update={"title": script2.title + " (개정)"})
    _plan4, fourth = render(tmp, retitled, roster2, track2, tmp / "segments", tag="e")
    assert fourth.segments_encoded == 1  # the intro card shows the title
    assert len(list((tmp / "segments").glob("t-*.jpg"))) == 2
    assert Path(fourth.thumbnail_path).read_bytes() != drawn[0].read_bytes()


def test_an_edit_that_moves_everything_after_it_still_reencodes_one_segment(episode):
    """A longer line pushes every later line by a fraction of a frame; the later scene is still
    taken from the cache (its frames are counted from its own start), and the cut stays in sync."""
    tmp, _script, _roster, track, _plan, cut = episode
    edited = list(LINES)
    edited[0] = (1, "CHAR001", "CHAR002", "안녕하세요, 정말 오랜만이에요.", 2.113)  # +0.513 s: 15.39 frames
    script2, roster2, track2 = make_episode(tmp / "audio3", lines=edited)
    shift = track2.lines[2].start - track.lines[2].start
    assert abs(shift * FPS - round(shift * FPS)) > 0.2
    _plan, recut = render(tmp, script2, roster2, track2, tmp / "segments", tag="d")
    assert recut.segments_encoded == 1
    assert changed(cut, recut) == [2]  # intro, scene 1's lead-in, line 0
    assert recut.duration == pytest.approx(3.0 + track2.duration + 3.0, abs=1 / 30)
    # The cache knows this episode's latest cut, so pruning keeps exactly what a re-cut needs.
    from aidas_dagster.picture.segment_cache import referenced

    assert {Path(p).name for p in recut.segments} <= referenced(tmp / "segments")


def test_failed_encode_names_the_file_and_leaves_nothing(tmp_path):
    from aidas_dagster.picture.encoder import encode_frames
    from aidas_dagster.picture.yuv import RenderError

    target = tmp_path / "seg.mp4"
    with pytest.raises(RenderError, match="seg.mp4"):
        encode_frames([(b"\x10" * (1920 * 1080 * 3 // 2), 3)], 3, target, preset="no-such-preset", crf=23, fps=30)
    assert not target.exists() and not list(tmp_path.iterdir())


# ---------------------------------------------------------------- parts


def test_sprites_differ_between_characters_and_are_cached(tmp_path):
    roster = make_roster()
    a = draw_sprites(roster.characters[0], tmp_path)
    b = draw_sprites(roster.characters[1], tmp_path)
    assert [p.name.split("-")[-1] for p in a] == ["m0.png", "m1.png", "m2.png"]
    with Image.open(a[0]) as ia, Image.open(b[0]) as ib:
        assert ia.mode == "RGBA" and ia.size == (560, 760)
        assert np.abs(np.asarray(ia, np.int16) - np.asarray(ib, np.int16)).mean() > 10
    with Image.open(a[0]) as closed, Image.open(a[2]) as open_:
        assert closed.tobytes() != open_.tobytes()  # the mouth moves
    mtime = a[0].stat().st_mtime_ns
    assert draw_sprites(roster.characters[0], tmp_path) == a and a[0].stat().st_mtime_ns == mtime
    profile = draw_profile(roster.characters[2], tmp_path)
    assert len(profile) == 3 and all(p.exists() for p in profile)
    sheet = contact_sheet([a[0], b[0], profile[0]], tmp_path / "cast.png")
    with Image.open(sheet) as im:
        assert im.width <= 1200


def test_mouth_opens_on_loud_audio_and_closes_in_silence():
    loud = speech_like(1.0, 0)
    x = np.concatenate([np.zeros(SR, np.float32), loud, np.zeros(SR, np.float32)])
    mouth = mouth_string(x, SR, 90, FPS)
    assert len(mouth) == 90
    assert set(mouth[:28]) == {"0"} and set(mouth[-28:]) == {"0"}
    assert "2" in mouth[30:60]
    changes = sum(1 for i in range(1, len(mouth)) if mouth[i] != mouth[i - 1])
    assert changes <= 10 * 3  # at most 10 changes a second


def test_missing_glyphs_proves_korean_coverage():
    font = subtitle_font_path()
    assert missing_glyphs("안녕하세요, 지우 씨! 오늘 정말 반가웠어요… (웃음) 123 ABC?", font) == set()
    assert missing_glyphs("좋아요 😀", font) == {"😀"}
    assert "𠀀" in missing_glyphs("𠀀", font)


def test_long_lines_are_split_into_timed_two_row_chunks(tmp_path):
    text = " ".join(["아주 긴 대사가 이어집니다"] * 12)
    words = text.split()
    line = TrackLine(index=0, scene=1, speaker="CHAR001", speaker_name="한지우", text=text, emotion="calm", start=1.0, end=13.0,
                     wav_path="x.wav", provider="test",
                     words=[WordTiming(text=w, start=1.0 + k * 12 / len(words), end=1.0 + (k + 1) * 12 / len(words)) for k, w in enumerate(words)])  # fmt: skip
    f0, f1 = frame_span(line.start, line.end, FPS)
    cues = subtitle_cues(line, f0, f1, FPS, fonts.font(53))
    assert len(cues) >= 2
    assert all(len(c.text.split("\n")) <= 2 for c in cues)
    assert cues[0].f0 == f0 and cues[-1].f1 == f1
    assert all(cues[i].f1 == cues[i + 1].f0 for i in range(len(cues) - 1))
    assert " ".join(c.text.replace("\n", " ") for c in cues) == text
    assert wrap_text("짧은 대사", fonts.font(53), 1640) == ["짧은 대사"]


def test_backdrops_and_music_are_deterministic():
    assert location_kind("성수동 카페") == "cafe" and location_kind("병원 옥상") == "rooftop" and location_kind("지우네 거실") == "home"
    a = draw_backdrop("성수동 카페", "낮")
    assert a.size == (1920, 1080) and a.mode == "RGB"
    assert a.tobytes() == draw_backdrop("성수동 카페", "낮").tobytes()
    night = draw_backdrop("성수동 카페", "밤")
    assert np.asarray(night).mean() < np.asarray(a).mean()
    m1 = music_bed(4.0, SR, SERIES, "설렘")
    assert m1.shape == (4 * SR,) and np.abs(m1).max() <= 1.0 and np.sqrt((m1**2).mean()) > 0.05
    assert np.array_equal(m1, music_bed(4.0, SR, SERIES, "설렘"))
    assert not np.array_equal(m1, music_bed(4.0, SR, SERIES, "긴장"))


def test_every_frame_is_planned_and_patched_frames_equal_whole_drawings(tmp_path):
    """The frame server's shortcut (convert a line once, patch mouth and subtitle regions) must give
    exactly the frames a whole drawing would, for every kind of shot."""
    from aidas_dagster.picture.line_frames import LineFrames
    from aidas_dagster.picture.timeline import build_timeline
    from aidas_dagster.picture.yuv import FRAME_BYTES, to_yuv420

    long_text = " ".join(["오늘은 정말 긴 하루였어요 그래도 당신을 만나서 다행이에요"] * 4)
    lines = [
        (1, "CHAR003", "CHAR001", "저 왔어요.", 1.2),
        (1, "CHAR001", "CHAR003", long_text, 4.0),
        (1, "CHAR003", "CHAR001", "그랬구나.", 1.0),
        (1, "CHAR003", None, "정말요?", 1.0),
        (2, "CHAR002", "CHAR001", "다들 모였네요.", 1.2),
        (2, "CHAR004", None, "네, 시작하죠.", 1.0),
    ]
    scenes = {1: ("지우의 집 거실", "저녁", "따뜻", ["CHAR001", "CHAR003"]), 2: ("회사 회의실", "낮", "긴장", ["CHAR001", "CHAR002", "CHAR004"])}
    script, roster, track = make_episode(tmp_path / "audio", lines=lines, scenes=scenes)
    sprites = draw_roster_sprites(roster, tmp_path / "avatars")
    plan = plan_clips(script, roster, track, sprites, fps=FPS)
    spans = line_spans(track, FPS)
    assert all(len(c.mouth) == spans[c.index][1] - spans[c.index][0] for c in plan.clips)
    partial = [c for c in plan.clips if c.speaker == "CHAR003" and c.kind == "sprite"]
    assert partial and all("profile" in Path(c.sprite_paths[0]).name for c in partial)
    timeline = build_timeline(plan, track, script, roster, TITLE, intro_seconds=0.5, outro_seconds=0.5)
    # Chunks are encoded with a spare frame that the join drops; what is kept tiles the cut exactly.
    assert sum(s.kept for s in timeline.segments) == timeline.total_frames == round((1.0 + track.duration) * FPS)
    assert all(s.kept <= s.n_frames for s in timeline.segments)
    from aidas_dagster.picture.timeline import SLACK

    # Lines and lead-ins are encoded SLACK frames longer than they keep (a later cut may keep more).
    assert all(s.kept + SLACK == s.n_frames for s in timeline.segments if s.spec["kind"] in ("line", "lead_in"))
    assert all(s.min_kept <= s.kept for s in timeline.segments)
    assert any(len(ln.cues) >= 2 for seg in timeline.segments for ln in seg.lines)  # the long line is split
    # Scene cuts sit in the silence between scenes: the fade in is over before anyone speaks.
    at = 0  # track frames
    for seg in timeline.segments[1:-1]:
        if seg.spec["kind"] == "lead_in" and at:
            assert seg.kept >= 15
        at += seg.kept
    shots = set()
    for seg in timeline.segments:
        frames = 0
        for frame, count in seg.runs():
            assert len(frame) == FRAME_BYTES and count >= 1
            frames += count
        assert frames == seg.n_frames
        for ln in seg.lines:
            shots.add(ln.clip.shot)
            patched = LineFrames(timeline.painter, seg.view, ln)
            for mouth in (0, 1, 2):
                for ci in [-1, *range(len(ln.cues))]:
                    whole = to_yuv420(timeline.painter.line(seg.view, ln, mouth, ln.cues[ci] if ci >= 0 else None))
                    assert patched.frame(mouth, ci) == whole, (ln.clip.shot, mouth, ci)
    assert {"over_shoulder", "group", "card"} <= shots
