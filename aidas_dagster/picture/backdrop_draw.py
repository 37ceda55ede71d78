"""The drawing context and shared props of the procedural backdrops (places/ draws each kind).

Everything is drawn at 1920×1080 in plain Pillow shapes. Colours of outdoor ground and props go
through `Scene.lit` so the time of day grades them the way the sky already is; interiors are graded
as a whole afterwards (backdrops.draw_backdrop).
"""

from __future__ import annotations

import hashlib
import math
import random

from PIL import Image, ImageDraw

from aidas_dagster.picture import fonts

W, H = 1920, 1080
RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

SKIES: dict[str, tuple[RGB, RGB]] = {
    "morning": ((150, 190, 232), (252, 222, 192)),
    "day": ((88, 150, 222), (196, 224, 246)),
    "evening": ((72, 62, 124), (252, 152, 96)),
    "night": ((8, 12, 34), (34, 44, 86)),
}
# Light on interiors: multiplied into the picture (night keeps lamps warm by a separate glow).
TINTS: dict[str, tuple[float, float, float]] = {
    "morning": (1.04, 1.0, 0.95),
    "day": (1.0, 1.0, 1.0),
    "evening": (1.04, 0.86, 0.72),
    "night": (0.52, 0.56, 0.78),
}
# Light on outdoor ground and props (stronger than indoors: no lamps to hold the colours up).
OUTDOOR_TINTS: dict[str, tuple[float, float, float]] = {
    "morning": (1.02, 1.0, 0.96),
    "day": (1.0, 1.0, 1.0),
    "evening": (0.95, 0.74, 0.62),
    "night": (0.3, 0.34, 0.5),
}


def rng(*parts: str) -> random.Random:
    return random.Random(int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:16], 16))


def gradient(top: RGB, bottom: RGB, size: tuple[int, int] = (W, H)) -> Image.Image:
    col = Image.new("RGB", (1, 256))
    col.putdata([tuple(round(a + (b - a) * i / 255) for a, b in zip(top, bottom)) for i in range(256)])  # type: ignore[misc]
    return col.resize(size, Image.BILINEAR)


def vary(color: RGB, rnd: random.Random, amount: int = 18) -> RGB:
    return tuple(max(0, min(255, c + rnd.randint(-amount, amount))) for c in color)  # type: ignore[return-value]


def dark(color: RGB, f: float) -> RGB:
    return tuple(max(0, min(255, round(c * f))) for c in color)  # type: ignore[return-value]


BOOK_COLOURS: tuple[RGB, ...] = ((150, 60, 50), (60, 90, 140), (70, 120, 80), (190, 160, 80), (120, 80, 120), (200, 190, 170))


class Scene:
    """Drawing context of one backdrop: the picture, its pen, the time of day and a seeded random."""

    def __init__(self, kind: str, tod: str, rnd: random.Random):
        self.kind, self.tod, self.rnd = kind, tod, rnd
        self.img = Image.new("RGB", (W, H))
        self.d = ImageDraw.Draw(self.img)
        self.night = tod == "night"

    # -- light
    def lit(self, color: RGB) -> RGB:
        """An outdoor colour under the time of day's light."""
        t = OUTDOOR_TINTS[self.tod]
        return tuple(max(0, min(255, round(c * f))) for c, f in zip(color, t))  # type: ignore[return-value]

    def lamp_glow(self) -> RGB:
        return (255, 220, 140) if self.night or self.tod == "evening" else (236, 236, 226)

    def label(self, xy: tuple[float, float], text: str, size: int, fill: RGB, bold: bool = True) -> None:
        """Sign text (Korean-capable font), centred on xy."""
        self.d.text(xy, text, font=fonts.font(size, bold), fill=fill, anchor="mm")

    # -- rooms and grounds
    def interior(self, wall: RGB, floor: RGB, floor_y: int = 760) -> None:
        self.img.paste(gradient(dark(wall, 1.08), dark(wall, 0.9), (W, floor_y)), (0, 0))
        self.img.paste(gradient(dark(floor, 1.05), dark(floor, 0.8), (W, H - floor_y)), (0, floor_y))
        self.d.rectangle((0, floor_y - 18, W, floor_y), fill=dark(wall, 0.75))

    def outdoors(self, horizon: int, ground: RGB, skyline: float | None = None) -> None:
        """Sky to `horizon` (with a city skyline of that depth when given), graded ground below."""
        self.sky((0, 0, W, horizon))
        if skyline is not None:
            self.skyline((0, horizon // 3, W, horizon), skyline)
        g = self.lit(ground)
        self.img.paste(gradient(g, dark(g, 0.72), (W, H - horizon)), (0, horizon))

    def tiles(self, box: Box, size: int, a: RGB, b: RGB) -> None:
        x0, y0, x1, y1 = box
        for j, y in enumerate(range(y0, y1, size)):
            for i, x in enumerate(range(x0, x1, size)):
                self.d.rectangle((x, y, min(x1, x + size), min(y1, y + size)), fill=a if (i + j) % 2 else b)

    def planks(self, box: Box, color: RGB, step: int = 46) -> None:
        x0, y0, x1, y1 = box
        self.d.rectangle(box, fill=color)
        for y in range(y0, y1, step):
            self.d.line((x0, y, x1, y), fill=dark(color, 0.8), width=3)

    # -- sky and city
    def sky(self, box: Box) -> None:
        """Sky seen in a window or outdoors, with (at night) stars."""
        x0, y0, x1, y1 = box
        top, bottom = SKIES[self.tod]
        self.img.paste(gradient(top, bottom, (x1 - x0, y1 - y0)), (x0, y0))
        if self.night:
            for _ in range((x1 - x0) * (y1 - y0) // 9000):
                x, y = self.rnd.randint(x0, x1), self.rnd.randint(y0, y0 + (y1 - y0) // 2)
                self.d.point((x, y), fill=(230, 230, 255))

    def skyline(self, box: Box, depth: float = 0.45) -> None:
        x0, y0, x1, y1 = box
        tone = {"night": (22, 26, 48), "evening": (86, 62, 92), "morning": (140, 150, 175), "day": (125, 145, 175)}[self.tod]
        x = x0
        while x < x1:
            bw = self.rnd.randint(50, 140)
            bh = int((y1 - y0) * self.rnd.uniform(0.15, depth + 0.35))
            c = vary(tone, self.rnd, 10)
            self.d.rectangle((x, y1 - bh, min(x1, x + bw), y1), fill=c)
            lit = (255, 214, 130) if self.night else dark(c, 1.15)
            for wy in range(y1 - bh + 12, y1 - 8, 22):
                for wx in range(x + 8, min(x1, x + bw) - 10, 18):
                    if self.rnd.random() < (0.35 if self.night else 0.5):
                        self.d.rectangle((wx, wy, wx + 8, wy + 11), fill=lit)
            x += bw + self.rnd.randint(0, 12)

    def hills(self, base: int, color: RGB, height: int, bumps: int = 4) -> None:
        """A ridge of rounded hills standing on `base`."""
        pts = [(0, base)]
        n = 48
        phase = self.rnd.uniform(0, 6.28)
        for i in range(n + 1):
            x = W * i / n
            y = base - height * (0.55 + 0.45 * math.sin(phase + bumps * math.pi * i / n)) * (0.8 + 0.2 * math.sin(i * 1.7))
            pts.append((x, y))
        pts.append((W, base))
        self.d.polygon(pts, fill=self.lit(color))

    # -- openings
    def window(self, box: Box, frame: RGB, panes: int = 2, skyline: bool = True) -> None:
        x0, y0, x1, y1 = box
        self.sky(box)
        if skyline:
            self.skyline((x0, y0 + (y1 - y0) // 3, x1, y1))
        self.d.rectangle(box, outline=frame, width=14)
        for k in range(1, panes):
            x = x0 + (x1 - x0) * k // panes
            self.d.line((x, y0, x, y1), fill=frame, width=10)
        self.d.line((x0, (y0 + y1) // 2, x1, (y0 + y1) // 2), fill=frame, width=8)

    def door(self, box: Box, color: RGB, knob: bool = True) -> None:
        x0, y0, x1, y1 = box
        self.d.rectangle(box, fill=color, outline=dark(color, 0.6), width=8)
        self.d.rectangle((x0 + 24, y0 + 30, x1 - 24, (y0 + y1) // 2 - 10), outline=dark(color, 0.8), width=5)
        if knob:
            self.d.ellipse((x1 - 46, (y0 + y1) // 2, x1 - 26, (y0 + y1) // 2 + 20), fill=(210, 190, 120))

    # -- lights
    def lamp(self, x: int, y: int, r: int = 26, cord: int = 0) -> None:
        if cord:
            self.d.line((x, 0, x, y - r), fill=(40, 35, 30), width=4)
        self.d.pieslice((x - r * 1.6, y - r, x + r * 1.6, y + r * 1.2), 180, 360, fill=(60, 50, 40))
        self.d.ellipse((x - r * 0.6, y - 4, x + r * 0.6, y + r * 0.8), fill=(255, 226, 160))

    def ceiling_lights(self, y: int, n: int = 4, w: int = 260, color: RGB = (250, 250, 244)) -> None:
        for k in range(n):
            x = (k + 0.5) * W / n
            self.d.rectangle((x - w / 2, y, x + w / 2, y + 18), fill=color)

    def spotlight(self, x: int, top: int, bottom: int, spread: int, color: RGB = (255, 240, 200), alpha: int = 60) -> None:
        """A translucent cone of light from (x, top) to a pool at `bottom`."""
        layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
        ImageDraw.Draw(layer).polygon([(x - 20, top), (x + 20, top), (x + spread, bottom), (x - spread, bottom)], fill=(*color, alpha))
        ImageDraw.Draw(layer).ellipse((x - spread, bottom - 40, x + spread, bottom + 40), fill=(*color, alpha))
        self.img.paste(layer, (0, 0), layer)

    def street_lamp(self, x: int, ground: int, h: int = 520) -> None:
        self.d.rectangle((x - 7, ground - h, x + 7, ground), fill=(50, 55, 62))
        self.d.line((x, ground - h, x + 60, ground - h - 20), fill=(50, 55, 62), width=10)
        self.d.ellipse((x + 40, ground - h - 30, x + 90, ground - h), fill=self.lamp_glow())

    # -- furniture
    def table(self, x: int, y: int, w: int, color: RGB, cloth: RGB | None = None) -> None:
        top = cloth or color
        self.d.rectangle((x - 12, y, x + 12, y + 160), fill=dark(color, 0.6))
        self.d.ellipse((x - w // 2, y - 22, x + w // 2, y + 22), fill=top, outline=dark(top, 0.7), width=3)
        if cloth:
            self.d.polygon([(x - w // 2, y), (x + w // 2, y), (x + w // 2 - 10, y + 90), (x - w // 2 + 10, y + 90)], fill=cloth)

    def desk(self, x: int, y: int, w: int, color: RGB = (200, 200, 205), leg: RGB = (90, 90, 95), h: int = 170) -> None:
        """A straight desk whose top is at `y`, centred on x."""
        self.d.rectangle((x - w // 2, y, x + w // 2, y + 28), fill=color, outline=dark(color, 0.75), width=2)
        self.d.rectangle((x - w // 2 + 20, y + 28, x - w // 2 + 38, y + h), fill=leg)
        self.d.rectangle((x + w // 2 - 38, y + 28, x + w // 2 - 20, y + h), fill=leg)

    def monitor(self, x: int, y: int, w: int = 180, h: int = 120, screen: RGB | None = None) -> None:
        """A screen standing on a surface at `y` (its bottom), centred on x."""
        screen = screen or ((90, 150, 220) if self.night else (60, 110, 170))
        self.d.rectangle((x - w // 2, y - h - 22, x + w // 2, y - 22), fill=(30, 32, 38), outline=(70, 70, 80), width=6)
        self.d.rectangle((x - w // 2 + 12, y - h - 10, x + w // 2 - 12, y - 34), fill=screen)
        self.d.rectangle((x - 10, y - 22, x + 10, y), fill=(70, 70, 80))

    def chair(self, x: int, y: int, color: RGB, back: bool = True) -> None:
        """A simple chair whose seat is at `y`."""
        self.d.rectangle((x - 50, y, x + 50, y + 20), fill=color)
        self.d.rectangle((x - 44, y + 20, x - 34, y + 110), fill=dark(color, 0.6))
        self.d.rectangle((x + 34, y + 20, x + 44, y + 110), fill=dark(color, 0.6))
        if back:
            self.d.rectangle((x - 50, y - 110, x + 50, y - 80), fill=color)
            self.d.rectangle((x - 44, y - 110, x - 34, y), fill=dark(color, 0.7))
            self.d.rectangle((x + 34, y - 110, x + 44, y), fill=dark(color, 0.7))

    def shelf(self, box: Box, rows: int, wood: RGB = (120, 84, 56), items: str = "books") -> None:
        """A shelf unit filled with books, jars or boxes."""
        x0, y0, x1, y1 = box
        self.d.rectangle(box, fill=dark(wood, 0.7), outline=wood, width=10)
        step = (y1 - y0) / rows
        for r in range(rows):
            top, bottom = y0 + r * step, y0 + (r + 1) * step
            self.d.rectangle((x0, bottom - 10, x1, bottom), fill=wood)
            x = x0 + 14
            while x < x1 - 30:
                if items == "books":
                    bw, bh = self.rnd.randint(14, 30), self.rnd.randint(int(step * 0.55), int(step * 0.85))
                    self.d.rectangle((x, bottom - 10 - bh, x + bw, bottom - 10), fill=vary(self.rnd.choice(BOOK_COLOURS), self.rnd, 20))
                elif items == "jars":
                    bw, bh = self.rnd.randint(30, 50), self.rnd.randint(int(step * 0.35), int(step * 0.6))
                    self.d.rounded_rectangle((x, bottom - 10 - bh, x + bw, bottom - 10), 8,
                                             fill=vary(self.rnd.choice([(230, 200, 120), (200, 90, 70), (140, 180, 120), (240, 240, 230)]), self.rnd))
                else:  # boxes of goods
                    bw, bh = self.rnd.randint(40, 70), self.rnd.randint(int(step * 0.4), int(step * 0.75))
                    self.d.rectangle((x, bottom - 10 - bh, x + bw, bottom - 10),
                                     fill=vary(self.rnd.choice([(220, 70, 70), (60, 130, 200), (240, 190, 60), (90, 180, 120), (250, 250, 245)]), self.rnd))
                x += bw + self.rnd.randint(2, 8)
            del top

    def bench(self, x0: int, x1: int, y: int, color: RGB = (120, 80, 50)) -> None:
        self.d.rectangle((x0, y, x1, y + 30), fill=color)
        self.d.rectangle((x0, y - 70, x1, y - 44), fill=color)
        self.d.rectangle((x0 + 20, y + 30, x0 + 36, y + 100), fill=(50, 50, 55))
        self.d.rectangle((x1 - 36, y + 30, x1 - 20, y + 100), fill=(50, 50, 55))

    def plant(self, x: int, y: int, s: float = 1.0) -> None:
        self.d.polygon([(x - 40 * s, y), (x + 40 * s, y), (x + 30 * s, y + 80 * s), (x - 30 * s, y + 80 * s)], fill=(150, 95, 60))
        for _ in range(7):
            dx = self.rnd.randint(-70, 70) * s
            dy = self.rnd.randint(40, 170) * s
            self.d.ellipse((x + dx - 40 * s, y - dy - 28 * s, x + dx + 40 * s, y - dy + 28 * s), fill=vary((70, 130, 75), self.rnd, 20))

    def tree(self, x: int, y: int, s: float, green: RGB | None = None) -> None:
        self.d.rectangle((x - 14 * s, y - 140 * s, x + 14 * s, y), fill=self.lit((92, 66, 48)))
        green = green or (76, 138, 80)
        for _ in range(6):
            dx, dy = self.rnd.randint(-80, 80) * s, self.rnd.randint(-90, 10) * s
            r = self.rnd.randint(60, 95) * s
            self.d.ellipse((x + dx - r, y - 190 * s + dy - r, x + dx + r, y - 190 * s + dy + r), fill=self.lit(vary(green, self.rnd, 14)))

    def pine(self, x: int, y: int, s: float, green: RGB = (40, 96, 62)) -> None:
        """A conifer: trunk and three stacked triangles."""
        self.d.rectangle((x - 10 * s, y - 60 * s, x + 10 * s, y), fill=self.lit((80, 58, 42)))
        c = self.lit(vary(green, self.rnd, 12))
        for k in range(3):
            top = y - (180 + 90 * k) * s
            half = (110 - 25 * k) * s
            self.d.polygon([(x, top - 80 * s), (x - half, top + 120 * s), (x + half, top + 120 * s)], fill=c)

    def hanok_roof(self, x0: int, x1: int, y: int, depth: int = 120, tile: RGB = (64, 70, 78)) -> None:
        """A Korean tiled roof whose eaves curve up at both ends, its lower edge at `y`."""
        c = tile
        mid = (x0 + x1) / 2
        span = x1 - x0
        pts = [(x0 - 40, y - 50), (x0 + span * 0.15, y), (mid, y + 10), (x1 - span * 0.15, y), (x1 + 40, y - 50),
               (x1 - span * 0.1, y - depth), (x0 + span * 0.1, y - depth)]  # fmt: skip
        self.d.polygon(pts, fill=c)
        for k in range(int(span // 40)):
            x = x0 + span * 0.1 + k * 40
            if x < x1 - span * 0.1:
                self.d.line((x, y - depth, x, y - 4), fill=dark(c, 0.7), width=4)
        self.d.rectangle((x0 + span * 0.1 - 20, y - depth - 24, x1 - span * 0.1 + 20, y - depth + 4), fill=dark(c, 0.8))

    def dancheong(self, box: Box, outdoor: bool = False) -> None:
        """A band of palace colour-painting (단청): green ground, red, blue and white motifs
        (`outdoor`: under the time of day's light)."""
        x0, y0, x1, y1 = box
        c = self.lit if outdoor else (lambda rgb: rgb)
        self.d.rectangle(box, fill=c((40, 120, 100)))
        step = 60
        for k, x in enumerate(range(x0, x1, step)):
            self.d.ellipse((x + 8, y0 + 6, x + step - 8, y1 - 6), fill=c((200, 60, 50) if k % 2 else (60, 90, 170)),
                           outline=c((245, 240, 220)), width=3)
