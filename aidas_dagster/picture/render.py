"""The final cut: intro card, scenes encoded in chunks of a few lines, outro card, music,
subtitles, thumbnail.

How it renders fast (see /work/shared/MEDIA.md): a Python "frame server" draws each line once with
Pillow (mouth closed, no subtitle) and converts it once to yuv420p; every other state of the line
(mouth half/open × subtitle chunk) only patches the small regions that differ, converted once.
Raw frames are written by reference into one ffmpeg/libx264 process per segment (two segments
encode at once, so neither core idles while the other draws). A line's pictures are dropped once
it has passed, so memory stays flat however long the episode. A line played from a provider's
clip (LineClip.external_clip) is decoded by ffmpeg into the same raw stream, its subtitle blended
over it, so it costs no extra encoder pass either.

Segments are content-addressed: the file name is a fingerprint of everything drawn in it (clips,
text, sprite digests, backdrop, encoder settings). A segment is a chunk of up to CHUNK_LINES lines
whose frames are counted from the chunk's own start (clips.Chunk), so after a one-line edit only
that chunk is encoded again even though every later line has moved by some fraction of a frame.
The soundtrack is cut the same way (soundtrack.py): each segment owns its part (its line's voice,
its own music and ducking), encoded to AAC pieces cached beside the segments, so a re-cut encodes
only the changed segments' sound and the glue between parts, beside the video encoders. Segments
and audio are then joined by stream copy with the concat demuxer in one ffmpeg command, in a work
folder; the MP4, SRT and thumbnail are published together at the end. The segment cache is kept
bounded (segment_cache.py).
"""

from __future__ import annotations

import ctypes
import fcntl
import math
import os
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from aidas_dagster.core.storage import atomic_path, file_digest, fingerprint, write_text
from aidas_dagster.picture import fonts
from aidas_dagster.picture import segment_cache as seg_cache
from aidas_dagster.picture import soundtrack as snd
from aidas_dagster.picture.avatars import DRAW_VERSION, back_image, bust_image, hex_rgb, shade, silhouette
from aidas_dagster.picture.backdrops import Backdrops
from aidas_dagster.picture.clips import frame_span, present_characters, read_wav_mono, scene_starts
from aidas_dagster.picture.models import ClipPlan, FinalCut, LineClip
from aidas_dagster.picture.probe import ffmpeg_exe, probe
from aidas_dagster.story.models import Character, EpisodeScript, Roster, Scene
from aidas_dagster.voice.models import AudioTrack, TrackLine

RENDER_VERSION = 6
W, H = 1920, 1080
FRAME_BYTES = W * H * 3 // 2
GOP = 60
# Our pictures never move: a line's frames are stills whose mouth and subtitle change in place.
# Sub-pixel motion search, B-frames and a long lookahead buy nothing on such content but cost
# x264 ~40 % of its time (measured: 300 real frames, veryfast, 2 cores: 3.1 s → 2.0 s, +8 % bytes,
# PSNR 49 dB). Added after the preset; pass x264_params=None to encode with the bare preset.
STILL_X264_PARAMS = "bframes=0:me=dia:subme=1:rc-lookahead=5"
FADE_SECONDS = 0.5  # spec 4.4.2 transitions.fade

# Subtitles: spec 4.4.2 asks NanumGothic 48 white with a black outline 2, bottom centre; at 1080p
# that reads small, so 53 px with a 3 px outline.
SUB_SIZE = 53
SUB_STROKE = 3
SUB_MAX_WIDTH = 1640
SUB_ROW_HEIGHT = 68
SUB_BOTTOM = 62  # baseline of the last row above the frame's bottom edge
NAME_SIZE = 36

MUSIC_VERSION = 2  # music per segment from a fixed chord (soundtrack.py)


class RenderError(RuntimeError):
    pass


# ---------------------------------------------------------------- pictures → yuv420p


# BT.601 limited range, the conversion ffmpeg applies by default for rgb24 → yuv420p.
_YUV_MATRIX = (
    65.481 / 255, 128.553 / 255, 24.966 / 255, 16.0,
    -37.797 / 255, -74.203 / 255, 112.0 / 255, 128.0,
    112.0 / 255, -93.786 / 255, -18.214 / 255, 128.0,
)  # fmt: skip


def to_yuv420(img: Image.Image) -> bytes:
    """RGB picture → one raw yuv420p frame. Pillow's matrix convert is C-fast (~15 ms at 1080p);
    chroma is the 2×2 box average, as swscale does by default."""
    y, u, v = img.convert("RGB", _YUV_MATRIX).split()
    return y.tobytes() + u.reduce(2).tobytes() + v.reduce(2).tobytes()


def faded(frame: bytes, alpha: float) -> bytes:
    """The frame blended towards black: a per-plane lookup table applied with bytes.translate
    (C speed, ~2 ms a frame; fades are done here, not in ffmpeg)."""
    if alpha >= 1.0:
        return frame
    a = max(0.0, alpha)
    lut_y = bytes(min(255, max(0, round(16 + (v - 16) * a))) for v in range(256))
    lut_c = bytes(min(255, max(0, round(128 + (v - 128) * a))) for v in range(256))
    return frame[: W * H].translate(lut_y) + frame[W * H :].translate(lut_c)


def _planes(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2-D views of the Y, U and V planes of a flat yuv420p frame array."""
    q = W * H // 4
    return (
        frame[: W * H].reshape(H, W),
        frame[W * H : W * H + q].reshape(H // 2, W // 2),
        frame[W * H + q :].reshape(H // 2, W // 2),
    )


Box = tuple[int, int, int, int]


def _even_box(box: tuple[float, float, float, float]) -> Box | None:
    """The box grown to even coordinates (chroma is 2×2) and clipped to the frame; None if empty."""
    x0, y0 = max(0, int(box[0]) // 2 * 2), max(0, int(box[1]) // 2 * 2)
    x1, y1 = min(W, (math.ceil(box[2]) + 1) // 2 * 2), min(H, (math.ceil(box[3]) + 1) // 2 * 2)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _patch_planes(img: Image.Image, box: Box) -> tuple[Box, np.ndarray, np.ndarray, np.ndarray]:
    """The yuv420p planes of one even-aligned region of a picture (the same maths as to_yuv420)."""
    y, u, v = img.crop(box).convert("RGB", _YUV_MATRIX).split()
    return box, np.asarray(y), np.asarray(u.reduce(2)), np.asarray(v.reduce(2))


def _apply_patch(frame: np.ndarray, patch: tuple[Box, np.ndarray, np.ndarray, np.ndarray]) -> None:
    (x0, y0, x1, y1), py, pu, pv = patch
    fy, fu, fv = _planes(frame)
    fy[y0:y1, x0:x1] = py
    fu[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = pu
    fv[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = pv


def _fade_alpha(i: int, n: int, fade: int, fade_out: int | None = None) -> float:
    """Opacity of frame i of n with a fade from black over `fade` frames at the start and to
    black over `fade_out` (default: the same) at the end."""
    fade_out = fade if fade_out is None else fade_out
    alpha = 1.0
    if fade > 0:
        alpha = min(alpha, i / fade)
    if fade_out > 0:
        alpha = min(alpha, (n - 1 - i) / fade_out)
    return max(0.0, alpha)


# ---------------------------------------------------------------- ffmpeg


def _tail(stream) -> str:
    stream.seek(0)
    text = stream.read().decode("utf-8", "replace").strip()
    return text[-1500:] if text else "(no output)"


def _widen_pipe(fd: int) -> None:
    # A 1 MB pipe moves a 3 MB frame in 3 writes instead of ~50: less context switching.
    try:
        fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ (Linux)
    except OSError:
        pass


def encode_frames(
    runs: Iterable[tuple[bytes, int]], n_frames: int, target: Path, *, preset: str, crf: int, fps: int,
    x264_params: str | None = STILL_X264_PARAMS,
) -> None:
    """Encode raw yuv420p frames, given as (frame, repeat count) runs, to a video-only H.264 MP4.

    One x264 thread: two segments encode at once (one per core), and a threaded x264 spends ~20 %
    more CPU on the same frames (thread start-up and hand-over; measured: 180 frames 1.88 s → 1.51 s)."""
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{W}x{H}", "-r", str(fps), "-i", "-",
        "-an", "-c:v", "libx264", "-threads", "1", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-g", str(GOP), *(["-x264-params", x264_params] if x264_params else []),
        "-r", str(fps), "-video_track_timescale", str(fps * 512), "-f", "mp4",
    ]  # fmt: skip
    with atomic_path(target) as tmp, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([*cmd, str(tmp)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err, bufsize=0)
        assert proc.stdin is not None
        fd = proc.stdin.fileno()
        _widen_pipe(fd)
        # A writer thread feeds the pipe while this thread draws the next pictures, so x264 is
        # not starved while Pillow works (both release the GIL for their heavy parts).
        pending: queue.Queue[tuple[bytes, int] | None] = queue.Queue(maxsize=4)
        broken: list[BaseException] = []

        def feed() -> None:
            try:
                while (item := pending.get()) is not None:
                    frame, count = item
                    view = memoryview(frame)
                    for _ in range(count):
                        sent = 0
                        while sent < len(view):
                            sent += os.write(fd, view[sent:])
            except BaseException as exc:  # ffmpeg died: keep draining so the producer never blocks
                broken.append(exc)
                while pending.get() is not None:
                    pass

        writer = threading.Thread(target=feed, name=f"feed-{target.name}", daemon=True)
        writer.start()
        written = 0
        try:
            for frame, count in runs:
                if len(frame) != FRAME_BYTES:
                    raise RenderError(f"{target}: internal error, frame of {len(frame)} bytes")
                if broken:
                    break
                pending.put((frame, count))
                written += count
        except BaseException:
            pending.put(None)
            writer.join()
            proc.kill()
            proc.wait()
            raise
        pending.put(None)
        writer.join()
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        if proc.wait() != 0 or broken:
            raise RenderError(f"ffmpeg failed encoding {target} (exit {proc.returncode}): {_tail(err)}")
        if written != n_frames:
            raise RenderError(f"{target}: internal error, wrote {written} frames, planned {n_frames}")


def _run_ffmpeg(args: list[str], target: Path) -> None:
    with tempfile.TemporaryFile() as err:
        done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], stdout=subprocess.DEVNULL, stderr=err)
        if done.returncode != 0:
            raise RenderError(f"ffmpeg failed writing {target} (exit {done.returncode}): {_tail(err)}")


# ---------------------------------------------------------------- text


def wrap_text(text: str, font, max_width: int) -> list[str]:
    """Rows of at most max_width pixels, broken at spaces (a word too long for a row at characters)."""
    rows: list[str] = []
    row = ""
    for word in text.split():
        candidate = f"{row} {word}" if row else word
        if font.getlength(candidate) <= max_width:
            row = candidate
            continue
        if row:
            rows.append(row)
        row = ""
        for ch in word:  # break an over-long word
            if font.getlength(row + ch) > max_width and row:
                rows.append(row)
                row = ""
            row += ch
    if row:
        rows.append(row)
    return rows or [""]


@dataclass
class Cue:
    """A subtitle on screen: track times in seconds, and its frames [f0, f1) on the track."""

    start: float
    end: float
    f0: int
    f1: int
    text: str


def subtitle_cues(
    line: TrackLine, f0: int, f1: int, fps: int, font, max_width: int = SUB_MAX_WIDTH, to_frame: Callable[[float], int] | None = None
) -> list[Cue]:
    """The line as one cue of at most two rows, or several two-row chunks timed by its words
    (`to_frame` maps track seconds to frames: the line's chunk grid, by default round(t × fps))."""
    to_frame = to_frame or (lambda t: round(t * fps))
    rows = wrap_text(line.text, font, max_width)
    if len(rows) <= 2:
        return [Cue(line.start, line.end, f0, f1, "\n".join(rows))]
    words = line.text.split()
    chunks: list[list[int]] = [[]]  # word indices per chunk
    for i in range(len(words)):
        trial = " ".join(words[j] for j in chunks[-1] + [i])
        if chunks[-1] and len(wrap_text(trial, font, max_width)) > 2:
            chunks.append([])
        chunks[-1].append(i)
    # When each written word has a timing, a chunk starts with its first word; else by characters.
    if len(line.words) == len(words):
        starts = [max(line.start, line.words[c[0]].start) for c in chunks]
    else:
        total = sum(len(w) for w in words) or 1
        before = 0
        starts = []
        for c in chunks:
            starts.append(line.start + (line.end - line.start) * before / total)
            before += sum(len(words[j]) for j in c)
    starts[0] = line.start
    cues = []
    for k, c in enumerate(chunks):
        s = starts[k]
        e = starts[k + 1] if k + 1 < len(chunks) else line.end
        a = max(f0, min(f1 - 1, to_frame(s)))
        b = f1 if k + 1 == len(chunks) else max(a + 1, min(f1 - 1, to_frame(e)))
        cues.append(Cue(s, e, a, b, "\n".join(wrap_text(" ".join(words[j] for j in c), font, max_width))))
    # Frames must tile [f0, f1) with no empty cue.
    for k in range(1, len(cues)):
        cues[k].f0 = max(cues[k].f0, cues[k - 1].f0 + 1)
        cues[k - 1].f1 = cues[k].f0
    return [c for c in cues if c.f1 > c.f0]


def _fit_font(text: str, size: int, max_width: int, bold: bool = True):
    f = fonts.font(size, bold)
    while f.getlength(text) > max_width and size > 24:
        size -= 4
        f = fonts.font(size, bold)
    return f


NAME_PAD = 24  # name tag: horizontal padding around the name


def _subtitle_layout(text: str, name: str | None, name_x: float | None = None) -> tuple[list[str], int, int | None, float, float]:
    """Rows, baseline of the first row, top of the name tag (if any), the name's text width and
    the tag's centre. The tag sits under the speaker when `name_x` says where they stand (so in
    a group the speaker is named where they are), else centred above the subtitle."""
    rows = text.split("\n")
    base = H - SUB_BOTTOM - SUB_ROW_HEIGHT * (len(rows) - 1)
    if not name:
        return rows, base, None, 0.0, W / 2
    name_w = fonts.font(NAME_SIZE, True).getlength(name)
    half = name_w / 2 + NAME_PAD + 8
    cx = W / 2 if name_x is None else min(max(float(name_x), half), W - half)
    return rows, base, base - SUB_SIZE - 62, name_w, cx


def subtitle_box(text: str, name: str | None, name_x: float | None = None) -> Box:
    """The region a subtitle (and its name tag) may touch."""
    rows, base, top, name_w, cx = _subtitle_layout(text, name, name_x)
    font = fonts.font(SUB_SIZE)
    half = max(font.getlength(r) for r in rows) / 2 + SUB_STROKE + 8
    x0, x1, y0 = W / 2 - half, W / 2 + half, base - SUB_SIZE - SUB_STROKE - 10
    if top is not None:
        tag_half = name_w / 2 + NAME_PAD + 4
        x0, x1, y0 = min(x0, cx - tag_half), max(x1, cx + tag_half), min(y0, top - 4)
    return _even_box((x0, y0, x1, H)) or (0, 0, W, H)


def _draw_subtitle(
    img: Image.Image, text: str, name: str | None, color: tuple[int, int, int], origin: tuple[int, int] = (0, 0),
    name_x: float | None = None,
) -> None:
    """Burn a subtitle in (frame coordinates; `origin` is where `img` sits in the frame)."""
    ox, oy = origin
    d = ImageDraw.Draw(img, "RGBA")
    font = fonts.font(SUB_SIZE)
    rows, base, top, name_w, cx = _subtitle_layout(text, name, name_x)
    for i, row in enumerate(rows):
        d.text((W // 2 - ox, base + i * SUB_ROW_HEIGHT - oy), row, font=font, fill=(255, 255, 255), anchor="ms",
               stroke_width=SUB_STROKE, stroke_fill=(0, 0, 0))  # fmt: skip
    if name and top is not None:
        nf = fonts.font(NAME_SIZE, True)
        box = (cx - name_w / 2 - NAME_PAD - ox, top - oy, cx + name_w / 2 + NAME_PAD - ox, top + 52 - oy)
        d.rounded_rectangle(box, radius=26, fill=(*shade(color, 0.8), 225), outline=(255, 255, 255, 200), width=2)
        d.text((cx - ox, top + 26 - oy), name, font=nf, fill=(255, 255, 255), anchor="mm")


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


class _Sprites:
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
class _Line:
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
class _SceneView:
    location: str
    time_of_day: str
    atmosphere: str


CARD_PANEL = (360, 250, 1560, 700)
CARD_PULSE_BOX = (CARD_PANEL[0] - 4, CARD_PANEL[1] - 4, CARD_PANEL[2] + 4, CARD_PANEL[3] + 4)  # ring and bars


class _Painter:
    """Draws the picture of a line for one mouth state and subtitle chunk."""

    def __init__(self, backdrops: Backdrops, sprites: _Sprites, characters: dict[str, Character], generated: Iterable[str] = ()):
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

    def line(self, view: _SceneView, ln: _Line, mouth: int, cue: Cue | None) -> Image.Image:
        """The whole picture of one state (used where the patch path cannot be)."""
        img, _box = self.compose(view, ln, mouth)
        if cue:
            name, name_x = ln.tag
            _draw_subtitle(img, cue.text, name, ln.color, name_x=name_x)
        return img

    def compose(self, view: _SceneView, ln: _Line, mouth: int) -> tuple[Image.Image, Box | None]:
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
        return img, (_even_box((box[0] + at[0], box[1] + at[1], box[2] + at[0], box[3] + at[1])) if box else None)

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

    def _card(self, view: _SceneView, ln: _Line, mouth: int) -> Image.Image:
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
        d.text((tx, py0 + 130), ln.name, font=_fit_font(ln.name, 84, px1 - tx - 40), fill=(255, 255, 255), anchor="ls")
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


def _title_card(backdrop: Image.Image, lines: list[tuple[str, int, bool, tuple[int, int, int]]], badge: str | None = None) -> Image.Image:
    """Centered rows of text (text, size, bold, colour) over a darkened backdrop."""
    img = backdrop.filter(ImageFilter.GaussianBlur(6)).point(lambda v: round(v * 0.45))
    d = ImageDraw.Draw(img, "RGBA")
    total = sum(round(size * 1.5) for _t, size, _b, _c in lines)
    y = (H - total) // 2
    for text, size, bold, color in lines:
        f = _fit_font(text, size, 1700, bold)
        step = round(size * 1.5)
        if badge is not None and text == badge:
            tw = f.getlength(text)
            d.rounded_rectangle((W / 2 - tw / 2 - 34, y + step / 2 - size * 0.75, W / 2 + tw / 2 + 34, y + step / 2 + size * 0.75),
                                radius=size * 0.75, fill=(210, 60, 80, 235))  # fmt: skip
        d.text((W // 2, y + step // 2), text, font=f, fill=color, anchor="mm", stroke_width=max(2, size // 24), stroke_fill=(0, 0, 0))
        y += step
    return img


# ---------------------------------------------------------------- segments


@dataclass
class _Segment:
    name: str
    n_frames: int
    spec: dict  # everything drawn: its fingerprint names the file
    runs: Callable[[], Iterator[tuple[bytes, int]]]
    view: _SceneView | None = None  # scenes only: what the frames are drawn from
    lines: list[_Line] = field(default_factory=list)
    kept_frames: int | None = None  # frames the join keeps (a chunk is encoded with a spare one)
    mood: str = ""  # the scene's atmosphere: which music plays under it
    line: int | None = None  # the track line whose voice starts this segment

    @property
    def kept(self) -> int:
        return self.n_frames if self.kept_frames is None else self.kept_frames

    @property
    def min_kept(self) -> int:
        """The fewest frames the join can keep, known from the spec alone (a chunk encoded in whole
        seconds keeps more than n - FRAME_QUANTUM of them)."""
        return self.n_frames if self.kept_frames is None else max(0, self.n_frames - FRAME_QUANTUM)

    def key(self, preset: str, crf: int, fps: int, x264_params: str | None) -> str:
        encoder = {"preset": preset, "crf": crf, "fps": fps, "gop": GOP, "size": [W, H], "x264": x264_params}
        return fingerprint(RENDER_VERSION, self.spec, encoder)


def _static_runs(img_fn: Callable[[], Image.Image], n: int, fade: int, fade_out: int | None = None) -> Iterator[tuple[bytes, int]]:
    return _hold_runs(lambda: to_yuv420(img_fn()), n, fade, fade if fade_out is None else fade_out)


def _hold_runs(frame_fn: Callable[[], bytes], n: int, fade: int, fade_out: int) -> Iterator[tuple[bytes, int]]:
    """One picture held for n frames, fading in from black over `fade` frames and out over `fade_out`."""
    fade, fade_out = min(fade, n), min(fade_out, n - min(fade, n))
    frame = frame_fn()
    for i in range(fade):
        yield faded(frame, _fade_alpha(i, n, fade, fade_out)), 1
    if n - fade - fade_out > 0:
        yield frame, n - fade - fade_out
    for i in range(n - fade_out, n):
        yield faded(frame, _fade_alpha(i, n, fade, fade_out)), 1


# Line segments are encoded a whole second at a time (the join keeps what it needs).
FRAME_QUANTUM = 30


def _quantized(frames: int) -> int:
    return -(-frames // FRAME_QUANTUM) * FRAME_QUANTUM


def _still_of(painter: "_Painter", view: "_SceneView", part: "_Line", *, last: bool, fps: int) -> bytes:
    """A line part's resting picture (mouth closed, no subtitle): its first or last frame."""
    if not part.external:
        return _LineFrames(painter, view, part).frame(0, -1)
    frames = _ExternalFrames(part, fps)
    try:
        return frames.frame(part.f1 - part.f0 - 1 if last else 0, -1)
    finally:
        frames.close()


class _LineFrames:
    """The distinct frames of one line, built from one full conversion plus small patches.

    The line's picture with the mouth closed and no subtitle is converted once; a mouth state
    patches only the region where the mouth sprites differ, a subtitle chunk only its own box
    (drawn over the closed-mouth picture, converted once per chunk). The two never overlap in
    practice; when they would, the state is drawn and converted whole.
    """

    def __init__(self, painter: _Painter, view: _SceneView, ln: _Line):
        self.painter, self.view, self.ln = painter, view, ln
        self.base_img, self.mouth_box = painter.compose(view, ln, 0)
        self.base = to_yuv420(self.base_img)
        self._mouths: dict[int, tuple] = {}
        self._cues: dict[int, tuple] = {}
        self._frames: dict[tuple[int, int], bytes] = {}

    def _cue_patch(self, ci: int) -> tuple:
        if ci not in self._cues:
            cue, ln = self.ln.cues[ci], self.ln
            name, name_x = ln.tag
            box = subtitle_box(cue.text, name, name_x)
            crop = self.base_img.crop(box)
            _draw_subtitle(crop, cue.text, name, ln.color, origin=(box[0], box[1]), name_x=name_x)
            self._cues[ci] = _patch_planes(crop, (0, 0, crop.width, crop.height))[1:] + (box,)
        py, pu, pv, box = self._cues[ci]
        return box, py, pu, pv

    def _mouth_patch(self, mouth: int) -> tuple:
        if mouth not in self._mouths:
            img, _box = self.painter.compose(self.view, self.ln, mouth)
            self._mouths[mouth] = _patch_planes(img, self.mouth_box)
        return self._mouths[mouth]

    def frame(self, mouth: int, ci: int) -> bytes:
        key = (mouth, ci)
        if key in self._frames:
            return self._frames[key]
        patches = []
        if mouth and self.mouth_box:
            patches.append(self._mouth_patch(mouth))
        if ci >= 0:
            patches.append(self._cue_patch(ci))
        if len(patches) == 2 and _overlap(patches[0][0], patches[1][0]):
            data = to_yuv420(self.painter.line(self.view, self.ln, mouth, self.ln.cues[ci]))
        elif patches:
            arr = np.frombuffer(self.base, dtype=np.uint8).copy()
            for patch in patches:
                _apply_patch(arr, patch)
            data = arr.tobytes()
        else:
            data = self.base
        self._frames[key] = data
        return data


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _load_trim() -> Callable[[], None]:
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return lambda: None
    return lambda: trim(0)


# Frames are freed when their line has passed, but glibc keeps freed 3-6 MB blocks in its
# per-thread arenas (~130 MB more at peak, measured); handing them back keeps the RSS flat.
release_freed_memory = _load_trim()


def _mouth_at(ln: _Line, f: int) -> int:
    i = f - ln.f0
    return int(ln.clip.mouth[i]) if 0 <= i < len(ln.clip.mouth) else 0


def _subtitle_overlay(text: str, name: str | None, color: tuple[int, int, int], name_x: float | None) -> tuple:
    """A subtitle as a yuv420p layer with alpha, to blend over frames that were not drawn here.

    Drawn once over black and once over white: their difference is the exact coverage (alpha) of
    every drawing operation, and the picture over black is the layer's premultiplied colour."""
    box = subtitle_box(text, name, name_x)
    size = (box[2] - box[0], box[3] - box[1])
    pictures = []
    for background in ((0, 0, 0), (255, 255, 255)):
        img = Image.new("RGB", size, background)
        _draw_subtitle(img, text, name, color, origin=(box[0], box[1]), name_x=name_x)
        pictures.append(img)
    black, white = (np.asarray(img, dtype=np.float32) for img in pictures)
    keep = ((white - black).mean(axis=2) / 255.0).clip(0.0, 1.0)  # 1 - alpha: how much of the frame shows
    keep_c = keep.reshape(size[1] // 2, 2, size[0] // 2, 2).mean(axis=(1, 3))
    _box, py, pu, pv = _patch_planes(pictures[0], (0, 0, size[0], size[1]))
    return box, keep, keep_c, py.astype(np.float32), pu.astype(np.float32), pv.astype(np.float32)


def _blend_overlay(frame: np.ndarray, overlay: tuple) -> None:
    """frame = layer over frame, in yuv420p (see _subtitle_overlay); in place."""
    (x0, y0, x1, y1), keep, keep_c, py, pu, pv = overlay
    fy, fu, fv = _planes(frame)
    fy[y0:y1, x0:x1] = np.clip(keep * (fy[y0:y1, x0:x1] - 16.0) + py + 0.5, 0, 255)
    cy0, cy1, cx0, cx1 = y0 // 2, y1 // 2, x0 // 2, x1 // 2
    fu[cy0:cy1, cx0:cx1] = np.clip(keep_c * (fu[cy0:cy1, cx0:cx1] - 128.0) + pu + 0.5, 0, 255)
    fv[cy0:cy1, cx0:cx1] = np.clip(keep_c * (fv[cy0:cy1, cx0:cx1] - 128.0) + pv + 0.5, 0, 255)


class _ExternalFrames:
    """The frames of a provider's clip of a line (e.g. HeyGen), decoded by ffmpeg as they are
    needed (fitted into 1920×1080, at the cut's frame rate), with the line's subtitle blended
    over them. A clip shorter than its line holds its last frame; a longer one is cut short."""

    def __init__(self, ln: _Line, fps: int):
        assert ln.external
        self.ln, self.path = ln, ln.external
        n = max(1, ln.f1 - ln.f0)
        fit = (
            f"fps={fps},scale={W}:{H}:force_original_aspect_ratio=decrease,"
            f"pad={W}:{H}:(ow-iw)/2:(oh-ih)/2:black,setsar=1,format=yuv420p"
        )
        self._err = tempfile.TemporaryFile()
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", self.path, "-an", "-sn", "-vf", fit,
               "-frames:v", str(n), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err)
        self.index = -1
        self.current: bytes | None = None
        self.ended = False
        self._overlays: dict[int, tuple] = {}

    def _advance(self, i: int) -> bytes:
        assert self.proc.stdout is not None
        while self.index < i and not self.ended:
            data = self.proc.stdout.read(FRAME_BYTES)
            if len(data) < FRAME_BYTES:
                self.ended = True
                break
            self.current, self.index = data, self.index + 1
        if self.current is None:
            self.close()
            raise RenderError(
                f"line {self.ln.clip.index} (scene {self.ln.clip.scene}): external clip {self.path} has no readable video: {_tail(self._err)}"
            )
        return self.current

    def frame(self, i: int, ci: int) -> bytes:
        picture = self._advance(i)
        if ci < 0:
            return picture
        if ci not in self._overlays:
            name, name_x = self.ln.tag
            self._overlays[ci] = _subtitle_overlay(self.ln.cues[ci].text, name, self.ln.color, name_x)
        arr = np.frombuffer(picture, dtype=np.uint8).copy()
        _blend_overlay(arr, self._overlays[ci])
        return arr.tobytes()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._err.close()


def _scene_runs(
    view: _SceneView, lines: list[_Line], a: int, b: int, fade: int, painter: _Painter, fps: int = 30, fade_out: int | None = None
) -> Iterator[tuple[bytes, int]]:
    """Frames [a, b) of the track for one chunk of a scene, as runs of identical frames; a fade
    from black over `fade` frames at the start and to black over `fade_out` at the end."""
    n = b - a
    fade_out = fade if fade_out is None else fade_out
    frames: _LineFrames | _ExternalFrames | None = None
    current = -1
    f = a
    k = 0  # index of the line on screen
    try:
        while f < b:
            while k + 1 < len(lines) and lines[k + 1].f0 <= f:
                k += 1
            ln = lines[k]
            nxt = lines[k + 1].f0 if k + 1 < len(lines) else b
            if ln.external:  # a provider's clip: every frame its own; held still before and after
                last = max(0, ln.f1 - ln.f0 - 1)
                if f < ln.f0:
                    state, until = (0, -1), ln.f0
                elif f < ln.f1:
                    ci = next((j for j, c in enumerate(ln.cues) if c.f0 <= f < c.f1), -1)
                    state, until = (f - ln.f0, ci), f + 1
                else:
                    state, until = (last, -1), nxt
            elif f < ln.f0:  # before the scene's first line: its speaker, listening
                state, until = (0, -1), ln.f0
            elif f < ln.f1:
                mouth = _mouth_at(ln, f)
                ci = next((j for j, c in enumerate(ln.cues) if c.f0 <= f < c.f1), -1)
                # Extend the run while nothing on screen changes: same mouth, same subtitle chunk.
                stop = min(ln.f1, nxt, ln.cues[ci].f1 if ci >= 0 else ln.f1)
                until = f + 1
                while until < stop and _mouth_at(ln, until) == mouth:
                    until += 1
                state = (mouth, ci)
            else:  # a pause after the line: the speaker stays, mouth closed, no subtitle
                state, until = (0, -1), nxt
            until = min(until, b, max(nxt, f + 1))
            if k != current:
                if isinstance(frames, _ExternalFrames):
                    frames.close()
                frames = None  # the previous line's pictures are dropped here
                release_freed_memory()
                frames = _ExternalFrames(ln, fps) if ln.external else _LineFrames(painter, view, ln)
                current = k
            assert frames is not None
            frame = frames.frame(*state)
            # Fade frames are blended one by one; the rest are written by reference.
            lo, hi = f - a, until - a
            while lo < hi:
                if lo < fade or lo >= n - fade_out:
                    yield faded(frame, _fade_alpha(lo, n, fade, fade_out)), 1
                    lo += 1
                else:
                    stop = min(hi, n - fade_out)
                    yield frame, stop - lo
                    lo = stop
            f = until
    finally:
        if isinstance(frames, _ExternalFrames):
            frames.close()


# ---------------------------------------------------------------- audio


def sound_parts(timeline: "Timeline", track: AudioTrack, ffmpeg: str) -> list[snd.Part]:
    """Each segment's part of the soundtrack (soundtrack.py): its music from a chord fixed by the
    segment, its line's voice at the AAC frame nearest the line's first sound."""
    fps = timeline.fps
    if snd.RATE % fps:
        raise RenderError(f"{fps} fps: the soundtrack needs a frame rate that divides {snd.RATE}")
    spf = snd.RATE // fps  # samples per video frame
    dialogue, sr = read_wav_mono(Path(track.dialogue_wav))
    spans = {tl.index: (tl.start, tl.end) for tl in track.lines}
    cores = snd.line_cores(dialogue, sr, spans)
    del dialogue
    voices = snd.resample_voices({i: c for i, (_at, c) in cores.items()}, sr, ffmpeg)
    intro = timeline.intro_frames * spf
    total = timeline.total_frames * spf
    parts: list[snd.Part] = []
    frame = 0
    segments = timeline.segments
    for k, seg in enumerate(segments):
        video_at = frame * spf
        frame += seg.kept
        kind = seg.spec.get("kind")
        level = snd.MUSIC_CARDS_DB if kind in ("intro", "outro") else snd.MUSIC_GAP_DB
        min_len = seg.min_kept * spf - 2 * snd.FRAME
        placed: list[tuple[int, snd.Voice]] = []
        if seg.line is not None and seg.line in voices:
            first = intro + round(cores[seg.line][0] * snd.RATE / sr)
            at = round(first / snd.FRAME) * snd.FRAME
            placed = [(-snd.RESAMPLE_PAD, voices[seg.line])]
            # The part starts at the line's first sound, a little after the segment: how much later
            # follows from the line alone (its leading silence), rounded up, plus half a frame.
            lead = (cores[seg.line][0] - round(spans[seg.line][0] * sr)) * snd.RATE / sr + spf / 2
            min_len -= -(-int(math.ceil(lead)) // snd.FRAME) * snd.FRAME
        else:
            at = round(video_at / snd.FRAME) * snd.FRAME
            if kind == "plain":  # no scenes: every voice sits in the one segment
                placed = [(intro + round(cores[i][0] * snd.RATE / sr) - at - snd.RESAMPLE_PAD, v) for i, v in voices.items()]
        at = max(at, parts[-1].at if parts else 0)
        chord = seg.line if seg.line is not None else sum(map(ord, seg.name)) % 97
        last = k + 1 == len(segments)
        parts.append(snd.Part(seg.name, at, seg.mood, level, chord, min_len, placed,
                              fade_in=snd.CARD_FADE if k == 0 else 0,
                              fade_out=(total - at, snd.CARD_FADE) if last else None))  # fmt: skip
    return parts


# ---------------------------------------------------------------- SRT and thumbnail


def _srt_time(t: float) -> str:
    ms = max(0, int(round(t * 1000)))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def srt_text(cues: list[Cue], offset: float) -> str:
    out = []
    for i, c in enumerate(cues, 1):
        out.append(f"{i}\n{_srt_time(c.start + offset)} --> {_srt_time(c.end + offset)}\n{c.text}\n")
    return "\n".join(out)


def _leads(roster: Roster, plan: ClipPlan) -> list[Character]:
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
    tf = _fit_font(series_title, 92, 1180)
    d.text((640, 92), series_title, font=tf, fill=(255, 255, 255), anchor="mm", stroke_width=5, stroke_fill=(0, 0, 0))
    badge = f"{episode}화"
    bf = fonts.font(64, True)
    bw = bf.getlength(badge)
    d.rounded_rectangle((40, 196, 40 + bw + 56, 290), radius=24, fill=(214, 48, 72, 240), outline=(255, 255, 255, 230), width=4)
    d.text((40 + 28 + bw / 2, 243), badge, font=bf, fill=(255, 255, 255), anchor="mm")
    ef = _fit_font(episode_title, 58, 1200)
    d.text((640, 660), episode_title, font=ef, fill=(255, 236, 150), anchor="mm", stroke_width=5, stroke_fill=(0, 0, 0))
    for quality in (90, 80, 70, 55):
        with atomic_path(out_path) as tmp:
            img.save(tmp, format="JPEG", quality=quality, optimize=True)
            if tmp.stat().st_size < 2_000_000:
                return out_path
    return out_path


# ---------------------------------------------------------------- the cut


PROGRESS_SECONDS = 3.0  # at most one progress line this often


def _encode_segments(
    segments: list[_Segment], cache: Path, preset: str, crf: int, fps: int, x264_params: str | None, workers: int = 2,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Path], int]:
    """Encode the segments the cache lacks; return every segment's file and how many were encoded.

    Two encoders run at once: one alone leaves a core idle while it starts, fills its lookahead
    and flushes, and while the frame server draws a new line's pictures.
    """
    cache.mkdir(parents=True, exist_ok=True)
    paths = [cache / f"{seg.key(preset, crf, fps, x264_params)}.mp4" for seg in segments]
    todo = {}
    for seg, path in zip(segments, paths):
        if not path.exists() and path not in todo:
            todo[path] = seg
    seg_cache.touch(p for p in paths if p not in todo)  # reused: most recently used for the cache's eviction
    # In timeline order: neighbours share a backdrop and sprites, which stay in the small caches
    # (segments are short, so the last one to finish never leaves a core idle for long).
    order = list(todo.items())
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="segment") as pool:
        futures = [
            pool.submit(encode_frames, seg.runs(), seg.n_frames, path, preset=preset, crf=crf, fps=fps, x264_params=x264_params)
            for path, seg in order
        ]
        started = last = time.monotonic()
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=PROGRESS_SECONDS, return_when=FIRST_EXCEPTION)
                for future in done:
                    future.result()
                now = time.monotonic()
                if progress is not None and (now - last >= PROGRESS_SECONDS or not pending):
                    last = now
                    finished = len(segments) - len(pending)
                    rate = (len(futures) - len(pending)) / max(now - started, 1e-6)
                    eta = len(pending) / rate if rate > 0 else 0.0
                    progress(f"render progress: {finished}/{len(segments)} segments ({100 * finished // max(1, len(segments))} %), "
                             f"{rate:.1f} seg/s, ETA {eta:.0f} s")  # fmt: skip
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return paths, len(todo)


def _with_cutaway(ln: _Line, present: list[str], chars: dict[str, Character], fps: int) -> list[_Line]:
    """The line, or the line then its listener's reaction shot over the last part of it."""
    cut = ln.clip.cutaway
    if cut is None:
        return [ln]
    at = ln.f1 - round(cut.seconds * fps)
    if at - ln.f0 < fps or at >= ln.f1:  # keep at least a second on the speaker
        return [ln]
    listener = chars.get(cut.character)
    strategy = listener.avatar_strategy if listener else "full_avatar"
    reaction_clip = ln.clip.model_copy(update={
        "kind": "sprite", "shot": "single", "strategy": strategy, "sprite_paths": [cut.sprite], "listener": None,
        "listener_sprite": None, "group_sprites": [], "portrait": None, "external_clip": None, "cutaway": None, "mouth": "",
    })  # fmt: skip
    # The listener is shown where they stand; a listener not on the stage list faces the speaker.
    side = _stage_place(present, cut.character) if cut.character in present and len(present) > 1 else 1.0 - ln.side
    if abs(side - ln.side) < 1e-6:  # never where the speaker was just standing
        side = 1.0 if ln.side <= 0.5 else 0.0
    speaking = _Line(ln.clip, ln.f0, at, ln.name, ln.role, ln.color, ln.cues, ln.side, ln.others, external=ln.external)
    reacting = _Line(reaction_clip, at, ln.f1, ln.name, ln.role, ln.color, ln.cues, side, reaction=cut.reaction)
    return [speaking, reacting]


def _stage_place(present: list[str], speaker: str) -> float:
    """0 (left) … 1 (right) by stage order; a lone speaker stands in the middle."""
    if len(present) <= 1 or speaker not in present:
        return 0.5
    return present.index(speaker) / (len(present) - 1)


@dataclass
class Timeline:
    """Everything to encode: the segments in order (intro, scenes, outro) and the subtitle cues."""

    fps: int
    intro_frames: int
    track_frames: int
    outro_frames: int
    segments: list[_Segment]
    cues: list[Cue]
    card_backdrop: Callable[[], Image.Image]
    painter: _Painter

    @property
    def total_frames(self) -> int:
        return self.intro_frames + self.track_frames + self.outro_frames


def build_timeline(
    plan: ClipPlan,
    track: AudioTrack,
    script: EpisodeScript,
    roster: Roster,
    series_title: str,
    intro_seconds: float = 3.0,
    outro_seconds: float = 3.0,
    location_kinds: Mapping[str, str] | None = None,
    backdrop_art: Mapping[str, Path] | None = None,
    portraits: Mapping[str, Path] | None = None,
) -> Timeline:
    """The episode in whole frames: intro card, the scenes' chunks (tiling the dialogue track),
    outro card. Nothing is drawn yet: each segment draws its frames when encoded.

    `location_kinds` (the bible's locations: name → kind) picks how each place is drawn; a
    location it does not name is read by the keyword rule. `backdrop_art` (location name →
    generated picture) replaces the drawing of those places; `portraits` names the characters
    whose sprites are generated looks."""
    fps = plan.fps
    fade = round(FADE_SECONDS * fps)
    intro_n, outro_n = round(intro_seconds * fps), round(outro_seconds * fps)
    track_n = round(track.duration * fps)
    chars = roster.by_id()
    scenes: dict[int, Scene] = {s.number: s for s in script.scenes}
    track_lines = {tl.index: tl for tl in track.lines}
    sub_font = fonts.font(SUB_SIZE)
    backdrops, sprites = Backdrops(kinds=location_kinds, art=backdrop_art), _Sprites()
    painter = _Painter(backdrops, sprites, chars, portraits or {})
    font_id = [fonts.subtitle_font_path().name, fonts.title_font_path().name, SUB_SIZE, SUB_STROKE]

    # Each scene: a lead-in from its cut to its first line (fading in), one segment per line
    # (up to the next line), and a fade out to the next cut. See the module docstring for why.
    cuts = scene_starts(track)
    ordered = sorted(track.scenes, key=lambda sc: sc.start)
    clips_by_scene: dict[int, list[LineClip]] = {}
    for clip in plan.clips:
        clips_by_scene.setdefault(clip.scene, []).append(clip)

    segments: list[_Segment] = []
    all_cues: list[Cue] = []
    first_view: _SceneView | None = None

    def view_of(number: int) -> _SceneView:
        sc = scenes.get(number)
        return _SceneView(sc.location if sc else "", sc.time_of_day if sc else "", sc.atmosphere if sc else "")

    def backdrop_id(view: _SceneView) -> list:
        return backdrops.ident(view.location, view.time_of_day, view.atmosphere)

    def part_spec(ln: _Line, a: int | None = None) -> dict:
        """Everything that decides how a line part looks (with its timing when `a` is given)."""
        spec = {
            "kind": ln.clip.kind, "shot": ln.clip.shot, "strategy": ln.clip.strategy, "speaker": ln.clip.speaker,
            "name": ln.name, "role": ln.role, "color": ln.color, "side": ln.side,
            "sprites": [sprites.digest(p) for p in ln.clip.sprite_paths],
            "listener": sprites.digest(ln.clip.listener_sprite) if ln.clip.listener_sprite else None,
            "listener_look": chars[ln.clip.listener].appearance.model_dump() if ln.clip.listener in chars else None,
            "listener_generated": ln.clip.listener in painter.generated,
            "others": [(sprites.digest(p), place) for p, place in ln.others],
            "reaction": ln.reaction,
            "portrait": sprites.digest(ln.clip.portrait) if ln.clip.portrait and ln.clip.kind == "card" else None,
            "external": sprites.digest(ln.external) if ln.external else None,
            "tag": ln.tag,
        }  # fmt: skip
        if a is not None:
            spec.update(frames=[ln.f0 - a, ln.f1 - a], mouth=ln.clip.mouth[: ln.f1 - ln.f0], cues=[(c.f0 - a, c.f1 - a, c.text) for c in ln.cues])
        return spec

    for i, ts in enumerate(ordered):
        A = min(track_n, round(cuts[ts.number] * fps))
        B = track_n if i + 1 == len(ordered) else min(track_n, max(A, round(cuts[ordered[i + 1].number] * fps)))
        if B <= A:
            continue
        view = view_of(ts.number)
        first_view = first_view or view
        present = present_characters(scenes.get(ts.number), [track_lines[c.index] for c in clips_by_scene.get(ts.number, []) if c.index in track_lines])
        lines: list[_Line] = []
        for clip in sorted(clips_by_scene.get(ts.number, []), key=lambda c: c.start):
            tl = track_lines.get(clip.index)
            if tl is None:
                continue
            f0, f1 = frame_span(tl.start, tl.end, fps)
            if lines and f0 <= lines[-1].f0:  # overlapping lines: the later one waits a frame
                f0, f1 = lines[-1].f0 + 1, lines[-1].f0 + 1 + (f1 - f0)
            ch = chars.get(clip.speaker)
            name = ch.name if ch else tl.speaker_name
            role = f"{ch.role} · {ch.occupation}" if ch else ""
            color = hex_rgb(ch.appearance.outfit) if ch else (90, 110, 160)
            cues = subtitle_cues(tl, f0, f1, fps, sub_font, to_frame=lambda t, f0=f0, start=tl.start: f0 + round((t - start) * fps))
            others = []
            if clip.shot == "group":
                rest = [p for p in present if p != clip.speaker]
                for path, who in zip(clip.group_sprites, rest):
                    others.append((path, _stage_place(present, who)))
            if clip.external_clip and not Path(clip.external_clip).is_file():
                raise RenderError(f"line {clip.index} (scene {clip.scene}): external clip {clip.external_clip} is missing")
            lines.append(_Line(clip, f0, f1, name, role, color, cues, _stage_place(present, clip.speaker), others, external=clip.external_clip))
        lines = [ln for ln in lines if A <= ln.f0 < B]
        if not lines:
            bg = lambda view=view: to_yuv420(backdrops.get(view.location, view.time_of_day, view.atmosphere))  # noqa: E731
            spec = {"kind": "empty", "frames": B - A, "fade": fade, "backdrop": backdrop_id(view)}
            segments.append(_Segment(f"scene{ts.number:02d}", B - A, spec, lambda bg=bg, n=B - A: _hold_runs(bg, n, fade, fade), view, mood=view.atmosphere))
            continue
        all_cues.extend(c for ln in lines for c in ln.cues)
        fade_out = max(0, min(fade, B - lines[-1].f0 - 1))
        ends = [ln.f0 for ln in lines[1:]] + [B - fade_out]  # each line's segment runs to the next line
        parts_of = [_with_cutaway(ln, present, chars, fps) for ln in lines]
        for k, (ln, end_f) in enumerate(zip(lines, ends)):  # a line never runs into the next one
            for part in parts_of[k]:
                part.f1 = min(part.f1, end_f)
        # The lead-in: the first picture, fading in from black, from the cut to the first line.
        first = parts_of[0][0]
        lead = lines[0].f0 - A
        if lead > 0:
            n = _quantized(lead + 1)
            spec = {"kind": "lead_in", "frames": n, "fade": fade, "backdrop": backdrop_id(view), "fonts": font_id, "picture": part_spec(first)}
            runs = lambda first=first, view=view, n=n: _hold_runs(lambda: _still_of(painter, view, first, last=False, fps=fps), n, fade, 0)  # noqa: E731
            segments.append(_Segment(f"scene{ts.number:02d}-in", n, spec, runs, view, kept_frames=lead, mood=view.atmosphere))
        for k, (ln, end_f) in enumerate(zip(lines, ends)):
            a = ln.f0
            kept = end_f - a
            if kept <= 0:
                continue
            # Encoded in whole seconds: a pause a few milliseconds longer (the voice stage may
            # stretch every pause to fit the episode) must not change what is encoded.
            n = _quantized(kept + 1)
            parts = parts_of[k]
            spec = {"kind": "line", "draw": DRAW_VERSION, "frames": n, "backdrop": backdrop_id(view), "fonts": font_id,
                    "lines": [part_spec(p, a) for p in parts]}  # fmt: skip
            runs = lambda parts=parts, view=view, a=a, n=n: _scene_runs(view, parts, a, a + n, 0, painter, fps, 0)  # noqa: E731
            segments.append(_Segment(f"scene{ts.number:02d}-line{ln.clip.index:03d}", n, spec, runs, view, parts, kept_frames=kept,
                                     mood=view.atmosphere, line=ln.clip.index))  # fmt: skip
        if fade_out:
            last = parts_of[-1][-1]
            spec = {"kind": "fade_out", "frames": fade_out, "backdrop": backdrop_id(view), "fonts": font_id, "picture": part_spec(last)}
            runs = lambda last=last, view=view, n=fade_out: _hold_runs(lambda: _still_of(painter, view, last, last=True, fps=fps), n, 0, n)  # noqa: E731
            segments.append(_Segment(f"scene{ts.number:02d}-out", fade_out, spec, runs, view, mood=view.atmosphere))

    if not segments and track_n > 0:  # a track without scenes: one plain segment
        view = view_of(script.scenes[0].number)
        first_view = view
        segments.append(_Segment("scene01", track_n, {"kind": "plain", "frames": track_n, "backdrop": backdrop_id(_SceneView(view.location, view.time_of_day, ""))},
                                 lambda: _static_runs(lambda: backdrops.get(view.location, view.time_of_day), track_n, fade), mood=view.atmosphere))  # fmt: skip
    first_view = first_view or _SceneView("", "밤", "")
    intro_rows = [
        (series_title, 104, True, (255, 255, 255)),
        (f"{script.episode_number}화", 60, True, (255, 255, 255)),
        (script.title, 62, False, (255, 236, 170)),
    ]
    outro_rows = [("다음 화에 계속", 96, True, (255, 255, 255)), (series_title, 56, False, (220, 224, 236))]
    card_bg = lambda: backdrops.get(first_view.location, first_view.time_of_day, first_view.atmosphere)  # noqa: E731
    if intro_n:
        segments.insert(0, _Segment("intro", intro_n, {"kind": "intro", "frames": intro_n, "fade": min(fade, intro_n // 2), "rows": intro_rows,
                                                       "bg": backdrop_id(first_view), "fonts": font_id},
                                    lambda: _static_runs(lambda: _title_card(card_bg(), intro_rows, badge=f"{script.episode_number}화"), intro_n, min(fade, intro_n // 2)),
                                    mood=scenes[ordered[0].number].atmosphere if ordered and ordered[0].number in scenes else first_view.atmosphere))  # fmt: skip
    if outro_n:
        segments.append(_Segment("outro", outro_n, {"kind": "outro", "frames": outro_n, "fade": min(fade, outro_n // 2), "rows": outro_rows,
                                                    "bg": backdrop_id(first_view), "fonts": font_id},
                                 lambda: _static_runs(lambda: _title_card(card_bg(), outro_rows), outro_n, min(fade, outro_n // 2)),
                                 mood=scenes[ordered[-1].number].atmosphere if ordered and ordered[-1].number in scenes else first_view.atmosphere))  # fmt: skip

    tiled = sum(seg.kept for seg in segments)
    if tiled != intro_n + track_n + outro_n:
        raise RenderError(f"episode {script.episode_number}: segments keep {tiled} frames, the cut needs {intro_n + track_n + outro_n}")
    return Timeline(fps, intro_n, track_n, outro_n, segments, all_cues, card_bg, painter)


WORK_PREFIX = ".render-"
_WORK_NAME = re.compile(re.escape(WORK_PREFIX) + r"(?P<host>[A-Za-z0-9_.-]+?)-(?P<pid>\d+)-")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def clean_dead_work(folder: Path) -> list[Path]:
    """Remove the work folders of cuts whose process is gone (killed mid-render). A folder is named
    after the host and pid that made it; other hosts' folders (shared storage) are left alone."""
    removed = []
    if not folder.is_dir():
        return removed
    for path in folder.glob(f"{WORK_PREFIX}*"):
        m = _WORK_NAME.match(path.name)
        if not m or not path.is_dir() or m["host"] != _host() or _alive(int(m["pid"])):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def render_final_cut(
    plan: ClipPlan,
    track: AudioTrack,
    script: EpisodeScript,
    roster: Roster,
    series_title: str,
    out_video: Path,
    out_srt: Path,
    out_thumbnail: Path,
    segment_cache: Path,
    *,
    preset: str = "veryfast",
    crf: int = 23,
    intro_seconds: float = 3.0,
    outro_seconds: float = 3.0,
    x264_params: str | None = STILL_X264_PARAMS,
    cache_budget_bytes: int = seg_cache.DEFAULT_BUDGET_BYTES,
    location_kinds: Mapping[str, str] | None = None,
    backdrop_art: Mapping[str, Path] | None = None,
    portraits: Mapping[str, Path] | None = None,
    loudness: snd.Loudness = snd.Loudness(),
    progress: Callable[[str], None] | None = None,
) -> FinalCut:
    """Render the episode (see the module docstring). The MP4, SRT and thumbnail are made in a work
    folder and published together at the end, the MP4 last. `progress` gets a line about the
    segments at most every PROGRESS_SECONDS. Afterwards the segment cache is pruned to
    `cache_budget_bytes` (see segment_cache.py). `location_kinds`: the bible's kind of each location;
    `backdrop_art`: generated place pictures (see build_timeline); `portraits`: generated front busts
    by character id, for the thumbnail."""
    cache = Path(segment_cache)
    clean_dead_work(Path(out_video).parent)
    with seg_cache.cache_in_use(cache):
        record = seg_cache.episode_record(cache, plan.series_id, plan.episode_number)
        previous = [v if isinstance(v, (int, float)) else None for v in (record.get("audio_gain_db"), record.get("loudness_lufs"))]
        if [record.get("loudness_target"), record.get("true_peak_db")] != [loudness.target_lufs, loudness.true_peak_db]:
            previous = [None, None]  # another target: find the gain again
        cut, audio_files = _render(plan, track, script, roster, series_title, out_video, out_srt, out_thumbnail, cache,
                                   preset, crf, intro_seconds, outro_seconds, x264_params, loudness,
                                   previous, progress, location_kinds, backdrop_art, portraits)  # fmt: skip
        seg_cache.record_cut(cache, plan.series_id, plan.episode_number, [Path(p) for p in cut.segments] + audio_files,
                             audio_gain_db=cut.audio_gain_db, loudness_lufs=cut.loudness_lufs,
                             loudness_target=loudness.target_lufs, true_peak_db=loudness.true_peak_db)  # fmt: skip
    seg_cache.prune(cache, cache_budget_bytes)
    return cut


def _render(
    plan: ClipPlan, track: AudioTrack, script: EpisodeScript, roster: Roster, series_title: str, out_video: Path, out_srt: Path,
    out_thumbnail: Path, segment_cache: Path, preset: str, crf: int, intro_seconds: float, outro_seconds: float,
    x264_params: str | None, loudness: snd.Loudness, previous: list[float | None], progress: Callable[[str], None] | None,
    location_kinds: Mapping[str, str] | None = None, backdrop_art: Mapping[str, Path] | None = None,
    portraits: Mapping[str, Path] | None = None,
) -> tuple[FinalCut, list[Path]]:
    started = time.monotonic()
    timeline = build_timeline(plan, track, script, roster, series_title, intro_seconds, outro_seconds, location_kinds, backdrop_art,
                              portraits)
    fps, segments = timeline.fps, timeline.segments
    intro = timeline.intro_frames / fps  # the dialogue starts exactly on a frame boundary
    total = timeline.total_frames / fps

    out_video.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_video.parent, prefix=f"{WORK_PREFIX}{_host()}-{os.getpid()}-") as work:
        work_dir = Path(work)
        aac = work_dir / "audio.aac"
        # Everything is made here and published together at the end (a killed cut leaves only
        # this folder, which the next run removes).
        srt_tmp, thumb_tmp, video_tmp = work_dir / "episode.srt", work_dir / "thumbnail.jpg", work_dir / "episode.mp4"
        write_text(srt_tmp, srt_text(timeline.cues, intro))
        draw_thumbnail(series_title, script.episode_number, script.title, timeline.card_backdrop(), _leads(roster, plan), thumb_tmp,
                       portraits)
        # The soundtrack is mixed and its missing pieces encoded beside the video encoders (the AAC
        # encoder is single-threaded); the join then copies both streams.
        sound: list[snd.Soundtrack] = []
        failed: list[BaseException] = []

        def make_sound() -> None:
            try:
                parts = sound_parts(timeline, track, ffmpeg_exe())
                sound.append(snd.make_soundtrack(parts, timeline.total_frames * (snd.RATE // fps), track.series_id, segment_cache,
                                                 aac, ffmpeg_exe(), loudness=loudness, previous_gain_db=previous[0],
                                                 previous_lufs=previous[1]))  # fmt: skip
            except BaseException as exc:  # re-raised by the render's thread
                failed.append(exc)

        audio = threading.Thread(target=make_sound, name="soundtrack", daemon=True)
        audio.start()
        try:
            paths, encoded = _encode_segments(segments, segment_cache, preset, crf, fps, x264_params, progress=progress)
        finally:
            audio.join()
        if failed:
            exc = failed[0]
            raise RenderError(f"{out_video}: soundtrack: {exc}") from exc
        soundtrack = sound[0]
        listing = work_dir / "segments.txt"
        listing.write_text(
            "ffconcat version 1.0\n"
            + "".join(_concat_entry(p, seg, fps) for p, seg in zip(paths, segments)),
            encoding="utf-8",
        )
        _run_ffmpeg(
            ["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(aac),
             "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(video_tmp)],
            out_video,
        )  # fmt: skip
        info = probe(video_tmp)
        duration = float(info.get("duration") or 0.0)
        if abs(duration - total) > 1.5 / fps:
            raise RenderError(f"{out_video}: rendered {duration:.3f} s, expected {total:.3f} s (intro + track + outro)")
        publish([(srt_tmp, out_srt), (thumb_tmp, out_thumbnail), (video_tmp, out_video)])

    cut = FinalCut(
        series_id=plan.series_id,
        episode_number=plan.episode_number,
        video_path=str(out_video),
        srt_path=str(out_srt),
        thumbnail_path=str(out_thumbnail),
        duration=duration,
        width=int(info.get("width") or W),
        height=int(info.get("height") or H),
        fps=fps,
        segments=[str(p) for p in paths],
        segments_encoded=encoded,
        audio_pieces=soundtrack.pieces,
        audio_pieces_encoded=soundtrack.encoded_pieces,
        audio_frames_encoded=soundtrack.encoded_frames,
        audio_frames=soundtrack.total_frames,
        loudness_lufs=round(soundtrack.lufs, 2),
        audio_gain_db=soundtrack.gain_db,
        intro_seconds=intro,
        outro_seconds=timeline.outro_frames / fps,
        track_duration=track.duration,
        track_fingerprint=track.fingerprint,
        render_seconds=round(time.monotonic() - started, 3),
        fingerprint=fingerprint(
            RENDER_VERSION, MUSIC_VERSION, snd.SOUND_VERSION, DRAW_VERSION, [p.name for p in paths], track.fingerprint, series_title,
            [s.atmosphere for s in script.scenes], preset, crf, x264_params, intro_seconds, outro_seconds,
            [loudness.target_lufs, loudness.true_peak_db],
        ),
    )  # fmt: skip
    return cut, soundtrack.cache_files


def publish(moves: list[tuple[Path, Path]]) -> None:
    """Rename finished files into place one right after the other, the last (the MP4) last: once
    the MP4 is there, its subtitles and thumbnail are too. Files made 0600 by mkstemp get the
    umask's mode like any output."""
    mask = os.umask(0)
    os.umask(mask)
    for src, dst in moves:
        os.chmod(src, 0o666 & ~mask)
        dst.parent.mkdir(parents=True, exist_ok=True)
    for src, dst in moves:
        os.replace(src, dst)


def _concat_entry(path: Path, seg: _Segment, fps: int) -> str:
    """A segment in the join's list. A chunk encoded with a spare last frame drops it here: with
    no B-frames, decode and presentation order agree, so an out point half a frame before the
    spare frame removes exactly that frame, and nothing refers to it."""
    entry = f"file '{_quote(path)}'\nduration {seg.kept / fps:.6f}\n"
    if seg.kept < seg.n_frames:
        entry += f"outpoint {(seg.kept - 0.5) / fps:.6f}\n"
    return entry


def _quote(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")
