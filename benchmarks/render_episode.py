"""Render benchmark: a full offline episode against a raw still-image encode, then a one-line re-cut.

    .venv/bin/python benchmarks/render_episode.py [--minutes 10] [--preset veryfast]

Machines here are shared and noisy, so every figure is also given as a ratio against a baseline
measured in the same run: ffmpeg encoding one still 1080p30 frame (raw input, no decode cost) for
the same duration with the same encoder settings. CPU seconds (this process and its ffmpeg
children, user + system) are printed beside wall-clock seconds: when other jobs share the cores,
wall time stretches but CPU time barely moves. Peak memory is the largest sum of proportional set
sizes over this process and its ffmpeg children, sampled every 50 ms (see PeakMemory).

Targets (issue 15): full render CPU <= 1.25x the still encode's CPU, >= 5x real time (on a quiet
machine), peak memory < 1 GB, re-cut after a one-line edit <= 5 % of the full render; (issue 13)
the joined episode at -14 LUFS integrated +- 0.5 with a true peak <= -1 dBTP.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aidas_dagster.core.config import SeriesConfig  # noqa: E402
from aidas_dagster.picture.avatars import draw_roster_sprites  # noqa: E402
from aidas_dagster.picture.clips import plan_clips  # noqa: E402
from aidas_dagster.picture.probe import ffmpeg_exe, probe  # noqa: E402
from aidas_dagster.picture.encoder import GOP, STILL_X264_PARAMS  # noqa: E402
from aidas_dagster.picture.render import render_final_cut  # noqa: E402
from aidas_dagster.picture.soundtrack import measure_loudness  # noqa: E402
from aidas_dagster.story.engine import OfflineStoryEngine  # noqa: E402
from aidas_dagster.voice.offline_tts import OfflineSpeech  # noqa: E402
from aidas_dagster.voice.track import build_track  # noqa: E402
from aidas_dagster.voice.casting import cast_voices


CARD_SECONDS = 3.0  # intro and outro cards, as the pipeline cuts them (voice/assets.py)


class PeakMemory:
    """Samples the memory of this process plus all its descendants: the sum of their proportional
    set sizes (PSS), so pages two processes share (the ffmpeg libraries, a forked child's
    copy-on-write pages) count once. A child that has forked but not yet exec'd ffmpeg (still this
    interpreter's image; with vfork it *is* this process's memory) is not counted: summing resident
    sizes counted this process twice whenever a sample caught a spawn (one did, at 366 MiB)."""

    def __init__(self) -> None:
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _pss(pid: int) -> int:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _tree_pss(self, me: int, own_image: str) -> int:
        """Walk down from this process through /proc/<pid>/task/<tid>/children (cheap: only our
        own tree is read, not every process on a shared machine)."""
        total, todo, seen = 0, [me], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            try:
                if pid == me or os.readlink(f"/proc/{pid}/exe") != own_image:
                    total += self._pss(pid)
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/children") as fh:
                        todo.extend(int(c) for c in fh.read().split())
            except (OSError, ValueError):
                continue  # the process ended while we looked
        return total

    def _run(self) -> None:
        me = os.getpid()
        own_image = os.readlink(f"/proc/{me}/exe")
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._tree_pss(me, own_image))
            time.sleep(0.05)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Timed:
    """Wall-clock and CPU seconds of a block."""

    def __enter__(self) -> "Timed":
        self.wall, self.cpu = time.monotonic(), cpu_seconds()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.monotonic() - self.wall, cpu_seconds() - self.cpu


def still_encode_seconds(frame_png: Path, seconds: float, preset: str, crf: int, work: Path) -> float:
    """Encode one still frame for `seconds` at 1080p30 with the final cut's encoder settings."""
    raw = work / "still.yuv"
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(frame_png), "-pix_fmt", "yuv420p", "-f", "rawvideo", str(raw)],
        check=True,
    )
    started = time.monotonic()
    subprocess.run(
        [
            ffmpeg_exe(), "-loglevel", "error", "-y", "-stream_loop", "-1",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "1920x1080", "-r", "30", "-i", str(raw),
            "-t", f"{seconds:.3f}", "-an", "-c:v", "libx264", "-preset", preset, "-crf", str(crf),
            "-pix_fmt", "yuv420p", "-g", str(GOP), "-x264-params", STILL_X264_PARAMS, str(work / "still.mp4"),
        ],
        check=True,
    )  # fmt: skip
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--crf", type=int, default=23)
    parser.add_argument("--keep", action="store_true", help="keep the rendered files (printed path)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="aidas-bench-"))
    config = SeriesConfig(
        series_id="bench",
        title="첫사랑은 처음이라서",
        genre="로맨틱 코미디",
        total_episodes=16,
        episode_duration=args.minutes,
        main_theme="첫사랑의 설렘과 성장",
        target_audience="20-30대 여성",
    )
    engine = OfflineStoryEngine()
    bible = engine.write_bible(config)
    roster = engine.write_roster(config, bible, cast_voices)
    script = engine.write_script(bible, roster, engine.initial_state(bible, roster), 1)
    speech = OfflineSpeech()
    target = config.episode_seconds - 2 * CARD_SECONDS

    def cut(script, tag: str):
        track = build_track(script, roster, speech, work / "cache" / "audio", work / "audio", target)  # one folder, as in production
        sprites = draw_roster_sprites(roster, work / "avatars")
        plan = plan_clips(script, roster, track, sprites, fps=30)
        out = work / tag / "episode.mp4"
        with Timed() as timed:
            final = render_final_cut(
                plan, track, script, roster, config.title, out, out.with_suffix(".srt"), work / tag / "thumb.jpg",
                work / "cache" / "segments", preset=args.preset, crf=args.crf, intro_seconds=CARD_SECONDS,
                outro_seconds=CARD_SECONDS,
            )  # fmt: skip
        return final, timed

    print(f"[bench] {script.line_count} lines, {len(script.scenes)} scenes, preset {args.preset}, crf {args.crf}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    with PeakMemory() as memory:
        full, full_t = cut(script, "full")
    duration = float(probe(full.video_path)["duration"])

    frame = work / "frame.png"
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-y", "-ss", f"{duration / 2:.2f}", "-i", full.video_path, "-frames:v", "1", str(frame)],
        check=True,
    )
    with Timed() as still_t:
        still_encode_seconds(frame, duration, args.preset, args.crf, work)

    edited = script.model_copy(deep=True)
    line = edited.scenes[len(edited.scenes) // 2].lines[1]
    line.text = line.text.rstrip(".?!") + ", 정말이에요."
    with PeakMemory() as recut_memory:
        recut, recut_t = cut(edited, "recut")

    lufs, peak = measure_loudness(Path(recut.video_path), ffmpeg_exe(), true_peak=True)
    cpu_ratio = full_t.cpu / still_t.cpu
    share = recut_t.wall / full_t.wall
    print(f"[bench] episode length           {duration:8.1f} s")
    print(f"[bench] full render              {full_t.wall:8.1f} s   {duration / full_t.wall:5.2f}x real time   (CPU {full_t.cpu:.1f} s)")
    print(f"[bench] raw still encode         {still_t.wall:8.1f} s   render/still = {full_t.wall / still_t.wall:5.2f}"
          f"   (CPU {still_t.cpu:.1f} s, render/still CPU = {cpu_ratio:.2f})")  # fmt: skip
    print(
        f"[bench] re-cut after 1-line edit {recut_t.wall:8.1f} s   recut/full = {share:6.1%}   (CPU {recut_t.cpu:.1f} s = {recut_t.cpu / full_t.cpu:.1%})"
    )
    print(f"[bench]   video: {recut.segments_encoded} of {len(recut.segments)} segments encoded again "
          f"({recut.segments_encoded / max(1, len(recut.segments)):.1%}); audio: {recut.audio_pieces_encoded} of {recut.audio_pieces} pieces, "
          f"{recut.audio_frames_encoded} of {recut.audio_frames} AAC frames encoded again ({recut.audio_frames_encoded / max(1, recut.audio_frames):.1%})")  # fmt: skip
    print(f"[bench] peak memory (PSS)        {memory.peak_bytes / 2**20:8.0f} MiB (render), {recut_memory.peak_bytes / 2**20:.0f} MiB (re-cut)")
    print(f"[bench] loudness of the joined re-cut {lufs:.1f} LUFS integrated, true peak {peak:.1f} dBTP (gain {recut.audio_gain_db:+.1f} dB)")
    verdicts = [
        ("render/still CPU <= 1.25", cpu_ratio <= 1.25, f"{cpu_ratio:.2f}"),
        (">= 5x real time (quiet machine)", duration / full_t.wall >= 5, f"{duration / full_t.wall:.2f}x"),
        ("peak memory < 1 GB", max(memory.peak_bytes, recut_memory.peak_bytes) < 1e9, f"{max(memory.peak_bytes, recut_memory.peak_bytes) / 2**20:.0f} MiB"),
        ("re-cut <= 5 % of full render", share <= 0.05, f"{share:.1%}"),
        ("-14 LUFS +- 0.5", abs(lufs + 14.0) <= 0.5, f"{lufs:.1f}"),
        ("true peak <= -1 dBTP", peak <= -1.0, f"{peak:.1f}"),
    ]
    for name, ok, value in verdicts:
        print(f"[bench] target {name:34s} {value:>9s}  {'met' if ok else 'MISSED'}")
    print(f"[bench] load average at the end {os.getloadavg()[0]:.1f} ({', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    if args.keep:
        print(f"[bench] files in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
