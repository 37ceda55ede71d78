"""The final cut: encode the timeline's segments the cache lacks, mix the soundtrack beside them,
join both by stream copy and publish the MP4, SRT and thumbnail together.

How it renders fast (see /work/shared/MEDIA.md): the timeline (timeline.py) cuts the episode into
content-addressed segments (intro card, one per line, fades, outro card) whose file name is a
fingerprint of everything drawn in them, so after a one-line edit only that line's segment is
encoded again. The frame server (line_frames.py) draws each line once (painter.py, subtitles.py)
and patches the few regions that change; its raw frames go to one libx264 process per segment
(encoder.py), two segments at once so neither core idles. The soundtrack is cut the same way
(soundtrack.py): each segment owns its part, encoded to AAC pieces cached beside the segments. The
segments and the audio are joined by stream copy (mp4join.py: their samples copied into one MP4,
no ffmpeg), in a work folder; the MP4, SRT and thumbnail are published together at the end. The segment cache is
kept bounded (segment_cache.py).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path

from aidas_dagster.core.storage import file_digest, fingerprint, write_text
from aidas_dagster.picture import segment_cache as seg_cache
from aidas_dagster.picture import soundtrack as snd
from aidas_dagster.picture.avatars import DRAW_VERSION
from aidas_dagster.picture.encoder import STILL_X264_PARAMS, run_ffmpeg, encode_frames
from aidas_dagster.picture.models import ClipPlan, FinalCut
from aidas_dagster.picture.mp4join import JoinError, join
from aidas_dagster.picture.probe import ffmpeg_exe, probe
from aidas_dagster.picture.subtitles import srt_text
from aidas_dagster.picture.thumbnail import THUMB_VERSION, draw_thumbnail, leads
from aidas_dagster.picture.timeline import RENDER_VERSION, Segment, Timeline, build_timeline, sound_parts
from aidas_dagster.picture.yuv import H, W, RenderError
from aidas_dagster.story.models import Character, EpisodeScript, Roster
from aidas_dagster.voice.models import AudioTrack

__all__ = ["RENDER_VERSION", "RenderError", "render_final_cut"]

MUSIC_VERSION = 2  # music per segment from a fixed chord (soundtrack.py)

# ---------------------------------------------------------------- the cut


PROGRESS_SECONDS = 3.0  # at most one progress line this often


def _encode_segments(
    segments: list[Segment], cache: Path, preset: str, crf: int, fps: int, x264_params: str | None, workers: int = 2,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Path], int]:
    """Encode the segments the cache lacks; return every segment's file and how many were encoded.

    Two encoders run at once: one alone leaves a core idle while it starts, fills its lookahead
    and flushes, and while the frame server draws a new line's pictures.
    """
    cache.mkdir(parents=True, exist_ok=True)
    lengths: dict[str, list[int]] = {}  # a flexible segment's key → the lengths it is cached at
    for name in os.listdir(cache):
        if m := _FLEXIBLE_NAME.match(name):
            lengths.setdefault(m["key"], []).append(int(m["n"]))
    paths, todo = [], {}
    for seg in segments:
        key = seg.key(preset, crf, fps, x264_params)
        if seg.flexible:  # the shortest cached encoding long enough, else a new one (see timeline.SLACK)
            n = min((n for n in lengths.get(key, []) if n >= seg.kept), default=seg.n_frames)
            path = cache / f"{key}-{n}.mp4"
            if n == seg.n_frames:
                lengths.setdefault(key, []).append(n)
        else:
            path = cache / f"{key}.mp4"
        paths.append(path)
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


_FLEXIBLE_NAME = re.compile(r"(?P<key>[0-9a-f]+)-(?P<n>\d+)\.mp4$")

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
        thumb_cached = _thumbnail(segment_cache, series_title, script, timeline, leads(roster, plan), portraits, thumb_tmp)
        # The soundtrack is mixed and its missing pieces encoded beside the video encoders (the AAC
        # encoder is single-threaded); the join then copies both streams.
        sound: list[snd.Soundtrack] = []
        failed: list[BaseException] = []

        def make_sound() -> None:
            try:
                parts = sound_parts(timeline, track)
                sound.append(snd.make_soundtrack(parts, timeline.total_frames * (snd.RATE // fps), track.series_id, segment_cache,
                                                 aac, ffmpeg_exe(), loudness=loudness, previous_gain_db=previous[0],
                                                 previous_lufs=previous[1],
                                                 steps_file=seg_cache.mix_steps_path(segment_cache, plan.series_id, plan.episode_number)))  # fmt: skip
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
        try:
            duration, width, height = join([(p, seg.kept) for p, seg in zip(paths, segments)], aac, video_tmp, fps)
        except JoinError:  # a segment not of our encoder's shape (see mp4join.py): ffmpeg joins it
            _ffmpeg_join(paths, segments, fps, aac, work_dir, video_tmp, out_video)
            info = probe(video_tmp)
            duration, width, height = float(info.get("duration") or 0.0), int(info.get("width") or W), int(info.get("height") or H)
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
        width=width,
        height=height,
        fps=fps,
        segments=[str(p) for p in paths],
        segments_encoded=encoded,
        audio_pieces=soundtrack.pieces,
        audio_pieces_encoded=soundtrack.encoded_pieces,
        audio_frames_encoded=soundtrack.encoded_frames,
        audio_frames=soundtrack.total_frames,
        loudness_lufs=round(soundtrack.lufs, 3),  # a re-cut compares with it to 0.2 LU: not rounded away
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
    return cut, [*soundtrack.cache_files, thumb_cached]


def _thumbnail(cache: Path, series_title: str, script: EpisodeScript, timeline: Timeline, lead_chars: list[Character],
               portraits: Mapping[str, Path] | None, out: Path) -> Path:  # fmt: skip
    """The thumbnail, drawn once for what it shows and kept in the segment cache (drawing its
    backdrop and busts took ~0.7 s, in series before every cut, a re-cut after an edit too)."""
    key = fingerprint(THUMB_VERSION, DRAW_VERSION, series_title, script.episode_number, script.title, timeline.card_ident,
                      [(ch.id, ch.appearance.model_dump()) for ch in lead_chars],
                      {ch.id: file_digest(Path(portraits[ch.id])) for ch in lead_chars if portraits and ch.id in portraits})  # fmt: skip
    cached = cache / f"t-{key}.jpg"
    if not cached.exists():
        draw_thumbnail(series_title, script.episode_number, script.title, timeline.card_backdrop(), lead_chars, cached, portraits)
    shutil.copyfile(cached, out)
    return cached


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


def _ffmpeg_join(paths: list[Path], segments: list[Segment], fps: int, aac: Path, work_dir: Path, video_tmp: Path, out_video: Path) -> None:
    """The join by ffmpeg's concat demuxer (each segment opened and probed: ~15 ms of CPU each)."""
    listing = work_dir / "segments.txt"
    listing.write_text("ffconcat version 1.0\n" + "".join(_concat_entry(p, seg, fps) for p, seg in zip(paths, segments)), encoding="utf-8")
    run_ffmpeg(
        ["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(aac),
         "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(video_tmp)],
        out_video,
    )  # fmt: skip


def _concat_entry(path: Path, seg: Segment, fps: int) -> str:
    """A segment in the join's list. A segment encoded with spare last frames drops them here: with
    no B-frames, decode and presentation order agree, so an out point half a frame after the last
    kept frame removes exactly the spare ones, and nothing refers to them."""
    entry = f"file '{_quote(path)}'\nduration {seg.kept / fps:.6f}\n"
    m = _FLEXIBLE_NAME.match(path.name)
    if seg.kept < (int(m["n"]) if m else seg.n_frames):
        entry += f"outpoint {(seg.kept - 0.5) / fps:.6f}\n"
    return entry


def _quote(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")
