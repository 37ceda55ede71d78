"""Heritage places of 사극 and the uncanny: palace hall, palace garden, hanok, shrine."""

from __future__ import annotations

from aidas_dagster.picture.backdrop_draw import H, W, Scene, dark, gradient, vary

RED_PILLAR = (150, 40, 34)


def palace_hall(s: Scene) -> None:
    """Inside a throne hall (편전): red pillars, the painted ceiling band, the raised royal seat
    before the sun-moon-five-peaks screen (일월오봉도), stone floor."""
    s.interior((120, 60, 46), (150, 140, 120), 800)
    s.tiles((0, 800, W, H), 90, (160, 150, 130), (146, 136, 118))
    s.d.rectangle((0, 0, W, 150), fill=(40, 110, 96))  # painted ceiling beams
    s.dancheong((0, 100, W, 160))
    s.dancheong((0, 0, W, 50))
    # The screen behind the throne: blue sky, white sun and moon, five green peaks, red pine, water.
    sx0, sx1, sy0, sy1 = 560, 1360, 200, 640
    s.d.rectangle((sx0 - 14, sy0 - 14, sx1 + 14, sy1 + 14), fill=(90, 50, 30))
    s.img.paste(gradient((40, 70, 140), (70, 110, 170), (sx1 - sx0, sy1 - sy0)), (sx0, sy0))
    for k in range(5):
        px = sx0 + 80 + k * 160
        top = sy0 + (90 if k == 2 else 150 + 30 * (k % 2))
        s.d.polygon([(px - 110, sy1 - 120), (px, top), (px + 110, sy1 - 120)], fill=(40, 120, 80))
    s.d.ellipse((sx0 + 70, sy0 + 30, sx0 + 150, sy0 + 110), fill=(236, 80, 50))  # sun
    s.d.ellipse((sx1 - 150, sy0 + 30, sx1 - 70, sy0 + 110), fill=(246, 246, 236))  # moon
    for x in range(sx0, sx1, 40):
        s.d.arc((x, sy1 - 130, x + 40, sy1 - 100), 180, 360, fill=(230, 240, 250), width=4)
    s.d.rectangle((sx0, sy1 - 110, sx1, sy1), fill=(50, 90, 150))
    # The raised dais with steps and the royal seat.
    s.d.rectangle((620, 640, 1300, 700), fill=(120, 40, 30))
    s.d.rectangle((680, 700, 1240, 760), fill=(140, 50, 36))
    s.d.rectangle((740, 760, 1180, 800), fill=(160, 60, 40))
    s.d.rounded_rectangle((850, 480, 1070, 660), 20, fill=(180, 50, 40), outline=(220, 180, 80), width=8)
    s.d.rectangle((880, 560, 1040, 620), fill=(210, 170, 70))
    for x in (140, 420, 1450, 1730):  # red pillars with stone bases
        s.d.rectangle((x, 150, x + 70, 800), fill=RED_PILLAR)
        s.d.rectangle((x + 10, 150, x + 22, 800), fill=dark(RED_PILLAR, 1.25))
        s.d.rectangle((x - 20, 780, x + 90, 820), fill=(170, 166, 150))
    for x in (300, 1590):  # hanging lanterns
        s.d.line((x, 160, x, 260), fill=(60, 40, 30), width=4)
        s.d.rounded_rectangle((x - 40, 260, x + 40, 380), 16, fill=(230, 200, 140), outline=(120, 40, 30), width=6)


def palace_garden(s: Scene) -> None:
    """A palace garden (후원): a pavilion with a curved tiled roof by a square lotus pond, pines,
    the palace wall."""
    r = s.rnd
    s.sky((0, 0, W, 560))
    s.hills(560, (70, 120, 80), 170, 3)
    wall = s.lit((190, 150, 110))
    s.d.rectangle((0, 470, W, 580), fill=wall)  # the palace wall with its tiled cap
    s.d.rectangle((0, 450, W, 480), fill=s.lit((64, 70, 78)))
    ground = s.lit((170, 150, 110))
    s.img.paste(gradient(ground, dark(ground, 0.8), (W, H - 580)), (0, 580))
    pond = s.lit((70, 120, 130))
    s.d.rectangle((180, 720, 1240, 1000), fill=s.lit((140, 130, 110)))  # stone rim
    s.d.rectangle((210, 744, 1210, 976), fill=pond)
    for _ in range(9):  # lotus leaves
        x, y = r.randint(260, 1140), r.randint(780, 940)
        s.d.ellipse((x - 40, y - 14, x + 40, y + 14), fill=s.lit((70, 140, 70)))
        if r.random() < 0.5:
            s.d.ellipse((x - 10, y - 24, x + 10, y - 4), fill=s.lit((240, 150, 180)))
    # A pavilion (정자) on the far bank: pillars, railing, upswept roof.
    px0, px1 = 460, 1000
    for x in range(px0 + 20, px1, 130):
        s.d.rectangle((x, 460, x + 24, 700), fill=s.lit(RED_PILLAR))
    s.d.rectangle((px0, 640, px1 + 20, 664), fill=s.lit((120, 60, 40)))
    for x in range(px0, px1 + 20, 30):
        s.d.line((x, 664, x, 700), fill=s.lit((120, 60, 40)), width=4)
    s.dancheong((px0, 440, px1 + 20, 470), outdoor=True)
    s.hanok_roof(px0 - 20, px1 + 40, 450, 130, s.lit((60, 66, 76)))
    for x in (1380, 1600, 1820):
        s.pine(x, 760, 1.2)
    s.tree(120, 700, 0.9, (120, 160, 80))


def hanok(s: Scene) -> None:
    """A hanok house from its courtyard: the wooden veranda (대청마루), lattice paper doors, tiled
    roof above, earthen courtyard and stepping stones."""
    r = s.rnd
    s.sky((0, 0, W, 300))
    roof = s.lit((60, 64, 72))
    s.hanok_roof(60, 1860, 260, 200, roof)
    wood = s.lit(vary((150, 104, 66), r, 10))
    s.d.rectangle((120, 260, 1800, 640), fill=s.lit((236, 226, 204)))  # white walls between posts
    for x in range(120, 1801, 280):
        s.d.rectangle((x - 14, 260, x + 14, 760), fill=wood)
    for k, x in enumerate(range(134, 1786, 280)):
        if k in (2, 3):
            s.d.rectangle((x + 14, 290, x + 252, 640), fill=s.lit((80, 60, 44)))  # the open hall
            continue
        s.d.rectangle((x + 24, 300, x + 242, 620), fill=s.lit((246, 238, 216)), outline=wood, width=8)  # paper door
        for gx in range(x + 24, x + 242, 36):
            s.d.line((gx, 300, gx, 620), fill=wood, width=3)
        for gy in range(300, 620, 40):
            s.d.line((x + 24, gy, x + 242, gy), fill=wood, width=3)
    s.planks((80, 640, 1840, 700), s.lit((176, 130, 84)), 20)  # maru
    s.d.rectangle((80, 700, 1840, 760), fill=dark(wood, 0.8))
    s.d.rectangle((0, 760, W, 820), fill=s.lit((160, 156, 146)))  # stone base
    ground = s.lit((196, 170, 130))
    s.img.paste(gradient(ground, dark(ground, 0.85), (W, H - 820)), (0, 820))
    for x in (700, 900, 1100):
        s.d.ellipse((x, 900, x + 160, 960), fill=s.lit((150, 146, 136)))
    for x in (260, 1500):  # earthenware jars (장독)
        s.d.ellipse((x, 860, x + 160, 1040), fill=s.lit((110, 66, 40)))
        s.d.ellipse((x + 30, 850, x + 130, 880), fill=s.lit((80, 50, 32)))


def shrine(s: Scene) -> None:
    """A shaman's shrine (신당): an altar of candles, fruit and rice cakes before painted deity
    scrolls, five-colour cloth strips hanging, a drum."""
    r = s.rnd
    s.interior((110, 40, 36), (90, 60, 44), 800)
    obang = [(240, 240, 236), (220, 50, 40), (40, 80, 180), (240, 200, 40), (40, 140, 80)]  # 오방색
    for k in range(5):  # painted deity scrolls
        x = 300 + k * 270
        s.d.rectangle((x, 100, x + 220, 560), fill=(236, 210, 160), outline=(120, 60, 30), width=8)
        s.d.ellipse((x + 70, 150, x + 150, 230), fill=(240, 200, 170))
        s.d.polygon([(x + 40, 540), (x + 110, 230), (x + 180, 540)], fill=obang[k] if k else (200, 60, 50))
        s.d.rectangle((x - 10, 90, x + 230, 104), fill=(80, 40, 24))
    for x in range(0, W, 40):  # cloth strips along the top
        s.d.rectangle((x, 0, x + 34, 60 + r.randint(0, 60)), fill=obang[(x // 40) % 5])
    s.d.rectangle((240, 600, 1680, 650), fill=(150, 40, 34))  # altar
    s.d.rectangle((260, 650, 1660, 800), fill=(110, 30, 26))
    for x in (340, 1560):  # candles with flames
        s.d.rectangle((x, 480, x + 30, 600), fill=(246, 240, 220))
        s.d.ellipse((x + 2, 440, x + 28, 484), fill=(255, 200, 80))
    for k, x in enumerate(range(480, 1460, 160)):  # offerings: fruit, rice cakes
        s.d.rectangle((x, 584, x + 110, 600), fill=(200, 170, 110))
        for q in range(3):
            s.d.ellipse((x + 10 + q * 30, 540 - (q % 2) * 20, x + 46 + q * 30, 580 - (q % 2) * 20),
                        fill=[(230, 60, 50), (250, 170, 50), (240, 236, 220)][k % 3])
    s.d.ellipse((1700, 760, 1900, 880), fill=(180, 40, 34), outline=(60, 30, 20), width=8)  # drum
    s.d.ellipse((1720, 730, 1880, 800), fill=(230, 210, 170))
    s.spotlight(960, 0, 640, 500, (255, 200, 120), 40)


DRAWERS = {"palace_hall": palace_hall, "palace_garden": palace_garden, "hanok": hanok, "shrine": shrine}
UNGRADED = {"palace_garden", "hanok"}
