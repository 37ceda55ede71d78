"""The frame server: a segment's frames as runs of identical raw yuv420p frames.

Each line is drawn once with Pillow (mouth closed, no subtitle) and converted once to yuv420p;
every other state of the line (mouth half/open × subtitle chunk) only patches the small regions
that differ, converted once. A line's pictures are dropped once it has passed, so memory stays flat
however long the episode. A line played from a provider's clip is decoded by ffmpeg into the same
raw stream, its subtitle blended over it.
"""

from __future__ import annotations

import ctypes
import subprocess
import tempfile
from collections.abc import Callable, Iterator

import numpy as np
from PIL import Image

from aidas_dagster.picture.encoder import stderr_tail
from aidas_dagster.picture.painter import Line, Painter, SceneView
from aidas_dagster.picture.probe import ffmpeg_exe
from aidas_dagster.picture.subtitles import draw_subtitle, subtitle_overlay, subtitle_box
from aidas_dagster.picture.yuv import FRAME_BYTES, H, W, RenderError, apply_patch, blend_overlay, fade_alpha, overlap, patch_planes, faded, to_yuv420

def static_runs(img_fn: Callable[[], Image.Image], n: int, fade: int, fade_out: int | None = None) -> Iterator[tuple[bytes, int]]:
    return hold_runs(lambda: to_yuv420(img_fn()), n, fade, fade if fade_out is None else fade_out)


def hold_runs(frame_fn: Callable[[], bytes], n: int, fade: int, fade_out: int) -> Iterator[tuple[bytes, int]]:
    """One picture held for n frames, fading in from black over `fade` frames and out over `fade_out`."""
    fade, fade_out = min(fade, n), min(fade_out, n - min(fade, n))
    frame = frame_fn()
    for i in range(fade):
        yield faded(frame, fade_alpha(i, n, fade, fade_out)), 1
    if n - fade - fade_out > 0:
        yield frame, n - fade - fade_out
    for i in range(n - fade_out, n):
        yield faded(frame, fade_alpha(i, n, fade, fade_out)), 1



def still_of(painter: "Painter", view: "SceneView", part: "Line", *, last: bool, fps: int) -> bytes:
    """A line part's resting picture (mouth closed, no subtitle): its first or last frame."""
    if not part.external:
        return LineFrames(painter, view, part).frame(0, -1)
    frames = ExternalFrames(part, fps)
    try:
        return frames.frame(part.f1 - part.f0 - 1 if last else 0, -1)
    finally:
        frames.close()


class LineFrames:
    """The distinct frames of one line, built from one full conversion plus small patches.

    The line's picture with the mouth closed and no subtitle is converted once; a mouth state
    patches only the region where the mouth sprites differ, a subtitle chunk only its own box
    (drawn over the closed-mouth picture, converted once per chunk). The two never overlap in
    practice; when they would, the state is drawn and converted whole.
    """

    def __init__(self, painter: Painter, view: SceneView, ln: Line):
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
            draw_subtitle(crop, cue.text, name, ln.color, origin=(box[0], box[1]), name_x=name_x)
            self._cues[ci] = patch_planes(crop, (0, 0, crop.width, crop.height))[1:] + (box,)
        py, pu, pv, box = self._cues[ci]
        return box, py, pu, pv

    def _mouth_patch(self, mouth: int) -> tuple:
        if mouth not in self._mouths:
            img, _box = self.painter.compose(self.view, self.ln, mouth)
            self._mouths[mouth] = patch_planes(img, self.mouth_box)
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
        if len(patches) == 2 and overlap(patches[0][0], patches[1][0]):
            data = to_yuv420(self.painter.line(self.view, self.ln, mouth, self.ln.cues[ci]))
        elif patches:
            arr = np.frombuffer(self.base, dtype=np.uint8).copy()
            for patch in patches:
                apply_patch(arr, patch)
            data = arr.tobytes()
        else:
            data = self.base
        self._frames[key] = data
        return data



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


def _mouth_at(ln: Line, f: int) -> int:
    i = f - ln.f0
    return int(ln.clip.mouth[i]) if 0 <= i < len(ln.clip.mouth) else 0


class ExternalFrames:
    """The frames of a provider's clip of a line (e.g. HeyGen), decoded by ffmpeg as they are
    needed (fitted into 1920×1080, at the cut's frame rate), with the line's subtitle blended
    over them. A clip shorter than its line holds its last frame; a longer one is cut short."""

    def __init__(self, ln: Line, fps: int):
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
                f"line {self.ln.clip.index} (scene {self.ln.clip.scene}): external clip {self.path} has no readable video: {stderr_tail(self._err)}"
            )
        return self.current

    def frame(self, i: int, ci: int) -> bytes:
        picture = self._advance(i)
        if ci < 0:
            return picture
        if ci not in self._overlays:
            name, name_x = self.ln.tag
            self._overlays[ci] = subtitle_overlay(self.ln.cues[ci].text, name, self.ln.color, name_x)
        arr = np.frombuffer(picture, dtype=np.uint8).copy()
        blend_overlay(arr, self._overlays[ci])
        return arr.tobytes()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        self._err.close()


def scene_runs(
    view: SceneView, lines: list[Line], a: int, b: int, fade: int, painter: Painter, fps: int = 30, fade_out: int | None = None
) -> Iterator[tuple[bytes, int]]:
    """Frames [a, b) of the track for one chunk of a scene, as runs of identical frames; a fade
    from black over `fade` frames at the start and to black over `fade_out` at the end."""
    n = b - a
    fade_out = fade if fade_out is None else fade_out
    frames: LineFrames | ExternalFrames | None = None
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
                if isinstance(frames, ExternalFrames):
                    frames.close()
                frames = None  # the previous line's pictures are dropped here
                release_freed_memory()
                frames = ExternalFrames(ln, fps) if ln.external else LineFrames(painter, view, ln)
                current = k
            assert frames is not None
            frame = frames.frame(*state)
            # Fade frames are blended one by one; the rest are written by reference.
            lo, hi = f - a, until - a
            while lo < hi:
                if lo < fade or lo >= n - fade_out:
                    yield faded(frame, fade_alpha(lo, n, fade, fade_out)), 1
                    lo += 1
                else:
                    stop = min(hi, n - fade_out)
                    yield frame, stop - lo
                    lo = stop
            f = until
    finally:
        if isinstance(frames, ExternalFrames):
            frames.close()
