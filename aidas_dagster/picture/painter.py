"""Drawing a line's picture with Pillow: backdrop, sprites (loaded, scaled and tinted in a bounded
cache), shots (single, group, over the shoulder, a listener's reaction), speaker cards and the
intro/outro title cards."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from aidas_dagster.core.storage import file_digest
from aidas_dagster.picture import fonts
from aidas_dagster.picture.avatars import back_image, shade, silhouette
from aidas_dagster.picture.backdrops import Backdrops
from aidas_dagster.picture.models import LineClip
from aidas_dagster.picture.subtitles import Cue, draw_subtitle, fit_font
from aidas_dagster.picture.yuv import H, W, Box, even_box
from aidas_dagster.story.models import Character

# ---------------------------------------------------------------- composing a line's pictures


class ImageLru:
    """A small least-recently-used cache of pictures with a byte budget (thread-safe)."""

    def __init__(self, budget_bytes: int):
        self.budget = budget_bytes
        self._items: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def _size(img: Image.Image) -> int:
        return img.width * img.height * len(img.getbands())

    def __contains__(self, key: tuple) -> bool:
        with self._lock:
            return key in self._items

    def __getitem__(self, key: tuple) -> Image.Image:
        with self._lock:
            self._items.move_to_end(key)
            return self._items[key]

    def __setitem__(self, key: tuple, img: Image.Image) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = img
            self._bytes += self._size(img)
            while self._bytes > self.budget and len(self._items) > 1:
                _key, old = self._items.popitem(last=False)
                self._bytes -= self._size(old)


class Sprites:
    """Sprites loaded, scaled and tinted, kept while in use (a bounded cache: an episode with many
    characters, scales and mirrorings would otherwise hold hundreds of MB)."""

    def __init__(self, budget_bytes: int = 96 << 20) -> None:  # 40 MB thrashed: reloading cost ~6 % of a render
        self._img = ImageLru(budget_bytes)
        self._box: dict[tuple, Box | None] = {}
        self._digest: dict[str, str] = {}

    def get(self, path: str, scale: float = 1.0, dim: float = 1.0, mirror: bool = False, blur: float = 0.0) -> Image.Image:
        key = (path, round(scale, 3), round(dim, 3), mirror, blur)
        if key not in self._img:
            with Image.open(path) as im:
                img = im.convert("RGBA")
            if scale != 1.0:
                img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
            if mirror:
                img = img.transpose(Image.FLIP_LEFT_RIGHT)
            if dim != 1.0:
                r, g, b, a = img.split()
                lut = [min(255, round(v * dim)) for v in range(256)]
                img = Image.merge("RGBA", (r.point(lut), g.point(lut), b.point(lut), a))
            if blur:
                img = img.filter(ImageFilter.GaussianBlur(blur))
            self._img[key] = img
            return img
        return self._img[key]

    def back(self, character: Character, scale: float, dim: float, mirror: bool, blur: float) -> Image.Image:
        """The character from behind (drawn in memory), for the near shoulder of an over-the-shoulder shot."""
        key = ("back", character.id, character.appearance.model_dump_json(), round(scale, 3), dim, mirror, blur)
        if key not in self._img:
            img = back_image(character.id, character.appearance)
            img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
            if mirror:
                img = img.transpose(Image.FLIP_LEFT_RIGHT)
            r, g, b, a = img.split()
            lut = [min(255, round(v * dim)) for v in range(256)]
            img = Image.merge("RGBA", (r.point(lut), g.point(lut), b.point(lut), a)).filter(ImageFilter.GaussianBlur(blur))
            self._img[key] = img
            return img
        return self._img[key]

    def shadow(self, path: str, scale: float, mirror: bool, blur: float) -> Image.Image:
        """A sprite as a dark shape with a rim light: a generated look seen from behind in the near
        foreground (no drawn back view matches it, and its face must not show)."""
        key = ("shadow", path, round(scale, 3), mirror, blur)
        if key not in self._img:
            self._img[key] = silhouette(self.get(path, scale, mirror=mirror)).filter(ImageFilter.GaussianBlur(blur))
        return self._img[key]

    def mouth_box(self, paths: list[str], scale: float, mirror: bool) -> Box | None:
        """Where the sprites of one set differ (the mouth), in the scaled sprite's coordinates."""
        key = ("mouth", tuple(paths), round(scale, 3), mirror)
        if key not in self._box:
            first = self.get(paths[0], scale, mirror=mirror)
            box = None
            for other in paths[1:]:
                diff = ImageChops.difference(first, self.get(other, scale, mirror=mirror)).getbbox(alpha_only=False)
                if diff:
                    box = diff if box is None else (min(box[0], diff[0]), min(box[1], diff[1]), max(box[2], diff[2]), max(box[3], diff[3]))
            self._box[key] = (box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4) if box else None
        return self._box[key]

    def digest(self, path: str) -> str:
        if path not in self._digest:
            self._digest[path] = file_digest(Path(path))
        return self._digest[path]


def _paste_bottom(canvas: Image.Image, sprite: Image.Image, cx: float, bottom: float = H) -> tuple[int, int]:
    at = (round(cx - sprite.width / 2), round(bottom - sprite.height))
    canvas.paste(sprite, at, sprite)
    return at


@dataclass
class Line:
    """One line as the renderer needs it: its clip, frames on the track, who speaks, the cues."""

    clip: LineClip
    f0: int
    f1: int
    name: str
    role: str
    color: tuple[int, int, int]
    cues: list[Cue]
    side: float  # speaker's place on the stage, 0 (left) … 1 (right)
    others: list[tuple[str, float]] = field(default_factory=list)  # group: (sprite, place)
    reaction: str | None = None  # a listener's reaction cutaway: the speaker talks off screen
    external: str | None = None  # a provider's video of the line, shown instead of the drawing

    @property
    def tag(self) -> tuple[str | None, float | None]:
        """The name tag over the subtitle and where it stands: under a drawn speaker; centred
        when the speaker is off screen (cutaway) or inside a provider's video; none on a card,
        which names the speaker itself."""
        if self.reaction is not None or self.external:
            return self.name, None
        if self.clip.kind == "card" or not self.clip.sprite_paths:
            return None, None
        return self.name, speaker_x(self.clip.shot, self.side, bool(self.clip.listener_sprite))


def speaker_x(shot: str, side: float, has_listener: bool = True) -> float:
    """Where the speaker stands in the frame (centre x) for a shot."""
    if shot == "group":
        return 280 + side * (W - 560)
    if shot == "over_shoulder" and has_listener:
        return W * (0.62 if side >= 0.5 else 0.38)
    return W * (0.5 if side == 0.5 else (0.64 if side > 0.5 else 0.36))


# A listener's visible reaction (the script's words) → a small mark by the head in the cutaway.
REACTION_MARKS: tuple[tuple[tuple[str, ...], str, tuple[int, int, int]], ...] = (
    (("빨개", "부끄", "수줍"), "blush", (255, 120, 150)),
    (("노려", "주먹", "굳은"), "!", (235, 70, 60)),
    (("휘둥그레", "말문", "침을", "숨을", "내려놓", "둘러", "놀라"), "!", (255, 214, 90)),
    (("웃", "미소", "손뼉", "반짝", "기울"), "♪", (255, 190, 90)),
    (("생각", "듣는", "바라본", "떨군", "눈시울", "창밖", "한숨", "깨문", "만지작", "피하"), "…", (170, 200, 255)),
)


def reaction_mark(reaction: str) -> tuple[str, tuple[int, int, int]] | None:
    for words, mark, color in REACTION_MARKS:
        if any(w in reaction for w in words):
            return mark, color
    return None


@dataclass
class SceneView:
    location: str
    time_of_day: str
    atmosphere: str


CARD_PANEL = (360, 250, 1560, 700)
CARD_PULSE_BOX = (CARD_PANEL[0] - 4, CARD_PANEL[1] - 4, CARD_PANEL[2] + 4, CARD_PANEL[3] + 4)  # ring and bars


class Painter:
    """Draws the picture of a line for one mouth state and subtitle chunk."""

    def __init__(self, backdrops: Backdrops, sprites: Sprites, characters: dict[str, Character], generated: Iterable[str] = ()):
        self.backdrops = backdrops
        self.sprites = sprites
        self.characters = characters
        self.generated = set(generated)  # characters with generated looks: no drawn back view matches them
        self._glow: Image.Image | None = None

    def glow(self) -> Image.Image:
        """A soft light behind the speaker of a group shot."""
        if self._glow is None:
            g = Image.new("L", (760, 900), 0)
            ImageDraw.Draw(g).ellipse((100, 100, 660, 800), fill=70)
            g = g.filter(ImageFilter.GaussianBlur(60))
            self._glow = Image.merge("RGBA", (Image.new("L", g.size, 255),) * 3 + (g,))
        return self._glow

    def portrait(self, path: str, radius: int) -> Image.Image:
        """The head and shoulders of a sprite, cut to a circle of `radius`."""
        key = ("portrait", path, radius)
        if key not in self.sprites._img:
            sprite = self.sprites.get(path)
            side = round(sprite.width * 0.8)  # the head and shoulders of the 560×760 bust
            top = round(sprite.height * 0.13)
            crop = sprite.crop(((sprite.width - side) // 2, top, (sprite.width + side) // 2, top + side))
            crop = crop.resize((2 * radius, 2 * radius), Image.LANCZOS)
            mask = Image.new("L", crop.size, 0)
            ImageDraw.Draw(mask).ellipse((0, 0, 2 * radius - 1, 2 * radius - 1), fill=255)
            crop.putalpha(ImageChops.multiply(crop.getchannel("A"), mask))
            self.sprites._img[key] = crop
        return self.sprites._img[key]

    def line(self, view: SceneView, ln: Line, mouth: int, cue: Cue | None) -> Image.Image:
        """The whole picture of one state (used where the patch path cannot be)."""
        img, _box = self.compose(view, ln, mouth)
        if cue:
            name, name_x = ln.tag
            draw_subtitle(img, cue.text, name, ln.color, name_x=name_x)
        return img

    def compose(self, view: SceneView, ln: Line, mouth: int) -> tuple[Image.Image, Box | None]:
        """The picture without subtitle, and the region that differs between mouth states."""
        clip = ln.clip
        if clip.kind == "card" or not clip.sprite_paths:
            return self._card(view, ln, mouth), CARD_PULSE_BOX
        img = self.backdrops.get(view.location, view.time_of_day, view.atmosphere).copy()
        profile = clip.strategy == "partial_avatar"
        cx = speaker_x(clip.shot, ln.side, bool(clip.listener_sprite))
        if clip.shot == "group":
            # The others stand further back (smaller, higher, dimmer); the speaker is near and lit.
            for path, place in ln.others:
                _paste_bottom(img, self.sprites.get(path, 0.6, dim=0.62), speaker_x("group", place), H - 110)
            _paste_bottom(img, self.glow(), cx, H + 60)
            scale, mirror = 0.9, profile and ln.side > 0.5
        elif clip.shot == "over_shoulder" and clip.listener_sprite:
            scale, mirror = 1.0, profile and ln.side >= 0.5
        elif ln.reaction is not None:
            scale, mirror = 1.14, profile and ln.side > 0.5  # a reaction is a closer shot
        else:
            scale, mirror = 1.06, profile and ln.side > 0.5
        own = self.sprites.get(clip.sprite_paths[min(mouth, len(clip.sprite_paths) - 1)], scale, mirror=mirror)
        at = _paste_bottom(img, own, cx)
        if ln.reaction:
            self._reaction_mark(img, ln.reaction, at, scale, mirror)
        if clip.shot == "over_shoulder" and clip.listener_sprite:
            # The listener seen from behind in the near foreground, dark, soft and cut by the frame.
            right = ln.side >= 0.5
            listener = self.characters.get(clip.listener or "")
            if listener is not None and listener.id in self.generated:
                fg = self.sprites.shadow(clip.listener_sprite, 1.12, not right, 3)
            elif listener is not None:
                fg = self.sprites.back(listener, 1.2, 0.5, not right, 2.5)
            else:
                fg = self.sprites.get(clip.listener_sprite, 1.12, dim=0.42, mirror=not right, blur=3)
            _paste_bottom(img, fg, W * (0.1 if right else 0.9), H + 170)
        box = self.sprites.mouth_box(clip.sprite_paths, scale, mirror)
        return img, (even_box((box[0] + at[0], box[1] + at[1], box[2] + at[0], box[3] + at[1])) if box else None)

    @staticmethod
    def _reaction_mark(img: Image.Image, reaction: str, at: tuple[int, int], scale: float, mirror: bool) -> None:
        """Blushing cheeks, or a mark (! ♪ …) beside the head, as the reaction says."""
        found = reaction_mark(reaction)
        if not found:
            return
        mark, color = found
        d = ImageDraw.Draw(img, "RGBA")
        head_x, head_y = at[0] + 280 * scale, at[1] + 300 * scale  # the bust's face centre (avatars.py)
        if mark == "blush":
            for dx in (-68, 68):
                x, y = head_x + dx * scale, head_y + 62 * scale
                d.ellipse((x - 30 * scale, y - 14 * scale, x + 30 * scale, y + 14 * scale), fill=(*color, 120))
            return
        x = head_x + (-1 if mirror else 1) * 190 * scale
        y = head_y - 170 * scale
        r = 58 * scale
        d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 215), outline=(*color, 255), width=6)
        d.text((x, y + 4), mark, font=fonts.font(round(76 * scale), True), fill=shade(color, 0.75), anchor="mm")

    def _card(self, view: SceneView, ln: Line, mouth: int) -> Image.Image:
        """Voice-only line: name and role on a panel over the backdrop, with a voice pulse."""
        img = self.backdrops.card(view.location, view.time_of_day, view.atmosphere).copy()
        d = ImageDraw.Draw(img, "RGBA")
        px0, py0, px1, py1 = CARD_PANEL
        d.rounded_rectangle((px0, py0, px1, py1), radius=36, fill=(16, 18, 28, 205), outline=(*ln.color, 255), width=4)
        cx, cy, r = px0 + 200, (py0 + py1) // 2, 120
        ring = (10, 22, 36)[max(0, min(2, mouth))]
        d.ellipse((cx - r - ring, cy - r - ring, cx + r + ring, cy + r + ring), fill=(*shade(ln.color, 1.35), 110))
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*ln.color, 255), outline=(255, 255, 255, 230), width=5)
        portrait = self.portrait(ln.clip.portrait, r - 6) if ln.clip.portrait else None
        if portrait is not None:  # the speaker's small portrait in the circle
            img.paste(portrait, (cx - portrait.width // 2, cy - portrait.height // 2), portrait)
            d = ImageDraw.Draw(img, "RGBA")
        else:
            d.text((cx, cy + 4), ln.name[:1], font=fonts.font(130, True), fill=(255, 255, 255), anchor="mm")
        tx = px0 + 380
        d.text((tx, py0 + 130), ln.name, font=fit_font(ln.name, 84, px1 - tx - 40), fill=(255, 255, 255), anchor="ls")
        d.text((tx, py0 + 200), ln.role, font=fonts.font(44), fill=(200, 204, 216), anchor="ls")
        # The pulse: bars whose height follows the mouth state, with a fixed per-speaker pattern.
        level = (0.12, 0.55, 1.0)[max(0, min(2, mouth))]
        seed = sum(ord(c) for c in ln.clip.speaker)
        bars, bw = 25, 22  # 25 bars fit inside the panel
        for i in range(bars):
            shape = 0.35 + 0.65 * abs(math.sin(i * 0.9 + seed))
            h = 10 + 120 * level * shape
            x = tx + i * (bw + 10)
            mid = py0 + 330
            d.rounded_rectangle((x, mid - h / 2, x + bw, mid + h / 2), radius=bw // 2, fill=(*shade(ln.color, 1.3), 255))
        return img


def title_card(backdrop: Image.Image, lines: list[tuple[str, int, bool, tuple[int, int, int]]], badge: str | None = None) -> Image.Image:
    """Centered rows of text (text, size, bold, colour) over a darkened backdrop."""
    img = backdrop.filter(ImageFilter.GaussianBlur(6)).point(lambda v: round(v * 0.45))
    d = ImageDraw.Draw(img, "RGBA")
    total = sum(round(size * 1.5) for _t, size, _b, _c in lines)
    y = (H - total) // 2
    for text, size, bold, color in lines:
        f = fit_font(text, size, 1700, bold)
        step = round(size * 1.5)
        if badge is not None and text == badge:
            tw = f.getlength(text)
            d.rounded_rectangle((W / 2 - tw / 2 - 34, y + step / 2 - size * 0.75, W / 2 + tw / 2 + 34, y + step / 2 + size * 0.75),
                                radius=size * 0.75, fill=(210, 60, 80, 235))  # fmt: skip
        d.text((W // 2, y + step // 2), text, font=f, fill=color, anchor="mm", stroke_width=max(2, size // 24), stroke_fill=(0, 0, 0))
        y += step
    return img
