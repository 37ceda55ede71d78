"""Nature and the countryside: forest, beach, mountain, village."""

from __future__ import annotations

from aidas_dagster.picture.backdrop_draw import H, W, Scene, dark, gradient, vary


def forest(s: Scene) -> None:
    """A forest: layers of trunks and canopy darkening into the distance, a path, ferns, light shafts."""
    r = s.rnd
    s.sky((0, 0, W, 500))
    floor = s.lit((90, 110, 60))
    s.img.paste(gradient(floor, dark(floor, 0.7), (W, H - 560)), (0, 560))
    for layer, (count, scale, tone) in enumerate(((14, 0.6, (50, 90, 60)), (10, 0.9, (46, 104, 56)), (7, 1.4, (40, 120, 50)))):
        for _ in range(count):
            x = r.randint(0, W)
            base = 600 + layer * 120 + r.randint(-20, 20)
            trunk = s.lit(dark((96, 70, 50), 0.7 + 0.15 * layer))
            s.d.rectangle((x - 16 * scale, 0, x + 16 * scale, base), fill=trunk)
            for _ in range(4):
                cx, cy, rad = x + r.randint(-140, 140), r.randint(-40, 260), r.randint(90, 170) * scale
                s.d.ellipse((cx - rad, cy - rad, cx + rad, cy + rad), fill=s.lit(vary(tone, r, 12)))
    if not s.night:
        s.spotlight(1200, 0, 900, 220, (255, 250, 210), 40)
    s.d.polygon([(860, 640), (1060, 640), (1400, H), (560, H)], fill=s.lit((150, 120, 84)))  # path
    for _ in range(14):  # ferns
        x, y = r.randint(0, W), r.randint(800, H)
        for k in range(5):
            s.d.line((x, y, x - 60 + 30 * k, y - 70 + abs(2 - k) * 20), fill=s.lit((70, 140, 60)), width=8)


def beach(s: Scene) -> None:
    """A beach: the sea to the horizon, waves breaking on the sand, a sun or moon, a parasol."""
    r = s.rnd
    s.sky((0, 0, W, 480))
    if s.night:
        s.d.ellipse((1500, 80, 1600, 180), fill=(246, 246, 230))
    else:
        sun = (255, 150, 80) if s.tod == "evening" else (255, 244, 200)
        s.d.ellipse((1440, 200 if s.tod == "evening" else 80, 1580, 340 if s.tod == "evening" else 220), fill=sun)
    sea = s.lit((40, 120, 180))
    s.img.paste(gradient(dark(sea, 0.85), dark(sea, 1.15), (W, 260)), (0, 480))
    for y in range(500, 740, 30):  # wave lines
        for _ in range(6):
            x = r.randint(0, W)
            s.d.line((x, y, x + r.randint(60, 180), y), fill=s.lit((200, 230, 246)), width=3)
    sand = s.lit((236, 214, 170))
    s.img.paste(gradient(sand, dark(sand, 0.85), (W, H - 740)), (0, 740))
    pts = [(0, 760)] + [(x, 760 + 18 * ((x // 160) % 2)) for x in range(0, W + 160, 160)] + [(W, 790), (0, 790)]
    s.d.polygon(pts, fill=s.lit((250, 250, 246)))  # foam where the waves break
    s.d.line((1430, 500, 1460, 960), fill=s.lit((230, 230, 230)), width=10)  # parasol
    for k in range(6):  # the canopy in alternating red and white panels
        s.d.pieslice((1200, 400, 1660, 600), 180 + 30 * k, 210 + 30 * k, fill=s.lit((250, 250, 246)) if k % 2 else s.lit((230, 70, 60)))
    s.d.rectangle((1120, 900, 1300, 930), fill=s.lit((60, 130, 200)))  # a towel on the sand
    for _ in range(8):  # shells and pebbles
        x, y = r.randint(0, W), r.randint(860, H)
        s.d.ellipse((x, y, x + 20, y + 12), fill=s.lit((200, 190, 170)))


def mountain(s: Scene) -> None:
    """A mountain view: ranges of peaks fading into haze, snow caps on the far ones, a trail
    with a wooden signpost and rocks, pines in the foreground."""
    r = s.rnd
    s.sky((0, 0, W, 700))
    far = (130, 150, 180)
    pts = [(0, 620)]
    x = 0
    while x < W:
        peak_x, peak_y = x + r.randint(120, 260), r.randint(180, 320)
        pts += [(peak_x, peak_y), (peak_x + r.randint(120, 260), r.randint(420, 520))]
        x = pts[-1][0]
    pts += [(W, 620)]
    s.d.polygon(pts, fill=s.lit(far))
    for (px, py), (nx, _ny) in zip(pts[1:-1:2], pts[2:-1:2]):
        s.d.polygon([(px, py), (px - 50, py + 70), (px + 50, py + 70)], fill=s.lit((240, 244, 250)))  # snow caps
        del nx
    s.hills(760, (80, 110, 90), 260, 3)
    s.hills(900, (60, 96, 60), 180, 5)
    ground = s.lit((110, 100, 80))
    s.img.paste(gradient(ground, dark(ground, 0.8), (W, H - 900)), (0, 900))
    s.d.polygon([(700, 900), (1000, 900), (1300, H), (400, H)], fill=s.lit((160, 140, 110)))  # trail
    s.d.rectangle((1480, 760, 1500, 960), fill=s.lit((120, 86, 56)))  # signpost
    s.d.polygon([(1500, 780), (1680, 780), (1710, 810), (1680, 840), (1500, 840)], fill=s.lit((150, 110, 70)))
    s.label((1595, 810), "정상", 36, s.lit((250, 240, 220)))
    for x in (160, 360, 1780):
        s.pine(x, 980, 1.3)
    for _ in range(5):
        x, y = r.randint(0, W), r.randint(960, 1040)
        s.d.ellipse((x, y, x + r.randint(60, 140), y + r.randint(30, 60)), fill=s.lit((130, 126, 120)))


def village(s: Scene) -> None:
    """A country village: small houses with tiled and slate roofs on a lane, a big old tree,
    fields and hills behind, a stone wall."""
    r = s.rnd
    s.sky((0, 0, W, 560))
    s.hills(560, (80, 130, 80), 200, 3)
    field = s.lit((150, 170, 90))
    s.img.paste(gradient(field, dark(field, 0.85), (W, 140)), (0, 560))
    for y in range(580, 700, 20):  # furrows
        s.d.line((0, y, W, y), fill=s.lit((120, 140, 70)), width=3)
    for k, x in enumerate((80, 560, 1080, 1500)):  # houses
        wall = s.lit(vary((230, 220, 200), r, 12))
        w = 360 + r.randint(-40, 40)
        s.d.rectangle((x, 560, x + w, 820), fill=wall)
        roof = s.lit(r.choice([(60, 66, 76), (170, 70, 50), (60, 100, 140)]))
        if k % 2:
            s.hanok_roof(x - 10, x + w + 10, 580, 110, roof)
        else:
            s.d.polygon([(x - 40, 590), (x + w // 2, 440), (x + w + 40, 590)], fill=roof)
        s.d.rectangle((x + 40, 640, x + 140, 820), fill=s.lit((110, 80, 56)))  # door
        s.d.rectangle((x + 200, 640, x + 300, 720), fill=(255, 214, 130) if s.night else s.lit((150, 180, 200)))  # window
    s.d.rectangle((0, 820, W, 880), fill=s.lit((150, 140, 126)))  # stone wall along the lane
    for x in range(0, W, 70):
        s.d.ellipse((x, 820, x + 70, 856), outline=s.lit((120, 112, 100)), width=3)
    lane = s.lit((190, 170, 130))
    s.img.paste(gradient(lane, dark(lane, 0.8), (W, H - 880)), (0, 880))
    s.tree(1820, 900, 1.6, (70, 120, 60))  # the old village tree
    s.tree(900, 900, 0.8)


DRAWERS = {"forest": forest, "beach": beach, "mountain": mountain, "village": village}
UNGRADED = {"forest", "beach", "mountain", "village"}
