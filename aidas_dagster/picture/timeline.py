"""The episode in whole frames: intro card, each scene's lead-in, one segment per line and fade
out, outro card; each segment with the spec whose fingerprint names its file, and the soundtrack
parts the segments own (soundtrack.py).

A segment is a line from its first frame to the next line's, its frames counted from its own start
and encoded in whole seconds, so after a one-line edit only that segment is encoded again even
though every later line has moved by some fraction of a frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from aidas_dagster.core.storage import fingerprint
from aidas_dagster.picture import fonts
from aidas_dagster.picture import soundtrack as snd
from aidas_dagster.picture.avatars import DRAW_VERSION, hex_rgb
from aidas_dagster.picture.backdrops import Backdrops
from aidas_dagster.picture.clips import frame_span, present_characters, read_wav_mono, scene_starts
from aidas_dagster.picture.encoder import GOP
from aidas_dagster.picture.line_frames import hold_runs, scene_runs, static_runs, still_of
from aidas_dagster.picture.models import ClipPlan, LineClip
from aidas_dagster.picture.painter import Line, Painter, SceneView, Sprites, title_card
from aidas_dagster.picture.subtitles import SUB_SIZE, SUB_STROKE, Cue, subtitle_cues
from aidas_dagster.picture.yuv import H, W, RenderError, to_yuv420
from aidas_dagster.story.models import Character, EpisodeScript, Roster, Scene
from aidas_dagster.voice.models import AudioTrack

RENDER_VERSION = 8  # 8: held frames are skipped frames (h264.py); 7: segments named with their length (SLACK)
FADE_SECONDS = 0.5  # spec 4.4.2 transitions.fade

# ---------------------------------------------------------------- segments


@dataclass
class Segment:
    name: str
    n_frames: int
    spec: dict  # everything drawn: its fingerprint names the file
    runs: Callable[[], Iterator[tuple[bytes, int]]]
    view: SceneView | None = None  # scenes only: what the frames are drawn from
    lines: list[Line] = field(default_factory=list)
    kept_frames: int | None = None  # frames the join keeps: a flexible segment holds at least these
    mood: str = ""  # the scene's atmosphere: which music plays under it
    line: int | None = None  # the track line whose voice starts this segment
    floor: int = 0  # a flexible segment: the fewest frames it keeps, known from its spec alone

    @property
    def kept(self) -> int:
        return self.n_frames if self.kept_frames is None else self.kept_frames

    @property
    def flexible(self) -> bool:
        """Its spec leaves out how long it lasts: any encoding of it with at least `kept` frames
        serves (frames past its content hold the last picture), so it is named with its length."""
        return self.kept_frames is not None

    @property
    def min_kept(self) -> int:
        """The fewest frames the join can keep, known from the spec alone."""
        return self.floor if self.flexible else self.n_frames

    def key(self, preset: str, crf: int, fps: int, x264_params: str | None) -> str:
        encoder = {"preset": preset, "crf": crf, "fps": fps, "gop": GOP, "size": [W, H], "x264": x264_params}
        return fingerprint(RENDER_VERSION, self.spec, encoder)


# A line's segment runs to the next line, so its length moves by a frame when any pause before it is
# stretched (the voice stage fits the episode to its length). It is encoded with SLACK frames more
# than it keeps, and any cached encoding at least as long as it keeps is used: a later cut may grow
# it by up to SLACK frames, or shrink it, without encoding it again. (Encoding whole seconds did the
# same at ~15 spare frames a line: 8 % of a render's frames.)
SLACK = 3


# ---------------------------------------------------------------- audio


def sound_parts(timeline: "Timeline", track: AudioTrack) -> list[snd.Part]:
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
    voices = snd.resample_voices({i: c for i, (_at, c) in cores.items()}, sr)
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
        placed: list[tuple[int, snd.Voice]] = []
        if seg.line is not None and seg.line in voices:
            first = intro + round(cores[seg.line][0] * snd.RATE / sr)
            at = round(first / snd.FRAME) * snd.FRAME
            placed = [(-snd.RESAMPLE_PAD, voices[seg.line])]
        else:
            at = round(video_at / snd.FRAME) * snd.FRAME
            if kind == "plain":  # no scenes: every voice sits in the one segment
                placed = [(intro + round(cores[i][0] * snd.RATE / sr) - at - snd.RESAMPLE_PAD, v) for i, v in voices.items()]
        at = max(at, parts[-1].at if parts else 0)
        chord = seg.line if seg.line is not None else sum(map(ord, seg.name)) % 97
        last = k + 1 == len(segments)
        parts.append(snd.Part(seg.name, at, seg.mood, level, chord, placed,
                              fade_in=snd.CARD_FADE if k == 0 else 0,
                              fade_out=(total - at, snd.CARD_FADE) if last else None))  # fmt: skip
    return parts


def _with_cutaway(ln: Line, present: list[str], chars: dict[str, Character], fps: int) -> list[Line]:
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
    speaking = Line(ln.clip, ln.f0, at, ln.name, ln.role, ln.color, ln.cues, ln.side, ln.others, external=ln.external)
    reacting = Line(reaction_clip, at, ln.f1, ln.name, ln.role, ln.color, ln.cues, side, reaction=cut.reaction)
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
    segments: list[Segment]
    cues: list[Cue]
    card_backdrop: Callable[[], Image.Image]
    painter: Painter
    card_ident: list = field(default_factory=list)  # what decides card_backdrop's look (and fonts)

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
    backdrops, sprites = Backdrops(kinds=location_kinds, art=backdrop_art), Sprites()
    painter = Painter(backdrops, sprites, chars, portraits or {})
    font_id = [fonts.subtitle_font_path().name, fonts.title_font_path().name, SUB_SIZE, SUB_STROKE]

    # Each scene: a lead-in from its cut to its first line (fading in), one segment per line
    # (up to the next line), and a fade out to the next cut. See the module docstring for why.
    cuts = scene_starts(track)
    ordered = sorted(track.scenes, key=lambda sc: sc.start)
    clips_by_scene: dict[int, list[LineClip]] = {}
    for clip in plan.clips:
        clips_by_scene.setdefault(clip.scene, []).append(clip)

    segments: list[Segment] = []
    all_cues: list[Cue] = []
    first_view: SceneView | None = None

    def view_of(number: int) -> SceneView:
        sc = scenes.get(number)
        return SceneView(sc.location if sc else "", sc.time_of_day if sc else "", sc.atmosphere if sc else "")

    def backdrop_id(view: SceneView) -> list:
        return backdrops.ident(view.location, view.time_of_day, view.atmosphere)

    def part_spec(ln: Line, a: int | None = None) -> dict:
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
        lines: list[Line] = []
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
            lines.append(Line(clip, f0, f1, name, role, color, cues, _stage_place(present, clip.speaker), others, external=clip.external_clip))
        lines = [ln for ln in lines if A <= ln.f0 < B]
        if not lines:
            bg = lambda view=view: to_yuv420(backdrops.get(view.location, view.time_of_day, view.atmosphere))  # noqa: E731
            spec = {"kind": "empty", "frames": B - A, "fade": fade, "backdrop": backdrop_id(view)}
            segments.append(Segment(f"scene{ts.number:02d}", B - A, spec, lambda bg=bg, n=B - A: hold_runs(bg, n, fade, fade), view, mood=view.atmosphere))
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
            n = lead + SLACK
            spec = {"kind": "lead_in", "fade": fade, "backdrop": backdrop_id(view), "fonts": font_id, "picture": part_spec(first)}
            runs = lambda first=first, view=view, n=n: hold_runs(lambda: still_of(painter, view, first, last=False, fps=fps), n, fade, 0)  # noqa: E731
            segments.append(Segment(f"scene{ts.number:02d}-in", n, spec, runs, view, kept_frames=lead, mood=view.atmosphere,
                                    floor=0))  # fmt: skip (its length is not in its spec)
        for k, (ln, end_f) in enumerate(zip(lines, ends)):
            a = ln.f0
            kept = end_f - a
            if kept <= 0:
                continue
            # A pause a few milliseconds longer must not change what is encoded (see SLACK).
            n = kept + SLACK
            parts = parts_of[k]
            spec = {"kind": "line", "draw": DRAW_VERSION, "backdrop": backdrop_id(view), "fonts": font_id,
                    "lines": [part_spec(p, a) for p in parts]}  # fmt: skip
            runs = lambda parts=parts, view=view, a=a, n=n: scene_runs(view, parts, a, a + n, 0, painter, fps, 0)  # noqa: E731
            segments.append(Segment(f"scene{ts.number:02d}-line{ln.clip.index:03d}", n, spec, runs, view, parts, kept_frames=kept,
                                     mood=view.atmosphere, line=ln.clip.index, floor=max(p.f1 for p in parts) - a))  # fmt: skip
        if fade_out:
            last = parts_of[-1][-1]
            spec = {"kind": "fade_out", "frames": fade_out, "backdrop": backdrop_id(view), "fonts": font_id, "picture": part_spec(last)}
            runs = lambda last=last, view=view, n=fade_out: hold_runs(lambda: still_of(painter, view, last, last=True, fps=fps), n, 0, n)  # noqa: E731
            segments.append(Segment(f"scene{ts.number:02d}-out", fade_out, spec, runs, view, mood=view.atmosphere))

    if not segments and track_n > 0:  # a track without scenes: one plain segment
        view = view_of(script.scenes[0].number)
        first_view = view
        segments.append(Segment("scene01", track_n, {"kind": "plain", "frames": track_n, "backdrop": backdrop_id(SceneView(view.location, view.time_of_day, ""))},
                                 lambda: static_runs(lambda: backdrops.get(view.location, view.time_of_day), track_n, fade), mood=view.atmosphere))  # fmt: skip
    first_view = first_view or SceneView("", "밤", "")
    intro_rows = [
        (series_title, 104, True, (255, 255, 255)),
        (f"{script.episode_number}화", 60, True, (255, 255, 255)),
        (script.title, 62, False, (255, 236, 170)),
    ]
    outro_rows = [("다음 화에 계속", 96, True, (255, 255, 255)), (series_title, 56, False, (220, 224, 236))]
    card_bg = lambda: backdrops.get(first_view.location, first_view.time_of_day, first_view.atmosphere)  # noqa: E731
    if intro_n:
        segments.insert(0, Segment("intro", intro_n, {"kind": "intro", "frames": intro_n, "fade": min(fade, intro_n // 2), "rows": intro_rows,
                                                       "bg": backdrop_id(first_view), "fonts": font_id},
                                    lambda: static_runs(lambda: title_card(card_bg(), intro_rows, badge=f"{script.episode_number}화"), intro_n, min(fade, intro_n // 2)),
                                    mood=scenes[ordered[0].number].atmosphere if ordered and ordered[0].number in scenes else first_view.atmosphere))  # fmt: skip
    if outro_n:
        segments.append(Segment("outro", outro_n, {"kind": "outro", "frames": outro_n, "fade": min(fade, outro_n // 2), "rows": outro_rows,
                                                    "bg": backdrop_id(first_view), "fonts": font_id},
                                 lambda: static_runs(lambda: title_card(card_bg(), outro_rows), outro_n, min(fade, outro_n // 2)),
                                 mood=scenes[ordered[-1].number].atmosphere if ordered and ordered[-1].number in scenes else first_view.atmosphere))  # fmt: skip

    tiled = sum(seg.kept for seg in segments)
    if tiled != intro_n + track_n + outro_n:
        raise RenderError(f"episode {script.episode_number}: segments keep {tiled} frames, the cut needs {intro_n + track_n + outro_n}")
    return Timeline(fps, intro_n, track_n, outro_n, segments, all_cues, card_bg, painter, [backdrop_id(first_view), font_id])
