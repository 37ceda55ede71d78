"""Subtitles: rows wrapped to the frame, cues timed by the words, the burnt-in drawing (with the
speaker's name tag), the same drawing as an alpha layer for frames drawn elsewhere, and the SRT."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from aidas_dagster.picture import fonts
from aidas_dagster.picture.avatars import shade
from aidas_dagster.picture.yuv import H, W, Box, even_box, patch_planes
from aidas_dagster.voice.models import TrackLine

# Subtitles: spec 4.4.2 asks NanumGothic 48 white with a black outline 2, bottom centre; at 1080p
# that reads small, so 53 px with a 3 px outline.
SUB_SIZE = 53
SUB_STROKE = 3
SUB_MAX_WIDTH = 1640
SUB_ROW_HEIGHT = 68
SUB_BOTTOM = 62  # baseline of the last row above the frame's bottom edge
NAME_SIZE = 36

# ---------------------------------------------------------------- text


def wrap_text(text: str, font, max_width: int) -> list[str]:
    """Rows of at most max_width pixels, broken at spaces (a word too long for a row at characters)."""
    rows: list[str] = []
    row = ""
    for word in text.split():
        candidate = f"{row} {word}" if row else word
        if font.getlength(candidate) <= max_width:
            row = candidate
            continue
        if row:
            rows.append(row)
        row = ""
        for ch in word:  # break an over-long word
            if font.getlength(row + ch) > max_width and row:
                rows.append(row)
                row = ""
            row += ch
    if row:
        rows.append(row)
    return rows or [""]


@dataclass
class Cue:
    """A subtitle on screen: track times in seconds, and its frames [f0, f1) on the track."""

    start: float
    end: float
    f0: int
    f1: int
    text: str


def subtitle_cues(
    line: TrackLine, f0: int, f1: int, fps: int, font, max_width: int = SUB_MAX_WIDTH, to_frame: Callable[[float], int] | None = None
) -> list[Cue]:
    """The line as one cue of at most two rows, or several two-row chunks timed by its words
    (`to_frame` maps track seconds to frames: the line's chunk grid, by default round(t × fps))."""
    to_frame = to_frame or (lambda t: round(t * fps))
    rows = wrap_text(line.text, font, max_width)
    if len(rows) <= 2:
        return [Cue(line.start, line.end, f0, f1, "\n".join(rows))]
    words = line.text.split()
    chunks: list[list[int]] = [[]]  # word indices per chunk
    for i in range(len(words)):
        trial = " ".join(words[j] for j in chunks[-1] + [i])
        if chunks[-1] and len(wrap_text(trial, font, max_width)) > 2:
            chunks.append([])
        chunks[-1].append(i)
    # When each written word has a timing, a chunk starts with its first word; else by characters.
    if len(line.words) == len(words):
        starts = [max(line.start, line.words[c[0]].start) for c in chunks]
    else:
        total = sum(len(w) for w in words) or 1
        before = 0
        starts = []
        for c in chunks:
            starts.append(line.start + (line.end - line.start) * before / total)
            before += sum(len(words[j]) for j in c)
    starts[0] = line.start
    cues = []
    for k, c in enumerate(chunks):
        s = starts[k]
        e = starts[k + 1] if k + 1 < len(chunks) else line.end
        a = max(f0, min(f1 - 1, to_frame(s)))
        b = f1 if k + 1 == len(chunks) else max(a + 1, min(f1 - 1, to_frame(e)))
        cues.append(Cue(s, e, a, b, "\n".join(wrap_text(" ".join(words[j] for j in c), font, max_width))))
    # Frames must tile [f0, f1) with no empty cue.
    for k in range(1, len(cues)):
        cues[k].f0 = max(cues[k].f0, cues[k - 1].f0 + 1)
        cues[k - 1].f1 = cues[k].f0
    return [c for c in cues if c.f1 > c.f0]


def fit_font(text: str, size: int, max_width: int, bold: bool = True):
    f = fonts.font(size, bold)
    while f.getlength(text) > max_width and size > 24:
        size -= 4
        f = fonts.font(size, bold)
    return f


NAME_PAD = 24  # name tag: horizontal padding around the name


def _subtitle_layout(text: str, name: str | None, name_x: float | None = None) -> tuple[list[str], int, int | None, float, float]:
    """Rows, baseline of the first row, top of the name tag (if any), the name's text width and
    the tag's centre. The tag sits under the speaker when `name_x` says where they stand (so in
    a group the speaker is named where they are), else centred above the subtitle."""
    rows = text.split("\n")
    base = H - SUB_BOTTOM - SUB_ROW_HEIGHT * (len(rows) - 1)
    if not name:
        return rows, base, None, 0.0, W / 2
    name_w = fonts.font(NAME_SIZE, True).getlength(name)
    half = name_w / 2 + NAME_PAD + 8
    cx = W / 2 if name_x is None else min(max(float(name_x), half), W - half)
    return rows, base, base - SUB_SIZE - 62, name_w, cx


def subtitle_box(text: str, name: str | None, name_x: float | None = None) -> Box:
    """The region a subtitle (and its name tag) may touch."""
    rows, base, top, name_w, cx = _subtitle_layout(text, name, name_x)
    font = fonts.font(SUB_SIZE)
    half = max(font.getlength(r) for r in rows) / 2 + SUB_STROKE + 8
    x0, x1, y0 = W / 2 - half, W / 2 + half, base - SUB_SIZE - SUB_STROKE - 10
    if top is not None:
        tag_half = name_w / 2 + NAME_PAD + 4
        x0, x1, y0 = min(x0, cx - tag_half), max(x1, cx + tag_half), min(y0, top - 4)
    return even_box((x0, y0, x1, H)) or (0, 0, W, H)


def draw_subtitle(
    img: Image.Image, text: str, name: str | None, color: tuple[int, int, int], origin: tuple[int, int] = (0, 0),
    name_x: float | None = None,
) -> None:
    """Burn a subtitle in (frame coordinates; `origin` is where `img` sits in the frame)."""
    ox, oy = origin
    d = ImageDraw.Draw(img, "RGBA")
    font = fonts.font(SUB_SIZE)
    rows, base, top, name_w, cx = _subtitle_layout(text, name, name_x)
    for i, row in enumerate(rows):
        d.text((W // 2 - ox, base + i * SUB_ROW_HEIGHT - oy), row, font=font, fill=(255, 255, 255), anchor="ms",
               stroke_width=SUB_STROKE, stroke_fill=(0, 0, 0))  # fmt: skip
    if name and top is not None:
        nf = fonts.font(NAME_SIZE, True)
        box = (cx - name_w / 2 - NAME_PAD - ox, top - oy, cx + name_w / 2 + NAME_PAD - ox, top + 52 - oy)
        d.rounded_rectangle(box, radius=26, fill=(*shade(color, 0.8), 225), outline=(255, 255, 255, 200), width=2)
        d.text((cx - ox, top + 26 - oy), name, font=nf, fill=(255, 255, 255), anchor="mm")



def subtitle_overlay(text: str, name: str | None, color: tuple[int, int, int], name_x: float | None) -> tuple:
    """A subtitle as a yuv420p layer with alpha, to blend over frames that were not drawn here.

    Drawn once over black and once over white: their difference is the exact coverage (alpha) of
    every drawing operation, and the picture over black is the layer's premultiplied colour."""
    box = subtitle_box(text, name, name_x)
    size = (box[2] - box[0], box[3] - box[1])
    pictures = []
    for background in ((0, 0, 0), (255, 255, 255)):
        img = Image.new("RGB", size, background)
        draw_subtitle(img, text, name, color, origin=(box[0], box[1]), name_x=name_x)
        pictures.append(img)
    black, white = (np.asarray(img, dtype=np.float32) for img in pictures)
    keep = ((white - black).mean(axis=2) / 255.0).clip(0.0, 1.0)  # 1 - alpha: how much of the frame shows
    keep_c = keep.reshape(size[1] // 2, 2, size[0] // 2, 2).mean(axis=(1, 3))
    _box, py, pu, pv = patch_planes(pictures[0], (0, 0, size[0], size[1]))
    return box, keep, keep_c, py.astype(np.float32), pu.astype(np.float32), pv.astype(np.float32)


# ---------------------------------------------------------------- SRT and thumbnail


def _srt_time(t: float) -> str:
    ms = max(0, int(round(t * 1000)))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def srt_text(cues: list[Cue], offset: float) -> str:
    out = []
    for i, c in enumerate(cues, 1):
        out.append(f"{i}\n{_srt_time(c.start + offset)} --> {_srt_time(c.end + offset)}\n{c.text}\n")
    return "\n".join(out)
