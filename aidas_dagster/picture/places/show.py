"""Entertainment, media and sports: stage, broadcast studio, practice room, newsroom, gym, stadium,
locker room."""

from __future__ import annotations

from aidas_dagster.picture.backdrop_draw import H, W, Scene, dark, gradient, vary


def stage(s: Scene) -> None:
    """A concert stage: truss with lights, coloured beams, a screen, the stage floor and the crowd's glow."""
    r = s.rnd
    s.img.paste(gradient((18, 14, 36), (40, 20, 60)), (0, 0))
    s.d.rectangle((360, 160, 1560, 620), fill=(30, 40, 90), outline=(80, 80, 96), width=10)  # LED screen
    for k in range(12):
        s.d.line((360 + k * 100, 160, 460 + k * 100, 620), fill=(50, 70, 150), width=24)
    s.d.rectangle((0, 60, W, 100), fill=(60, 60, 70))  # truss
    for x in range(0, W, 40):
        s.d.line((x, 60, x + 40, 100), fill=(90, 90, 100), width=3)
    colours = [(255, 80, 160), (80, 180, 255), (255, 220, 90), (160, 90, 255)]
    for k, x in enumerate(range(160, W, 320)):
        s.d.ellipse((x - 26, 96, x + 26, 140), fill=(250, 250, 250))
        s.spotlight(x, 120, 760, 160 + r.randint(0, 80), colours[k % 4], 70)
    s.d.polygon([(0, 720), (W, 720), (W, 840), (0, 840)], fill=(30, 26, 40))  # stage floor
    s.d.rectangle((0, 716, W, 726), fill=(255, 200, 120))
    s.img.paste(gradient((20, 16, 30), (8, 6, 14), (W, H - 840)), (0, 840))
    for _ in range(70):  # light sticks in the crowd
        x, y = r.randint(0, W), r.randint(880, H)
        c = r.choice(colours)
        s.d.line((x, y, x + 6, y - 30), fill=c, width=6)
    s.d.rectangle((920, 560, 940, 720), fill=(140, 140, 150))  # mic stand
    s.d.ellipse((912, 540, 948, 572), fill=(60, 60, 66))


def broadcast_studio(s: Scene) -> None:
    """A TV studio: the set's anchor desk and big screen, lighting grid, cameras on pedestals."""
    r = s.rnd
    s.interior((24, 30, 48), (40, 44, 56), 820)
    s.d.rectangle((0, 0, W, 80), fill=(34, 36, 44))  # lighting grid
    for x in range(80, W, 180):
        s.d.line((x, 80, x, 130), fill=(80, 80, 90), width=5)
        s.d.rectangle((x - 28, 130, x + 28, 180), fill=(70, 70, 80))
        s.d.ellipse((x - 18, 160, x + 18, 190), fill=(255, 246, 220))
    s.d.rectangle((520, 220, 1400, 600), fill=(20, 80, 160), outline=(140, 160, 200), width=10)  # set screen
    s.d.ellipse((640, 280, 900, 540), fill=(40, 120, 210))
    s.label((1140, 410), r.choice(["NEWS 9", "LIVE", "ON AIR"]), 96, (255, 255, 255))
    s.d.polygon([(560, 640), (1360, 640), (1300, 800), (620, 800)], fill=(200, 206, 220))  # anchor desk
    s.d.rectangle((560, 620, 1360, 650), fill=(230, 234, 242))
    s.d.rectangle((600, 690, 1320, 720), fill=(30, 90, 170))
    for x, flip in ((180, 1), (1740, -1)):  # cameras on pedestals
        s.d.rectangle((x - 90, 600, x + 90, 720), fill=(40, 40, 46))
        s.d.rectangle((x + flip * 90 - (0 if flip > 0 else 60), 630, x + flip * 90 + (60 if flip > 0 else 0), 690), fill=(30, 30, 34))
        s.d.rectangle((x - 12, 720, x + 12, 960), fill=(60, 60, 66))
        s.d.polygon([(x - 120, 1000), (x + 120, 1000), (x, 940)], fill=(50, 50, 56))
        s.d.ellipse((x - 60, 610, x - 36, 634), fill=(230, 40, 40))  # tally light
    s.d.rounded_rectangle((1560, 230, 1820, 300), 12, fill=(200, 30, 40))
    s.label((1690, 265), "ON AIR", 44, (255, 255, 255))


def practice_room(s: Scene) -> None:
    """A dance practice room: a full wall of mirrors with the barre, wood floor, speakers."""
    r = s.rnd
    s.interior(vary((220, 220, 226), r, 6), (176, 130, 86), 800)
    s.planks((0, 800, W, H), (176, 130, 86), 40)
    s.d.rectangle((100, 120, 1820, 780), fill=(150, 170, 184), outline=(200, 204, 210), width=10)  # mirror wall
    for x in range(100, 1820, 430):
        s.d.line((x, 120, x, 780), fill=(200, 204, 210), width=8)
        s.d.polygon([(x + 40, 140), (x + 120, 140), (x + 40, 380)], fill=(176, 194, 206))  # reflection glint
    s.d.polygon([(200, 700), (1720, 700), (1820, 780), (100, 780)], fill=(150, 116, 80))  # mirrored floor
    s.d.line((100, 560, 1820, 560), fill=(190, 160, 120), width=14)  # barre
    for x in range(200, 1820, 400):
        s.d.line((x, 560, x, 600), fill=(150, 150, 156), width=8)
    s.d.rectangle((1740, 800, 1880, 1000), fill=(30, 30, 34))  # speaker
    for y in (840, 920):
        s.d.ellipse((1770, y, 1850, y + 70), fill=(60, 60, 66))
    s.d.rectangle((120, 900, 300, 960), fill=(220, 80, 90))  # a bag on the floor
    s.ceiling_lights(20, 4, 300)


def newsroom(s: Scene) -> None:
    """A newsroom: rows of desks with monitors, a wall of TV screens, a clock row, papers."""
    r = s.rnd
    s.interior(vary((190, 196, 206), r, 8), (90, 96, 110), 780)
    for k in range(6):  # wall of screens
        for j in range(2):
            x, y = 140 + k * 280, 90 + j * 190
            s.d.rectangle((x, y, x + 250, y + 160), fill=(20, 22, 28), outline=(90, 94, 100), width=6)
            s.d.rectangle((x + 12, y + 12, x + 238, y + 148), fill=vary(r.choice([(40, 90, 160), (160, 60, 50), (60, 130, 90)]), r, 20))
            s.d.rectangle((x + 12, y + 120, x + 238, y + 148), fill=(230, 230, 236))
    for k in range(5):  # world clocks
        x = 360 + k * 300
        s.d.ellipse((x - 34, 470, x + 34, 538), fill=(246, 246, 246), outline=(40, 40, 40), width=4)
        s.d.line((x, 504, x + r.randint(-20, 20), 480), fill=(20, 20, 20), width=4)
    for row, y in enumerate((720, 880)):
        for x in range(180 + row * 120, W, 480):
            s.desk(x, y, 380, (214, 214, 218), h=140)
            s.monitor(x - 70, y + 2, 150, 100)
            s.monitor(x + 90, y + 2, 150, 100)
            s.d.rectangle((x - 160, y - 16, x - 120, y), fill=(246, 244, 236))  # papers
    s.d.rectangle((760, 14, 1160, 78), fill=(190, 30, 40))  # the desk's name over the screens
    s.label((960, 46), "보도국", 40, (255, 255, 255))


def gym(s: Scene) -> None:
    """A sports hall: polished court floor with lines, a basketball hoop, wall pads, high windows."""
    s.interior((200, 196, 186), (200, 150, 96), 720)
    s.planks((0, 720, W, H), (206, 156, 100), 36)
    s.d.line((0, 860, W, 860), fill=(250, 250, 250), width=8)  # court lines
    s.d.arc((560, 740, 1360, 1160), 180, 360, fill=(250, 250, 250), width=8)
    s.d.line((960, 720, 960, H), fill=(250, 250, 250), width=6)
    for x in range(40, W, 320):  # high windows
        s.window((x, 40, x + 240, 200), (220, 220, 216), panes=3, skyline=False)
    for x in range(0, W, 160):  # wall pads
        s.d.rectangle((x + 6, 520, x + 154, 700), fill=(40, 80, 160))
    s.d.rectangle((900, 240, 1020, 560), fill=(120, 120, 126))  # hoop stand on the wall
    s.d.rectangle((820, 260, 1100, 440), fill=(250, 250, 250), outline=(220, 60, 40), width=8)
    s.d.rectangle((910, 340, 1010, 410), outline=(220, 60, 40), width=6)
    s.d.ellipse((900, 430, 1020, 460), outline=(240, 100, 40), width=8)
    for k in range(5):  # net
        s.d.line((905 + 26 * k, 450, 925 + 20 * k, 520), fill=(250, 250, 250), width=3)
    s.d.ellipse((300, 920, 380, 1000), fill=(230, 120, 40))  # a ball
    s.d.arc((300, 920, 380, 1000), 60, 240, fill=(40, 30, 20), width=4)
    s.ceiling_lights(8, 4, 240)


def stadium(s: Scene) -> None:
    """Open-air stadium: tiered stands full of a crowd, floodlights, the green pitch with lines."""
    r = s.rnd
    s.sky((0, 0, W, 300))
    stand = s.lit((90, 96, 110))
    s.d.polygon([(0, 120), (W, 120), (W, 620), (0, 620)], fill=stand)
    for y in range(150, 620, 34):  # tiers and a crowd of dots
        s.d.line((0, y, W, y), fill=dark(stand, 0.8), width=3)
        for x in range(r.randint(0, 16), W, 18):
            if r.random() < 0.8:
                s.d.ellipse((x, y + 8, x + 12, y + 22), fill=s.lit(vary(r.choice([(220, 60, 60), (240, 240, 240), (60, 100, 200), (240, 200, 60)]), r, 30)))
    s.d.rectangle((0, 610, W, 640), fill=s.lit((40, 60, 140)))  # advertising boards
    for x in range(0, W, 360):
        s.d.rectangle((x + 20, 614, x + 320, 636), fill=s.lit((240, 240, 240)))
    for x in (120, 1800):  # floodlights
        s.d.rectangle((x - 10, 0, x + 10, 140), fill=(120, 124, 130))
        s.d.rectangle((x - 90, 0, x + 90, 70), fill=(200, 204, 210))
        for k in range(4):
            s.d.ellipse((x - 80 + 42 * k, 12, x - 50 + 42 * k, 42), fill=(255, 255, 230) if s.night or s.tod == "evening" else (236, 236, 226))
    grass = s.lit((70, 150, 70))
    s.img.paste(gradient(grass, dark(grass, 0.8), (W, H - 640)), (0, 640))
    for k in range(0, W, 240):  # mowing stripes
        s.d.rectangle((k, 640, k + 120, H), fill=dark(grass, 1.08))
    white = s.lit((246, 246, 246))
    s.d.line((0, 700, W, 700), fill=white, width=6)
    s.d.line((960, 700, 960, H), fill=white, width=6)
    s.d.ellipse((760, 800, 1160, 1000), outline=white, width=6)


def locker_room(s: Scene) -> None:
    """A row of metal lockers, a wooden bench down the middle, a jersey hanging, tiled floor."""
    r = s.rnd
    s.interior((200, 204, 206), (150, 156, 160), 820)
    s.tiles((0, 820, W, H), 60, (160, 166, 170), (146, 152, 156))
    colour = vary(r.choice([(60, 90, 150), (150, 60, 60), (70, 120, 90)]), r, 10)
    for x in range(60, W - 60, 150):
        s.d.rectangle((x, 120, x + 140, 800), fill=colour, outline=dark(colour, 0.6), width=5)
        for y in (180, 200, 220):
            s.d.line((x + 40, y, x + 100, y), fill=dark(colour, 0.6), width=5)  # vents
        s.d.rectangle((x + 110, 420, x + 124, 480), fill=(210, 210, 200))  # handle
        s.d.rectangle((x + 30, 260, x + 110, 290), fill=(240, 240, 230))  # name tag
    s.d.polygon([(700, 300), (840, 300), (880, 360), (860, 560), (680, 560), (660, 360)], fill=(240, 240, 244))  # jersey
    s.label((770, 440), str(r.randint(2, 99)), 80, colour)
    s.d.rectangle((160, 820, 1760, 860), fill=(170, 120, 76))  # bench
    for x in (220, 960, 1680):
        s.d.rectangle((x, 860, x + 30, 980), fill=(110, 110, 116))
    s.d.rectangle((1200, 780, 1320, 820), fill=(240, 240, 240))  # folded towel


DRAWERS = {
    "stage": stage, "broadcast_studio": broadcast_studio, "practice_room": practice_room, "newsroom": newsroom,
    "gym": gym, "stadium": stadium, "locker_room": locker_room,
}  # fmt: skip
UNGRADED = {"stadium", "stage", "broadcast_studio"}  # sky-lit, or lit by their own rig
