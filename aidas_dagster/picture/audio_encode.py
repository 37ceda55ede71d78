"""AAC in ADTS framing: a stream of 1024-sample frames, each with its own header, so frames from
different encodes can be cut and joined as bytes (soundtrack.py builds the episode's audio so)."""

from __future__ import annotations


AAC_FRAME = 1024  # samples per AAC frame


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
