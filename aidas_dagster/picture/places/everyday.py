"""Everyday city places: cafe, office, meeting room, home, park, riverside, street, alley, bus stop,
subway, rooftop, car, parking lot."""

from __future__ import annotations

from aidas_dagster.picture.backdrop_draw import H, W, Scene, dark, gradient, vary


def cafe(s: Scene) -> None:
    r = s.rnd
    wall = vary(r.choice([(196, 160, 122), (226, 208, 180), (150, 110, 84), (214, 196, 170)]), r)
    s.interior(wall, (120, 84, 58))
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


def office(s: Scene) -> None:
    r = s.rnd
    wall = vary(r.choice([(214, 220, 228), (200, 208, 214), (230, 228, 222)]), r, 8)
    s.interior(wall, (120, 124, 132), 780)
    for k in range(3):
        x0 = 80 + k * 620
        s.window((x0, 80, x0 + 560, 640), (150, 156, 166), panes=2)
    for x in (300, 960, 1620):
        s.d.rectangle((x - 230, 20, x + 230, 40), fill=(250, 250, 245))
    for x in (260, 900, 1540):
        s.desk(x, 760, 440)
        s.monitor(x - 20, 762)
    s.plant(1840, 720, 1.2)


def meeting_room(s: Scene) -> None:
    r = s.rnd
    s.interior(vary((206, 212, 220), r, 8), (96, 104, 120), 780)
    s.window((60, 90, 520, 640), (140, 146, 156), panes=2)
    for y in range(100, 640, 24):  # half-lowered blinds
        if y < 330:
            s.d.rectangle((70, y, 510, y + 12), fill=(226, 228, 232))
    # Projection screen with a chart.
    s.d.rectangle((700, 60, 1500, 76), fill=(60, 60, 66))
    s.d.rectangle((720, 76, 1480, 520), fill=(246, 246, 250), outline=(180, 180, 186), width=4)
    for k, h in enumerate(r.sample(range(80, 340), 5)):
        s.d.rectangle((800 + k * 120, 470 - h, 870 + k * 120, 470), fill=[(60, 120, 200), (230, 120, 60), (80, 170, 110)][k % 3])
    s.d.line((780, 470, 1420, 470), fill=(90, 90, 96), width=4)
    # The long table seen end-on, chairs along both sides.
    s.d.polygon([(640, 720), (1280, 720), (1700, 940), (220, 940)], fill=(150, 110, 80))
    s.d.polygon([(220, 940), (1700, 940), (1700, 970), (220, 970)], fill=(110, 80, 58))
    for k in range(4):
        for side in (-1, 1):
            x = 960 + side * (380 + 120 * k)
            s.d.rounded_rectangle((x - 44, 640 + 60 * k, x + 44, 760 + 70 * k), 14, fill=(40, 42, 50))
    s.plant(1820, 700, 1.1)


def home(s: Scene) -> None:
    r = s.rnd
    wall = vary(r.choice([(236, 222, 200), (214, 226, 216), (226, 214, 226), (240, 232, 214)]), r)
    s.interior(wall, (156, 112, 78), 790)
    x0 = r.randint(160, 420)
    s.window((x0, 150, x0 + 620, 620), (245, 245, 240), panes=2)
    curtain = vary(r.choice([(190, 120, 110), (120, 150, 180), (210, 190, 140)]), r)
    s.d.rectangle((x0 - 110, 120, x0 + 20, 700), fill=curtain)
    s.d.rectangle((x0 + 600, 120, x0 + 730, 700), fill=curtain)
    s.d.rectangle((x0 - 140, 108, x0 + 760, 122), fill=(120, 100, 80))
    sofa = vary(r.choice([(120, 130, 160), (170, 120, 100), (110, 140, 120)]), r)
    s.d.rounded_rectangle((980, 560, 1800, 860), 60, fill=sofa)
    s.d.rounded_rectangle((960, 700, 1820, 900), 50, fill=dark(sofa, 0.85))
    for k in range(3):
        s.d.rectangle((1060 + 230 * k, 240, 1230 + 230 * k, 400), fill=(250, 248, 240), outline=(90, 70, 50), width=10)
        s.d.rectangle((1080 + 230 * k, 260, 1210 + 230 * k, 380), fill=vary((150, 170, 190), r, 50))
    s.d.rectangle((1860, 380, 1872, 760), fill=(60, 50, 40))
    s.d.polygon([(1820, 380), (1910, 380), (1890, 300), (1840, 300)], fill=(250, 230, 180))
    s.d.ellipse((200, 880, 1100, 1040), fill=vary((180, 150, 130), r))


def park(s: Scene) -> None:
    r = s.rnd
    s.outdoors(640, (104, 168, 88), skyline=0.3)
    s.d.polygon([(820, 640), (1100, 640), (1500, H), (400, H)], fill=s.lit((200, 186, 160)))
    for x in sorted(r.sample(range(40, W - 40, 80), 8)):
        s.tree(x, 650 + r.randint(-10, 30), r.uniform(0.7, 1.2))
    s.bench(1380, 1800, 800)
    s.street_lamp(300, 900, 560)


def riverside(s: Scene) -> None:
    """The Han river bank: a bridge of arches over wide water, the city beyond, a grass bank."""
    r = s.rnd
    s.sky((0, 0, W, 520))
    s.skyline((0, 260, W, 520), 0.35)
    water = s.lit((70, 120, 170))
    s.img.paste(gradient(dark(water, 1.1), dark(water, 0.8), (W, 280)), (0, 520))
    for _ in range(40):  # glints
        x, y = r.randint(0, W), r.randint(540, 790)
        s.d.line((x, y, x + r.randint(20, 70), y), fill=s.lit((200, 220, 240)) if not s.night else (250, 210, 130), width=3)
    deck = s.lit((150, 150, 156))
    s.d.rectangle((0, 420, W, 446), fill=deck)  # the bridge
    for x in range(80, W, 260):
        s.d.rectangle((x, 446, x + 30, 540), fill=dark(deck, 0.8))
        s.d.arc((x + 30, 440, x + 260, 620), 180, 360, fill=dark(deck, 0.8), width=10)
    if s.night:
        for x in range(20, W, 64):
            s.d.ellipse((x, 410, x + 12, 422), fill=(255, 220, 140))
    s.img.paste(gradient(s.lit((96, 150, 80)), s.lit((60, 104, 56)), (W, H - 800)), (0, 800))
    s.d.rectangle((0, 790, W, 812), fill=s.lit((170, 170, 160)))  # riverside path edge
    s.bench(240, 640, 900)
    s.street_lamp(1500, 980, 600)


def street(s: Scene) -> None:
    r = s.rnd
    s.sky((0, 0, W, 760))
    s.skyline((0, 200, W, 760), 0.6)
    s.d.rectangle((0, 760, W, 860), fill=s.lit((150, 146, 140)))
    s.img.paste(gradient((70, 72, 78), (40, 42, 46), (W, H - 860)), (0, 860))
    for x in range(0, W, 220):
        s.d.rectangle((x + 40, 960, x + 160, 976), fill=(230, 230, 220))
    for _ in range(4):
        # A shop sign: its bottom is always below its top, whatever the draw.
        x, top = r.randint(0, W - 220), 420 + r.randint(0, 160)
        s.d.rectangle((x, top, x + r.randint(120, 220), top + r.randint(40, 120)),
                      fill=r.choice([(220, 70, 70), (60, 130, 200), (240, 190, 60), (90, 180, 120)]))
    for x in (240, 1000, 1760):
        s.street_lamp(x, 800)


def alley(s: Scene) -> None:
    """A narrow back alley: walls close on both sides, a strip of sky, pipes, a lamp, bins."""
    r = s.rnd
    s.sky((0, 0, W, 700))
    wall = s.lit(vary((150, 130, 116), r, 12))
    s.d.polygon([(0, 0), (700, 0), (820, 700), (0, H)], fill=wall)
    s.d.polygon([(W, 0), (1220, 0), (1100, 700), (W, H)], fill=dark(wall, 0.85))
    s.d.rectangle((820, 250, 1100, 700), fill=s.lit((120, 110, 104)))  # the far wall where it turns
    s.d.polygon([(0, H), (820, 700), (1100, 700), (W, H)], fill=s.lit((96, 92, 90)))
    for y in range(760, H, 60):  # worn paving
        s.d.line((0, y, W, y), fill=s.lit((80, 78, 76)), width=3)
    for x in (120, 300, 480):  # pipes and a meter box on the left wall
        s.d.line((x, 0, x + 40, 900), fill=s.lit((90, 90, 96)), width=12)
    s.d.rectangle((1320, 300, 1500, 520), fill=s.lit((70, 110, 90)))  # a blue-green door
    s.d.rectangle((1560, 160, 1840, 240), fill=(220, 80, 70) if not s.night else (255, 90, 110))  # small sign
    s.d.rectangle((1380, 820, 1560, 1000), fill=s.lit((60, 110, 70)))  # recycling bin
    s.d.rectangle((1400, 790, 1540, 820), fill=s.lit((40, 80, 50)))
    s.d.line((0, 120, W, 180), fill=(30, 30, 34), width=3)  # wires overhead
    s.d.line((0, 200, W, 140), fill=(30, 30, 34), width=3)
    s.street_lamp(700, 760, 460)


def bus_stop(s: Scene) -> None:
    """A city bus shelter: glass panes, a roof, a route map and a bench by the road."""
    s.outdoors(640, (150, 146, 140), skyline=0.55)
    s.img.paste(gradient((74, 76, 82), (44, 46, 50), (W, H - 880)), (0, 880))
    s.d.rectangle((0, 860, W, 880), fill=s.lit((200, 196, 190)))  # kerb
    frame = s.lit((70, 80, 96))
    s.d.rectangle((360, 240, 1560, 290), fill=frame)  # roof
    for x in (400, 1500):
        s.d.rectangle((x, 290, x + 24, 860), fill=frame)
    glass = s.lit((170, 200, 220))
    s.d.rectangle((424, 320, 1500, 700), outline=frame, width=6)
    for x in range(424, 1500, 268):
        s.d.rectangle((x + 6, 326, x + 262, 694), fill=glass)
    s.d.rectangle((1180, 360, 1460, 660), fill=s.lit((240, 240, 236)))  # route map
    for k in range(5):
        s.d.line((1200, 400 + 50 * k, 1440, 400 + 50 * k), fill=[(60, 130, 200), (90, 180, 80), (220, 70, 70)][k % 3], width=8)
    s.d.rectangle((520, 760, 1100, 790), fill=s.lit((150, 150, 156)))  # bench
    s.d.rectangle((150, 360, 180, 860), fill=frame)  # the stop sign
    s.d.rounded_rectangle((80, 260, 250, 380), 20, fill=(40, 110, 200))
    s.label((165, 320), "BUS", 54, (255, 255, 255))


def subway(s: Scene) -> None:
    """A subway platform: tiled wall, the train's side with doors, a yellow safety line, signs."""
    r = s.rnd
    s.interior(vary((214, 220, 214), r, 8), (150, 150, 150), 800)
    s.tiles((0, 0, W, 260), 40, (226, 230, 226), (212, 218, 214))
    s.ceiling_lights(30, 5, 300)
    car = (205, 210, 216)
    s.d.rounded_rectangle((-40, 270, W + 40, 760), 40, fill=car)  # the train's side
    s.d.rectangle((0, 300, W, 330), fill=(60, 150, 90))  # line colour stripe
    for x in range(60, W, 480):
        s.d.rectangle((x, 400, x + 220, 560), fill=(40, 56, 76))  # windows
        s.d.rectangle((x + 260, 360, x + 420, 760), fill=(176, 182, 190), outline=(120, 124, 130), width=4)  # doors
        s.d.line((x + 340, 360, x + 340, 760), fill=(110, 114, 120), width=4)
        s.d.rectangle((x + 280, 400, x + 320, 540), fill=(40, 56, 76))
        s.d.rectangle((x + 360, 400, x + 400, 540), fill=(40, 56, 76))
    s.d.rectangle((0, 800, W, 830), fill=(240, 200, 40))  # safety line
    for x in range(0, W, 30):
        s.d.ellipse((x + 8, 808, x + 20, 820), fill=(200, 160, 20))
    s.d.rectangle((760, 60, 1160, 150), fill=(30, 40, 60))  # station sign
    s.label((960, 105), "2호선 방면", 52, (255, 255, 255))


def rooftop(s: Scene) -> None:
    s.sky((0, 0, W, 720))
    s.skyline((0, 260, W, 720), 0.7)
    s.img.paste(gradient(s.lit((150, 150, 148)), s.lit((110, 110, 108)), (W, H - 720)), (0, 720))
    rail = s.lit((90, 96, 104))
    for x in range(0, W, 90):
        s.d.rectangle((x, 600, x + 10, 760), fill=rail)
    s.d.rectangle((0, 600, W, 616), fill=rail)
    s.d.rectangle((0, 690, W, 700), fill=rail)
    tank = s.lit((170, 175, 180))
    s.d.ellipse((1500, 320, 1800, 420), fill=tank)
    s.d.rectangle((1500, 370, 1800, 620), fill=tank)
    s.d.rectangle((1540, 620, 1560, 760), fill=s.lit((100, 100, 105)))
    s.d.rectangle((1740, 620, 1760, 760), fill=s.lit((100, 100, 105)))


def car(s: Scene) -> None:
    r = s.rnd
    s.sky((0, 0, W, 760))
    s.skyline((0, 360, W, 760), 0.5)
    road = (80, 82, 88) if not s.night else (30, 32, 36)
    s.d.polygon([(700, 760), (1220, 760), (1900, H), (20, H)], fill=road)
    s.d.polygon([(950, 760), (970, 760), (1000, H), (920, H)], fill=(230, 220, 120))
    trim = vary((40, 42, 48), r, 8)
    s.d.polygon([(0, 0), (260, 0), (120, 760), (0, 760)], fill=trim)  # pillars
    s.d.polygon([(W, 0), (W - 260, 0), (W - 120, 760), (W, 760)], fill=trim)
    s.d.rectangle((0, 0, W, 60), fill=trim)
    s.d.rounded_rectangle((-100, 720, W + 100, H + 200), 120, fill=dark(trim, 1.4))  # dashboard
    s.d.ellipse((1180, 700, 1600, 1120), outline=(25, 25, 30), width=40)  # steering wheel
    s.d.rectangle((800, 800, 1050, 880), fill=(20, 60, 90) if not s.night else (40, 120, 190))
    s.d.rectangle((920, 70, 1100, 130), fill=(30, 30, 34))  # mirror


def parking_lot(s: Scene) -> None:
    """An underground car park: concrete pillars with numbers, painted bays, tube lights, a car."""
    r = s.rnd
    s.interior((150, 152, 150), (112, 114, 116), 640)
    s.d.rectangle((0, 0, W, 120), fill=(120, 122, 124))  # low ceiling
    for x in range(100, W, 440):
        s.d.rectangle((x, 130, x + 200, 142), fill=(240, 250, 240))
    for x in (200, 880, 1560):  # pillars
        s.d.rectangle((x, 120, x + 140, 680), fill=(176, 178, 174))
        s.d.rectangle((x, 440, x + 140, 520), fill=(240, 200, 40))
        s.label((x + 70, 480), r.choice(["B2", "B3", "A7", "C4"]), 52, (30, 30, 30))
        s.d.rectangle((x, 620, x + 140, 680), fill=(60, 60, 60))
    for x in range(-200, W + 200, 340):  # bay lines in perspective
        s.d.line((x + 200, 660, x - 100, H), fill=(236, 236, 230), width=10)
    # A parked car seen from behind.
    body = vary(r.choice([(30, 34, 40), (200, 200, 206), (120, 20, 30)]), r)
    s.d.rounded_rectangle((1140, 600, 1500, 860), 40, fill=body)
    s.d.rounded_rectangle((1180, 560, 1460, 680), 40, fill=dark(body, 0.8))
    s.d.rectangle((1200, 580, 1440, 660), fill=(40, 50, 64))
    for x in (1160, 1420):
        s.d.rectangle((x, 700, x + 60, 730), fill=(220, 40, 40))
    s.d.rectangle((1120, 860, 1190, 900), fill=(20, 20, 20))
    s.d.rectangle((1450, 860, 1520, 900), fill=(20, 20, 20))
    s.d.rectangle((60, 200, 160, 260), fill=(40, 160, 80))  # exit sign
    s.label((110, 230), "EXIT", 34, (255, 255, 255))


DRAWERS = {
    "cafe": cafe, "office": office, "meeting_room": meeting_room, "home": home, "park": park, "riverside": riverside,
    "street": street, "alley": alley, "bus_stop": bus_stop, "subway": subway, "rooftop": rooftop, "car": car,
    "parking_lot": parking_lot,
}  # fmt: skip
UNGRADED = {"park", "riverside", "street", "alley", "bus_stop", "rooftop", "car"}
