"""The Korean font of subtitles and cards, and a glyph-coverage check that proves there is no tofu.

NanumGothic (SIL OFL) comes from Debian `fonts-nanum`. AIDAS_SUBTITLE_FONT points at another file.
"""

from __future__ import annotations

import functools
import os
import shutil
import struct
import subprocess
import unicodedata
from pathlib import Path

from PIL import ImageFont

from aidas_dagster.core.storage import ASSETS_DATA

FONT_ENV = "AIDAS_SUBTITLE_FONT"
FONT_DIRS = (Path("/usr/share/fonts/truetype/nanum"), ASSETS_DATA / "fonts")
REGULAR = "NanumGothic.ttf"
BOLD = "NanumGothicBold.ttf"


class FontNotFoundError(FileNotFoundError):
    pass


@functools.cache
def subtitle_font_path() -> Path:
    """NanumGothic regular (or the file AIDAS_SUBTITLE_FONT names)."""
    override = os.environ.get(FONT_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise FontNotFoundError(f"{FONT_ENV}={override!r}: no such font file")
        return path
    for folder in FONT_DIRS:
        if (folder / REGULAR).is_file():
            return folder / REGULAR
    found = _fc_match("NanumGothic")
    if found is not None:
        return found
    raise FontNotFoundError(
        f"NanumGothic not found in {', '.join(map(str, FONT_DIRS))} nor by fc-match: install Debian "
        f"'fonts-nanum', or set {FONT_ENV} to a Korean .ttf"
    )


@functools.cache
def title_font_path() -> Path:
    """The bold sibling of the subtitle font when there is one (titles, name tags), else the regular."""
    regular = subtitle_font_path()
    if regular.name == REGULAR and (regular.parent / BOLD).is_file():
        return regular.parent / BOLD
    return regular


@functools.cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(title_font_path() if bold else subtitle_font_path()), size)


def _fc_match(family: str) -> Path | None:
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--format=%{file}", family], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(out.strip()) if out.strip() else None
    # fc-match always answers something; accept it only if it really is the family asked for.
    if path and path.is_file() and family.lower() in path.name.lower():
        return path
    return None


def missing_glyphs(text: str, font_path: Path | str) -> set[str]:
    """Characters of `text` the font has no glyph for (whitespace and control characters are ignored)."""
    wanted = {ch for ch in text if not _ignorable(ch)}
    if not wanted:
        return set()
    covered = _cmap(str(font_path))
    if covered is not None:
        return {ch for ch in wanted if ord(ch) not in covered}
    return _missing_by_rendering(wanted, str(font_path))


def _ignorable(ch: str) -> bool:
    # Controls, format characters (ZWJ, variation selectors) and spaces never need a visible glyph.
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") or 0xFE00 <= ord(ch) <= 0xFE0F


@functools.cache
def _cmap(font_path: str) -> frozenset[int] | None:
    """Code points mapped by the font: fontTools when installed, else a small reader of the sfnt cmap."""
    try:
        from fontTools.ttLib import TTFont  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        try:
            with TTFont(font_path, fontNumber=0, lazy=True) as tt:
                return frozenset(tt.getBestCmap() or {})
        except Exception:
            return None
    try:
        return _read_cmap(Path(font_path).read_bytes())
    except (struct.error, ValueError, OSError):
        return None


def _read_cmap(data: bytes) -> frozenset[int]:
    """Unicode code points of an sfnt (TrueType/OpenType, first face of a collection) cmap, formats 4 and 12."""
    base = 0
    if data[:4] == b"ttcf":
        (base,) = struct.unpack_from(">I", data, 12)
    num_tables = struct.unpack_from(">H", data, base + 4)[0]
    cmap_off = None
    for i in range(num_tables):
        tag, _sum, offset, _length = struct.unpack_from(">4sIII", data, base + 12 + 16 * i)
        if tag == b"cmap":
            cmap_off = offset
    if cmap_off is None:
        raise ValueError("font has no cmap table")
    _version, n_sub = struct.unpack_from(">HH", data, cmap_off)
    points: set[int] = set()
    for i in range(n_sub):
        platform, encoding, sub_off = struct.unpack_from(">HHI", data, cmap_off + 4 + 8 * i)
        if not (platform == 0 or (platform == 3 and encoding in (1, 10))):
            continue
        at = cmap_off + sub_off
        fmt = struct.unpack_from(">H", data, at)[0]
        if fmt == 4:
            points |= _cmap_format4(data, at)
        elif fmt == 12:
            points |= _cmap_format12(data, at)
    if not points:
        raise ValueError("no Unicode cmap subtable of format 4 or 12")
    return frozenset(points)


def _cmap_format4(data: bytes, at: int) -> set[int]:
    seg_x2 = struct.unpack_from(">H", data, at + 6)[0]
    segs = seg_x2 // 2
    ends = struct.unpack_from(f">{segs}H", data, at + 14)
    starts = struct.unpack_from(f">{segs}H", data, at + 16 + seg_x2)
    deltas = struct.unpack_from(f">{segs}h", data, at + 16 + 2 * seg_x2)
    ro_at = at + 16 + 3 * seg_x2
    offsets = struct.unpack_from(f">{segs}H", data, ro_at)
    points: set[int] = set()
    for k in range(segs):
        start, end, delta, ro = starts[k], ends[k], deltas[k], offsets[k]
        if start == 0xFFFF:
            continue
        for cp in range(start, end + 1):
            if ro == 0:
                glyph = (cp + delta) & 0xFFFF
            else:
                g_at = ro_at + 2 * k + ro + 2 * (cp - start)
                glyph = struct.unpack_from(">H", data, g_at)[0]
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                points.add(cp)
    return points


def _cmap_format12(data: bytes, at: int) -> set[int]:
    n_groups = struct.unpack_from(">I", data, at + 12)[0]
    points: set[int] = set()
    for g in range(n_groups):
        start, end, glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
        points.update(range(start if glyph else start + 1, end + 1))
    return points


def _missing_by_rendering(chars: set[str], font_path: str) -> set[str]:
    """Last resort: a character whose bitmap equals the .notdef glyph's (or is empty) is missing."""
    f = ImageFont.truetype(font_path, 48)
    notdef = bytes(f.getmask("\U0010fffd"))
    missing = set()
    for ch in chars:
        mask = f.getmask(ch)
        if mask.getbbox() is None or bytes(mask) == notdef:
            missing.add(ch)
    return missing
