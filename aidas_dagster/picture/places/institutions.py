"""Medicine, science, school, police and law: hospital, operating room, lab, school, lecture hall,
library, dormitory, police, interrogation room, courtroom, prison."""

from __future__ import annotations

from aidas_dagster.picture.backdrop_draw import W, Scene, dark, vary


def hospital(s: Scene) -> None:
    r = s.rnd
    s.interior(vary((206, 230, 222), r, 8), (190, 196, 200), 800)
    s.window((1200, 140, 1760, 600), (235, 240, 240), panes=2)
    s.d.line((60, 90, 1100, 90), fill=(160, 165, 170), width=8)
    for k in range(9):
        x = 80 + k * 60
        s.d.rectangle((x, 90, x + 56, 700), fill=(170, 200, 215) if k % 2 else (180, 210, 224))  # curtain
    s.d.rectangle((700, 640, 1500, 720), fill=(250, 250, 252))  # bed
    s.d.rectangle((700, 720, 1500, 820), fill=(200, 205, 215))
    s.d.rectangle((680, 560, 720, 860), fill=(160, 166, 176))
    s.d.rounded_rectangle((730, 600, 900, 660), 20, fill=(255, 255, 255))
    s.d.line((1620, 300, 1620, 880), fill=(170, 175, 180), width=8)  # IV stand
    s.d.rounded_rectangle((1590, 300, 1650, 400), 14, fill=(230, 240, 250), outline=(170, 175, 180), width=4)
    s.d.rectangle((1000, 380, 1160, 500), fill=(30, 34, 40), outline=(120, 124, 130), width=6)  # monitor
    s.d.line([(1012, 450), (1050, 450), (1062, 410), (1078, 480), (1092, 440), (1148, 440)], fill=(80, 230, 120), width=4)


def operating_room(s: Scene) -> None:
    """Green-tiled theatre: the round surgical lamp over a draped table, monitors and trays."""
    s.interior((150, 196, 186), (120, 150, 146), 800)
    s.tiles((0, 0, W, 782), 60, (158, 204, 194), (146, 192, 182))
    s.d.line((960, 0, 960, 150), fill=(120, 124, 130), width=16)
    s.d.ellipse((700, 140, 1220, 300), fill=(200, 206, 212), outline=(110, 114, 120), width=10)  # surgical lamp
    for dx in (-150, -50, 50, 150):
        s.d.ellipse((960 + dx - 40, 190, 960 + dx + 40, 250), fill=(255, 255, 240))
    s.spotlight(960, 260, 720, 420, (255, 255, 240), 50)
    s.d.rectangle((560, 700, 1360, 760), fill=(70, 130, 140))  # draped table
    s.d.polygon([(560, 760), (1360, 760), (1320, 900), (600, 900)], fill=(60, 116, 126))
    s.d.rectangle((920, 900, 1000, 1060), fill=(150, 154, 160))
    for x in (150, 1620):  # monitors on stands
        s.d.rectangle((x, 380, x + 240, 540), fill=(24, 28, 34), outline=(130, 134, 140), width=8)
        s.d.line([(x + 16, 470), (x + 70, 470), (x + 86, 410), (x + 104, 520), (x + 122, 450), (x + 224, 450)], fill=(80, 230, 120), width=5)
        s.d.line([(x + 16, 510), (x + 224, 500)], fill=(240, 210, 80), width=3)
        s.d.rectangle((x + 110, 540, x + 130, 900), fill=(130, 134, 140))
    s.d.rectangle((1440, 760, 1640, 780), fill=(190, 196, 204))  # instrument tray
    for k in range(5):
        s.d.line((1460 + 36 * k, 752, 1480 + 36 * k, 770), fill=(230, 234, 240), width=5)


def lab(s: Scene) -> None:
    """A laboratory: white benches, glassware with coloured liquids, a fume hood, a microscope."""
    r = s.rnd
    s.interior(vary((224, 230, 234), r, 6), (170, 176, 182), 800)
    s.ceiling_lights(40, 4)
    s.d.rectangle((1240, 120, 1840, 700), fill=(190, 196, 202), outline=(150, 156, 162), width=10)  # fume hood
    s.d.rectangle((1280, 200, 1800, 560), fill=(170, 196, 210))
    s.d.rectangle((1280, 560, 1800, 600), fill=(120, 126, 132))
    s.shelf((80, 140, 640, 520), 3, (170, 176, 182), items="jars")
    s.d.rectangle((0, 640, 1200, 700), fill=(240, 242, 244))  # bench
    s.d.rectangle((0, 700, 1200, 920), fill=(200, 204, 210))
    for k, x in enumerate(range(120, 1100, 170)):
        liquid = [(80, 170, 230), (230, 90, 110), (120, 200, 110), (240, 200, 70)][k % 4]
        s.d.polygon([(x, 560), (x + 40, 560), (x + 40, 580), (x + 80, 640), (x - 40, 640), (x, 580)], fill=(220, 236, 244), outline=(150, 170, 180))
        s.d.polygon([(x - 24, 620), (x + 64, 620), (x + 80, 640), (x - 40, 640)], fill=liquid)
    s.d.rectangle((900, 520, 940, 640), fill=(60, 64, 70))  # microscope
    s.d.polygon([(880, 640), (980, 640), (960, 610), (900, 610)], fill=(50, 54, 60))
    s.d.line((920, 520, 970, 470), fill=(60, 64, 70), width=22)


def school(s: Scene) -> None:
    r = s.rnd
    s.interior(vary((232, 226, 206), r, 8), (170, 130, 90), 800)
    s.d.rectangle((520, 150, 1500, 560), fill=(48, 84, 64), outline=(140, 110, 80), width=16)  # chalkboard
    for k in range(4):
        s.d.line((600, 230 + 70 * k, 600 + r.randint(300, 760), 230 + 70 * k), fill=(230, 235, 230), width=5)
    s.window((40, 160, 420, 640), (240, 240, 236), panes=2, skyline=False)
    s.window((1600, 160, 1900, 640), (240, 240, 236), panes=2, skyline=False)
    s.d.ellipse((960 - 40, 60, 960 + 40, 140), fill=(250, 250, 250), outline=(60, 60, 60), width=6)
    for row in range(2):
        for k in range(4):
            x = 240 + k * 470
            s.desk(x, 820 + row * 130, 300, (190, 150, 100), h=120)


def lecture_hall(s: Scene) -> None:
    """Tiered seating rising towards the back, a lectern and a wide projection screen."""
    r = s.rnd
    s.interior(vary((180, 160, 140), r, 8), (120, 90, 70), 820)
    s.d.rectangle((460, 60, 1460, 500), fill=(238, 240, 246), outline=(90, 90, 96), width=6)  # screen
    s.d.rectangle((540, 120, 1380, 180), fill=(50, 80, 140))
    for k in range(5):
        s.d.line((560, 240 + 48 * k, 560 + r.randint(400, 780), 240 + 48 * k), fill=(120, 124, 136), width=8)
    s.d.polygon([(1500, 560), (1640, 560), (1620, 800), (1520, 800)], fill=(110, 80, 58))  # lectern
    s.d.rectangle((1490, 540, 1650, 566), fill=(90, 64, 46))
    # Rows of desks in tiers, each a long bench; nearer rows lower and wider.
    for k in range(5):
        y = 640 + k * 90
        inset = 200 - k * 50
        s.d.rectangle((inset, y, W - inset, y + 26), fill=(150, 110, 76))
        s.d.rectangle((inset, y + 26, W - inset, y + 70), fill=(96, 70, 52))
        for x in range(inset + 60, W - inset - 60, 160):
            s.d.rounded_rectangle((x, y - 60, x + 90, y), 12, fill=(60, 70, 110))


def library(s: Scene) -> None:
    """Tall bookshelves, a reading table with green-shaded lamps."""
    s.interior((170, 140, 110), (110, 80, 56), 820)
    for k in range(4):
        x0 = 40 + k * 480
        s.shelf((x0, 60, x0 + 420, 760), 6, (110, 76, 48))
    s.d.rectangle((360, 800, 1560, 836), fill=(130, 90, 60))
    s.d.rectangle((400, 836, 430, 1000), fill=(90, 62, 42))
    s.d.rectangle((1490, 836, 1520, 1000), fill=(90, 62, 42))
    for x in (640, 1280):
        s.d.rectangle((x - 6, 730, x + 6, 800), fill=(200, 170, 90))
        s.d.pieslice((x - 80, 690, x + 80, 770), 180, 360, fill=(40, 120, 70))
        s.d.ellipse((x - 40, 726, x + 40, 746), fill=(255, 230, 160))
    for x in (860, 1000):
        s.d.rectangle((x, 780, x + 110, 800), fill=(200, 60, 50))


def dormitory(s: Scene) -> None:
    """A shared dorm room: bunk bed, a small desk under the window, posters."""
    r = s.rnd
    s.interior(vary((226, 222, 210), r, 10), (170, 150, 120), 800)
    s.window((760, 140, 1160, 500), (240, 240, 236), panes=2)
    s.desk(960, 640, 500, (180, 150, 110))
    s.d.rectangle((860, 560, 980, 640), fill=(50, 54, 64))  # laptop
    s.d.rectangle((872, 570, 968, 630), fill=(90, 140, 200))
    frame = (120, 124, 132)
    for x0 in (60, 1420):  # two bunk beds, mattresses and ladders
        s.d.rectangle((x0, 160, x0 + 22, 960), fill=frame)
        s.d.rectangle((x0 + 420, 160, x0 + 442, 960), fill=frame)
        for y in (400, 800):
            s.d.rectangle((x0, y, x0 + 442, y + 30), fill=frame)
            s.d.rectangle((x0 + 22, y - 50, x0 + 420, y), fill=vary(r.choice([(120, 150, 200), (200, 130, 130), (130, 180, 140)]), r))
            s.d.rounded_rectangle((x0 + 30, y - 80, x0 + 150, y - 44), 12, fill=(250, 250, 246))
        for y in range(440, 800, 70):
            s.d.line((x0 + 360, y, x0 + 420, y), fill=frame, width=8)
    for x in (560, 1240):
        s.d.rectangle((x, 180, x + 140, 360), fill=vary(r.choice([(240, 120, 80), (80, 120, 200), (240, 210, 80)]), r, 30))


def police(s: Scene) -> None:
    r = s.rnd
    s.interior(vary((160, 172, 184), r, 8), (96, 100, 108), 800)
    s.window((140, 140, 700, 600), (120, 124, 130), panes=1)
    for y in range(150, 600, 26):
        s.d.rectangle((150, y, 690, y + 12), fill=(200, 204, 210))  # blinds
    s.d.rectangle((900, 180, 1500, 560), fill=(170, 140, 100), outline=(90, 70, 50), width=12)  # case board
    pins = []
    for _ in range(9):
        x, y = r.randint(930, 1400), r.randint(200, 460)
        pins.append((x + 40, y + 10))
        s.d.rectangle((x, y, x + 80, y + 70), fill=r.choice([(250, 250, 240), (250, 240, 160), (230, 230, 230)]))
    for a, b in zip(pins, pins[1:]):
        s.d.line((a, b), fill=(200, 40, 40), width=3)  # red string between the clues
    s.desk(700, 760, 700, (110, 100, 90))
    s.d.rectangle((480, 700, 640, 760), fill=(210, 190, 150))
    s.monitor(860, 762)
    s.d.rectangle((1600, 120, 1840, 190), fill=(30, 50, 100))
    s.label((1720, 155), "강력팀", 44, (255, 255, 255))
    s.lamp(1200, 110, 40, cord=1)


def interrogation_room(s: Scene) -> None:
    """Bare walls, a one-way mirror, a metal table and two chairs under a hanging lamp."""
    s.interior((110, 116, 120), (70, 72, 76), 780)
    s.d.rectangle((1100, 160, 1800, 560), fill=(40, 48, 58), outline=(140, 144, 150), width=16)  # one-way mirror
    s.d.polygon([(1130, 190), (1300, 190), (1160, 530), (1130, 530)], fill=(60, 70, 82))
    s.d.rectangle((200, 120, 260, 180), fill=(40, 40, 44))  # camera
    s.d.ellipse((216, 160, 244, 188), fill=(200, 40, 40))
    s.spotlight(760, 150, 760, 360, (255, 244, 210), 55)
    s.d.line((760, 0, 760, 120), fill=(40, 40, 44), width=4)
    s.d.pieslice((680, 100, 840, 200), 180, 360, fill=(60, 62, 66))
    s.d.rectangle((420, 740, 1100, 770), fill=(170, 174, 180))  # metal table
    s.d.rectangle((440, 770, 460, 960), fill=(120, 124, 130))
    s.d.rectangle((1060, 770, 1080, 960), fill=(120, 124, 130))
    s.chair(340, 820, (90, 92, 98))
    s.chair(1200, 820, (90, 92, 98))
    s.d.rectangle((620, 720, 760, 740), fill=(240, 236, 220))  # a file on the table


def courtroom(s: Scene) -> None:
    """The judges' raised bench under the court emblem, the witness stand, the counsel tables."""
    r = s.rnd
    wood = vary((120, 80, 52), r, 10)
    s.interior((196, 180, 160), (110, 80, 60), 800)
    for x in range(0, W, 160):  # wood panelling
        s.d.rectangle((x + 8, 420, x + 152, 780), fill=dark(wood, 1.1), outline=dark(wood, 0.8), width=4)
    s.d.ellipse((860, 60, 1060, 260), fill=(220, 190, 90), outline=(150, 120, 50), width=8)  # emblem
    s.d.ellipse((910, 110, 1010, 210), fill=(196, 180, 160))
    s.d.rectangle((420, 360, 1500, 400), fill=dark(wood, 0.8))  # the bench, raised
    s.d.rectangle((420, 400, 1500, 620), fill=wood)
    for x in range(460, 1480, 210):
        s.d.rectangle((x, 430, x + 170, 590), outline=dark(wood, 0.75), width=6)
    for x in (700, 960, 1220):  # three judges' chairs behind the bench
        s.d.rounded_rectangle((x - 70, 220, x + 70, 370), 20, fill=(40, 30, 30))
        s.d.rectangle((x - 30, 340, x + 30, 360), fill=(240, 240, 230))  # name plate
    s.d.rectangle((1560, 520, 1800, 560), fill=dark(wood, 0.8))  # witness stand
    s.d.rectangle((1560, 560, 1800, 760), fill=wood)
    s.d.line((1620, 470, 1640, 520), fill=(40, 40, 40), width=6)  # microphone
    for x0 in (80, 1180):  # counsel tables
        s.d.rectangle((x0, 800, x0 + 660, 836), fill=dark(wood, 1.15))
        s.d.rectangle((x0, 836, x0 + 660, 960), fill=wood)
        s.d.rectangle((x0 + 80, 770, x0 + 220, 800), fill=(240, 236, 226))
    s.label((960, 700), "법 정", 46, (240, 226, 180))


def prison(s: Scene) -> None:
    """A cell seen through its bars: a cot, a small high window, grey concrete."""
    s.interior((130, 132, 128), (90, 90, 88), 800)
    for y in range(120, 780, 90):  # block joints
        s.d.line((0, y, W, y), fill=(116, 118, 114), width=3)
    s.window((820, 140, 1100, 320), (80, 80, 80), panes=3, skyline=False)
    s.d.rectangle((1180, 640, 1760, 700), fill=(100, 110, 110))  # cot
    s.d.rectangle((1180, 610, 1760, 640), fill=(200, 200, 190))
    s.d.rectangle((1200, 700, 1220, 820), fill=(70, 70, 70))
    s.d.rectangle((1720, 700, 1740, 820), fill=(70, 70, 70))
    s.d.rectangle((260, 640, 420, 800), fill=(200, 204, 204))  # basin
    bar = (60, 62, 66)
    s.d.rectangle((0, 0, W, 40), fill=bar)
    s.d.rectangle((0, 520, W, 548), fill=bar)
    for x in range(40, W, 120):
        s.d.rectangle((x, 0, x + 22, 1080), fill=bar)
        s.d.line((x + 6, 0, x + 6, 1080), fill=(110, 112, 118), width=4)


DRAWERS = {
    "hospital": hospital, "operating_room": operating_room, "lab": lab, "school": school, "lecture_hall": lecture_hall,
    "library": library, "dormitory": dormitory, "police": police, "interrogation_room": interrogation_room,
    "courtroom": courtroom, "prison": prison,
}  # fmt: skip
UNGRADED: set[str] = set()
