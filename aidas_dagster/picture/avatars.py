"""Procedural 2D character busts: the offline avatar of every character, drawn with Pillow.

A bust is drawn from the character's `Appearance` (skin, hair, eyes, outfit, accessory) plus a few
proportions seeded by the character id, so each character keeps one face for the life of the series
and no two look alike. Shapes are drawn at 2x and downsampled for anti-aliasing. Each character gets
three sprites, one per mouth state (0 closed, 1 half open, 2 open); partial avatars also get a side
profile (or a silhouette for mysterious characters) as spec 4.3 asks ("side_profile_or_back").
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from aidas_dagster.core.storage import atomic_path, fingerprint
from aidas_dagster.story.models import Appearance, Character, Roster

# Bump when the drawing changes: the version is part of every sprite's file name.
DRAW_VERSION = 4
WIDTH, HEIGHT = 560, 760
SCALE = 2  # drawn at 2x, downsampled with LANCZOS
MOUTH_STATES = (0, 1, 2)
PROFILE_SUFFIX = ":profile"
ProfileView = Literal["side_profile", "silhouette"]
_MYSTERY_WORDS = ("미스터리", "정체", "수수께끼", "비밀스", "mysterious", "mystery", "unknown")

RGB = tuple[int, int, int]
Point = tuple[float, float]


# ---------------------------------------------------------------- colours and geometry helpers


def hex_rgb(value: str, default: RGB = (128, 128, 128)) -> RGB:
    text = value.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    try:
        return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16))
    except (ValueError, IndexError):
        return default


def shade(color: RGB, factor: float) -> RGB:
    """Darker (<1) or lighter (>1, towards white) version of a colour."""
    if factor <= 1:
        return tuple(max(0, min(255, round(c * factor))) for c in color)  # type: ignore[return-value]
    t = min(1.0, factor - 1)
    return tuple(round(c + (255 - c) * t) for c in color)  # type: ignore[return-value]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def _luma(color: RGB) -> float:
    return 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]


def _blob(cx: float, cy: float, a: float, b: float, *, taper: float = 0.0, t0: float = 0.0, t1: float = 2 * math.pi, n: int = 90) -> list[Point]:
    """Points on an ellipse whose lower half narrows by `taper` (a jaw, a hair curtain)."""
    pts = []
    for i in range(n + 1):
        t = t0 + (t1 - t0) * i / n
        s = math.sin(t)
        k = 1 - taper * s * s if s > 0 else 1.0
        pts.append((cx + a * k * math.cos(t), cy + b * s))
    return pts


class _Pen:
    """ImageDraw in final-size coordinates on a canvas drawn SCALE times larger."""

    def __init__(self, img: Image.Image):
        self.img = img
        self.d = ImageDraw.Draw(img)

    @staticmethod
    def _p(pts: Iterable[Point]) -> list[tuple[float, float]]:
        return [(x * SCALE, y * SCALE) for x, y in pts]

    @staticmethod
    def _b(box: Sequence[float]) -> list[float]:
        return [v * SCALE for v in box]

    def ellipse(self, box: Sequence[float], fill: RGB | tuple[int, ...] | None, outline: RGB | None = None, width: float = 3) -> None:
        self.d.ellipse(self._b(box), fill=fill, outline=outline, width=round(width * SCALE) if outline else 0)

    def poly(self, pts: Sequence[Point], fill: RGB | tuple[int, ...] | None, outline: RGB | None = None, width: float = 3) -> None:
        self.d.polygon(self._p(pts), fill=fill, outline=outline, width=round(width * SCALE) if outline else 1)

    def line(self, pts: Sequence[Point], fill: RGB | tuple[int, ...], width: float = 3) -> None:
        self.d.line(self._p(pts), fill=fill, width=round(width * SCALE), joint="curve")

    def rect(self, box: Sequence[float], fill: RGB | tuple[int, ...], radius: float = 0, outline: RGB | None = None, width: float = 3) -> None:
        self.d.rounded_rectangle(self._b(box), radius=radius * SCALE, fill=fill, outline=outline, width=round(width * SCALE) if outline else 0)

    def arc(self, box: Sequence[float], start: float, end: float, fill: RGB, width: float = 3) -> None:
        self.d.arc(self._b(box), start, end, fill=fill, width=round(width * SCALE))


class _Face:
    """Proportions of one character, seeded by its id so they never drift."""

    def __init__(self, char_id: str, appearance: Appearance):
        rnd = random.Random(int(hashlib.sha256(f"face:{char_id}".encode()).hexdigest()[:12], 16))
        self.ap = appearance
        self.cx = WIDTH / 2
        self.cy = 300.0
        self.a = 122 * rnd.uniform(0.93, 1.05)  # half width of the head
        self.b = 150 * rnd.uniform(0.96, 1.04)  # half height
        self.taper = rnd.uniform(0.18, 0.34)  # jaw: round to pointed
        self.eye_dx = self.a * rnd.uniform(0.40, 0.47)
        self.eye_y = self.cy + rnd.uniform(-4, 10)
        self.eye_w = rnd.uniform(22, 27)
        self.eye_h = rnd.uniform(12, 16)
        self.brow_tilt = rnd.uniform(-5, 7)
        self.brow_w = rnd.uniform(5, 9)
        self.mouth_y = self.cy + self.b * rnd.uniform(0.58, 0.64)
        self.mouth_w = rnd.uniform(22, 30)
        self.nose = rnd.choice(("dot", "arc", "line"))
        self.blush = rnd.uniform(0.18, 0.34)
        self.skin = hex_rgb(appearance.skin, (240, 200, 170))
        self.hair = hex_rgb(appearance.hair, (40, 30, 25))
        self.eye = hex_rgb(appearance.eye, (60, 40, 30))
        self.outfit = hex_rgb(appearance.outfit, (70, 90, 140))
        self.line = shade(mix(self.skin, (60, 30, 20), 0.55), 0.8)
        self.hair_line = shade(self.hair, 0.55) if _luma(self.hair) > 60 else shade(self.hair, 1.35)
        self.lip = mix(self.skin, (190, 70, 80), 0.5)
        self.seed = rnd.random()


# ---------------------------------------------------------------- the front bust


def bust_image(char_id: str, appearance: Appearance, mouth: int) -> Image.Image:
    """One front-facing bust, WIDTH×HEIGHT RGBA, mouth 0 closed / 1 half / 2 open."""
    f = _Face(char_id, appearance)
    img = Image.new("RGBA", (WIDTH * SCALE, HEIGHT * SCALE), (0, 0, 0, 0))
    pen = _Pen(img)
    _hair_back(pen, f)
    _torso(pen, f)
    _head(pen, f)
    _face(pen, f, mouth)
    _hair_front(pen, f)
    _accessory(pen, f)
    return img.resize((WIDTH, HEIGHT), Image.LANCZOS)


def _torso(pen: _Pen, f: _Face) -> None:
    cx = f.cx
    neck_top, neck_bot = f.cy + f.b * 0.55, f.cy + f.b + 70
    style = f.ap.outfit_style
    outfit, dark = f.outfit, shade(f.outfit, 0.62)
    # Neck (slightly shaded) under the jaw.
    pen.rect((cx - 44, neck_top, cx + 44, neck_bot), shade(f.skin, 0.9))
    pen.poly([(cx - 44, neck_top + 40), (cx + 44, neck_top + 40), (cx, neck_top + 75)], shade(f.skin, 0.8))
    # Shoulders: a rounded slab, flatter than an ellipse so the bust reads as a person.
    shoulders = (cx - 255, f.cy + f.b + 55, cx + 255, f.cy + f.b + 520)
    if style == "hoodie":
        # Hood folded behind the neck.
        pen.ellipse((cx - 150, neck_bot - 70, cx + 150, neck_bot + 70), dark, outline=shade(dark, 0.7))
    pen.rect(shoulders, outfit, radius=120, outline=dark, width=4)
    collar_y = f.cy + f.b + 62
    if style == "suit":
        pen.poly([(cx - 70, collar_y), (cx + 70, collar_y), (cx, collar_y + 200)], (245, 245, 248))
        pen.poly([(cx - 70, collar_y), (cx - 8, collar_y + 210), (cx - 95, collar_y + 120)], dark, outline=shade(dark, 0.7))
        pen.poly([(cx + 70, collar_y), (cx + 8, collar_y + 210), (cx + 95, collar_y + 120)], dark, outline=shade(dark, 0.7))
        _tie(pen, cx, collar_y, f)
    elif style == "casual":
        pen.ellipse((cx - 62, collar_y - 40, cx + 62, collar_y + 42), shade(f.skin, 0.9))
        pen.arc((cx - 66, collar_y - 44, cx + 66, collar_y + 46), 0, 180, shade(outfit, 0.75), width=8)
        pen.line([(cx - 150, collar_y + 140), (cx - 135, collar_y + 220)], shade(outfit, 0.8), width=3)
        pen.line([(cx + 150, collar_y + 140), (cx + 135, collar_y + 220)], shade(outfit, 0.8), width=3)
    elif style == "dress":
        pen.ellipse((cx - 95, collar_y - 70, cx + 95, collar_y + 80), shade(f.skin, 0.92))
        pen.arc((cx - 95, collar_y - 70, cx + 95, collar_y + 80), 0, 180, dark, width=5)
        # A thin necklace and a pendant.
        pen.arc((cx - 52, collar_y - 52, cx + 52, collar_y + 30), 20, 160, (235, 215, 150), width=2.5)
        pen.ellipse((cx - 6, collar_y + 24, cx + 6, collar_y + 36), (245, 225, 160), outline=(170, 140, 70), width=1.5)
    elif style == "hoodie":
        pen.ellipse((cx - 58, collar_y - 38, cx + 58, collar_y + 34), shade(f.skin, 0.9))
        pen.arc((cx - 62, collar_y - 42, cx + 62, collar_y + 38), 0, 180, dark, width=10)
        for side in (-1, 1):
            pen.line([(cx + side * 28, collar_y + 36), (cx + side * 34, collar_y + 160)], (240, 240, 240), width=5)
            pen.ellipse((cx + side * 34 - 7, collar_y + 158, cx + side * 34 + 7, collar_y + 172), (240, 240, 240))
        pen.rect((cx - 110, collar_y + 250, cx + 110, collar_y + 330), shade(outfit, 0.85), radius=20)
    elif style == "apron":
        shirt = (236, 232, 224) if _luma(outfit) < 200 else (90, 100, 120)
        pen.rect(shoulders, shirt, radius=120, outline=shade(shirt, 0.7), width=4)
        pen.ellipse((cx - 60, collar_y - 40, cx + 60, collar_y + 40), shade(f.skin, 0.9))
        pen.arc((cx - 64, collar_y - 44, cx + 64, collar_y + 44), 0, 180, shade(shirt, 0.75), width=7)
        pen.rect((cx - 120, collar_y + 110, cx + 120, collar_y + 420), outfit, radius=18, outline=dark, width=4)
        pen.line([(cx - 105, collar_y + 118), (cx - 58, collar_y + 20)], outfit, width=14)
        pen.line([(cx + 105, collar_y + 118), (cx + 58, collar_y + 20)], outfit, width=14)
        pen.rect((cx - 60, collar_y + 200, cx + 60, collar_y + 270), shade(outfit, 0.85), radius=10)
    elif style == "cardigan":
        inner = (244, 240, 232) if _luma(outfit) < 190 else (70, 70, 90)
        pen.poly([(cx - 85, collar_y - 5), (cx + 85, collar_y - 5), (cx + 60, collar_y + 400), (cx - 60, collar_y + 400)], inner)
        pen.ellipse((cx - 56, collar_y - 40, cx + 56, collar_y + 34), shade(f.skin, 0.9))
        pen.arc((cx - 60, collar_y - 44, cx + 60, collar_y + 38), 0, 180, shade(inner, 0.8), width=6)
        pen.line([(cx - 85, collar_y - 5), (cx - 28, collar_y + 320)], dark, width=8)
        pen.line([(cx + 85, collar_y - 5), (cx + 28, collar_y + 320)], dark, width=8)
        for k in range(3):
            y = collar_y + 150 + 55 * k
            pen.ellipse((cx - 52 - 7, y - 7, cx - 52 + 7, y + 7), shade(outfit, 1.4), outline=dark, width=1.5)


def _tie(pen: _Pen, cx: float, collar_y: float, f: _Face) -> None:
    tie = mix(shade(f.outfit, 0.5), (150, 30, 45), 0.6)
    pen.poly([(cx - 14, collar_y + 6), (cx + 14, collar_y + 6), (cx + 9, collar_y + 26), (cx - 9, collar_y + 26)], tie)
    pen.poly([(cx - 9, collar_y + 26), (cx + 9, collar_y + 26), (cx + 20, collar_y + 170), (cx, collar_y + 195), (cx - 20, collar_y + 170)], tie, outline=shade(tie, 0.6), width=2)


def _head(pen: _Pen, f: _Face) -> None:
    # Ears first, so the face's outline covers their inner edge.
    for side in (-1, 1):
        ex = f.cx + side * f.a * 0.98
        pen.ellipse((ex - 20, f.eye_y - 12, ex + 20, f.eye_y + 44), f.skin, outline=f.line, width=3)
        pen.arc((ex - 10, f.eye_y, ex + 10, f.eye_y + 30), 90 - side * 90 + 300, 90 - side * 90 + 420, shade(f.skin, 0.8), width=3)
    pen.poly(_blob(f.cx, f.cy, f.a, f.b, taper=f.taper), f.skin, outline=f.line, width=3.5)


def _face(pen: _Pen, f: _Face, mouth: int) -> None:
    # Blush on its own translucent layer.
    blush = Image.new("RGBA", pen.img.size, (0, 0, 0, 0))
    bd = _Pen(blush)
    for side in (-1, 1):
        x = f.cx + side * f.eye_dx * 1.15
        bd.ellipse((x - 30, f.eye_y + 38, x + 30, f.eye_y + 62), (255, 110, 120, round(255 * f.blush)))
    pen.img.alpha_composite(blush.filter(ImageFilter.GaussianBlur(6 * SCALE)))
    for side in (-1, 1):
        x = f.cx + side * f.eye_dx
        w, h = f.eye_w, f.eye_h
        pen.ellipse((x - w, f.eye_y - h, x + w, f.eye_y + h), (252, 252, 250), outline=(45, 35, 35), width=2)
        r = h * 0.95
        pen.ellipse((x - r, f.eye_y - r, x + r, f.eye_y + r), f.eye)
        pen.ellipse((x - r * 0.5, f.eye_y - r * 0.5, x + r * 0.5, f.eye_y + r * 0.5), (20, 15, 15))
        pen.ellipse((x + r * 0.15, f.eye_y - r * 0.65, x + r * 0.55, f.eye_y - r * 0.25), (255, 255, 255))
        # Upper lid: a thick line that gives the eye its shape.
        pen.arc((x - w - 1, f.eye_y - h - 2, x + w + 1, f.eye_y + h + 2), 195, 345, (35, 25, 25), width=4.5)
        by = f.eye_y - h - 22
        tilt = f.brow_tilt * side * -1
        pen.line([(x - side * w * 1.05, by + 4 + tilt), (x, by - 3), (x + side * w * 1.1, by + 2 - tilt)], f.hair_line, width=f.brow_w)
    ny = (f.eye_y + f.mouth_y) / 2 + 6
    nose = shade(f.skin, 0.72)
    if f.nose == "dot":
        pen.ellipse((f.cx - 6, ny - 3, f.cx + 6, ny + 5), nose)
    elif f.nose == "arc":
        pen.arc((f.cx - 12, ny - 12, f.cx + 12, ny + 8), 30, 150, nose, width=3)
    else:
        pen.line([(f.cx + 2, ny - 24), (f.cx + 7, ny + 2), (f.cx - 4, ny + 5)], nose, width=3)
    _mouth(pen, f, mouth)


def _mouth(pen: _Pen, f: _Face, mouth: int) -> None:
    x, y, w = f.cx, f.mouth_y, f.mouth_w
    dark = (95, 30, 40)
    if mouth <= 0:
        pen.arc((x - w, y - 16, x + w, y + 8), 20, 160, shade(f.lip, 0.75), width=4.5)
        return
    h = 11 if mouth == 1 else 24
    ww = w * (0.82 if mouth == 1 else 0.95)
    pen.ellipse((x - ww, y - h * 0.55, x + ww, y + h), dark, outline=shade(f.lip, 0.8), width=3)
    if mouth == 2:
        pen.rect((x - ww * 0.7, y - h * 0.5, x + ww * 0.7, y - h * 0.12), (250, 250, 250), radius=3)
    pen.ellipse((x - ww * 0.55, y + h * 0.25, x + ww * 0.55, y + h * 0.95), (210, 95, 105))


def _hair_back(pen: _Pen, f: _Face) -> None:
    style, hair, line = f.ap.hair_style, f.hair, f.hair_line
    cx, cy, a, b = f.cx, f.cy, f.a, f.b
    if style == "long":
        pen.poly(_blob(cx, cy + 40, a * 1.28, b * 1.45, taper=-0.05), hair, outline=line)
        pen.rect((cx - a * 1.28, cy + 40, cx + a * 1.28, cy + b * 1.9), hair, radius=60, outline=line)
    elif style == "bob":
        pen.poly(_blob(cx, cy + 10, a * 1.24, b * 1.12, taper=-0.1), hair, outline=line)
    elif style == "ponytail":
        side = 1 if f.seed > 0.5 else -1
        tx = cx + side * a * 1.0
        pen.poly(_blob(tx + side * 20, cy + 120, 48, 150, taper=0.5), hair, outline=line)
        pen.ellipse((tx - 18, cy - 60, tx + 18, cy - 20), shade(f.outfit, 1.2), outline=line)
    elif style == "curly":
        rnd = random.Random(int(f.seed * 1e9))
        for k in range(22):
            t = math.pi * (1.0 + k / 21)
            r = rnd.uniform(34, 48)
            x, y = cx + a * 1.05 * math.cos(t), cy - 10 + b * 1.05 * math.sin(t)
            pen.ellipse((x - r, y - r, x + r, y + r), hair, outline=line)
        for side in (-1, 1):
            for k in range(3):
                x, y = cx + side * a * 1.05, cy + 20 + 45 * k
                pen.ellipse((x - 36, y - 36, x + 36, y + 36), hair, outline=line)


def _hair_front(pen: _Pen, f: _Face) -> None:
    style, hair, line = f.ap.hair_style, f.hair, f.hair_line
    cx, cy, a, b = f.cx, f.cy, f.a, f.b
    if style == "bald":
        pen.arc((cx - a * 0.7, cy - b * 0.95, cx + a * 0.1, cy - b * 0.4), 200, 260, shade(f.skin, 1.25), width=6)
        return
    if f.ap.accessory == "cap":
        return  # the cap covers the top of the head
    top = _blob(cx, cy - 8, a * 1.08, b * 1.02, t0=math.pi, t1=2 * math.pi)
    if style in ("short", "side_part", "ponytail"):
        if style == "side_part":
            side = -1 if f.seed > 0.5 else 1
            fringe = [(cx + side * a * 1.08, cy - 10), (cx + side * a * 0.7, cy - b * 0.5), (cx - side * a * 0.2, cy - b * 0.55),
                      (cx - side * a * 0.95, cy - b * 0.25), (cx - side * a * 1.08, cy - 10)]
        elif style == "short":
            fringe = [(cx + a * 1.08, cy - 20)]
            for k in range(7):
                x = cx + a * (0.9 - 0.3 * k)
                fringe += [(x, cy - b * 0.55 + (8 if k % 2 else 0)), (x - a * 0.15, cy - b * 0.42)]
            fringe.append((cx - a * 1.08, cy - 20))
        else:  # ponytail: hair pulled back, a smooth hairline
            fringe = [(cx + a * 1.06, cy - 15), (cx + a * 0.5, cy - b * 0.62), (cx - a * 0.5, cy - b * 0.62), (cx - a * 1.06, cy - 15)]
        pen.poly(top + fringe, hair, outline=line)
    elif style == "long":
        pen.poly(top + [(cx + a * 1.08, cy + 10), (cx + a * 0.85, cy - b * 0.3), (cx + a * 0.1, cy - b * 0.62),
                        (cx - a * 0.1, cy - b * 0.62), (cx - a * 0.85, cy - b * 0.3), (cx - a * 1.08, cy + 10)], hair, outline=line)
        for side in (-1, 1):
            pen.poly([(cx + side * a * 1.1, cy - 40), (cx + side * a * 0.86, cy - 20), (cx + side * a * 0.92, cy + b * 0.75),
                      (cx + side * a * 1.18, cy + b * 0.95)], hair, outline=line)
    elif style == "bob":
        pen.poly(top + [(cx + a * 1.08, cy - b * 0.25), (cx - a * 1.08, cy - b * 0.25)], hair, outline=line)
        pen.rect((cx - a * 0.95, cy - b * 0.75, cx + a * 0.95, cy - b * 0.32), hair, radius=10)
        pen.line([(cx - a * 0.95, cy - b * 0.32), (cx + a * 0.95, cy - b * 0.32)], line, width=3)
        for side in (-1, 1):
            pen.poly([(cx + side * a * 1.1, cy - b * 0.3), (cx + side * a * 0.9, cy - b * 0.3), (cx + side * a * 0.92, cy + b * 0.62),
                      (cx + side * a * 1.2, cy + b * 0.66)], hair, outline=line)
    elif style == "curly":
        pen.poly(top + [(cx + a * 1.08, cy - b * 0.3), (cx - a * 1.08, cy - b * 0.3)], hair, outline=line)
        rnd = random.Random(int(f.seed * 1e9) + 1)
        for k in range(9):
            x = cx - a * 0.85 + a * 1.7 * k / 8
            y = cy - b * 0.62 + rnd.uniform(-8, 8)
            r = rnd.uniform(30, 40)
            pen.ellipse((x - r, y - r, x + r, y + r), hair, outline=line)
    # A soft highlight so dark hair still reads as hair.
    pen.arc((cx - a * 0.8, cy - b * 1.0, cx + a * 0.2, cy - b * 0.2), 205, 250, shade(hair, 1.35), width=7)


def _accessory(pen: _Pen, f: _Face) -> None:
    acc = f.ap.accessory
    cx = f.cx
    if acc == "glasses":
        frame = (30, 30, 35) if _luma(f.skin) > 90 else (200, 200, 210)
        r = f.eye_w + 12
        for side in (-1, 1):
            x = cx + side * f.eye_dx
            pen.rect((x - r, f.eye_y - r * 0.72, x + r, f.eye_y + r * 0.72), None, radius=14, outline=frame, width=4)
        pen.arc((cx - 18, f.eye_y - 14, cx + 18, f.eye_y + 10), 200, 340, frame, width=4)
    elif acc == "earrings":
        for side in (-1, 1):
            x = cx + side * f.a * 0.98
            pen.line([(x, f.eye_y + 44), (x, f.eye_y + 58)], (200, 170, 80), width=3)
            pen.ellipse((x - 8, f.eye_y + 56, x + 8, f.eye_y + 72), (245, 210, 100), outline=(170, 130, 50), width=2)
    elif acc == "cap":
        cap = mix(f.outfit, (40, 40, 60), 0.3)
        pen.poly(_blob(cx, f.cy - 30, f.a * 1.1, f.b * 0.98, t0=math.pi, t1=2 * math.pi) + [(cx + f.a * 1.1, f.cy - 45), (cx - f.a * 1.1, f.cy - 45)], cap, outline=shade(cap, 0.6))
        pen.ellipse((cx - f.a * 1.25, f.cy - 75, cx + f.a * 1.25, f.cy - 20), shade(cap, 0.8), outline=shade(cap, 0.55))
        pen.ellipse((cx - 10, f.cy - f.b * 1.02 - 8, cx + 10, f.cy - f.b * 1.02 + 8), shade(cap, 1.3))
    elif acc == "tie" and f.ap.outfit_style != "suit":
        _tie(pen, cx, f.cy + f.b + 62, f)
    elif acc == "beard":
        beard = mix(f.hair, f.skin, 0.25)
        pts = _blob(f.cx, f.cy, f.a * 0.99, f.b, taper=f.taper, t0=0.15, t1=math.pi - 0.15, n=40)
        inner = _blob(f.cx, f.mouth_y - 8, f.mouth_w * 1.5, 32, t0=math.pi - 0.1, t1=0.1, n=20)
        pen.poly(pts + inner, beard, outline=shade(beard, 0.7), width=2)
        # Re-draw the mouth, so the beard frames it instead of hiding it.
        pen.arc((f.cx - f.mouth_w, f.mouth_y - 16, f.cx + f.mouth_w, f.mouth_y + 8), 20, 160, shade(f.lip, 0.6), width=4.5)


# ---------------------------------------------------------------- the side profile / silhouette


def profile_view(character: Character) -> ProfileView:
    """Mysterious characters stay in shadow (spec 4.3 select_view_angle); others turn to the side."""
    text = " ".join([character.role, character.occupation, *character.personality]).lower()
    return "silhouette" if any(w in text for w in _MYSTERY_WORDS) else "side_profile"


def profile_image(char_id: str, appearance: Appearance, mouth: int, view: ProfileView = "side_profile") -> Image.Image:
    """A bust turned to the right (mirror it to face left), or its silhouette with a rim light."""
    f = _Face(char_id, appearance)
    img = Image.new("RGBA", (WIDTH * SCALE, HEIGHT * SCALE), (0, 0, 0, 0))
    pen = _Pen(img)
    cx, cy, a, b = f.cx - 10, f.cy, f.a * 0.95, f.b
    hair, line = f.hair, f.hair_line
    style = f.ap.hair_style
    if style == "long":
        pen.rect((cx - a * 1.15, cy - 40, cx + a * 0.2, cy + b * 1.9), hair, radius=60, outline=line)
    elif style == "bob":
        pen.poly(_blob(cx - 18, cy + 10, a * 1.06, b * 1.1, taper=-0.1), hair, outline=line)
    elif style == "ponytail":
        pen.poly(_blob(cx - a * 1.15, cy + 80, 45, 140, taper=0.5), hair, outline=line)
    # Shoulders turned three-quarters, neck, head.
    pen.rect((cx - 30, cy + b * 0.5, cx + 52, cy + b + 70), shade(f.skin, 0.88))
    pen.rect((cx - 190, cy + b + 55, cx + 205, cy + b + 520), f.outfit, radius=120, outline=shade(f.outfit, 0.62), width=4)
    if f.ap.outfit_style == "suit":
        pen.poly([(cx + 10, cy + b + 62), (cx + 70, cy + b + 62), (cx + 60, cy + b + 230)], (245, 245, 248))
    elif f.ap.outfit_style == "hoodie":
        pen.poly([(cx - 120, cy + b + 60), (cx - 40, cy + b + 20), (cx + 30, cy + b + 60), (cx - 40, cy + b + 110)], shade(f.outfit, 0.62))
    head = _blob(cx, cy, a, b, taper=0.2, t0=math.pi * 0.55, t1=math.pi * 1.75, n=60)
    fx = cx + a * 0.72  # front line of the face
    face = [(fx, cy - b * 0.55), (fx + 18, cy - 40), (fx + 24, cy - 15), (fx + 52, cy + 42), (fx + 26, cy + 58), (fx + 30, cy + 78)]
    lip_open = {0: 0, 1: 6, 2: 13}.get(mouth, 0)
    face += [(fx + 28, cy + 86), (fx + 14, cy + 86 + lip_open * 0.4), (fx + 28, cy + 92 + lip_open), (fx + 24, cy + 118 + lip_open),
             (fx + 6, cy + b * 0.9 + lip_open), (cx + a * 0.1, cy + b * 0.93 + lip_open * 0.5)]
    pen.poly(head + face, f.skin, outline=f.line, width=3.5)
    if lip_open:
        pen.poly([(fx + 28, cy + 86), (fx + 12, cy + 87 + lip_open * 0.5), (fx + 28, cy + 90 + lip_open)], (95, 30, 40))
    else:
        pen.line([(fx + 28, cy + 88), (fx + 16, cy + 90)], shade(f.lip, 0.7), width=3)
    ex, ey = fx + 2, f.eye_y - 6
    pen.poly([(ex - 22, ey), (ex - 4, ey - 10), (ex + 4, ey + 2), (ex - 6, ey + 9)], (252, 252, 250), outline=(45, 35, 35), width=2)
    pen.ellipse((ex - 12, ey - 7, ex + 1, ey + 7), f.eye)
    pen.line([(ex - 24, ey - 2), (ex - 4, ey - 12), (ex + 6, ey - 6)], (35, 25, 25), width=4)
    pen.line([(ex - 30, ey - 34), (ex - 6, ey - 40), (ex + 12, ey - 34)], f.hair_line, width=f.brow_w)
    if style != "bald" and f.ap.accessory != "cap":
        covers = style in ("long", "bob", "curly", "ponytail")
        cap = _blob(cx - 12, cy - 14, a * 1.1, b * 1.0, t0=math.pi * (0.6 if covers else 0.72), t1=math.pi * 1.83, n=50)
        cap += [(fx + 10, cy - b * 0.55), (fx - 30, cy - b * 0.5), (cx + 24, cy - 44), (cx - 26, cy - 14)]
        cap += [(cx - 36, cy + b * 0.72)] if covers else [(cx - 40, cy + 30), (cx - a * 0.72, cy + b * 0.55)]
        pen.poly(cap, hair, outline=line)
        if style == "curly":
            for k in range(7):
                t = math.pi * (0.75 + 0.15 * k)
                x, y = cx - 12 + a * 1.08 * math.cos(t), cy - 14 + b * 1.0 * math.sin(t)
                pen.ellipse((x - 30, y - 30, x + 30, y + 30), hair, outline=line)
    # The ear sits on the hair's edge.
    pen.ellipse((cx - 28, f.eye_y - 8, cx + 14, f.eye_y + 48), f.skin, outline=f.line, width=3)
    pen.arc((cx - 18, f.eye_y + 2, cx + 4, f.eye_y + 36), 120, 300, shade(f.skin, 0.78), width=3)
    if f.ap.accessory == "cap":
        capc = mix(f.outfit, (40, 40, 60), 0.3)
        pen.poly(_blob(cx - 5, cy - 30, a * 1.1, b * 0.98, t0=math.pi, t1=2 * math.pi) + [(cx + a * 1.1, cy - 45)], capc, outline=shade(capc, 0.6))
        pen.poly([(cx + a * 0.9, cy - 60), (cx + a * 1.6, cy - 40), (cx + a * 0.9, cy - 35)], shade(capc, 0.8), outline=shade(capc, 0.55))
    elif f.ap.accessory == "glasses":
        pen.rect((ex - 26, ey - 16, ex + 8, ey + 16), None, radius=8, outline=(30, 30, 35), width=4)
        pen.line([(ex - 26, ey - 4), (cx + 10, f.eye_y + 6)], (30, 30, 35), width=4)
    elif f.ap.accessory == "earrings":
        pen.ellipse((cx - 14, f.eye_y + 52, cx + 2, f.eye_y + 68), (245, 210, 100), outline=(170, 130, 50), width=2)
    elif f.ap.accessory == "beard":
        beard = mix(f.hair, f.skin, 0.25)
        pen.poly([(cx + 20, cy + 60), (fx + 8, cy + 96), (fx + 22, cy + 124), (fx + 4, cy + b * 0.92), (cx + a * 0.1, cy + b * 0.95), (cx + 5, cy + 90)], beard)
    out = img.resize((WIDTH, HEIGHT), Image.LANCZOS)
    return _silhouette(out) if view == "silhouette" else out


def _silhouette(img: Image.Image) -> Image.Image:
    """The shape in near-black with a cool rim light on its front edge."""
    alpha = img.getchannel("A")
    body = Image.new("RGBA", img.size, (22, 24, 34, 0))
    body.putalpha(alpha)
    rim = ImageChops.subtract(alpha, ImageChops.offset(alpha, -6, 0)).filter(ImageFilter.GaussianBlur(1.2))
    glow = Image.new("RGBA", img.size, (170, 195, 245, 0))
    glow.putalpha(rim)
    return Image.alpha_composite(body, glow)


silhouette = _silhouette  # public: generated looks are turned into shadows the same way


# ---------------------------------------------------------------- the back view (over-the-shoulder shots)


def back_image(char_id: str, appearance: Appearance) -> Image.Image:
    """The character seen from behind: the near shoulder of an over-the-shoulder shot."""
    f = _Face(char_id, appearance)
    img = Image.new("RGBA", (WIDTH * SCALE, HEIGHT * SCALE), (0, 0, 0, 0))
    pen = _Pen(img)
    cx, cy, a, b = f.cx, f.cy, f.a, f.b
    hair, line, style = f.hair, f.hair_line, f.ap.hair_style
    pen.rect((cx - 48, cy + b * 0.4, cx + 48, cy + b + 80), shade(f.skin, 0.82))
    pen.rect((cx - 255, cy + b + 55, cx + 255, cy + b + 520), f.outfit, radius=120, outline=shade(f.outfit, 0.62), width=4)
    if f.ap.outfit_style in ("suit", "cardigan"):
        pen.poly([(cx - 70, cy + b + 58), (cx + 70, cy + b + 58), (cx, cy + b + 110)], shade(f.outfit, 0.75))
    elif f.ap.outfit_style == "hoodie":
        pen.ellipse((cx - 130, cy + b + 20, cx + 130, cy + b + 190), shade(f.outfit, 0.7), outline=shade(f.outfit, 0.5))
    for side in (-1, 1):
        ex = cx + side * a * 0.98
        pen.ellipse((ex - 20, f.eye_y - 12, ex + 20, f.eye_y + 44), shade(f.skin, 0.9), outline=f.line, width=3)
    if style == "bald":
        pen.poly(_blob(cx, cy, a, b, taper=f.taper), f.skin, outline=f.line, width=3.5)
        pen.arc((cx - a * 0.6, cy - b * 0.9, cx + a * 0.2, cy - b * 0.3), 200, 260, shade(f.skin, 1.25), width=6)
    else:
        pen.poly(_blob(cx, cy - 4, a * 1.06, b * 1.02, taper=f.taper * 0.6), hair, outline=line)
        if style == "long":
            pen.rect((cx - a * 1.15, cy, cx + a * 1.15, cy + b * 1.85), hair, radius=60, outline=line)
        elif style == "bob":
            pen.poly(_blob(cx, cy + 10, a * 1.18, b * 1.1, taper=-0.1), hair, outline=line)
        elif style == "ponytail":
            pen.ellipse((cx - 18, cy - 10, cx + 18, cy + 26), shade(f.outfit, 1.2), outline=line)
            pen.poly(_blob(cx, cy + 130, 44, 120, taper=0.5), hair, outline=line)
        elif style == "curly":
            for k in range(12):
                t = math.pi * (0.9 + 1.2 * k / 11)
                x, y = cx + a * 0.95 * math.cos(t), cy + b * 0.95 * math.sin(t)
                pen.ellipse((x - 36, y - 36, x + 36, y + 36), hair, outline=line)
        pen.arc((cx - a * 0.7, cy - b * 0.95, cx + a * 0.3, cy - b * 0.1), 205, 250, shade(hair, 1.35), width=7)
    if f.ap.accessory == "cap":
        cap = mix(f.outfit, (40, 40, 60), 0.3)
        pen.poly(_blob(cx, cy - 30, a * 1.1, b * 0.98, t0=math.pi, t1=2 * math.pi) + [(cx + a * 1.1, cy - 45), (cx - a * 1.1, cy - 45)], cap, outline=shade(cap, 0.6))
        pen.rect((cx - 40, cy - 60, cx + 40, cy - 36), shade(cap, 0.7), radius=8)
    return img.resize((WIDTH, HEIGHT), Image.LANCZOS)


# ---------------------------------------------------------------- files


def sprite_fingerprint(character: Character, kind: str = "front") -> str:
    view = profile_view(character) if kind == "profile" else ""
    return fingerprint(DRAW_VERSION, kind, view, character.id, character.appearance)[:8]


# A folder of drawn sprites shared by several storage roots (the test suite's many fresh studios):
# a sprite's file name holds its character and look fingerprint, so a copy from here is the same
# picture drawing would make. Unset in production, where each storage keeps its own.
SPRITE_CACHE_ENV = "AIDAS_SPRITE_CACHE"


def _write_set(paths: list[Path], draw) -> list[Path]:
    if all(p.exists() for p in paths):
        return paths
    shared = Path(os.environ[SPRITE_CACHE_ENV]) if os.environ.get(SPRITE_CACHE_ENV) else None
    if shared is not None and all((shared / p.name).exists() for p in paths):
        for path in paths:
            with atomic_path(path) as tmp:
                shutil.copyfile(shared / path.name, tmp)
        return paths
    for mouth, path in zip(MOUTH_STATES, paths):
        with atomic_path(path) as tmp:
            draw(mouth).save(tmp, format="PNG", optimize=False, compress_level=6)
        if shared is not None:
            with atomic_path(shared / path.name) as tmp:
                shutil.copyfile(path, tmp)
    return paths


def draw_sprites(character: Character, out_dir: Path) -> list[Path]:
    """Three front-facing sprites (mouth closed, half, open); reused when already drawn for this look."""
    fp = sprite_fingerprint(character)
    paths = [out_dir / f"{character.id}-{fp}-m{m}.png" for m in MOUTH_STATES]
    return _write_set(paths, lambda m: bust_image(character.id, character.appearance, m))


def draw_profile(character: Character, out_dir: Path, view: ProfileView | None = None) -> list[Path]:
    """Three profile sprites for a partial avatar: side profile, or silhouette when mysterious."""
    view = view or profile_view(character)
    fp = fingerprint(DRAW_VERSION, "profile", view, character.id, character.appearance)[:8]
    paths = [out_dir / f"{character.id}-{fp}-profile-m{m}.png" for m in MOUTH_STATES]
    return _write_set(paths, lambda m: profile_image(character.id, character.appearance, m, view))


def profile_key(char_id: str) -> str:
    return char_id + PROFILE_SUFFIX


def draw_roster_sprites(roster: Roster, out_dir: Path) -> dict[str, list[Path]]:
    """Front sprites for every character (group and over-shoulder shots draw anyone present), and
    profile sprites under `profile_key(id)` for partial avatars."""
    sprites: dict[str, list[Path]] = {}
    for character in roster.characters:
        sprites[character.id] = draw_sprites(character, out_dir)
        if character.avatar_strategy == "partial_avatar":
            sprites[profile_key(character.id)] = draw_profile(character, out_dir)
    return sprites


def contact_sheet(paths: Sequence[Path], out_path: Path, *, cell: int = 200, columns: int = 6) -> Path:
    """A small preview grid of sprites (for the asset's page in the Dagster UI)."""
    paths = list(paths)
    cols = max(1, min(columns, len(paths)))
    rows = max(1, math.ceil(len(paths) / cols))
    ch = round(cell * HEIGHT / WIDTH)
    sheet = Image.new("RGB", (cols * cell, rows * ch), (38, 42, 54))
    for i, path in enumerate(paths):
        with Image.open(path) as im:
            im = im.convert("RGBA")
            im.thumbnail((cell, ch), Image.LANCZOS)
            x, y = (i % cols) * cell, (i // cols) * ch
            sheet.paste(im, (x + (cell - im.width) // 2, y + ch - im.height), im)
    with atomic_path(out_path) as tmp:
        sheet.save(tmp, format="PNG")
    return out_path
