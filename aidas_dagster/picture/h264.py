"""Holding a picture without encoding it again: x264 codes each distinct picture once, and every
frame that repeats it is an all-skip P frame written here.

Most of an episode's frames repeat the one before (a held picture, a mouth that has not moved:
13 % of a 10-minute episode's frames are distinct). x264 spends nearly as long on a repeated
frame as on a new one (motion search, skip decisions, deblocking over 8,160 macroblocks), so
encoding every frame made x264 most of a render's CPU. A P frame whose macroblocks are all
P_Skip decodes to an exact copy of its reference: with no neighbour moving, every predicted
motion vector is zero, there is no residual, and deblocking is off for it. Such a frame is a
header and one number (mb_skip_run = every macroblock), so it is written here, in CAVLC under a
picture parameter set of its own (id 1, beside x264's CABAC set 0: a stream may carry both).

The skip frames are reference frames, so x264's frames after one refer to it, an exact copy of
what they were encoded against; their frame_num is renumbered to count the held frames (the one
field that changes, fixed in width, so nothing after it moves). That needs a stream with one
reference frame, no B-frames and frame_num-derived picture order (pic_order_cnt_type 2, which
x264 writes whenever it has no B-frames): `shape` checks the stream's SPS and refuses others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aidas_dagster.picture.yuv import RenderError

NAL_SLICE, NAL_IDR, NAL_SPS, NAL_PPS, NAL_AUD = 1, 5, 7, 8, 9
SKIP_PPS_ID = 1
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}

# ---------------------------------------------------------------- bits


class _Bits:
    """Reads an RBSP (a NAL's payload with its emulation-prevention bytes removed) bit by bit."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            if self.pos >> 3 >= len(self.data):
                raise RenderError("H.264: a header runs past its NAL unit")
            value = (value << 1) | (self.data[self.pos >> 3] >> (7 - (self.pos & 7))) & 1
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise RenderError("H.264: a malformed Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)


class _BitWriter:
    def __init__(self) -> None:
        self.value, self.length = 0, 0

    def u(self, n: int, value: int) -> None:
        self.value, self.length = (self.value << n) | (value & ((1 << n) - 1)), self.length + n

    def ue(self, value: int) -> None:
        value += 1
        n = value.bit_length()
        self.u(2 * n - 1, value)  # n - 1 zeros, then the n bits of value + 1

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def rbsp(self) -> bytes:
        """The bits with the RBSP stop bit and zero padding to a whole byte."""
        self.u(1, 1)
        pad = -self.length % 8
        self.u(pad, 0)
        return self.value.to_bytes(self.length // 8, "big")


def unescape(payload: bytes) -> bytes:
    """A NAL unit's payload without its emulation-prevention bytes (00 00 03 → 00 00)."""
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


_NEEDS_ESCAPE = re.compile(b"\x00\x00(?=[\x00-\x03])")


def escape(rbsp: bytes) -> bytes:
    return _NEEDS_ESCAPE.sub(b"\x00\x00\x03", rbsp)


def nal_units(stream: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (start codes and trailing zero bytes removed)."""
    units = stream.split(b"\x00\x00\x01")[1:]
    return [u.rstrip(b"\x00") for u in units[:-1]] + units[-1:]


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F


# ---------------------------------------------------------------- parameter sets


@dataclass(frozen=True)
class Sps:
    profile: int
    chroma_format: int
    bit_depth_luma: int
    bit_depth_chroma: int
    log2_max_frame_num: int
    poc_type: int
    max_ref_frames: int
    macroblocks: int
    frame_mbs_only: bool


def parse_sps(nal: bytes) -> Sps:
    r = _Bits(unescape(nal[1:]))
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    chroma_format, depth_luma, depth_chroma = 1, 8, 8
    if profile in _HIGH_PROFILES:
        chroma_format = r.ue()
        if chroma_format == 3:
            r.u(1)
        depth_luma, depth_chroma = r.ue() + 8, r.ue() + 8
        r.u(1)  # qpprime_y_zero_transform_bypass_flag
        if r.u(1):
            raise RenderError("H.264: an SPS with scaling matrices is not held here")
    log2_max_frame_num = r.ue() + 4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        raise RenderError("H.264: pic_order_cnt_type 1 is not held here")
    max_refs = r.ue()
    r.u(1)  # gaps_in_frame_num_value_allowed_flag
    width, height = r.ue() + 1, r.ue() + 1
    frame_mbs_only = bool(r.u(1))
    return Sps(profile, chroma_format, depth_luma, depth_chroma, log2_max_frame_num, poc_type, max_refs, width * height, frame_mbs_only)


def check_holdable(sps: Sps) -> None:
    """Skip frames are exact copies only in a stream of this shape (see the module docstring)."""
    if sps.poc_type != 2 or sps.max_ref_frames != 1 or not sps.frame_mbs_only:
        raise RenderError(
            f"H.264: held frames need one reference frame, progressive frames and pic_order_cnt_type 2 (no B-frames); "
            f"the encoder wrote {sps.max_ref_frames} reference frames, pic_order_cnt_type {sps.poc_type}"
        )


def skip_pps() -> bytes:
    """PPS 1: CAVLC, one reference, no weighted prediction, deblocking controllable per slice."""
    w = _BitWriter()
    w.ue(SKIP_PPS_ID)
    w.ue(0)  # seq_parameter_set_id
    w.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    w.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    w.ue(0)  # num_slice_groups_minus1
    w.ue(0)  # num_ref_idx_l0_default_active_minus1
    w.ue(0)  # num_ref_idx_l1_default_active_minus1
    w.u(1, 0)  # weighted_pred_flag
    w.u(2, 0)  # weighted_bipred_idc
    w.se(0)  # pic_init_qp_minus26
    w.se(0)  # pic_init_qs_minus26
    w.se(0)  # chroma_qp_index_offset
    w.u(1, 1)  # deblocking_filter_control_present_flag
    w.u(1, 0)  # constrained_intra_pred_flag
    w.u(1, 0)  # redundant_pic_cnt_present_flag
    return bytes([0x68]) + escape(w.rbsp())  # nal_ref_idc 3, type 8


def skip_frame(sps: Sps, frame_num: int) -> bytes:
    """A P slice, a reference frame, with every macroblock skipped: a copy of the frame before."""
    w = _BitWriter()
    w.ue(0)  # first_mb_in_slice
    w.ue(5)  # slice_type: P (every slice of the picture)
    w.ue(SKIP_PPS_ID)
    w.u(sps.log2_max_frame_num, frame_num)
    w.u(1, 0)  # num_ref_idx_active_override_flag
    w.u(1, 0)  # ref_pic_list_modification_flag_l0
    w.u(1, 0)  # adaptive_ref_pic_marking_mode_flag: sliding window
    w.se(0)  # slice_qp_delta
    w.ue(1)  # disable_deblocking_filter_idc: off (nothing to smooth in a copy)
    w.ue(sps.macroblocks)  # mb_skip_run: all of them
    return bytes([0x41]) + escape(w.rbsp())  # nal_ref_idc 2, type 1


def first_mb(nal: bytes) -> int:
    return _Bits(unescape(nal[1:8])).ue()


def renumber(nal: bytes, sps: Sps, frame_num: int) -> bytes:
    """The slice with its frame_num set (first_mb_in_slice, slice_type and pps id come before it)."""
    rbsp = bytearray(unescape(nal[1:]))
    r = _Bits(rbsp)
    r.ue()
    r.ue()
    r.ue()
    n = sps.log2_max_frame_num
    for i in range(n):
        at = r.pos + i
        bit = 0x80 >> (at & 7)
        if (frame_num >> (n - 1 - i)) & 1:
            rbsp[at >> 3] |= bit
        else:
            rbsp[at >> 3] &= ~bit & 0xFF
    return nal[:1] + escape(bytes(rbsp))


# ---------------------------------------------------------------- held streams


@dataclass
class HeldStream:
    sps: bytes
    pps: list[bytes]  # x264's, then the skip frames'
    samples: list[bytes]  # one access unit per output frame, NAL units with 4-byte lengths
    sync: list[int]  # 0-based numbers of the IDR frames
    parsed: Sps


def _access_units(units: list[bytes]) -> tuple[list[list[bytes]], list[bytes], list[bytes]]:
    """x264's pictures (their SEI and slices), and its SPS and PPS (which go in the MP4's avcC)."""
    pictures: list[list[bytes]] = []
    pending: list[bytes] = []
    sps: list[bytes] = []
    pps: list[bytes] = []
    for nal in units:
        kind = nal_type(nal)
        if kind == NAL_SPS:
            sps.append(nal)
        elif kind == NAL_PPS:
            pps.append(nal)
        elif kind in (NAL_SLICE, NAL_IDR):
            if first_mb(nal) == 0 or not pictures:
                pictures.append(pending + [nal])
                pending = []
            else:
                pictures[-1].append(nal)
        elif kind != NAL_AUD:
            pending.append(nal)
    return pictures, sps, pps


def _sample(nals: list[bytes]) -> bytes:
    return b"".join(len(n).to_bytes(4, "big") + n for n in nals)


def hold(stream: bytes, counts: list[int]) -> HeldStream:
    """The output frames of an Annex B stream of distinct pictures, picture k held for counts[k] frames."""
    pictures, sps_units, pps_units = _access_units(nal_units(stream))
    if len(pictures) != len(counts):
        raise RenderError(f"H.264: the encoder wrote {len(pictures)} pictures for {len(counts)} distinct frames")
    if not sps_units or not pps_units or len(set(sps_units)) != 1 or len(set(pps_units)) != 1:
        raise RenderError("H.264: the encoder's stream lacks one SPS and one PPS")
    sps = parse_sps(sps_units[0])
    check_holdable(sps)
    max_frame_num = 1 << sps.log2_max_frame_num
    skips: dict[int, bytes] = {}
    samples: list[bytes] = []
    sync: list[int] = []
    since_idr = 0
    for picture, count in zip(pictures, counts):
        if nal_type(picture[-1]) == NAL_IDR:
            since_idr = 0
            sync.append(len(samples))
        elif since_idr:
            # x264 numbered its pictures without the held frames between them
            picture = [renumber(n, sps, since_idr % max_frame_num) if nal_type(n) == NAL_SLICE else n for n in picture]
        samples.append(_sample(picture))
        for _ in range(count - 1):
            since_idr += 1
            frame_num = since_idr % max_frame_num
            if frame_num not in skips:
                skips[frame_num] = _sample([skip_frame(sps, frame_num)])
            samples.append(skips[frame_num])
        since_idr += 1
    if not sync or sync[0] != 0:
        raise RenderError("H.264: the encoder's stream does not start with an IDR frame")
    return HeldStream(sps_units[0], [pps_units[0], skip_pps()], samples, sync, sps)
