"""Procedural 1920×1080 backdrops: one per scene location, recognised by Korean keywords.

A location such as "성수동 카페" is drawn as a cafe (windows, counter, tables, lamps), seeded by its
text so the same place always looks the same, tinted by the time of day (아침/낮/저녁/밤) and
softly blurred so the characters in front stand out.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import OrderedDict
from collections.abc import Callable

from PIL import Image, ImageChops, ImageDraw, ImageFilter

BACKDROP_VERSION = 2
W, H = 1920, 1080
RGB = tuple[int, int, int]

# First match wins, so specific places come before general ones ("병원 옥상" is a rooftop).
KINDS: list[tuple[str, tuple[str, ...]]] = [
    ("car", ("차 안", "차안", "자동차", "택시", "운전석", "조수석", "차 속")),
    ("rooftop", ("옥상", "루프탑")),
    ("police", ("경찰서", "취조실", "파출소", "수사")),
    ("hospital", ("병원", "병실", "응급실", "진료실", "의원")),
    ("school", ("학교", "교실", "캠퍼스", "강의실", "대학", "도서관", "학원")),
    ("cafe", ("카페", "커피", "찻집", "베이커리", "빵집")),
    ("restaurant", ("레스토랑", "식당", "포장마차", "술집", "이자카야", "고깃집", "호프", "bar", "와인바", "음식점", "식사")),
    ("office", ("사무실", "회사", "회의실", "오피스", "사무", "본사", "팀장실", "로비", "스튜디오", "편집국")),
    ("home", ("거실", "집", "방 안", "아파트", "주방", "부엌", "자취", "원룸", "침실", "오피스텔")),
    ("park", ("공원", "산책", "숲", "한강", "정원", "벤치", "강변", "호수", "놀이터")),
    ("street", ("거리", "골목", "길", "정류장", "횡단보도", "시장", "역 앞", "광장", "번화가", "거리에서", "앞")),
]

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


def location_kind(location: str) -> str:
    text = location.lower()
    for kind, words in KINDS:
        if any(w in text for w in words):
            return kind
    return "generic"


def time_key(time_of_day: str) -> str:
    text = time_of_day.lower()
    for key, words in (
        ("night", ("밤", "새벽", "심야", "자정", "night", "midnight")),
        ("evening", ("저녁", "노을", "해질", "황혼", "석양", "evening", "sunset", "dusk")),
        ("morning", ("아침", "오전", "출근", "morning", "dawn")),
        ("day", ("낮", "오후", "점심", "정오", "day", "noon", "afternoon")),
    ):
        if any(w in text for w in words):
            return key
    return "day"


def _rng(*parts: str) -> random.Random:
    return random.Random(int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:16], 16))


def _gradient(top: RGB, bottom: RGB, size: tuple[int, int] = (W, H)) -> Image.Image:
    col = Image.new("RGB", (1, 256))
    col.putdata([tuple(round(a + (b - a) * i / 255) for a, b in zip(top, bottom)) for i in range(256)])  # type: ignore[misc]
    return col.resize(size, Image.BILINEAR)


def _vary(color: RGB, rnd: random.Random, amount: int = 18) -> RGB:
    return tuple(max(0, min(255, c + rnd.randint(-amount, amount))) for c in color)  # type: ignore[return-value]


def _dark(color: RGB, f: float) -> RGB:
    return tuple(max(0, min(255, round(c * f))) for c in color)  # type: ignore[return-value]


class _Scene:
    """Drawing context of one backdrop."""

    def __init__(self, kind: str, tod: str, rnd: random.Random):
        self.kind, self.tod, self.rnd = kind, tod, rnd
        self.img = Image.new("RGB", (W, H))
        self.d = ImageDraw.Draw(self.img)
        self.night = tod == "night"

    def sky(self, box: tuple[int, int, int, int]) -> None:
        """Sky seen in a window or outdoors, with a skyline and (at night) lit windows and stars."""
        x0, y0, x1, y1 = box
        top, bottom = SKIES[self.tod]
        self.img.paste(_gradient(top, bottom, (x1 - x0, y1 - y0)), (x0, y0))
        if self.night:
            for _ in range((x1 - x0) * (y1 - y0) // 9000):
                x, y = self.rnd.randint(x0, x1), self.rnd.randint(y0, y0 + (y1 - y0) // 2)
                self.d.point((x, y), fill=(230, 230, 255))

    def skyline(self, box: tuple[int, int, int, int], depth: float = 0.45) -> None:
        x0, y0, x1, y1 = box
        tone = {"night": (22, 26, 48), "evening": (86, 62, 92), "morning": (140, 150, 175), "day": (125, 145, 175)}[self.tod]
        x = x0
        while x < x1:
            bw = self.rnd.randint(50, 140)
            bh = int((y1 - y0) * self.rnd.uniform(0.15, depth + 0.35))
            c = _vary(tone, self.rnd, 10)
            self.d.rectangle((x, y1 - bh, x + bw, y1), fill=c)
            lit = (255, 214, 130) if self.night else _dark(c, 1.15)
            for wy in range(y1 - bh + 12, y1 - 8, 22):
                for wx in range(x + 8, x + bw - 10, 18):
                    if self.rnd.random() < (0.35 if self.night else 0.5):
                        self.d.rectangle((wx, wy, wx + 8, wy + 11), fill=lit)
            x += bw + self.rnd.randint(0, 12)

    def window(self, box: tuple[int, int, int, int], frame: RGB, panes: int = 2, skyline: bool = True) -> None:
        x0, y0, x1, y1 = box
        self.sky(box)
        if skyline:
            self.skyline((x0, y0 + (y1 - y0) // 3, x1, y1))
        self.d.rectangle(box, outline=frame, width=14)
        for k in range(1, panes):
            x = x0 + (x1 - x0) * k // panes
            self.d.line((x, y0, x, y1), fill=frame, width=10)
        self.d.line((x0, (y0 + y1) // 2, x1, (y0 + y1) // 2), fill=frame, width=8)

    def lamp(self, x: int, y: int, r: int = 26, cord: int = 0) -> None:
        if cord:
            self.d.line((x, 0, x, y - r), fill=(40, 35, 30), width=4)
        self.d.pieslice((x - r * 1.6, y - r, x + r * 1.6, y + r * 1.2), 180, 360, fill=(60, 50, 40))
        self.d.ellipse((x - r * 0.6, y - 4, x + r * 0.6, y + r * 0.8), fill=(255, 226, 160))

    def table(self, x: int, y: int, w: int, color: RGB, cloth: RGB | None = None) -> None:
        top = cloth or color
        self.d.rectangle((x - 12, y, x + 12, y + 160), fill=_dark(color, 0.6))
        self.d.ellipse((x - w // 2, y - 22, x + w // 2, y + 22), fill=top, outline=_dark(top, 0.7), width=3)
        if cloth:
            self.d.polygon([(x - w // 2, y), (x + w // 2, y), (x + w // 2 - 10, y + 90), (x - w // 2 + 10, y + 90)], fill=cloth)

    def plant(self, x: int, y: int, s: float = 1.0) -> None:
        self.d.polygon([(x - 40 * s, y), (x + 40 * s, y), (x + 30 * s, y + 80 * s), (x - 30 * s, y + 80 * s)], fill=(150, 95, 60))
        for k in range(7):
            dx = self.rnd.randint(-70, 70) * s
            dy = self.rnd.randint(40, 170) * s
            self.d.ellipse((x + dx - 40 * s, y - dy - 28 * s, x + dx + 40 * s, y - dy + 28 * s), fill=_vary((70, 130, 75), self.rnd, 20))

    def tree(self, x: int, y: int, s: float) -> None:
        self.d.rectangle((x - 14 * s, y - 140 * s, x + 14 * s, y), fill=(92, 66, 48))
        green = {"night": (24, 44, 36), "evening": (80, 86, 58)}.get(self.tod, (76, 138, 80))
        for _ in range(6):
            dx, dy = self.rnd.randint(-80, 80) * s, self.rnd.randint(-90, 10) * s
            r = self.rnd.randint(60, 95) * s
            self.d.ellipse((x + dx - r, y - 190 * s + dy - r, x + dx + r, y - 190 * s + dy + r), fill=_vary(green, self.rnd, 14))

    def street_lamp(self, x: int, ground: int, h: int = 520) -> None:
        self.d.rectangle((x - 7, ground - h, x + 7, ground), fill=(50, 55, 62))
        self.d.line((x, ground - h, x + 60, ground - h - 20), fill=(50, 55, 62), width=10)
        glow = (255, 220, 140) if self.night or self.tod == "evening" else (230, 232, 220)
        self.d.ellipse((x + 40, ground - h - 30, x + 90, ground - h), fill=glow)


# ---------------------------------------------------------------- places


def _interior(s: _Scene, wall: RGB, floor: RGB, floor_y: int = 760) -> None:
    s.img.paste(_gradient(_dark(wall, 1.08), _dark(wall, 0.9), (W, floor_y)), (0, 0))
    s.img.paste(_gradient(_dark(floor, 1.05), _dark(floor, 0.8), (W, H - floor_y)), (0, floor_y))
    s.d.rectangle((0, floor_y - 18, W, floor_y), fill=_dark(wall, 0.75))


def _cafe(s: _Scene) -> None:
    r = s.rnd
    wall = _vary(r.choice([(196, 160, 122), (226, 208, 180), (150, 110, 84), (214, 196, 170)]), r)
    _interior(s, wall, (120, 84, 58))
    frame = (70, 50, 36)
    for k in range(2):
        x0 = 120 + k * 560 + r.randint(-20, 20)
        s.window((x0, 130, x0 + 480, 600), frame, panes=3)
    s.d.rectangle((1280, 140, 1760, 420), fill=(40, 44, 40), outline=(110, 80, 55), width=12)  # menu board
    for k in range(6):
        s.d.line((1320, 190 + 36 * k, 1320 + r.randint(160, 380), 190 + 36 * k), fill=(220, 220, 205), width=5)
    s.d.rectangle((1180, 560, W, 800), fill=(92, 62, 44))  # counter
    s.d.rectangle((1180, 540, W, 572), fill=(60, 42, 30))
    s.d.rounded_rectangle((1400, 440, 1560, 560), 12, fill=(170, 175, 185))  # espresso machine
    for x in (300, 760, 1180, 1640):
        s.lamp(x + r.randint(-40, 40), 90 + r.randint(0, 40), cord=1)
    for x in (340, 860):
        s.table(x, 820, 260, (110, 75, 50))
        s.d.rounded_rectangle((x - 30, 780, x + 6, 812), 6, fill=(245, 245, 240))
    s.plant(90, 700, 1.1)


def _office(s: _Scene) -> None:
    r = s.rnd
    wall = _vary(r.choice([(214, 220, 228), (200, 208, 214), (230, 228, 222)]), r, 8)
    _interior(s, wall, (120, 124, 132), 780)
    for k in range(3):
        x0 = 80 + k * 620
        s.window((x0, 80, x0 + 560, 640), (150, 156, 166), panes=2)
    for x in (300, 960, 1620):
        s.d.rectangle((x - 230, 20, x + 230, 40), fill=(250, 250, 245))
    for x in (260, 900, 1540):
        s.d.rectangle((x - 220, 760, x + 220, 790), fill=(200, 200, 205))
        s.d.rectangle((x - 200, 790, x - 180, 960), fill=(90, 90, 95))
        s.d.rectangle((x + 180, 790, x + 200, 960), fill=(90, 90, 95))
        s.d.rectangle((x - 110, 620, x + 70, 740), fill=(30, 32, 38), outline=(70, 70, 80), width=6)
        s.d.rectangle((x - 96, 634, x + 56, 726), fill=(60, 110, 170) if not s.night else (90, 150, 220))
        s.d.rectangle((x - 30, 740, x - 10, 762), fill=(70, 70, 80))
    s.plant(1840, 720, 1.2)


def _home(s: _Scene) -> None:
    r = s.rnd
    wall = _vary(r.choice([(236, 222, 200), (214, 226, 216), (226, 214, 226), (240, 232, 214)]), r)
    _interior(s, wall, (156, 112, 78), 790)
    x0 = r.randint(160, 420)
    s.window((x0, 150, x0 + 620, 620), (245, 245, 240), panes=2)
    curtain = _vary(r.choice([(190, 120, 110), (120, 150, 180), (210, 190, 140)]), r)
    s.d.rectangle((x0 - 110, 120, x0 + 20, 700), fill=curtain)
    s.d.rectangle((x0 + 600, 120, x0 + 730, 700), fill=curtain)
    s.d.rectangle((x0 - 140, 108, x0 + 760, 122), fill=(120, 100, 80))
    sofa = _vary(r.choice([(120, 130, 160), (170, 120, 100), (110, 140, 120)]), r)
    s.d.rounded_rectangle((980, 560, 1800, 860), 60, fill=sofa)
    s.d.rounded_rectangle((960, 700, 1820, 900), 50, fill=_dark(sofa, 0.85))
    for k in range(3):
        s.d.rectangle((1060 + 230 * k, 240, 1230 + 230 * k, 400), fill=(250, 248, 240), outline=(90, 70, 50), width=10)
        s.d.rectangle((1080 + 230 * k, 260, 1210 + 230 * k, 380), fill=_vary((150, 170, 190), r, 50))
    s.d.rectangle((1860, 380, 1872, 760), fill=(60, 50, 40))
    s.d.polygon([(1820, 380), (1910, 380), (1890, 300), (1840, 300)], fill=(250, 230, 180))
    s.d.ellipse((200, 880, 1100, 1040), fill=_vary((180, 150, 130), r))


def _park(s: _Scene) -> None:
    r = s.rnd
    s.sky((0, 0, W, 700))
    s.skyline((0, 380, W, 640), 0.3)
    grass = {"night": (24, 52, 34), "evening": (96, 110, 60)}.get(s.tod, (104, 168, 88))
    s.img.paste(_gradient(grass, _dark(grass, 0.7), (W, 440)), (0, 640))
    s.d.polygon([(820, 640), (1100, 640), (1500, H), (400, H)], fill=(200, 186, 160) if not s.night else (70, 66, 62))
    for x in sorted(r.sample(range(40, W - 40, 80), 8)):
        s.tree(x, 650 + r.randint(-10, 30), r.uniform(0.7, 1.2))
    s.d.rectangle((1380, 800, 1800, 830), fill=(120, 80, 50))  # bench
    s.d.rectangle((1380, 730, 1800, 756), fill=(120, 80, 50))
    s.d.rectangle((1400, 830, 1416, 900), fill=(50, 50, 55))
    s.d.rectangle((1764, 830, 1780, 900), fill=(50, 50, 55))
    s.street_lamp(300, 900, 560)


def _street(s: _Scene) -> None:
    r = s.rnd
    s.sky((0, 0, W, 760))
    s.skyline((0, 200, W, 760), 0.6)
    s.d.rectangle((0, 760, W, 860), fill=(150, 146, 140) if not s.night else (60, 60, 66))
    s.img.paste(_gradient((70, 72, 78), (40, 42, 46), (W, H - 860)), (0, 860))
    for x in range(0, W, 220):
        s.d.rectangle((x + 40, 960, x + 160, 976), fill=(230, 230, 220))
    for k in range(4):
        # A shop sign: its bottom is always below its top, whatever the draw.
        x, top = r.randint(0, W - 220), 420 + r.randint(0, 160)
        s.d.rectangle((x, top, x + r.randint(120, 220), top + r.randint(40, 120)),
                      fill=r.choice([(220, 70, 70), (60, 130, 200), (240, 190, 60), (90, 180, 120)]))
    for x in (240, 1000, 1760):
        s.street_lamp(x, 800)


def _hospital(s: _Scene) -> None:
    r = s.rnd
    _interior(s, _vary((206, 230, 222), r, 8), (190, 196, 200), 800)
    s.window((1200, 140, 1760, 600), (235, 240, 240), panes=2)
    s.d.line((60, 90, 1100, 90), fill=(160, 165, 170), width=8)
    for k in range(9):
        x = 80 + k * 60
        s.d.rectangle((x, 90, x + 56, 700), fill=(170, 200, 215) if k % 2 else (180, 210, 224))
    s.d.rectangle((700, 640, 1500, 720), fill=(250, 250, 252))  # bed
    s.d.rectangle((700, 720, 1500, 820), fill=(200, 205, 215))
    s.d.rectangle((680, 560, 720, 860), fill=(160, 166, 176))
    s.d.rounded_rectangle((730, 600, 900, 660), 20, fill=(255, 255, 255))
    s.d.line((1620, 300, 1620, 880), fill=(170, 175, 180), width=8)  # IV stand
    s.d.rounded_rectangle((1590, 300, 1650, 400), 14, fill=(230, 240, 250), outline=(170, 175, 180), width=4)


def _school(s: _Scene) -> None:
    r = s.rnd
    _interior(s, _vary((232, 226, 206), r, 8), (170, 130, 90), 800)
    s.d.rectangle((520, 150, 1500, 560), fill=(48, 84, 64), outline=(140, 110, 80), width=16)  # chalkboard
    for k in range(4):
        s.d.line((600, 230 + 70 * k, 600 + r.randint(300, 760), 230 + 70 * k), fill=(230, 235, 230), width=5)
    s.window((40, 160, 420, 640), (240, 240, 236), panes=2, skyline=False)
    s.window((1600, 160, 1900, 640), (240, 240, 236), panes=2, skyline=False)
    s.d.ellipse((960 - 40, 60, 960 + 40, 140), fill=(250, 250, 250), outline=(60, 60, 60), width=6)
    for row in range(2):
        for k in range(4):
            x = 240 + k * 470
            y = 820 + row * 130
            s.d.rectangle((x - 150, y, x + 150, y + 26), fill=(190, 150, 100))
            s.d.rectangle((x - 130, y + 26, x - 116, y + 120), fill=(90, 90, 95))
            s.d.rectangle((x + 116, y + 26, x + 130, y + 120), fill=(90, 90, 95))


def _police(s: _Scene) -> None:
    r = s.rnd
    _interior(s, _vary((160, 172, 184), r, 8), (96, 100, 108), 800)
    s.window((140, 140, 700, 600), (120, 124, 130), panes=1)
    for y in range(150, 600, 26):
        s.d.rectangle((150, y, 690, y + 12), fill=(200, 204, 210))  # blinds
    s.d.rectangle((900, 180, 1500, 560), fill=(170, 140, 100), outline=(90, 70, 50), width=12)  # notice board
    for _ in range(9):
        x, y = r.randint(930, 1400), r.randint(200, 460)
        s.d.rectangle((x, y, x + 80, y + 70), fill=r.choice([(250, 250, 240), (250, 240, 160), (230, 230, 230)]))
    s.d.rectangle((300, 760, 1700, 800), fill=(110, 100, 90))
    s.d.rectangle((400, 700, 560, 760), fill=(210, 190, 150))
    s.lamp(1200, 110, 40, cord=1)


def _rooftop(s: _Scene) -> None:
    r = s.rnd
    s.sky((0, 0, W, 720))
    s.skyline((0, 260, W, 720), 0.7)
    s.img.paste(_gradient((150, 150, 148), (110, 110, 108), (W, H - 720)), (0, 720))
    if s.night:
        s.d.rectangle((0, 720, W, H), fill=(60, 62, 70))
    for x in range(0, W, 90):
        s.d.rectangle((x, 600, x + 10, 760), fill=(90, 96, 104))
    s.d.rectangle((0, 600, W, 616), fill=(90, 96, 104))
    s.d.rectangle((0, 690, W, 700), fill=(90, 96, 104))
    s.d.ellipse((1500, 320, 1800, 420), fill=(170, 175, 180))
    s.d.rectangle((1500, 370, 1800, 620), fill=(170, 175, 180))
    s.d.rectangle((1540, 620, 1560, 760), fill=(100, 100, 105))
    s.d.rectangle((1740, 620, 1760, 760), fill=(100, 100, 105))


def _restaurant(s: _Scene) -> None:
    r = s.rnd
    wall = _vary(r.choice([(120, 60, 50), (90, 70, 60), (150, 110, 80)]), r)
    _interior(s, wall, (80, 56, 42), 780)
    for k in range(5):
        x = 160 + k * 380
        s.d.rectangle((x, 160, x + 220, 520), fill=_dark(wall, 0.7), outline=(200, 170, 110), width=6)
        for j in range(6):
            for i in range(4):
                s.d.ellipse((x + 20 + 50 * i, 180 + 55 * j, x + 50 + 50 * i, 210 + 55 * j), fill=(60, 20, 30))
    for x in (360, 960, 1560):
        s.lamp(x, 120, 34, cord=1)
        s.table(x, 840, 360, (80, 60, 50), cloth=(245, 242, 235))
        s.d.rectangle((x - 6, 770, x + 6, 818), fill=(250, 245, 220))
        s.d.ellipse((x - 10, 750, x + 10, 774), fill=(255, 210, 110))


def _car(s: _Scene) -> None:
    r = s.rnd
    s.sky((0, 0, W, 760))
    s.skyline((0, 360, W, 760), 0.5)
    road = (80, 82, 88) if not s.night else (30, 32, 36)
    s.d.polygon([(700, 760), (1220, 760), (1900, H), (20, H)], fill=road)
    s.d.polygon([(950, 760), (970, 760), (1000, H), (920, H)], fill=(230, 220, 120))
    trim = _vary((40, 42, 48), r, 8)
    s.d.polygon([(0, 0), (260, 0), (120, 760), (0, 760)], fill=trim)  # pillars
    s.d.polygon([(W, 0), (W - 260, 0), (W - 120, 760), (W, 760)], fill=trim)
    s.d.rectangle((0, 0, W, 60), fill=trim)
    s.d.rounded_rectangle((-100, 720, W + 100, H + 200), 120, fill=_dark(trim, 1.4))  # dashboard
    s.d.ellipse((1180, 700, 1600, 1120), outline=(25, 25, 30), width=40)  # steering wheel
    s.d.rectangle((800, 800, 1050, 880), fill=(20, 60, 90) if not s.night else (40, 120, 190))
    s.d.rectangle((920, 70, 1100, 130), fill=(30, 30, 34))  # mirror


def _generic(s: _Scene) -> None:
    r = s.rnd
    top, bottom = SKIES[s.tod]
    base = _vary(r.choice([(120, 110, 150), (90, 130, 150), (150, 120, 110)]), r, 30)
    s.img.paste(_gradient(_dark(base, 1.2), _dark(bottom, 0.6)), (0, 0))
    for _ in range(28):
        x, y, rad = r.randint(0, W), r.randint(0, H), r.randint(30, 120)
        s.d.ellipse((x - rad, y - rad, x + rad, y + rad), fill=_vary((230, 210, 180), r, 25))


DRAWERS: dict[str, Callable[[_Scene], None]] = {
    "cafe": _cafe, "office": _office, "home": _home, "park": _park, "street": _street, "hospital": _hospital,
    "school": _school, "police": _police, "rooftop": _rooftop, "restaurant": _restaurant, "car": _car, "generic": _generic,
}
OUTDOOR = {"park", "street", "rooftop"}


def _vignette() -> Image.Image:
    small = Image.new("L", (192, 108))
    px = small.load()
    for y in range(108):
        for x in range(192):
            d = ((x - 96) / 96) ** 2 + ((y - 54) / 54) ** 2
            px[x, y] = max(0, min(255, round(255 * (1 - 0.38 * max(0.0, d - 0.25)))))
    return small.resize((W, H), Image.BILINEAR)


_VIGNETTE: Image.Image | None = None


def draw_backdrop(location: str, time_of_day: str = "", atmosphere: str = "") -> Image.Image:
    """The 1920×1080 RGB backdrop of a location at a time of day (deterministic)."""
    global _VIGNETTE
    kind, tod = location_kind(location), time_key(time_of_day)
    scene = _Scene(kind, tod, _rng(str(BACKDROP_VERSION), location))
    DRAWERS[kind](scene)
    img = scene.img
    if kind not in OUTDOOR and kind != "car":
        tint = TINTS[tod]
        img = img.convert("RGB", (tint[0], 0, 0, 0, 0, tint[1], 0, 0, 0, 0, tint[2], 0))
    mood = atmosphere.lower()
    if any(w in mood for w in ("긴장", "불안", "어두", "tense", "dark", "슬픔", "sad")):
        img = img.convert("RGB", (0.9, 0.05, 0.05, 0, 0.04, 0.9, 0.06, 0, 0.05, 0.08, 1.0, 0))  # cooler, flatter
    elif any(w in mood for w in ("설렘", "로맨", "따뜻", "romantic", "warm", "행복", "happy")):
        img = img.convert("RGB", (1.05, 0, 0, 4, 0, 1.0, 0, 0, 0, 0, 0.97, 0))  # a touch warmer
    # Soft focus separates the backdrop from the sharp characters; the vignette frames them.
    img = img.filter(ImageFilter.GaussianBlur(2.2))
    if _VIGNETTE is None:
        _VIGNETTE = _vignette()
    return ImageChops.multiply(img, Image.merge("RGB", (_VIGNETTE,) * 3))


class Backdrops:
    """Backdrops of one render, drawn once per (location, time of day, atmosphere) and kept while
    recently used (at most `keep` pictures: a 6 MB picture per location adds up)."""

    def __init__(self, keep: int = 6) -> None:
        self.keep = keep
        self._cache: OrderedDict[tuple[str, str, str], Image.Image] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, key: tuple[str, str, str], draw: Callable[[], Image.Image]) -> Image.Image:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        img = draw()
        with self._lock:
            self._cache[key] = img
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        return img

    def get(self, location: str, time_of_day: str = "", atmosphere: str = "") -> Image.Image:
        key = (location, time_of_day, atmosphere)
        return self._get(key, lambda: draw_backdrop(*key))

    def card(self, location: str, time_of_day: str = "", atmosphere: str = "") -> Image.Image:
        """The backdrop darker and blurrier, behind a contextual card."""
        base = self.get(location, time_of_day, atmosphere)
        return self._get(
            ("\x00card:" + location, time_of_day, atmosphere),
            lambda: base.filter(ImageFilter.GaussianBlur(9)).point(lambda v: round(v * 0.55)),
        )
