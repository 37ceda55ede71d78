"""The episode's thumbnail: series title, episode badge and the two leads, as a 1280×720 JPEG."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PIL import Image, ImageDraw

from aidas_dagster.core.storage import atomic_path
from aidas_dagster.picture import fonts
from aidas_dagster.picture.avatars import bust_image
from aidas_dagster.picture.models import ClipPlan
from aidas_dagster.picture.subtitles import fit_font
from aidas_dagster.story.models import Character, Roster

THUMB_VERSION = 1  # bump when draw_thumbnail draws differently: cached thumbnails are named by it


def leads(roster: Roster, plan: ClipPlan) -> list[Character]:
    rank = {"main": 0, "major_supporting": 1, "supporting": 2, "minor": 3}
    lines = {}
    for c in plan.clips:
        lines[c.speaker] = lines.get(c.speaker, 0) + 1
    ordered = sorted(roster.characters, key=lambda ch: (rank.get(ch.importance, 9), -lines.get(ch.id, 0), ch.id))
    return ordered[:2]


def draw_thumbnail(
    series_title: str, episode: int, episode_title: str, backdrop: Image.Image, leads: list[Character], out_path: Path,
    portraits: Mapping[str, Path] | None = None,
) -> Path:
    """1280×720 JPEG: series title, episode number and the two leads large (their generated
    portraits where `portraits` has them, else drawn)."""
    img = backdrop.resize((1280, 720), Image.LANCZOS).point(lambda v: round(v * 0.8))
    for i, ch in enumerate(leads[:2]):
        if portraits and ch.id in portraits:
            with Image.open(portraits[ch.id]) as im:
                bust = im.convert("RGBA")
        else:
            bust = bust_image(ch.id, ch.appearance, 0)
        bust = bust.resize((round(bust.width * 0.82), round(bust.height * 0.82)), Image.LANCZOS)
        if len(leads) > 1 and i == 1:
            bust = bust.transpose(Image.FLIP_LEFT_RIGHT)
        cx = 1280 * (0.27 if i == 0 else 0.73) if len(leads) > 1 else 640
        img.paste(bust, (round(cx - bust.width / 2), 720 - bust.height + 10), bust)
    d = ImageDraw.Draw(img, "RGBA")
    d.rectangle((0, 0, 1280, 170), fill=(0, 0, 0, 120))
    tf = fit_font(series_title, 92, 1180)
    d.text((640, 92), series_title, font=tf, fill=(255, 255, 255), anchor="mm", stroke_width=5, stroke_fill=(0, 0, 0))
    badge = f"{episode}화"
    bf = fonts.font(64, True)
    bw = bf.getlength(badge)
    d.rounded_rectangle((40, 196, 40 + bw + 56, 290), radius=24, fill=(214, 48, 72, 240), outline=(255, 255, 255, 230), width=4)
    d.text((40 + 28 + bw / 2, 243), badge, font=bf, fill=(255, 255, 255), anchor="mm")
    ef = fit_font(episode_title, 58, 1200)
    d.text((640, 660), episode_title, font=ef, fill=(255, 236, 150), anchor="mm", stroke_width=5, stroke_fill=(0, 0, 0))
    for quality in (90, 80, 70, 55):
        with atomic_path(out_path) as tmp:
            img.save(tmp, format="JPEG", quality=quality, optimize=True)
            if tmp.stat().st_size < 2_000_000:
                return out_path
    return out_path
