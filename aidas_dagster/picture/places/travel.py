"""Travel and service: hotel lobby, hotel room, airport, airplane cabin."""

from __future__ import annotations

from aidas_dagster.picture.backdrop_draw import W, Scene, dark, gradient, vary


def hotel_lobby(s: Scene) -> None:
    """A grand hotel lobby: marble floor, a chandelier, the reception desk with its wall sign,
    columns, a sofa and tall plants."""
    r = s.rnd
    s.interior(vary((196, 172, 140), r, 8), (220, 214, 204), 780)
    s.tiles((0, 780, W, 1080), 120, (230, 226, 218), (206, 200, 190))
    for x in (160, 1700):  # columns
        s.d.rectangle((x, 60, x + 100, 780), fill=(226, 218, 200))
        s.d.rectangle((x - 20, 40, x + 120, 80), fill=(200, 190, 170))
        s.d.rectangle((x - 20, 760, x + 120, 790), fill=(200, 190, 170))
    s.d.rectangle((520, 180, 1400, 320), fill=(60, 44, 34))  # wall sign
    s.label((960, 250), "HOTEL", 86, (230, 200, 120))
    s.d.rectangle((480, 560, 1440, 600), fill=(240, 236, 226))  # reception desk
    s.d.rectangle((480, 600, 1440, 780), fill=(110, 76, 50))
    for x in range(520, 1420, 120):
        s.d.rectangle((x, 620, x + 90, 760), outline=(150, 110, 70), width=4)
    s.d.rectangle((640, 520, 700, 560), fill=(200, 170, 90))  # desk bell and lamp
    s.d.rectangle((1200, 470, 1212, 560), fill=(180, 150, 80))
    s.d.polygon([(1160, 470), (1252, 470), (1236, 420), (1176, 420)], fill=(250, 230, 180))
    cx = 960  # chandelier
    s.d.line((cx, 0, cx, 60), fill=(180, 150, 80), width=6)
    for k in range(7):
        x = cx - 180 + k * 60
        s.d.line((cx, 60, x, 110), fill=(200, 170, 90), width=4)
        s.d.ellipse((x - 14, 104, x + 14, 140), fill=(255, 240, 200))
    s.d.arc((cx - 200, 40, cx + 200, 140), 0, 180, fill=(200, 170, 90), width=6)
    s.d.rounded_rectangle((1500, 820, 1880, 960), 30, fill=(120, 40, 50))  # sofa
    s.d.rounded_rectangle((1500, 760, 1880, 850), 30, fill=(140, 50, 60))
    s.plant(380, 700, 1.3)
    s.plant(1560, 640, 1.0)


def hotel_room(s: Scene) -> None:
    """A hotel room: a wide made bed with white linen and a headboard, bedside lamps, curtains
    at a city window, a framed print."""
    r = s.rnd
    s.interior(vary((210, 196, 176), r, 8), (120, 100, 90), 800)
    s.window((1320, 100, 1860, 700), (60, 56, 52), panes=2)
    s.d.rectangle((1240, 80, 1340, 760), fill=(190, 170, 140))  # curtains
    s.d.rectangle((1840, 80, W, 760), fill=(190, 170, 140))
    s.d.rectangle((280, 300, 1120, 600), fill=(110, 80, 60), outline=(80, 56, 40), width=10)  # headboard
    s.d.rectangle((340, 120, 1060, 260), fill=(240, 236, 226), outline=(160, 140, 110), width=10)  # print
    s.d.polygon([(340, 260), (520, 160), (700, 230), (880, 150), (1060, 260)], fill=(150, 170, 190))
    s.d.rectangle((240, 600, 1160, 780), fill=(250, 250, 248))  # bed
    s.d.polygon([(200, 780), (1200, 780), (1260, 960), (140, 960)], fill=(244, 244, 242))
    s.d.rectangle((140, 860, 1260, 920), fill=vary((150, 60, 60), r, 20))  # bed runner
    for x in (340, 760):
        s.d.rounded_rectangle((x, 540, x + 320, 640), 30, fill=(255, 255, 255), outline=(220, 220, 216), width=3)
    for x in (150, 1250):  # bedside tables with lamps
        s.d.rectangle((x - 70, 660, x + 70, 800), fill=(100, 72, 52))
        s.d.rectangle((x - 6, 560, x + 6, 660), fill=(200, 180, 130))
        s.d.polygon([(x - 60, 560), (x + 60, 560), (x + 44, 480), (x - 44, 480)], fill=(250, 230, 190))


def airport(s: Scene) -> None:
    """An airport departure hall: a glass wall onto the apron with a parked plane, the departures
    board, rows of seats, the shiny floor."""
    r = s.rnd
    s.interior((210, 214, 220), (190, 194, 200), 800)
    s.sky((0, 120, W, 640))
    apron = s.lit((130, 134, 140))
    s.d.rectangle((0, 560, W, 640), fill=apron)
    body = s.lit((240, 242, 246))  # a parked airliner
    s.d.rounded_rectangle((300, 420, 1500, 520), 50, fill=body)
    s.d.polygon([(1440, 420), (1560, 260), (1620, 260), (1540, 440)], fill=s.lit(vary((40, 90, 170), r, 20)))  # tail
    s.d.polygon([(780, 480), (1080, 480), (1180, 600), (1080, 600)], fill=dark(body, 0.9))  # wing
    for x in range(420, 1400, 40):
        s.d.ellipse((x, 450, x + 14, 466), fill=s.lit((60, 70, 90)))
    s.d.polygon([(300, 470), (240, 470), (300, 430)], fill=body)
    s.d.rectangle((0, 100, W, 130), fill=(150, 156, 166))  # glazing frame
    for x in range(0, W + 1, 240):
        s.d.rectangle((x - 8, 120, x + 8, 640), fill=(150, 156, 166))
    s.d.rectangle((0, 632, W, 650), fill=(150, 156, 166))
    s.d.rectangle((560, 10, 1360, 100), fill=(20, 24, 30))  # departures board
    for k in range(3):
        s.d.rectangle((580, 18 + 26 * k, 1340, 38 + 26 * k), fill=(30, 34, 42))
        s.label((960, 28 + 26 * k), f"KE{r.randint(100, 999)}   {r.choice(['TOKYO', 'PARIS', 'NEW YORK', 'JEJU', 'BANGKOK'])}   BOARDING",
                20, (250, 200, 60))  # fmt: skip
    for row, y in enumerate((760, 880)):  # rows of linked seats
        for x in range(100 + row * 60, W - 100, 120):
            s.d.rounded_rectangle((x, y - 80, x + 100, y), 14, fill=(40, 80, 140))
            s.d.rectangle((x, y, x + 100, y + 24), fill=(50, 96, 160))
        s.d.rectangle((80, y + 24, W - 80, y + 36), fill=(120, 124, 130))
    for _ in range(10):  # reflections on the polished floor
        x = r.randint(0, W)
        s.d.line((x, 960, x + 40, 1080), fill=(214, 218, 224), width=12)


def airplane_cabin(s: Scene) -> None:
    """Inside an airliner: the aisle between rows of seats, the curved ceiling with overhead
    bins, oval windows along both sides."""
    s.img.paste(gradient((226, 228, 232), (196, 198, 204)), (0, 0))
    s.d.polygon([(0, 0), (W, 0), (1300, 300), (620, 300)], fill=(236, 238, 242))  # ceiling
    bins = (214, 216, 222)
    s.d.polygon([(0, 60), (620, 300), (640, 380), (0, 300)], fill=bins)  # overhead bins
    s.d.polygon([(W, 60), (1300, 300), (1280, 380), (W, 300)], fill=bins)
    for k in range(4):
        t = k / 4
        s.d.line((620 * t, 60 + 240 * t, 620 * t, 300 + 80 * t), fill=dark(bins, 0.85), width=4)
        s.d.line((W - 620 * t, 60 + 240 * t, W - 620 * t, 300 + 80 * t), fill=dark(bins, 0.85), width=4)
    s.d.line((620, 300, 1300, 300), fill=(255, 250, 230), width=6)  # cabin light strip
    for k in range(4):  # windows shrinking down the cabin
        t = k / 4
        size = 110 * (1 - 0.6 * t)
        for x in (40 + 560 * t, W - 40 - 560 * t - size):
            y = 380 + 60 * t
            sky = (20, 30, 60) if s.night else (140, 190, 240)
            s.d.rounded_rectangle((x, y, x + size * 0.8, y + size), round(size * 0.35), fill=sky, outline=(180, 182, 188), width=5)
    s.d.polygon([(760, 520), (1160, 520), (1500, 1080), (420, 1080)], fill=(60, 70, 110))  # aisle carpet
    seat = (50, 70, 120)
    for k in range(5):  # seat backs, nearest largest, both sides of the aisle
        t = (4 - k) / 4
        h = 120 + 260 * t
        w = 100 + 240 * t
        y = 560 + 480 * t
        xl = 760 - 40 - w * 1.1 - 300 * t
        xr = 1160 + 40 + 300 * t
        for x0 in (xl, xl + w * 1.05, xr, xr + w * 1.05):
            s.d.rounded_rectangle((x0, y - h, x0 + w, y), round(w * 0.2), fill=seat)
            s.d.rectangle((x0 + w * 0.1, y - h, x0 + w * 0.9, y - h + h * 0.2), fill=(230, 232, 236))  # headrest cover
    s.d.rectangle((880, 320, 1040, 470), fill=(220, 222, 228), outline=(170, 172, 178), width=6)  # galley curtain
    for x in range(888, 1040, 24):
        s.d.line((x, 324, x, 466), fill=(196, 198, 204), width=3)


DRAWERS = {"hotel_lobby": hotel_lobby, "hotel_room": hotel_room, "airport": airport, "airplane_cabin": airplane_cabin}
UNGRADED: set[str] = set()
