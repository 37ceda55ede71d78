"""Creative work: art studio, film set, gallery, workshop."""

from __future__ import annotations

from aidas_dagster.picture.backdrop_draw import W, Scene, vary


def art_studio(s: Scene) -> None:
    """A painter's (or webtoon artist's) studio: a big north window, an easel with a canvas,
    canvases stacked on the wall, a paint-spattered table and a drawing tablet."""
    r = s.rnd
    s.interior(vary((230, 224, 212), r, 8), (170, 150, 126), 800)
    s.window((80, 60, 760, 640), (70, 66, 62), panes=4)
    for _ in range(40):  # paint spatters on the floor
        x, y = r.randint(0, W), r.randint(820, 1060)
        s.d.ellipse((x, y, x + r.randint(6, 22), y + r.randint(4, 12)), fill=vary(r.choice([(220, 60, 60), (60, 110, 210), (240, 200, 50)]), r, 30))
    # Easel: two legs, a canvas with a half-finished painting.
    s.d.line((1000, 300, 920, 960), fill=(130, 90, 56), width=18)
    s.d.line((1160, 300, 1240, 960), fill=(130, 90, 56), width=18)
    s.d.line((1080, 260, 1080, 900), fill=(130, 90, 56), width=14)
    s.d.rectangle((920, 320, 1240, 720), fill=(250, 248, 240), outline=(200, 190, 170), width=6)
    s.d.rectangle((940, 340, 1220, 540), fill=(120, 170, 220))
    s.d.ellipse((1040, 380, 1120, 460), fill=(250, 200, 90))
    s.d.polygon([(940, 700), (1040, 520), (1140, 620), (1220, 560), (1220, 700)], fill=(80, 130, 80))
    s.d.rectangle((900, 720, 1260, 740), fill=(130, 90, 56))
    for k in range(4):  # canvases leaning on the wall
        x = 1380 + k * 110
        s.d.polygon([(x, 800), (x + 40, 440 + 20 * k), (x + 220, 440 + 20 * k), (x + 180, 800)],
                    fill=vary(r.choice([(230, 120, 90), (90, 140, 190), (240, 220, 170), (120, 90, 140)]), r, 20), outline=(120, 100, 80))
    s.desk(420, 800, 600, (200, 180, 150), (110, 90, 70), h=200)
    s.d.rectangle((220, 740, 420, 800), fill=(40, 40, 46))  # drawing tablet
    s.d.rectangle((232, 750, 408, 792), fill=(110, 160, 220))
    for k in range(5):  # brush jar and paint tubes
        s.d.line((520 + 8 * k, 700, 510 + 14 * k, 790), fill=(150, 110, 70), width=6)
    s.d.rectangle((500, 750, 560, 800), fill=(200, 210, 220))
    s.d.ellipse((600, 780, 720, 800), fill=(240, 220, 190))  # palette


def film_set(s: Scene) -> None:
    """A film set: a built room front lit by big lights on stands, a camera on a dolly track, a
    director's chair and a clapperboard, the dark stage around."""
    r = s.rnd
    s.interior((30, 30, 34), (44, 44, 48), 820)
    # The built set: a lit wall with a window and a picture, cut off by the dark stage around it.
    s.d.rectangle((520, 120, 1400, 780), fill=vary((200, 180, 150), r, 10))
    s.d.rectangle((640, 220, 920, 480), fill=(120, 170, 220), outline=(240, 240, 236), width=12)
    s.d.rectangle((1060, 260, 1280, 420), fill=(190, 80, 70), outline=(120, 90, 60), width=10)
    s.d.rectangle((500, 100, 520, 800), fill=(80, 70, 60))  # flats' edges
    s.d.rectangle((1400, 100, 1420, 800), fill=(80, 70, 60))
    for x in (240, 1680):  # lights on stands, aimed at the set
        s.d.line((x, 420, x, 960), fill=(90, 90, 96), width=10)
        s.d.line((x, 960, x - 80, 1040), fill=(90, 90, 96), width=8)
        s.d.line((x, 960, x + 80, 1040), fill=(90, 90, 96), width=8)
        s.d.rectangle((x - 90, 300, x + 90, 440), fill=(40, 40, 44), outline=(120, 120, 126), width=6)
        s.d.rectangle((x - 70, 320, x + 70, 420), fill=(255, 250, 230))
        s.spotlight(x, 370, 700, 300, (255, 246, 220), 40)
    s.d.line((300, 900, 1600, 900), fill=(130, 130, 136), width=8)  # dolly track
    s.d.line((300, 960, 1600, 960), fill=(130, 130, 136), width=8)
    for x in range(320, 1600, 80):
        s.d.line((x, 900, x, 960), fill=(100, 80, 60), width=10)
    s.d.rectangle((820, 820, 1040, 900), fill=(50, 50, 56))  # dolly and camera
    s.d.rectangle((920, 700, 940, 820), fill=(60, 60, 66))
    s.d.rectangle((820, 620, 1020, 720), fill=(30, 30, 34))
    s.d.rectangle((1020, 640, 1110, 700), fill=(20, 20, 24))
    s.d.ellipse((820, 560, 900, 640), outline=(50, 50, 56), width=10)
    s.d.ellipse((920, 560, 1000, 640), outline=(50, 50, 56), width=10)
    s.d.polygon([(1500, 760), (1640, 760), (1620, 860), (1520, 860)], fill=(40, 40, 44))  # director's chair
    s.d.rectangle((1500, 700, 1640, 740), fill=(30, 30, 34))
    s.d.line((1520, 860, 1640, 1000), fill=(150, 110, 70), width=8)
    s.d.line((1620, 860, 1500, 1000), fill=(150, 110, 70), width=8)
    s.d.rectangle((160, 800, 340, 900), fill=(20, 20, 22))  # clapperboard
    for k in range(5):
        s.d.polygon([(160 + 36 * k, 770), (180 + 36 * k, 770), (196 + 36 * k, 800), (176 + 36 * k, 800)], fill=(240, 240, 240))


def gallery(s: Scene) -> None:
    """A gallery: white walls, framed pictures under track spots, a plinth with a sculpture, a bench."""
    r = s.rnd
    s.interior((240, 240, 236), (150, 140, 130), 800)
    s.planks((0, 800, W, 1080), (160, 146, 130), 50)
    s.d.rectangle((0, 40, W, 56), fill=(60, 60, 64))  # track
    for k, (x0, w, h) in enumerate(((120, 360, 460), (620, 520, 360), (1300, 300, 420), (1680, 200, 260))):
        y0 = 380 - h // 2 + 60
        s.spotlight(x0 + w // 2, 56, y0 + h // 2, w // 2 + 60, (255, 248, 230), 35)
        s.d.rectangle((x0 - 14, y0 - 14, x0 + w + 14, y0 + h + 14), fill=(60, 46, 36) if k % 2 else (200, 180, 120))
        art = vary(r.choice([(200, 90, 70), (70, 110, 170), (230, 200, 110), (90, 150, 110)]), r, 20)
        s.d.rectangle((x0, y0, x0 + w, y0 + h), fill=art)
        for _ in range(5):  # abstract strokes
            ax, ay = r.randint(x0, x0 + w - 60), r.randint(y0, y0 + h - 40)
            s.d.ellipse((ax, ay, ax + r.randint(40, 140), ay + r.randint(30, 100)), fill=vary(art, r, 60))
        s.d.rectangle((x0 + w // 2 - 40, y0 + h + 40, x0 + w // 2 + 40, y0 + h + 60), fill=(200, 200, 200))  # caption
    s.d.rectangle((1540, 600, 1740, 900), fill=(250, 250, 248), outline=(210, 210, 206), width=4)  # plinth
    s.d.ellipse((1580, 470, 1700, 600), fill=(150, 150, 156))
    s.d.rectangle((600, 860, 1200, 900), fill=(60, 60, 64))  # bench
    s.d.rectangle((620, 900, 650, 980), fill=(40, 40, 44))
    s.d.rectangle((1150, 900, 1180, 980), fill=(40, 40, 44))


def workshop(s: Scene) -> None:
    """A craft or repair workshop: a pegboard of tools, a heavy workbench with a vice, shelves
    of parts, a hanging work lamp."""
    r = s.rnd
    s.interior(vary((150, 130, 104), r, 8), (96, 90, 84), 800)
    s.d.rectangle((200, 120, 1300, 580), fill=(190, 160, 120), outline=(110, 84, 60), width=10)  # pegboard
    for y in range(150, 560, 36):
        for x in range(230, 1280, 36):
            s.d.ellipse((x, y, x + 6, y + 6), fill=(140, 112, 80))
    tools = [(80, 80, 86), (200, 40, 40), (40, 90, 170), (220, 180, 40)]
    for k, x in enumerate(range(260, 1260, 110)):
        c = tools[k % 4]
        kind = k % 3
        if kind == 0:  # hammer
            s.d.rectangle((x + 20, 220, x + 34, 400), fill=(150, 110, 70))
            s.d.rectangle((x - 4, 200, x + 60, 240), fill=c)
        elif kind == 1:  # wrench
            s.d.rectangle((x + 18, 220, x + 36, 420), fill=(170, 176, 184))
            s.d.ellipse((x, 190, x + 54, 240), outline=(170, 176, 184), width=12)
        else:  # saw
            s.d.polygon([(x, 220), (x + 70, 220), (x + 70, 440), (x, 400)], fill=(190, 196, 204))
            s.d.rectangle((x - 10, 200, x + 30, 250), fill=c)
    s.shelf((1400, 100, 1840, 760), 5, (120, 96, 70), items="boxes")
    s.d.rectangle((80, 660, 1340, 720), fill=(120, 84, 52))  # workbench
    s.d.rectangle((120, 720, 170, 980), fill=(90, 62, 40))
    s.d.rectangle((1250, 720, 1300, 980), fill=(90, 62, 40))
    s.d.rectangle((160, 880, 1260, 910), fill=(90, 62, 40))
    s.d.rectangle((1100, 600, 1240, 660), fill=(60, 90, 80))  # vice
    s.d.rectangle((1150, 560, 1190, 600), fill=(60, 90, 80))
    for _ in range(8):  # shavings and parts on the bench
        x = r.randint(200, 1000)
        s.d.ellipse((x, 640, x + 30, 660), fill=(220, 190, 140))
    s.d.line((700, 0, 700, 180), fill=(40, 40, 40), width=4)
    s.lamp(700, 200, 40)
    s.spotlight(700, 220, 660, 320, (255, 236, 190), 40)


DRAWERS = {"art_studio": art_studio, "film_set": film_set, "gallery": gallery, "workshop": workshop}
UNGRADED = {"film_set"}
