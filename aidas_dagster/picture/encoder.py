"""One libx264 process per segment, fed each distinct raw yuv420p frame once through a pipe, and
plain ffmpeg runs.

Most frames repeat the one before (a held picture, a mouth that has not moved). Only a segment's
distinct frames cross the pipe, timestamped, in a live Matroska stream, and only they are
encoded: x264 writes a raw H.264 stream of them, and h264.py holds each picture for as many
frames as it lasts with skipped frames that copy it exactly. The segment MP4 (constant 30 fps,
every planned frame a sample) is written here from that. Piping every frame cost a 3 MB write
and read per frame; encoding every frame made x264 do as much work for a repeat as for a new
picture (its cost on the episode's frames was that of encoding one still for as long).
"""

from __future__ import annotations

import fcntl
import os
import queue
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from aidas_dagster.core.storage import PART_SUFFIX, atomic_path
from aidas_dagster.picture import h264
from aidas_dagster.picture.mp4join import avc_sample_entry, write_video
from aidas_dagster.picture.probe import ffmpeg_exe
from aidas_dagster.picture.yuv import FRAME_BYTES, H, W, RenderError

GOP = 60
# Our pictures never move: a line's frames are stills whose mouth and subtitle change in place.
# Sub-pixel motion search, B-frames and a long lookahead buy nothing on such content but cost
# x264 ~40 % of its time (measured: 300 real frames, veryfast, 2 cores: 3.1 s → 2.0 s, +8 % bytes,
# PSNR 49 dB). Added after the preset; pass x264_params=None to encode with the bare preset.
STILL_X264_PARAMS = "bframes=0:me=dia:subme=1:rc-lookahead=5"
# Held frames copy the one reference frame before them (h264.py): appended to any parameters.
HOLDABLE_X264_PARAMS = "bframes=0:ref=1"

# ---------------------------------------------------------------- ffmpeg


def stderr_tail(stream) -> str:
    stream.seek(0)
    text = stream.read().decode("utf-8", "replace").strip()
    return text[-1500:] if text else "(no output)"


def _widen_pipe(fd: int) -> None:
    # A 1 MB pipe moves a 3 MB frame in 3 writes instead of ~50: less context switching.
    try:
        fcntl.fcntl(fd, 1031, 1 << 20)  # F_SETPIPE_SZ (Linux)
    except OSError:
        pass


# ---------------------------------------------------------------- a live Matroska stream of raw frames


def _vint(n: int) -> bytes:
    """An EBML variable-length size."""
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:
            return (n | (1 << (7 * length))).to_bytes(length, "big")
    raise ValueError(f"EBML size {n} too large")


def _element(ident: bytes, payload: bytes) -> bytes:
    return ident + _vint(len(payload)) + payload


def _uint(ident: bytes, value: int) -> bytes:
    return _element(ident, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


MKV_TICK_NS = 1_000_000  # timestamps in milliseconds: ffmpeg's fps filter rounds each to its frame


def mkv_header(width: int, height: int) -> bytes:
    """EBML header, a segment of unknown size (a live stream), and one raw I420 video track."""
    ebml = _element(b"\x1a\x45\xdf\xa3", _uint(b"\x42\x86", 1) + _uint(b"\x42\xf7", 1) + _uint(b"\x42\xf2", 4)
                    + _uint(b"\x42\xf3", 8) + _element(b"\x42\x82", b"matroska") + _uint(b"\x42\x87", 4)
                    + _uint(b"\x42\x85", 2))  # fmt: skip
    info = _element(b"\x15\x49\xa9\x66", _uint(b"\x2a\xd7\xb1", MKV_TICK_NS) + _element(b"\x4d\x80", b"aidas") + _element(b"\x57\x41", b"aidas"))
    video = _element(b"\xe0", _uint(b"\xb0", width) + _uint(b"\xba", height) + _element(b"\x2e\xb5\x24", b"I420"))
    track = _element(b"\xae", _uint(b"\xd7", 1) + _uint(b"\x73\xc5", 1) + _uint(b"\x83", 1) + _element(b"\x86", b"V_UNCOMPRESSED")
                     + _uint(b"\x9c", 0) + _element(b"\x22\xb5\x9c", b"und") + video)  # fmt: skip (und: as a raw input's)
    segment_unknown_size = b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff"
    return ebml + segment_unknown_size + info + _element(b"\x16\x54\xae\x6b", track)


def mkv_frame_head(ms: int, size: int) -> bytes:
    """A cluster holding one keyframe block of `size` bytes at `ms`: the bytes before the frame's own."""
    block = b"\x81" + struct.pack(">hB", 0, 0x80)  # track 1, no offset from the cluster, keyframe
    stamp = _uint(b"\xe7", ms)
    simple = b"\xa3" + _vint(len(block) + size) + block
    return b"\x1f\x43\xb6\x75" + _vint(len(stamp) + len(simple) + size) + stamp + simple


def frame_ms(index: int, fps: int) -> int:
    return round(index * 1000 / fps)


def keyframe_expr(fps: int) -> str:
    """ffmpeg's -force_key_frames: a keyframe on the first distinct frame GOP frames or more after
    the last forced one (x264's own -g counts the pictures it is given, which are seconds apart)."""
    seconds = GOP / fps
    return f"expr:isnan(prev_forced_t)*gte(t,{seconds})+gte(t-prev_forced_t,{seconds})"


def encode_frames(
    runs: Iterable[tuple[bytes, int]], n_frames: int, target: Path, *, preset: str, crf: int, fps: int,
    x264_params: str | None = STILL_X264_PARAMS,
) -> None:
    """Encode raw yuv420p frames, given as (frame, repeat count) runs, to a video-only H.264 MP4.

    Each distinct picture crosses the pipe once, stamped with the time it starts (a run that goes
    on with the same picture object is the same picture); x264 sees them at those times, so its
    rate control knows how long each stays on screen and gives a long-held one the bits it
    deserves. The MP4 has all `n_frames` frames (see the module docstring).

    One x264 thread: two segments encode at once (one per core), and a threaded x264 spends ~20 %
    more CPU on the same frames (thread start-up and hand-over; measured: 180 frames 1.88 s → 1.51 s)."""
    params = ":".join(p for p in (x264_params, HOLDABLE_X264_PARAMS) if p)
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-probesize", "32", "-f", "matroska", "-i", "-",
        # passthrough at -r fps: each picture keeps its own start, on the output's frame grid, with no
        # frames added. setsar=0: Matroska implies a 1:1 aspect, which a raw input leaves unset.
        "-an", "-fps_mode", "passthrough", "-r", str(fps), "-vf", "setsar=0",
        "-c:v", "libx264", "-threads", "1", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
        "-g", str(GOP), "-force_key_frames", keyframe_expr(fps), "-forced-idr", "1", "-x264-params", params, "-f", "h264",
    ]  # fmt: skip
    counts: list[int] = []  # how many frames each distinct picture lasts
    # The raw stream is named as a half-written file (.*.part): if the render is killed, pruning the
    # segment cache removes it with the rest (segment_cache.prune).
    raw = {"prefix": f".{target.name}.", "suffix": ".h264" + PART_SUFFIX, "dir": target.parent}
    with atomic_path(target) as tmp, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile(**raw) as stream:
        proc = subprocess.Popen([*cmd, stream.name], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err, bufsize=0)
        assert proc.stdin is not None
        fd = proc.stdin.fileno()
        _widen_pipe(fd)
        # A writer thread feeds the pipe while this thread draws the next pictures, so x264 is
        # not starved while Pillow works (both release the GIL for their heavy parts).
        pending: queue.Queue[tuple[bytes, int] | None] = queue.Queue(maxsize=4)
        broken: list[BaseException] = []

        def send(head: bytes, frame: bytes) -> None:
            """The block's head and the frame in gathered writes (no 3 MB concatenation)."""
            parts = [memoryview(head), memoryview(frame)]
            while parts:
                done = os.writev(fd, parts)
                while parts and done >= len(parts[0]):
                    done -= len(parts[0])
                    parts.pop(0)
                if parts:
                    parts[0] = parts[0][done:]

        def feed() -> None:
            try:
                os.write(fd, mkv_header(W, H))
                at, last = 0, None
                while (item := pending.get()) is not None:
                    frame, count = item
                    if frame is last:  # a run that goes on with the same picture is not sent again
                        counts[-1] += count
                    else:
                        send(mkv_frame_head(frame_ms(at, fps), len(frame)), frame)
                        counts.append(count)
                    at, last = at + count, frame
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
            raise RenderError(f"ffmpeg failed encoding {target} (exit {proc.returncode}): {stderr_tail(err)}")
        if written != n_frames:
            raise RenderError(f"{target}: internal error, wrote {written} frames, planned {n_frames}")
        try:
            held = h264.hold(stream.read(), counts)
        except RenderError as exc:
            raise RenderError(f"{target}: {exc}") from exc
        sps = held.parsed
        entry = avc_sample_entry(held.sps, held.pps, W, H, sps.chroma_format, sps.bit_depth_luma, sps.bit_depth_chroma)
        write_video(tmp, entry, held.samples, held.sync, fps, W, H)


def run_ffmpeg(args: list[str], target: Path) -> None:
    with tempfile.TemporaryFile() as err:
        done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], stdout=subprocess.DEVNULL, stderr=err)
        if done.returncode != 0:
            raise RenderError(f"ffmpeg failed writing {target} (exit {done.returncode}): {stderr_tail(err)}")
