"""What a viewer sees, checked from frames of a rendered episode.

One short episode (two scenes, seven lines) is rendered once: a dialogue between the two leads
with a reaction cutaway and one line played from an external avatar clip (an MP4 made here with
ffmpeg's testsrc, standing in for a HeyGen video), then a meeting of four with a voice-only
manager on a card. Frames are grabbed from the finished MP4 at the middle of each line and
checked against what must be on screen: the speaker (by the colour of their outfit, where they
stand), the subtitle of that very line (pixel mask against the subtitle drawn alone), the name tag
under the speaker in the group scene, another shot when the speaker changes, the provider's clip,
the fade between scenes and the title card.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aidas_dagster.picture.avatars import draw_roster_sprites, hex_rgb
from aidas_dagster.picture.clips import plan_clips
from aidas_dagster.picture.probe import ffmpeg_exe
from aidas_dagster.picture.painter import speaker_x, title_card
from aidas_dagster.picture.render import render_final_cut
from aidas_dagster.picture.subtitles import draw_subtitle
from aidas_dagster.picture.timeline import build_timeline
from aidas_dagster.picture.yuv import H, W
from aidas_dagster_tests.picture.builders import FPS, TITLE, grab, make_episode

LINES = [
    (1, "CHAR001", "CHAR002", "오늘 정말 고마웠어요. 덕분에 힘이 났어요.", 3.4),
    (1, "CHAR002", "CHAR001", "저야말로 고마웠어요.", 1.8),
    (1, "CHAR001", "CHAR002", "다음에 또 만나요.", 1.8),
    (2, "CHAR004", None, "내일 회의는 취소됐습니다.", 1.6),
    (2, "CHAR002", "CHAR001", "그럼 우리 둘이 이야기해요.", 1.8),
    (2, "CHAR001", "CHAR002", "좋아요, 회의실에서 봬요.", 1.8),
    (2, "CHAR003", "CHAR001", "저도 같이 갈게요.", 1.6),
]
SCENES = {
    1: ("성수동 카페", "낮", "설렘", ["CHAR001", "CHAR002"]),
    2: ("회사 회의실", "낮", "긴장", ["CHAR001", "CHAR002", "CHAR003", "CHAR004"]),
}
REACTIONS = {0: "얼굴이 빨개진다"}
EXTERNAL_LINE = 2
INTRO = 3.0


def make_test_clip(path: Path, seconds: float = 2.5) -> Path:
    """A small provider-like clip: 640×360 at 25 fps (not the cut's size or rate), with audio."""
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=640x360:rate=25:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def clip_frame(clip: Path, t: float) -> Image.Image:
    """The clip's picture at t, fitted into the frame as the renderer fits it."""
    fit = f"scale={W}:{H}:force_original_aspect_ratio=decrease,pad={W}:{H}:(ow-iw)/2:(oh-ih)/2"
    png = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-ss", f"{t:.3f}", "-i", str(clip), "-vf", fit, "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    import io

    return Image.open(io.BytesIO(png)).convert("RGB")


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("frames")
    script, roster, track = make_episode(tmp / "audio", lines=LINES, scenes=SCENES, reactions=REACTIONS)
    sprites = draw_roster_sprites(roster, tmp / "avatars")
    clip = make_test_clip(tmp / "provider-line2.mp4")
    drawn_plan = plan_clips(script, roster, track, sprites, fps=FPS)
    plan = drawn_plan.with_external_clips({EXTERNAL_LINE: str(clip)})
    assert plan.fingerprint != drawn_plan.fingerprint  # a cut made before the clip arrived is not reused
    final = render_final_cut(plan, track, script, roster, TITLE, tmp / "ep.mp4", tmp / "ep.srt", tmp / "thumb.jpg", tmp / "segments")
    timeline = build_timeline(plan, track, script, roster, TITLE)
    # Every drawn part of every line (a line with a cutaway has two), with its track frames.
    parts = [(seg, ln) for seg in timeline.segments for ln in seg.lines]
    return {"tmp": tmp, "plan": plan, "roster": roster, "track": track, "video": Path(final.video_path), "clip": clip,
            "timeline": timeline, "parts": parts}  # fmt: skip


def at_frame(cut, track_frame: float) -> Image.Image:
    return grab(cut["video"], (cut["timeline"].intro_frames + track_frame + 0.5) / FPS)


def part_of(cut, index: int, reaction: bool = False):
    return next(ln for _seg, ln in cut["parts"] if ln.clip.index == index and (ln.reaction is not None) == reaction)


def middle(ln) -> float:
    return (ln.f0 + ln.f1 - 1) / 2


# ---------------------------------------------------------------- pixel measures


def colour_mask(img: Image.Image, rgb: tuple[int, int, int], tol: int = 24, rows: tuple[int, int] = (0, H), cols: tuple[int, int] = (0, W)) -> np.ndarray:
    arr = np.asarray(img, dtype=np.int16)[rows[0] : rows[1], cols[0] : cols[1]]
    return np.all(np.abs(arr - np.array(rgb, dtype=np.int16)) <= tol, axis=2)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


SUB_TOP = 760  # subtitles and name tags live below this row


def drawn_masks(text: str, name: str | None, name_x: float | None, color) -> tuple[np.ndarray, np.ndarray]:
    """Where a subtitle drawn alone is white (the letters) and where it is black (their outline)."""
    out = []
    for background in ((0, 0, 0), (128, 128, 128)):
        img = Image.new("RGB", (W, H), background)
        draw_subtitle(img, text, name, color, name_x=name_x)
        out.append(np.asarray(img)[SUB_TOP:])
    return np.all(out[0] > 215, axis=2), np.all(out[1] < 40, axis=2)


def match(frame: Image.Image, fill: np.ndarray, stroke: np.ndarray) -> float:
    """1.0 when the frame has white exactly where the letters are and black on their outline;
    another text (or none) scores far lower whatever the picture behind it."""
    arr = np.asarray(frame)[SUB_TOP:]
    white, dark = np.all(arr > 200, axis=2), np.all(arr < 70, axis=2)
    return float((white[fill].mean() + dark[stroke].mean()) / 2)


def subtitle_match(frame: Image.Image, ln) -> float:
    return match(frame, *drawn_masks(ln.cues[0].text, *ln.tag, ln.color))


def name_tag_match(frame: Image.Image, ln, name_x: float | None) -> float:
    """How much of the speaker's name (only the name's letters) is white in the frame at name_x."""
    with_tag, _ = drawn_masks(ln.cues[0].text, ln.name, name_x, ln.color)
    without, _ = drawn_masks(ln.cues[0].text, None, None, ln.color)
    letters = with_tag & ~without
    assert letters.sum() > 300
    return float(np.all(np.asarray(frame)[SUB_TOP:] > 200, axis=2)[letters].mean())


def outfit(cut, character: str) -> tuple[int, int, int]:
    return hex_rgb(cut["roster"].by_id()[character].appearance.outfit)


# ---------------------------------------------------------------- the checks


def test_plan_uses_every_strategy_of_the_scene(cut):
    shots = {c.index: (c.kind, c.shot) for c in cut["plan"].clips}
    assert shots[0] == ("sprite", "over_shoulder") and shots[1] == ("sprite", "over_shoulder")
    assert shots[3] == ("card", "card")  # the minor character is voice-only
    assert shots[4] == shots[5] == ("sprite", "group")
    assert cut["plan"].clips[0].cutaway is not None and cut["plan"].clips[0].cutaway.character == "CHAR002"
    assert all(c.cutaway is None for c in cut["plan"].clips[1:])  # short lines stay on the speaker
    assert cut["plan"].clips[3].portrait and "CHAR004" in Path(cut["plan"].clips[3].portrait).name


def test_each_line_shows_its_own_subtitle_at_its_midpoint(cut):
    parts = [ln for _seg, ln in cut["parts"] if ln.reaction is None]
    assert len(parts) == len(LINES)
    for ln in parts:
        frame = at_frame(cut, middle(ln))
        own = subtitle_match(frame, ln)
        others = [subtitle_match(frame, other) for other in parts if other.clip.index != ln.clip.index]
        assert own > 0.85, (ln.clip.index, own)
        assert max(others) < 0.6, (ln.clip.index, others)


def test_the_speaker_is_on_screen_where_they_stand(cut):
    # 한지우 (pink dress) speaks over 강태오's shoulder in scene 1 and from the left of the group in scene 2.
    pink = outfit(cut, "CHAR001")
    for index in (0, 5):
        ln = part_of(cut, index)
        mask = colour_mask(at_frame(cut, middle(ln)), pink)
        expected_x = speaker_x(ln.clip.shot, ln.side, bool(ln.clip.listener_sprite))
        assert mask.sum() > 15000, index
        assert abs(np.nonzero(mask)[1].mean() - expected_x) < 180, (index, np.nonzero(mask)[1].mean(), expected_x)
    # When 강태오 answers, she is gone from the picture (only his navy suit remains in front).
    ln = part_of(cut, 1)
    assert colour_mask(at_frame(cut, middle(ln)), pink).sum() < 2000


def test_the_voice_only_manager_is_on_a_card_with_his_portrait(cut):
    ln = part_of(cut, 3)
    frame = at_frame(cut, middle(ln))
    # The card's circle (his outfit colour) with his portrait inside it, at the left of the panel.
    purple = colour_mask(frame, outfit(cut, "CHAR004"), rows=(340, 620), cols=(420, 700))
    assert 8000 < purple.sum() < 0.9 * purple.size  # a ring of colour round a face, not a plain disc
    assert subtitle_match(frame, ln) > 0.85
    assert ln.tag == (None, None)  # the card names him; no second name tag


def test_group_scene_names_the_speaker_under_the_speaker(cut):
    ln = part_of(cut, 4)  # 강태오, second of four on the stage
    name, name_x = ln.tag
    assert name == "강태오" and abs(name_x - W / 2) > 200
    frame = at_frame(cut, middle(ln))
    assert subtitle_match(frame, ln) > 0.85
    assert name_tag_match(frame, ln, name_x) > 0.8 and name_tag_match(frame, ln, None) < 0.4
    # The speaker is lit and near; the others stand back, dimmed: his suit's own colour is his alone.
    navy = colour_mask(frame, outfit(cut, "CHAR002"), tol=10)
    assert navy.sum() > 20000 and abs(np.nonzero(navy)[1].mean() - name_x) < 150


def test_a_new_speaker_gets_a_new_shot(cut):
    parts = [ln for _seg, ln in cut["parts"] if ln.reaction is None and not ln.external]
    for a, b in zip(parts, parts[1:]):
        if a.clip.speaker == b.clip.speaker:
            continue
        fa, fb = at_frame(cut, middle(a)), at_frame(cut, middle(b))
        diff = np.abs(np.asarray(fa.crop((0, 0, W, 760)), np.int16) - np.asarray(fb.crop((0, 0, W, 760)), np.int16))
        assert diff.mean() > 8, (a.clip.index, b.clip.index)


def test_reaction_cutaway_shows_the_listener_while_the_line_goes_on(cut):
    speaking, reacting = part_of(cut, 0), part_of(cut, 0, reaction=True)
    assert reacting.f0 == speaking.f1 and reacting.reaction == "얼굴이 빨개진다"
    assert (reacting.f1 - reacting.f0) == pytest.approx(0.3 * 3.4 * FPS, abs=2)  # spec: min(0.3 × line, 2 s)
    frame = at_frame(cut, middle(reacting))
    navy = colour_mask(frame, outfit(cut, "CHAR002"), tol=10)
    assert navy.sum() > 30000  # 강태오, close
    assert abs(np.nonzero(navy)[1].mean() - speaker_x("single", reacting.side)) < 150
    assert colour_mask(frame, outfit(cut, "CHAR001")).sum() < 2000  # not her
    # The subtitle of her line stays, with her name (she is speaking off screen).
    assert subtitle_match(frame, reacting) > 0.85 and reacting.tag == ("한지우", None)


def test_external_clip_is_shown_with_the_subtitle_over_it(cut):
    ln = part_of(cut, EXTERNAL_LINE)
    assert ln.external == str(cut["clip"])
    frame = at_frame(cut, middle(ln))
    expected = clip_frame(cut["clip"], (middle(ln) - ln.f0) / FPS)
    picture = np.asarray(frame.crop((0, 0, W, 760)), np.int16)
    assert np.abs(picture - np.asarray(expected.crop((0, 0, W, 760)), np.int16)).mean() < 12
    drawn = cut["timeline"].painter.line(cut["parts"][0][0].view, ln, 0, None)  # what would be drawn instead
    assert np.abs(picture - np.asarray(drawn.crop((0, 0, W, 760)), np.int16)).mean() > 30
    assert subtitle_match(frame, ln) > 0.85


def test_scenes_fade_through_black_and_the_episode_opens_on_itstitle_card(cut):
    segs = cut["timeline"].segments[1:-1]  # the track: without intro and outro
    scene2 = next(s for s in segs if s.name.startswith("scene02"))
    boundary = sum(s.kept for s in segs[: segs.index(scene2)])  # the cut between the scenes, in track frames
    dark = np.asarray(at_frame(cut, boundary).convert("L")).mean()
    lit = np.asarray(at_frame(cut, boundary + 20).convert("L")).mean()
    assert dark < 12 < lit
    intro = cut["timeline"].segments[0]
    title = grab(cut["video"], INTRO / 2)
    rows = [tuple(r) for r in intro.spec["rows"]]
    drawn = title_card(Image.new("RGB", (W, H)), rows, badge=rows[1][0])
    text = lambda img: np.all(np.asarray(img) > 215, axis=2)  # noqa: E731
    assert iou(text(title), text(drawn)) > 0.6
    assert iou(text(grab(cut["video"], INTRO + 1.0)), text(drawn)) < 0.2  # and then the story begins
