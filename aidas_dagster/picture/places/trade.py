"""Food and trade: restaurant, kitchen, bar, market, shop."""

from __future__ import annotations

from aidas_dagster.picture.backdrop_draw import W, Scene, dark, vary


def restaurant(s: Scene) -> None:
    r = s.rnd
    wall = vary(r.choice([(120, 60, 50), (90, 70, 60), (150, 110, 80)]), r)
    s.interior(wall, (80, 56, 42), 780)
    for k in range(5):
        x = 160 + k * 380
        s.d.rectangle((x, 160, x + 220, 520), fill=dark(wall, 0.7), outline=(200, 170, 110), width=6)  # wine racks
        for j in range(6):
            for i in range(4):
                s.d.ellipse((x + 20 + 50 * i, 180 + 55 * j, x + 50 + 50 * i, 210 + 55 * j), fill=(60, 20, 30))
    for x in (360, 960, 1560):
        s.lamp(x, 120, 34, cord=1)
        s.table(x, 840, 360, (80, 60, 50), cloth=(245, 242, 235))
        s.d.rectangle((x - 6, 770, x + 6, 818), fill=(250, 245, 220))
        s.d.ellipse((x - 10, 750, x + 10, 774), fill=(255, 210, 110))


def kitchen(s: Scene) -> None:
    """A working kitchen: steel hoods over a range with burners and pots, tiled wall, hanging pans."""
    r = s.rnd
    s.interior((220, 224, 226), (120, 124, 128), 820)
    s.tiles((0, 260, W, 640), 48, (236, 238, 240), (222, 226, 230))
    steel = (176, 182, 190)
    for x0 in (140, 1000):  # hoods
        s.d.polygon([(x0 + 60, 60), (x0 + 720, 60), (x0 + 780, 260), (x0, 260)], fill=steel, outline=dark(steel, 0.7))
        s.d.rectangle((x0, 250, x0 + 780, 280), fill=dark(steel, 0.85))
        s.d.rectangle((x0 + 330, 0, x0 + 450, 60), fill=dark(steel, 0.9))
    s.d.rectangle((0, 640, W, 680), fill=(200, 204, 210))  # steel counter and range top
    s.d.rectangle((0, 680, W, 820), fill=(150, 156, 164))
    for x in range(90, W, 160):
        s.d.rectangle((x, 700, x + 120, 800), outline=(110, 114, 120), width=5)  # drawers and oven doors
    for k, x in enumerate((260, 520, 1160, 1420, 1680)):  # burners, pots and a pan
        s.d.ellipse((x - 80, 626, x + 80, 656), fill=(50, 50, 54))
        if s.night or k % 2 == 0:
            s.d.ellipse((x - 60, 632, x + 60, 650), fill=(90, 150, 255))  # flame ring
        if k == 3:
            s.d.ellipse((x - 90, 600, x + 90, 640), fill=(40, 40, 44))
            s.d.line((x + 90, 620, x + 220, 600), fill=(40, 40, 44), width=14)
        else:
            s.d.rectangle((x - 70, 520, x + 70, 640), fill=vary((190, 194, 200), r, 10), outline=(120, 124, 130), width=4)
            s.d.rectangle((x - 86, 540, x - 70, 556), fill=(120, 124, 130))
            s.d.rectangle((x + 70, 540, x + 86, 556), fill=(120, 124, 130))
    s.d.line((60, 320, 900, 320), fill=(120, 124, 130), width=8)  # pan rail
    for x in range(120, 900, 140):
        s.d.line((x, 320, x, 360), fill=(120, 124, 130), width=4)
        s.d.ellipse((x - 40, 360, x + 40, 440), fill=(70, 70, 74))
    for x in range(1040, 1800, 110):  # ladles and knives on a magnetic strip
        s.d.rectangle((x, 340, x + 14, 470), fill=(200, 204, 210))
    s.ceiling_lights(10, 3, 300)


def bar(s: Scene) -> None:
    """A dim bar: back shelves of bottles lit from below, a long counter with stools, pendants."""
    r = s.rnd
    s.interior(vary((60, 44, 40), r, 8), (50, 36, 30), 820)
    s.d.rectangle((200, 120, 1720, 560), fill=(36, 26, 24))
    for y in (240, 380, 520):
        s.d.rectangle((200, y, 1720, y + 14), fill=(160, 110, 60))
        s.d.rectangle((200, y + 14, 1720, y + 30), fill=(255, 190, 100))  # shelf light
        x = 220
        while x < 1690:
            bw, bh = r.randint(24, 40), r.randint(70, 120)
            c = vary(r.choice([(60, 120, 60), (150, 90, 40), (200, 200, 210), (110, 40, 40), (70, 60, 120)]), r, 20)
            s.d.rectangle((x, y - bh + 30, x + bw, y), fill=c)
            s.d.rectangle((x + bw // 3, y - bh, x + 2 * bw // 3, y - bh + 30), fill=c)
            x += bw + r.randint(6, 16)
    s.d.rectangle((0, 620, W, 660), fill=(120, 70, 40))  # counter top
    s.d.rectangle((0, 660, W, 860), fill=(70, 42, 30))
    s.d.rectangle((0, 840, W, 856), fill=(170, 140, 80))  # foot rail
    for x in range(160, W, 300):
        s.d.ellipse((x - 70, 850, x + 70, 890), fill=(40, 30, 28))
        s.d.rectangle((x - 8, 890, x + 8, 1060), fill=(150, 130, 90))
        s.lamp(x + 150, 100, 30, cord=1)
    for x in (620, 1260):  # glasses on the counter
        s.d.polygon([(x, 560), (x + 50, 560), (x + 30, 600), (x + 20, 600)], fill=(220, 230, 240))
        s.d.rectangle((x + 22, 600, x + 28, 620), fill=(220, 230, 240))


def market(s: Scene) -> None:
    """A covered traditional market: striped awnings, stalls of produce in baskets, lanterns."""
    r = s.rnd
    s.interior((120, 110, 96), (120, 110, 100), 860)
    s.d.polygon([(0, 0), (W, 0), (W, 120), (0, 120)], fill=(210, 214, 200))  # translucent arcade roof
    for x in range(0, W, 120):
        s.d.line((x, 0, x + 60, 120), fill=(160, 164, 150), width=6)
    colours = [(220, 70, 60), (60, 120, 200), (240, 190, 60), (60, 160, 100)]
    for k, x0 in enumerate(range(0, W, 480)):
        c = colours[(k + r.randint(0, 3)) % 4]
        for j in range(6):  # striped awning
            s.d.polygon([(x0 + j * 80, 300), (x0 + j * 80 + 80, 300), (x0 + j * 80 + 90, 400), (x0 + j * 80 - 10, 400)],
                        fill=c if j % 2 else (246, 244, 236))
        s.d.rectangle((x0 + 20, 140, x0 + 460, 290), fill=dark(c, 0.5))  # shop sign
        s.label((x0 + 240, 215), r.choice(["과일", "채소", "생선", "떡집", "반찬", "건어물"]), 64, (255, 240, 200))
        s.d.rectangle((x0 + 30, 620, x0 + 450, 660), fill=(150, 110, 70))  # stall
        s.d.rectangle((x0 + 30, 660, x0 + 450, 860), fill=(110, 80, 56))
        for b in range(3):  # baskets of produce
            bx = x0 + 70 + b * 130
            s.d.ellipse((bx, 560, bx + 110, 640), fill=(170, 130, 70))
            fruit = r.choice([(230, 60, 50), (250, 160, 40), (120, 190, 70), (150, 60, 140)])
            for q in range(6):
                fx = bx + 12 + (q % 3) * 30
                fy = 540 + (q // 3) * 24
                s.d.ellipse((fx, fy, fx + 32, fy + 32), fill=vary(fruit, r, 20))
    for x in range(480, W, 480):  # paper lanterns, hung between the shop signs
        s.d.line((x, 120, x, 150), fill=(60, 50, 40), width=3)
        s.d.ellipse((x - 24, 150, x + 24, 230), fill=(250, 110, 80) if not s.night else (255, 150, 90))


def shop(s: Scene) -> None:
    """A convenience store / shop: shelves of bright goods, fridges, a till counter."""
    r = s.rnd
    s.interior((236, 238, 240), (210, 212, 214), 820)
    s.ceiling_lights(30, 4, 340)
    s.d.rectangle((0, 80, W, 150), fill=vary(r.choice([(40, 130, 80), (200, 60, 60), (40, 90, 180)]), r, 10))  # brand band
    for x0 in (40, 520):
        s.shelf((x0, 200, x0 + 440, 800), 5, (200, 204, 210), items="boxes")
    for x0 in (1000, 1280):  # drinks fridges
        s.d.rectangle((x0, 180, x0 + 260, 800), fill=(80, 90, 100), outline=(160, 166, 172), width=10)
        for y in range(220, 780, 110):
            s.d.rectangle((x0 + 14, y + 90, x0 + 246, y + 100), fill=(200, 206, 212))
            for bx in range(x0 + 20, x0 + 240, 36):
                s.d.rectangle((bx, y + 30, bx + 26, y + 90), fill=vary(r.choice([(230, 60, 50), (60, 120, 220), (250, 220, 60), (230, 230, 230)]), r))
        s.d.line((x0 + 240, 300, x0 + 240, 700), fill=(220, 224, 230), width=8)
    s.d.rectangle((1560, 600, W, 640), fill=(220, 224, 228))  # till counter
    s.d.rectangle((1560, 640, W, 860), fill=(150, 156, 164))
    s.d.rectangle((1640, 500, 1780, 600), fill=(40, 44, 50))
    s.d.rectangle((1654, 512, 1766, 580), fill=(110, 200, 140))


DRAWERS = {"restaurant": restaurant, "kitchen": kitchen, "bar": bar, "market": market, "shop": shop}
UNGRADED: set[str] = set()
