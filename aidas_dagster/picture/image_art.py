"""Scene art from an image model: looks locked per character and place, made once per series.

With an image key set (AIDAS_IMAGE_API_KEY, else OPENAI_API_KEY) the leading and major characters
get generated portraits and the series' places generated backdrops, through the OpenAI Images API
(`POST /v1/images/generations`, base64 output) or any server speaking it (local Stable Diffusion
servers do) via the base URL. What the compositor needs per character:

- a lead (full avatar): the front bust with the mouth closed and with it open (the half-open mouth
  state shows the open picture: two generations never line up well enough to blend);
- a major supporting role drawn in profile (partial avatar): the front bust (group shots, reaction
  cutaways) and the side profile closed and open; a mysterious one's profile is turned into its
  silhouette here, as the drawn art does;
- a voice-only major role: the front bust for its card.

Locked looks: everything made is recorded in `<series>/avatars/art/looks.json` (beside the drawn
sprites) and never made again for that series, whatever later episodes ask; the whole step holds
an exclusive file lock, so two episodes rendering at once never both pay for a look. A character's
set is written only when all its pictures came back good (nothing half-made); a place is one
picture, graded to each time of day by the backdrop module, not asked for again. Prompts carry one
style text per series, fixed the first time and kept in the manifest, so all art matches.

Paid calls follow the project's one mechanism: a content cache (`cache/images/`, keyed by model,
size, quality, prompt) answers a repeated request without paying, every image (and cache hit) is a
ledger row priced by size and quality, the budget is checked before each new image (economy mode,
at 80 %, makes no new art and reuses what exists), 429/5xx/timeouts are retried with backoff.
Out of credit (429 insufficient_quota) or a refused key stops new art for the run with a clear
warning; a content-policy refusal makes that item drawn art (remembered, not asked again); a bad
reply (no image, not decodable, truncated base64, wrong size) is a clear error for that item,
which stays drawn and is asked again next run. Art never fails an episode: the drawn art is always
there behind it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import io
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageFilter

from aidas_dagster.core.lazy import lazy_import
from aidas_dagster.core.ledger import Budget, BudgetExceeded, CostLedger, LedgerEntry
from aidas_dagster.core.paid_call import OutOfCredit, ProviderError, RetryPolicy, call_with_retry
from aidas_dagster.core.storage import atomic_path, fingerprint, read_json, write_bytes, write_json
from aidas_dagster.picture.avatars import HEIGHT, WIDTH, hex_rgb, profile_key, profile_view, silhouette
from aidas_dagster.story.models import Character, Roster
from aidas_dagster.story.openai_engine import classify_openai_error

openai = lazy_import("openai")  # the OpenAI SDK: loaded on a paid call's first use (see core/lazy.py)

PROVIDER = "openai"  # the images are billed to the OpenAI account (its budget line)
DEFAULT_MODEL = "gpt-image-1"
DEFAULT_QUALITY = "medium"
PORTRAIT_SIZE = "1024x1536"
BACKDROP_SIZE = "1536x1024"
ART_VERSION = 1  # bump when the processing of replies into sprites/backdrops changes
DEFAULT_POLICY = RetryPolicy(max_attempts=4, base_delay=2.0, max_delay=60.0)
LOOK_TIERS = ("main", "major_supporting")

# USD per image by (quality, size): OpenAI's list prices for gpt-image-1 (low/medium/high) and
# dall-e-3 (standard/hd). An unknown pair is charged the dearest price of its size, erring towards
# the budget.
PRICES_USD: dict[tuple[str, str], float] = {
    ("low", "1024x1024"): 0.011, ("low", "1024x1536"): 0.016, ("low", "1536x1024"): 0.016,
    ("medium", "1024x1024"): 0.042, ("medium", "1024x1536"): 0.063, ("medium", "1536x1024"): 0.063,
    ("high", "1024x1024"): 0.167, ("high", "1024x1536"): 0.25, ("high", "1536x1024"): 0.25,
    ("standard", "1024x1024"): 0.04, ("standard", "1024x1792"): 0.08, ("standard", "1792x1024"): 0.08,
    ("hd", "1024x1024"): 0.08, ("hd", "1024x1792"): 0.12, ("hd", "1792x1024"): 0.12,
}  # fmt: skip
UNKNOWN_PRICE_USD = 0.25
# Error codes and words of a content-policy refusal (OpenAI answers 400 with one of these).
_REFUSAL = re.compile(r"content_policy|moderation|safety|policy_violation", re.IGNORECASE)


def sizes_for(model: str) -> tuple[str, str]:
    """(portrait, backdrop) sizes the model accepts: dall-e-3 has no 1024x1536/1536x1024."""
    return ("1024x1792", "1792x1024") if model.startswith("dall-e") else (PORTRAIT_SIZE, BACKDROP_SIZE)


def image_price(size: str, quality: str) -> float:
    if (quality, size) in PRICES_USD:
        return PRICES_USD[(quality, size)]
    same_size = [p for (_q, s), p in PRICES_USD.items() if s == size]
    return max(same_size) if same_size else UNKNOWN_PRICE_USD


def series_cost_estimate(leads: int, majors_profile: int, majors_other: int, places: int, quality: str = DEFAULT_QUALITY) -> float:
    """USD the art of a series costs once: 2 images per lead, 3 per profile role, 1 per other major
    role, 1 per place (later episodes reuse them)."""
    portrait = image_price(PORTRAIT_SIZE, quality)
    return round(portrait * (2 * leads + 3 * majors_profile + majors_other) + image_price(BACKDROP_SIZE, quality) * places, 3)


class ImageReplyError(ProviderError):
    """The server answered, but not with a usable image: what was wrong is in the message."""


class ImageRefused(ProviderError):
    """The model refused the prompt (content policy): that item stays drawn art."""


class ImageAccessError(ProviderError):
    """Out of credit or the key refused: no new art for the rest of the run."""


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.partition("x")
    return int(w), int(h)


def decode_image(b64: Any, size: str) -> bytes:
    """The PNG bytes of one reply's base64 image, checked: decodable, complete, the asked size."""
    if not isinstance(b64, str) or not b64:
        raise ImageReplyError("the reply carries no base64 image (data[0].b64_json is empty)")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageReplyError(f"the reply's base64 is truncated or invalid ({exc})") from None
    try:
        with Image.open(io.BytesIO(raw)) as im:
            im.load()
            got = im.size
            fmt = im.format
    except Exception as exc:  # noqa: BLE001 - Pillow raises many kinds for bad bytes
        raise ImageReplyError(f"the reply is not a complete image ({type(exc).__name__}: {exc})") from None
    if got != _size(size):
        raise ImageReplyError(f"the reply is {got[0]}x{got[1]}, {size} was asked for")
    if fmt != "PNG":  # keep one format on disk; re-encode JPEG/WebP replies
        with Image.open(io.BytesIO(raw)) as im:
            buf = io.BytesIO()
            im.save(buf, "PNG")
        raw = buf.getvalue()
    return raw


class ImageClient:
    """`images.generate` through the openai client; retries follow core.paid_call."""

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        model: str = DEFAULT_MODEL,
        quality: str = DEFAULT_QUALITY,
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 180.0,
    ):
        if model.startswith("dall-e") and quality not in ("standard", "hd"):  # dall-e knows only these two
            quality = "hd" if quality == "high" else "standard"
        self.model, self.quality, self.policy, self.sleep = model, quality, policy, sleep
        self.base_url = base_url
        self._key = api_key
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    @property
    def gpt_image(self) -> bool:
        return self.model.startswith("gpt-image")

    def generate(self, prompt: str, size: str, *, transparent: bool = False) -> bytes:
        """One image as checked PNG bytes; raises ImageRefused, ImageAccessError, ImageReplyError
        or ProviderError (retries exhausted), none carrying the key."""
        kwargs: dict[str, Any] = {"model": self.model, "prompt": prompt, "size": size, "n": 1, "quality": self.quality}
        if self.gpt_image:  # always base64; transparent backgrounds for cut-out portraits
            kwargs["output_format"] = "png"
            if transparent:
                kwargs["background"] = "transparent"
        else:  # dall-e and compatible servers answer with a URL unless asked for base64
            kwargs["response_format"] = "b64_json"
        where = self.base_url or "api.openai.com"
        try:
            reply = call_with_retry(
                lambda: self._client.images.generate(**kwargs), what=f"image {self.model} {size} at {where}",
                classify=classify_openai_error, policy=self.policy, sleep=self.sleep,
            )  # fmt: skip
        except OutOfCredit:
            raise ImageAccessError(
                f"image account out of credit (HTTP 429 insufficient_quota at {where}): add credit; no new art this run"
            ) from None
        except ProviderError as exc:
            cause = exc.__cause__
            if isinstance(cause, openai.APIStatusError):
                code = str(getattr(cause, "code", None) or "")
                message = self._redact(str(getattr(cause, "message", "") or ""))
                if cause.status_code == 400 and (_REFUSAL.search(code) or _REFUSAL.search(message)):
                    raise ImageRefused(f"the image model refused the prompt ({code or 'content policy'}): {message}") from None
                if cause.status_code in (401, 403):
                    raise ImageAccessError(
                        f"the image key was refused (HTTP {cause.status_code}) at {where}: check AIDAS_IMAGE_API_KEY "
                        "(or OPENAI_API_KEY); no new art this run"
                    ) from None
            raise ProviderError(self._redact(str(exc))) from None
        data = getattr(reply, "data", None) or []
        if not data:
            raise ImageReplyError(f"image {self.model} {size} at {where}: the reply has no data")
        try:
            return decode_image(getattr(data[0], "b64_json", None), size)
        except ImageReplyError as exc:
            raise ImageReplyError(f"image {self.model} {size} at {where}: {exc}") from None

    def _redact(self, text: str) -> str:
        return re.sub(r"sk-[\w\-*]+", "[key]", text.replace(self._key, "[key]"))[:300]


# ---------------------------------------------------------------- prompts

_COLOURS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (20, 20, 20)), ("dark brown", (60, 40, 30)), ("brown", (110, 70, 40)), ("chestnut", (140, 80, 50)),
    ("blonde", (220, 190, 120)), ("grey", (140, 140, 140)), ("white", (240, 240, 240)), ("red", (200, 50, 50)),
    ("pink", (230, 130, 160)), ("orange", (230, 140, 50)), ("yellow", (230, 210, 70)), ("green", (70, 140, 80)),
    ("teal", (50, 130, 130)), ("blue", (60, 100, 190)), ("navy", (40, 50, 90)), ("purple", (130, 80, 160)),
    ("beige", (220, 200, 170)),
)  # fmt: skip


def colour_name(hex_value: str) -> str:
    rgb = hex_rgb(hex_value)
    return min(_COLOURS, key=lambda c: sum((a - b) ** 2 for a, b in zip(rgb, c[1])))[0]


def series_style(title: str, genre: str) -> str:
    """The one style text of a series' art (kept in its manifest once used)."""
    return (
        f"Art style for the Korean web drama '{title}' ({genre}): clean semi-realistic digital illustration, "
        "soft cinematic lighting, gentle colours, consistent character design, no text, no watermark"
    )


def _person(c: Character) -> str:
    ap = c.appearance
    extra = {"glasses": ", wearing glasses", "earrings": ", wearing earrings", "cap": ", wearing a cap",
             "tie": ", wearing a tie", "beard": ", with a short beard"}.get(ap.accessory, "")  # fmt: skip
    person = "man" if c.gender == "male" else "woman"
    return (
        f"{c.name}, a {c.age}-year-old Korean {person}, {c.occupation}, {', '.join(c.personality[:3])}; "
        f"{colour_name(ap.hair)} {ap.hair_style.replace('_', ' ')} hair, {colour_name(ap.eye)} eyes, "
        f"{colour_name(ap.outfit)} {ap.outfit_style} outfit{extra}"
    )


VIEWS: dict[str, str] = {
    "front": "head-and-shoulders bust facing the viewer, centred, calm neutral expression, mouth closed",
    "front_open": "the same head-and-shoulders bust facing the viewer, same pose and framing, speaking, mouth open",
    "profile": "head-and-shoulders bust in side profile facing right, mouth closed",
    "profile_open": "the same head-and-shoulders bust in side profile facing right, same framing, speaking, mouth open",
}


def portrait_prompt(style: str, c: Character, view: str) -> str:
    return f"{style}. Character portrait of {_person(c)}. {VIEWS[view]}. Plain flat light grey background, nothing else in the picture."


def backdrop_prompt(style: str, name: str, kind: str) -> str:
    return (
        f"{style}. Background plate of '{name}' (a {kind.replace('_', ' ')}) in daylight: wide eye-level establishing view, "
        "no people, no text, an open middle ground where characters will stand."
    )


def views_for(c: Character) -> list[str]:
    if c.avatar_strategy == "full_avatar":
        return ["front", "front_open"]
    if c.avatar_strategy == "partial_avatar":
        return ["front", "profile", "profile_open"]
    return ["front"]


# ---------------------------------------------------------------- replies → sprites and backdrops


def cut_out(img: Image.Image) -> Image.Image:
    """RGBA with the background removed: kept when the reply has transparency, else keyed out by
    the border's colour (the prompt asks for a plain background), softened at the edge."""
    img = img.convert("RGBA")
    alpha = img.getchannel("A")
    if alpha.getextrema()[0] < 250:
        return img
    rgb = img.convert("RGB")
    w, h = rgb.size
    border = [rgb.getpixel((x, y)) for x in range(0, w, max(1, w // 32)) for y in (0, h - 1)]
    border += [rgb.getpixel((x, y)) for y in range(0, h, max(1, h // 32)) for x in (0, w - 1)]
    key = tuple(sorted(c[i] for c in border)[len(border) // 2] for i in range(3))
    diff = ImageChops.difference(rgb, Image.new("RGB", rgb.size, key)).convert("L")
    mask = diff.point(lambda v: 0 if v < 18 else (255 if v > 40 else round((v - 18) * 255 / 22)))
    img.putalpha(mask.filter(ImageFilter.GaussianBlur(1.0)))
    return img


def to_sprite(png: bytes, shadow: bool = False) -> Image.Image:
    """A generated portrait as a 560×760 bust sprite: cut out, fitted to the height, standing on the
    bottom edge like the drawn busts."""
    with Image.open(io.BytesIO(png)) as im:
        img = cut_out(im)
    box = img.getchannel("A").getbbox() or (0, 0, img.width, img.height)
    img = img.crop((box[0], box[1], box[2], img.height))  # keep the bottom: the bust stands on it
    scale = min(WIDTH / img.width, HEIGHT * 0.96 / img.height)
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.LANCZOS)
    sprite = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    sprite.paste(img, ((WIDTH - img.width) // 2, HEIGHT - img.height), img)
    return silhouette(sprite) if shadow else sprite


def to_backdrop(png: bytes) -> Image.Image:
    """A generated place picture covering 1920×1080."""
    with Image.open(io.BytesIO(png)) as im:
        img = im.convert("RGB")
    scale = max(1920 / img.width, 1080 / img.height)
    img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    x0, y0 = (img.width - 1920) // 2, (img.height - 1080) // 2
    return img.crop((x0, y0, x0 + 1920, y0 + 1080))


# ---------------------------------------------------------------- the locked art of a series


@dataclass
class LockedArt:
    """What a series has: sprites (keys as draw_roster_sprites: id, profile_key(id)), the front
    bust of each character with a look, backdrop pictures by location name."""

    sprites: dict[str, list[Path]] = field(default_factory=dict)
    portraits: dict[str, Path] = field(default_factory=dict)
    backdrops: dict[str, Path] = field(default_factory=dict)
    made: int = 0  # images asked for in this run (paid)
    cached: int = 0  # images the content cache answered
    warnings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.sprites and not self.backdrops


def manifest_path(art_dir: Path) -> Path:
    return Path(art_dir) / "looks.json"


def _read_manifest(art_dir: Path) -> dict:
    path = manifest_path(art_dir)
    if not path.exists():
        return {"version": ART_VERSION, "style": "", "characters": {}, "places": {}, "refused": []}
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("characters"), dict) or not isinstance(data.get("places"), dict):
        raise ValueError(f"{path}: not a looks manifest (expected characters and places objects)")
    data.setdefault("refused", [])
    return data


def load_locked_art(art_dir: Path) -> LockedArt:
    """The art a series already has (no calls); files that went missing are left out."""
    art = LockedArt()
    data = _read_manifest(Path(art_dir))
    base = Path(art_dir)
    for char_id, entry in data["characters"].items():
        for key, names in entry.get("sprites", {}).items():
            paths = [base / n for n in names]
            if paths and all(p.is_file() for p in paths):
                art.sprites[key] = paths
        front = base / entry.get("portrait", "")
        if entry.get("portrait") and front.is_file():
            art.portraits[char_id] = front
    for name, entry in data["places"].items():
        path = base / entry.get("file", "")
        if entry.get("file") and path.is_file():
            art.backdrops[name] = path
    return art


@contextlib.contextmanager
def _series_lock(art_dir: Path) -> Iterator[None]:
    art_dir.mkdir(parents=True, exist_ok=True)
    with open(art_dir / ".lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class _StopArt(Exception):
    """No new art in this run (budget, credit, key); the reason is the message."""


class SceneArtist:
    """Makes a series' missing looks and places once, and hands back everything it has."""

    def __init__(
        self,
        client: ImageClient,
        cache_dir: Path,
        *,
        ledger: CostLedger | None = None,
        budget: Budget | None = None,
        portrait_size: str | None = None,
        backdrop_size: str | None = None,
    ):
        self.client, self.cache_dir, self.ledger, self.budget = client, Path(cache_dir), ledger, budget
        default_portrait, default_backdrop = sizes_for(client.model)
        self.portrait_size, self.backdrop_size = portrait_size or default_portrait, backdrop_size or default_backdrop
        self.disabled_reason: str | None = None  # set once new art stops for this run

    def ensure(
        self,
        art_dir: Path,
        roster: Roster,
        places: Sequence[tuple[str, str]],
        style: str,
        *,
        series_id: str = "",
        episode: int = 0,
    ) -> LockedArt:
        """Locked art for the series under `art_dir`: looks of the leading and major tiers and a
        backdrop per (name, kind) place, made when missing; a refusal or a failure leaves that item
        drawn (LockedArt.warnings says why); never raises for the provider's sake."""
        art_dir = Path(art_dir)
        run = LockedArt()
        with _series_lock(art_dir):
            data = _read_manifest(art_dir)
            if not data.get("style"):
                data["style"] = style  # fixed for the life of the series
            style = data["style"]
            refused = set(data["refused"])
            have = load_locked_art(art_dir)  # a look whose files went missing is made again (the cache answers)
            try:
                for c in roster.characters:
                    kept = data["characters"].get(c.id, {}).get("sprites", {})
                    complete = c.id in have.portraits and bool(kept) and all(k in have.sprites for k in kept)
                    if c.importance not in LOOK_TIERS or complete or f"char:{c.id}" in refused:
                        continue
                    self._make_look(art_dir, data, c, style, series_id, episode, run, refused)
                for name, kind in places:
                    if name in have.backdrops or f"place:{name}" in refused:
                        continue
                    self._make_place(art_dir, data, name, kind, style, series_id, episode, run, refused)
            except _StopArt as stop:
                self.disabled_reason = str(stop)
                run.warnings.append(f"no new art: {stop}")
            data["refused"] = sorted(refused)
            write_json(manifest_path(art_dir), data)
        have = load_locked_art(art_dir)
        have.made, have.cached, have.warnings = run.made, run.cached, run.warnings
        return have

    # -- one item

    def _make_look(self, art_dir: Path, data: dict, c: Character, style: str, series_id: str, episode: int,
                   run: LockedArt, refused: set[str]) -> None:  # fmt: skip
        pictures: dict[str, bytes] = {}
        for view in views_for(c):
            png = self._image(portrait_prompt(style, c, view), self.portrait_size, f"portrait {c.id} {view}",
                              series_id, episode, run, refused, f"char:{c.id}", transparent=True)  # fmt: skip
            if png is None:
                return  # nothing half-made: the character stays drawn
            pictures[view] = png
        mystery = c.avatar_strategy == "partial_avatar" and profile_view(c) == "silhouette"
        names: dict[str, list[str]] = {}
        written: dict[str, str] = {}
        for view, png in pictures.items():
            sprite = to_sprite(png, shadow=mystery and view.startswith("profile"))
            name = f"{c.id}-{fingerprint(ART_VERSION, png)[:10]}-{view}.png"
            with atomic_path(art_dir / name) as tmp:
                sprite.save(tmp, format="PNG", compress_level=6)
            written[view] = name
        if "front_open" in written:
            names[c.id] = [written["front"], written["front_open"], written["front_open"]]
        else:
            names[c.id] = [written["front"]] * 3
        if "profile" in written:
            names[profile_key(c.id)] = [written["profile"], written["profile_open"], written["profile_open"]]
        data["characters"][c.id] = {"sprites": names, "portrait": written["front"], "views": list(written)}
        write_json(manifest_path(art_dir), data)  # each finished look is kept at once

    def _make_place(self, art_dir: Path, data: dict, name: str, kind: str, style: str, series_id: str, episode: int,
                    run: LockedArt, refused: set[str]) -> None:  # fmt: skip
        png = self._image(backdrop_prompt(style, name, kind), self.backdrop_size, f"backdrop {name}", series_id, episode,
                          run, refused, f"place:{name}")  # fmt: skip
        if png is None:
            return
        file = f"place-{fingerprint(ART_VERSION, png)[:12]}.png"
        with atomic_path(art_dir / file) as tmp:
            to_backdrop(png).save(tmp, format="PNG", compress_level=6)
        data["places"][name] = {"file": file, "kind": kind}
        write_json(manifest_path(art_dir), data)

    def _image(self, prompt: str, size: str, what: str, series_id: str, episode: int, run: LockedArt,
               refused: set[str], refuse_key: str, *, transparent: bool = False) -> bytes | None:  # fmt: skip
        """One picture from the cache or the model; None when this item stays drawn."""
        key = fingerprint(ART_VERSION, self.client.model, size, self.client.quality, transparent, prompt)
        cached = self.cache_dir / key[:2] / f"{key}.png"
        detail = f"{what}: {self.client.model} {size} {self.client.quality}"
        if cached.is_file():
            try:
                png = decode_image(base64.b64encode(cached.read_bytes()).decode(), size)
            except ImageReplyError:
                cached.unlink(missing_ok=True)  # a damaged cache entry is asked again
            else:
                run.cached += 1
                self._record(0.0, series_id, episode, f"cache hit, {detail}", cache_hit=True)
                return png
        price = image_price(size, self.client.quality)
        if self.budget is not None:
            try:
                mode = self.budget.ensure_can_spend(PROVIDER, price)
            except BudgetExceeded as exc:
                raise _StopArt(str(exc)) from None
            if mode != "normal":
                raise _StopArt(f"{PROVIDER} budget in {mode} mode (80 % spent): existing art is reused, none is made")
        try:
            png = self.client.generate(prompt, size, transparent=transparent)
        except ImageAccessError as exc:
            raise _StopArt(str(exc)) from None
        except ImageRefused as exc:
            refused.add(refuse_key)
            run.warnings.append(f"{what}: {exc}; drawn art is used")
            self._record(0.0, series_id, episode, f"refused, {detail}")
            return None
        except ImageReplyError as exc:
            run.warnings.append(f"{what}: bad reply ({exc}); drawn art is used, asked again next run")
            self._record(price, series_id, episode, f"bad reply, {detail}")  # the server may have billed it
            return None
        except ProviderError as exc:  # retries spent: the server is in trouble, stop asking it this run
            raise _StopArt(f"{what}: {exc}") from None
        run.made += 1
        self._record(price, series_id, episode, detail)
        write_bytes(cached, png)
        return png

    def _record(self, cost: float, series_id: str, episode: int, detail: str, *, cache_hit: bool = False) -> None:
        if self.ledger is None:
            return
        self.ledger.record(LedgerEntry(
            provider=PROVIDER, operation="image", units=0 if cache_hit else 1, unit="images", cost_usd=round(cost, 4),
            cache_hit=cache_hit, series_id=series_id, episode=episode, detail=detail,
        ))  # fmt: skip
