"""The episode's AAC audio, encoded in parallel chunks that join without a seam.

ffmpeg's AAC encoder is single-threaded: about 10 s for a 10-minute episode, which dominates a
re-cut after a one-line edit (the video side re-encodes a couple of segments in ~2 s). AAC is a
stream of 1024-sample frames, so the track is cut on frame boundaries into one chunk per core;
each chunk is encoded with two extra frames of real audio on either side (so the encoder has
settled and each kept frame overlaps its neighbour as in one continuous encode), and the joined
stream keeps exactly the frames that cover each chunk. The encoder's priming frame is dropped, so
the audio starts at sample 0 with no delay against the picture.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

AAC_FRAME = 1024  # samples per AAC frame
ROLL_FRAMES = 16  # real audio encoded past each inner cut, then dropped (fewer leaves an audible seam)
MIN_CHUNK_FRAMES = 600  # ~13 s at 48 kHz: shorter chunks are not worth a process


class AudioEncodeError(RuntimeError):
    """ffmpeg failed on the audio, or its ADTS output is not what was asked for."""


def adts_frames(data: bytes, source: str = "ADTS stream") -> list[bytes]:
    """Split an ADTS stream into its frames (each with its 7- or 9-byte header)."""
    frames, i = [], 0
    while i < len(data):
        if i + 7 > len(data) or data[i] != 0xFF or data[i + 1] & 0xF0 != 0xF0:
            raise AudioEncodeError(f"{source}: no ADTS frame header at byte {i}")
        length = ((data[i + 3] & 0x03) << 11) | (data[i + 4] << 3) | (data[i + 5] >> 5)
        if length < 7 or i + length > len(data):
            raise AudioEncodeError(f"{source}: truncated ADTS frame at byte {i}")
        frames.append(data[i : i + length])
        i += length
    return frames


@dataclass(frozen=True)
class _Chunk:
    first: int  # first frame of the episode this chunk provides
    count: int  # frames it provides
    lead: int  # frames of roll encoded before `first`
    start_sample: int
    end_sample: int


def plan_chunks(samples: int, parts: int) -> list[_Chunk]:
    frames = -(-samples // AAC_FRAME)
    parts = max(1, min(parts, frames // MIN_CHUNK_FRAMES or 1))
    cuts = [round(frames * k / parts) for k in range(parts + 1)]
    chunks = []
    for k in range(parts):
        first, stop = cuts[k], cuts[k + 1]
        lead = min(ROLL_FRAMES, first)
        end = samples if k == parts - 1 else min(samples, (stop + ROLL_FRAMES) * AAC_FRAME)
        chunks.append(_Chunk(first, stop - first, lead, (first - lead) * AAC_FRAME, end))
    return chunks


class AacEncode:
    """Start the chunk encoders (they run beside the video encoders), then `finish()` to join them."""

    def __init__(self, wav: Path, out_adts: Path, ffmpeg: str, *, sample_rate: int = 48000, bitrate: str = "160k",
                 parts: int | None = None) -> None:  # fmt: skip
        self.out = out_adts
        self.work = Path(tempfile.mkdtemp(prefix=".aac-", dir=out_adts.parent))
        resampled = self.work / "mix48k.wav"
        # One resample for all chunks: each chunk then cuts exact samples out of the same signal.
        done = subprocess.run(
            [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), "-ar", str(sample_rate),
             "-ac", "1", "-c:a", "pcm_s16le", str(resampled)],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise AudioEncodeError(f"ffmpeg could not resample {wav}: {done.stderr.strip()[-500:]}")
        with wave.open(str(resampled), "rb") as w:
            samples = w.getnframes()
        self.chunks = plan_chunks(samples, parts or os.cpu_count() or 1)
        self.procs: list[tuple[_Chunk, Path, subprocess.Popen, Path]] = []
        for k, chunk in enumerate(self.chunks):
            part, err = self.work / f"part{k}.aac", self.work / f"part{k}.err"
            cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(resampled),
                   "-af", f"atrim=start_sample={chunk.start_sample}:end_sample={chunk.end_sample}",
                   "-c:a", "aac", "-b:a", bitrate, "-f", "adts", str(part)]  # fmt: skip
            with err.open("wb") as err_file:
                self.procs.append((chunk, part, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file), err))

    def kill(self) -> None:
        for _chunk, _part, proc, _err in self.procs:
            proc.kill()
            proc.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        for path in sorted(self.work.glob("*")):
            path.unlink(missing_ok=True)
        self.work.rmdir()

    def finish(self) -> Path:
        """Wait for the chunks and write the joined ADTS stream to `out_adts`."""
        try:
            joined: list[bytes] = []
            for chunk, part, proc, err in self.procs:
                if proc.wait() != 0:
                    raise AudioEncodeError(f"ffmpeg failed encoding audio chunk at frame {chunk.first}: "
                                           f"{err.read_text(errors='replace').strip()[-500:]}")  # fmt: skip
                frames = adts_frames(part.read_bytes(), str(part))
                # Output frame j holds input frame j-1 (frame 0 is the encoder's priming).
                keep = frames[chunk.lead + 1 : chunk.lead + 1 + chunk.count]
                if len(keep) < chunk.count:
                    raise AudioEncodeError(f"audio chunk at frame {chunk.first}: {len(keep)} of {chunk.count} frames")
                joined.extend(keep)
            self.out.write_bytes(b"".join(joined))
            return self.out
        finally:
            self._cleanup()
