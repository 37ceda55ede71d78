"""The join: the segments' H.264 samples and the soundtrack's AAC frames copied into one MP4.

ffmpeg's concat demuxer opened and probed every segment (~15 ms of CPU each: 2 s for a 10-minute
episode's 104, most of a re-cut's serial tail). The segments are our own single-track x264 MP4s
with no B-frames, one sample description and a constant frame duration, so joining them needs only
their sample tables: this reads those, keeps each segment's first `kept` samples (a chunk's spare
frame is dropped: with no B-frames nothing refers to it), and writes a fast-start MP4 (moov first),
video and audio interleaved a second at a time, the sample data copied as bytes. A segment that is
not of that shape raises JoinError (the caller falls back to ffmpeg).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aidas_dagster.picture.audio_encode import AAC_FRAME, AudioEncodeError, adts_frames

MOVIE_TIMESCALE = 1000
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]


class JoinError(RuntimeError):
    pass


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, i)
        head = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, i + 8)
            head = 16
        elif size == 0:
            size = end - i
        if size < head or i + size > end:
            raise JoinError(f"damaged box {kind!r} at byte {i}")
        yield kind, i + head, i + size
        i += size


def _find(data: bytes, path: list[bytes], start: int = 0, end: int | None = None) -> tuple[int, int]:
    for kind, a, b in _boxes(data, start, end):
        if kind == path[0]:
            return (a, b) if len(path) == 1 else _find(data, path[1:], a, b)
    raise JoinError(f"no {b'/'.join(path).decode()} box")


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


@dataclass
class VideoSegment:
    path: Path
    entry: bytes  # the avc1 sample entry, without its btrt (bit rates are the joined file's)
    timescale: int
    delta: int  # every sample's duration
    width: int
    height: int
    sizes: list[int]
    offsets: list[int]
    sync: list[int]  # 0-based sample numbers of the keyframes


def _read_moov(path: Path) -> bytes:
    """The file's moov box (the top-level boxes are skipped by their sizes, not read)."""
    with open(path, "rb") as fh:
        end = fh.seek(0, 2)
        at = 0
        while at + 8 <= end:
            fh.seek(at)
            size, kind = struct.unpack(">I4s", fh.read(8))
            if size == 1:
                (size,) = struct.unpack(">Q", fh.read(8))
            elif size == 0:
                size = end - at
            if size < 8:
                break
            if kind == b"moov":
                fh.seek(at)
                return fh.read(size)
            at += size
    raise JoinError(f"{path.name}: no moov box")


def read_video_segment(path: Path) -> VideoSegment:
    """The sample table of a segment MP4 (its moov only: the samples are read when copied)."""
    data = _read_moov(path)
    moov = _find(data, [b"moov"])
    traks = [(a, b) for kind, a, b in _boxes(data, *moov) if kind == b"trak"]
    if len(traks) != 1:
        raise JoinError(f"{path.name}: {len(traks)} tracks, expected one video track")
    trak = traks[0]
    a, _b = _find(data, [b"tkhd"], *trak)
    width, height = struct.unpack_from(">II", data, a + (88 if data[a] else 76))  # 16.16 fixed point
    mdia = _find(data, [b"mdia"], *trak)
    a, _b = _find(data, [b"mdhd"], *mdia)
    timescale = struct.unpack_from(">I", data, a + (20 if data[a] else 12))[0]
    stbl = _find(data, [b"minf", b"stbl"], *mdia)
    kinds = {kind for kind, _a, _b in _boxes(data, *stbl)}
    if b"ctts" in kinds or b"stz2" in kinds:
        raise JoinError(f"{path.name}: reordered frames or compact sizes are not joined here")
    a, b = _find(data, [b"stsd"], *stbl)
    if struct.unpack_from(">I", data, a + 4)[0] != 1:
        raise JoinError(f"{path.name}: more than one sample description")
    entry_start = a + 8
    (entry_size,) = struct.unpack_from(">I", data, entry_start)
    if data[entry_start + 4 : entry_start + 8] != b"avc1":
        raise JoinError(f"{path.name}: not H.264")
    # The avc1 entry: 78 bytes of fields, then its boxes (avcC, btrt, ...); btrt is left out.
    fields = data[entry_start + 8 : entry_start + 86]
    subs = b"".join(data[x - 8 : y] for kind, x, y in _boxes(data, entry_start + 86, entry_start + entry_size) if kind != b"btrt")
    entry = _box(b"avc1", fields, subs)
    a, _b = _find(data, [b"stts"], *stbl)
    (n_entries,) = struct.unpack_from(">I", data, a + 4)
    if n_entries != 1:
        raise JoinError(f"{path.name}: frames of different durations")
    count, delta = struct.unpack_from(">II", data, a + 8)
    a, _b = _find(data, [b"stsz"], *stbl)
    fixed, n = struct.unpack_from(">II", data, a + 4)
    sizes = [fixed] * n if fixed else list(struct.unpack_from(f">{n}I", data, a + 12))
    if n != count:
        raise JoinError(f"{path.name}: {n} sample sizes for {count} samples")
    if b"co64" in kinds:
        a, _b = _find(data, [b"co64"], *stbl)
        (k,) = struct.unpack_from(">I", data, a + 4)
        chunks = list(struct.unpack_from(f">{k}Q", data, a + 8))
    else:
        a, _b = _find(data, [b"stco"], *stbl)
        (k,) = struct.unpack_from(">I", data, a + 4)
        chunks = list(struct.unpack_from(f">{k}I", data, a + 8))
    a, _b = _find(data, [b"stsc"], *stbl)
    (m,) = struct.unpack_from(">I", data, a + 4)
    runs = [struct.unpack_from(">III", data, a + 8 + 12 * i) for i in range(m)]
    offsets: list[int] = []
    sample = 0
    for i, (first, per_chunk, _desc) in enumerate(runs):
        last = runs[i + 1][0] - 1 if i + 1 < m else len(chunks)
        for chunk in range(first - 1, last):
            at = chunks[chunk]
            for _ in range(per_chunk):
                offsets.append(at)
                at += sizes[sample]
                sample += 1
    if sample != n:
        raise JoinError(f"{path.name}: chunks hold {sample} of {n} samples")
    if b"stss" in kinds:
        a, _b = _find(data, [b"stss"], *stbl)
        (s,) = struct.unpack_from(">I", data, a + 4)
        sync = [x - 1 for x in struct.unpack_from(f">{s}I", data, a + 8)]
    else:
        sync = list(range(n))
    return VideoSegment(path, entry, timescale, delta, width >> 16, height >> 16, sizes, offsets, sync)


@dataclass
class AacStream:
    frames: list[bytes]  # raw AAC frames (ADTS headers removed)
    rate: int
    channels: int
    config: bytes  # the AudioSpecificConfig


def read_adts(path: Path) -> AacStream:
    """An ADTS stream's raw frames (one raw data block each) and what its headers say."""
    try:
        framed = adts_frames(Path(path).read_bytes(), str(path))
    except AudioEncodeError as exc:
        raise JoinError(str(exc)) from exc
    if not framed:
        raise JoinError(f"{path}: no audio frames")
    header = framed[0][:7]
    frames = []
    for frame in framed:
        if frame[6] & 0x03 or frame[1:3] != header[1:3]:
            raise JoinError(f"{path}: ADTS frames of different kinds or with several blocks")
        frames.append(frame[7 if frame[1] & 0x01 else 9 :])
    profile, rate_index = (header[2] >> 6) + 1, (header[2] >> 2) & 0x0F
    channels = ((header[2] & 0x01) << 2) | (header[3] >> 6)
    config = struct.pack(">H", (profile << 11) | (rate_index << 7) | (channels << 3))
    return AacStream(frames, _ADTS_RATES[rate_index], channels, config)


def _bitrates(sizes: list[int], per_second: float) -> tuple[int, int]:
    """(max over whole seconds, average) bits per second."""
    if not sizes:
        return 0, 0
    step = max(1, round(per_second))
    windows = [sum(sizes[i : i + step]) * 8 for i in range(0, len(sizes), step)]
    average = round(sum(sizes) * 8 * per_second / len(sizes))
    return max(windows[:-1] or windows), average


def _track(track_id: int, handler: bytes, name: bytes, timescale: int, duration: int, movie_duration: int, media_header: bytes,
           sample_entry: bytes, deltas: list[tuple[int, int]], sizes: list[int], chunks: list[tuple[int, int]], offsets: list[int],
           extra: bytes, width: int = 0, height: int = 0) -> bytes:  # fmt: skip
    audio = handler == b"soun"
    tkhd = _full(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, track_id, 0, movie_duration), b"\0" * 8,
                 struct.pack(">hhhH", 0, 1 if audio else 0, 0x100 if audio else 0, 0), _MATRIX, struct.pack(">II", width << 16, height << 16))  # fmt: skip
    elst = _box(b"edts", _full(b"elst", 0, 0, struct.pack(">IIiI", 1, movie_duration, 0, 0x10000)))
    mdhd = _full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, duration, 0x55C4, 0))  # language und
    hdlr = _full(b"hdlr", 0, 0, struct.pack(">I4s", 0, handler), b"\0" * 12, name + b"\0")
    dinf = _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1)))
    big = bool(offsets) and offsets[-1] > 0xFFFFFFFF
    stbl = _box(
        b"stbl",
        _full(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        _full(b"stts", 0, 0, struct.pack(f">I{2 * len(deltas)}I", len(deltas), *[v for d in deltas for v in d])),
        extra,
        _full(b"stsc", 0, 0, struct.pack(f">I{3 * len(chunks)}I", len(chunks), *[v for first, n in chunks for v in (first, n, 1)])),
        _full(b"stsz", 0, 0, struct.pack(f">II{len(sizes)}I", 0, len(sizes), *sizes)),
        _full(b"co64" if big else b"stco", 0, 0, struct.pack(f">I{len(offsets)}{'Q' if big else 'I'}", len(offsets), *offsets)),
    )  # fmt: skip
    minf = _box(b"minf", media_header, dinf, stbl)
    return _box(b"trak", tkhd, elst, _box(b"mdia", mdhd, hdlr, minf))


def _chunk_table(counts: list[int]) -> list[tuple[int, int]]:
    """stsc runs (first chunk, samples per chunk) for chunks of the given sample counts."""
    runs: list[tuple[int, int]] = []
    for i, n in enumerate(counts):
        if not runs or runs[-1][1] != n:
            runs.append((i + 1, n))
    return runs


def _descriptor(tag: int, body: bytes) -> bytes:
    n = len(body)
    return bytes([tag, 0x80 | (n >> 21 & 0x7F), 0x80 | (n >> 14 & 0x7F), 0x80 | (n >> 7 & 0x7F), n & 0x7F]) + body


_FTYP = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso2avc1mp41")


def _mvhd(movie_duration: int, next_track: int) -> bytes:
    """The movie header: its duration in MOVIE_TIMESCALE units and the next free track id."""
    return _full(b"mvhd", 0, 0, struct.pack(">IIII", 0, 0, MOVIE_TIMESCALE, movie_duration), struct.pack(">IH", 0x10000, 0x100),
                 b"\0" * 10, _MATRIX, b"\0" * 24, struct.pack(">I", next_track))  # fmt: skip


def avc_sample_entry(sps: bytes, pps: list[bytes], width: int, height: int, chroma_format: int = 1, bit_depth_luma: int = 8,
                     bit_depth_chroma: int = 8) -> bytes:  # fmt: skip
    """An avc1 sample entry whose avcC record carries the stream's SPS and PPSs (NAL units, no start codes)."""
    record = bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]) + struct.pack(">H", len(sps)) + sps + bytes([len(pps)])
    record += b"".join(struct.pack(">H", len(p)) + p for p in pps)
    if sps[1] in (100, 110, 122, 144):  # the High profiles' extension (ISO/IEC 14496-15)
        record += bytes([0xFC | chroma_format, 0xF8 | (bit_depth_luma - 8), 0xF8 | (bit_depth_chroma - 8), 0])
    name = b"x264 with held frames"
    fields = b"\0" * 6 + struct.pack(">H", 1) + b"\0" * 16 + struct.pack(">HHIIIH", width, height, 0x480000, 0x480000, 0, 1)
    fields += bytes([len(name)]) + name.ljust(31, b"\0") + struct.pack(">Hh", 0x18, -1)
    return _box(b"avc1", fields, _box(b"avcC", record))


def write_video(out: Path, entry: bytes, samples: list[bytes], sync: list[int], fps: int, width: int, height: int) -> None:
    """A video-only MP4 of constant-duration samples (a segment, as the join reads it): moov first."""
    timescale, delta = fps * 512, 512
    duration = len(samples) * delta
    movie = -(-duration * MOVIE_TIMESCALE // timescale)
    sizes = [len(s) for s in samples]
    stss = _full(b"stss", 0, 0, struct.pack(f">I{len(sync)}I", len(sync), *[k + 1 for k in sync]))

    def moov(offset: int) -> bytes:
        mvhd = _mvhd(movie, next_track=2)
        video = _track(1, b"vide", b"VideoHandler", timescale, duration, movie, _full(b"vmhd", 0, 1, b"\0" * 8), entry,
                       [(len(samples), delta)], sizes, [(1, len(samples))], [offset], stss, width, height)  # fmt: skip
        return _box(b"moov", mvhd, video)

    payload = sum(sizes)
    head = len(_FTYP) + len(moov(0)) + 8
    with open(out, "wb") as fh:
        fh.write(_FTYP + moov(head) + struct.pack(">I4s", 8 + payload, b"mdat"))
        fh.writelines(samples)


def join(segments: list[tuple[Path, int]], adts: Path, out: Path, fps: int) -> tuple[float, int, int]:
    """Write `out`: the first `kept` samples of each (segment, kept), then the ADTS soundtrack, as one
    MP4. Returns its duration (seconds, as its movie header says) and picture size."""
    videos = [read_video_segment(Path(p)) for p, _kept in segments]
    if not videos:
        raise JoinError("nothing to join")
    first = videos[0]
    for v, (_p, kept) in zip(videos, segments):
        if (v.entry, v.timescale, v.delta, v.width, v.height) != (first.entry, first.timescale, first.delta, first.width, first.height):
            raise JoinError(f"{v.path.name}: encoded unlike {first.path.name}")
        if v.timescale != v.delta * fps or not 0 < kept <= len(v.sizes) or (kept and 0 not in v.sync):
            raise JoinError(f"{v.path.name}: not {fps} fps, too short for {kept} frames, or not starting on a keyframe")
    # Every output sample: (source index or -1 for audio, offset in source, size)
    v_src: list[tuple[int, int, int]] = []
    v_sync: list[int] = []
    for k, (v, (_p, kept)) in enumerate(zip(videos, segments)):
        base = len(v_src)
        v_sync.extend(base + s + 1 for s in v.sync if s < kept)
        v_src.extend((k, v.offsets[i], v.sizes[i]) for i in range(kept))
    audio = read_adts(adts)
    n_video, n_audio = len(v_src), len(audio.frames)
    v_duration, a_duration = n_video * first.delta, n_audio * AAC_FRAME
    # In the movie's milliseconds, rounded up (as ffmpeg does: a track never ends before its last sample).
    v_movie, a_movie = -(-v_duration * MOVIE_TIMESCALE // first.timescale), -(-a_duration * MOVIE_TIMESCALE // audio.rate)
    movie = max(v_movie, a_movie)
    # Interleave a second at a time: a video chunk then the audio up to the same time.
    v_chunks, a_chunks = [], []
    order: list[tuple[str, int, int]] = []  # (track, first sample, count)
    vi = ai = 0
    second = 1
    while vi < n_video or ai < n_audio:
        v_end = min(n_video, second * fps)
        a_end = min(n_audio, -(-second * audio.rate // AAC_FRAME))
        if v_end > vi:
            order.append(("v", vi, v_end - vi))
            v_chunks.append(v_end - vi)
            vi = v_end
        if a_end > ai:
            order.append(("a", ai, a_end - ai))
            a_chunks.append(a_end - ai)
            ai = a_end
        second += 1
    v_sizes = [s for _k, _o, s in v_src]
    a_sizes = [len(f) for f in audio.frames]
    v_max, v_avg = _bitrates(v_sizes, fps)
    a_max, a_avg = _bitrates(a_sizes, audio.rate / AAC_FRAME)
    avc1 = first.entry + _box(b"btrt", struct.pack(">III", 0, v_max, v_avg))
    esds = _full(b"esds", 0, 0, _descriptor(3, struct.pack(">HB", 2, 0) + _descriptor(
        4, struct.pack(">BB", 0x40, 0x15) + (0).to_bytes(3, "big") + struct.pack(">II", a_max, a_avg) + _descriptor(5, audio.config)
    ) + _descriptor(6, b"\x02")))  # fmt: skip
    mp4a = _box(b"mp4a", b"\0" * 6, struct.pack(">HHHIHHHHI", 1, 0, 0, 0, 2, 16, 0, 0, audio.rate << 16), esds,
                _box(b"btrt", struct.pack(">III", 0, a_max, a_avg)))  # fmt: skip
    roll = _full(b"sgpd", 1, 0, b"roll", struct.pack(">IIh", 2, 1, -1)) + _full(b"sbgp", 0, 0, b"roll", struct.pack(">III", 1, n_audio, 1))
    stss = _full(b"stss", 0, 0, struct.pack(f">I{len(v_sync)}I", len(v_sync), *v_sync))

    def moov(v_offsets: list[int], a_offsets: list[int]) -> bytes:
        mvhd = _mvhd(movie, next_track=3)
        video = _track(1, b"vide", b"VideoHandler", first.timescale, v_duration, v_movie, _full(b"vmhd", 0, 1, b"\0" * 8), avc1,
                       [(n_video, first.delta)], v_sizes, _chunk_table(v_chunks), v_offsets, stss, first.width, first.height)  # fmt: skip
        sound = _track(2, b"soun", b"SoundHandler", audio.rate, a_duration, a_movie, _full(b"smhd", 0, 0, b"\0" * 4), mp4a,
                       [(n_audio, AAC_FRAME)], a_sizes, _chunk_table(a_chunks), a_offsets, roll)  # fmt: skip
        return _box(b"moov", mvhd, video, sound)

    payload = sum(v_sizes) + sum(a_sizes)
    mdat_head = struct.pack(">I4s", 8 + payload, b"mdat") if 8 + payload <= 0xFFFFFFFF else struct.pack(">I4sQ", 1, b"mdat", 16 + payload)

    def offsets(start: int) -> tuple[list[int], list[int]]:
        vo, ao, at = [], [], start
        for track, lo, count in order:
            if track == "v":
                vo.append(at)
                at += sum(v_sizes[lo : lo + count])
            else:
                ao.append(at)
                at += sum(a_sizes[lo : lo + count])
        return vo, ao

    # The moov's size depends on the offsets only through stco vs co64: two passes settle it.
    head = len(_FTYP) + len(moov(*offsets(0))) + len(mdat_head)
    vo, ao = offsets(head)
    header = _FTYP + moov(vo, ao) + mdat_head
    if len(header) != head:
        vo, ao = offsets(len(header))
        header = _FTYP + moov(vo, ao) + mdat_head
    sources = [open(v.path, "rb") for v in videos]
    try:
        with open(out, "wb") as fh:
            fh.write(header)
            for track, lo, count in order:
                if track == "a":
                    fh.write(b"".join(audio.frames[lo : lo + count]))
                    continue
                i = lo
                while i < lo + count:  # consecutive samples of one segment are one read
                    k, at, size = v_src[i]
                    j = i + 1
                    while j < lo + count and v_src[j][0] == k and v_src[j][1] == at + size:
                        size += v_src[j][2]
                        j += 1
                    sources[k].seek(at)
                    data = sources[k].read(size)
                    if len(data) != size:
                        raise JoinError(f"{videos[k].path.name}: truncated sample data")
                    fh.write(data)
                    i = j
    finally:
        for src in sources:
            src.close()
    return movie / MOVIE_TIMESCALE, first.width, first.height
