"""The outline-adjustment contract: small, bounded changes to the outlines of episodes not yet written.

The story stage owns it because the writer reads it (`apply_adjustments` before writing an
episode); the publish stage computes adjustments from viewers' feedback into these models
(publish.adjustments) and saves them with `save_adjustments`. What may change, and how much:
- character focus: one supporting character moves up to just after the leads in an outline's
  `character_focus` (or to its end) — at most one focus change per outline;
- pacing: one fixed pacing note added to the outline (`PACING_NOTES`).
Only character ids, counts and fixed phrases reach the outline — never comment text, so a comment
cannot instruct the writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from aidas_dagster.core.storage import Storage, read_json, write_json
from aidas_dagster.story.models import SeriesBible

Pacing = Literal["faster", "slower"]
PACING_NOTES: dict[str, str] = {
    "faster": "전개 템포: 시청자 반응에 따라 더 빠르게, 장면 전환을 짧게",
    "slower": "전개 템포: 시청자 반응에 따라 감정선을 더 여유 있게",
}


class FocusChange(BaseModel):
    character_id: str = Field(pattern=r"^CHAR\d{3}$")
    direction: Literal["raise", "lower"]
    insert_at: int = Field(ge=0, description="position in character_focus; for 'lower', ignored (moves to the end)")


class OutlineAdjustment(BaseModel):
    episode: int = Field(ge=1)
    focus: FocusChange | None = None
    pacing: Pacing | None = None
    basis: str = Field(default="", description="counts behind the change, for people; no comment text")


class OutlineAdjustments(BaseModel):
    series_id: str
    computed_at: str = ""
    based_on_episodes: list[int] = Field(default_factory=list)
    comments_considered: int = 0
    adjustments: list[OutlineAdjustment] = Field(default_factory=list)
    skipped_reason: str = ""

    def for_episode(self, episode: int) -> OutlineAdjustment | None:
        return next((a for a in self.adjustments if a.episode == episode), None)


def load_adjustments(storage: Storage, series_id: str) -> OutlineAdjustments:
    """The series' outline adjustments; none (an empty set) before any feedback was turned into them."""
    path = storage.series(series_id).adjustments
    if not path.exists():
        return OutlineAdjustments(series_id=series_id)
    try:
        return OutlineAdjustments.model_validate(read_json(path))
    except ValueError as exc:
        raise ValueError(f"{path}: outline adjustments are malformed ({exc}); delete the file to recompute them") from exc


def save_adjustments(storage: Storage, adjustments: OutlineAdjustments) -> Path:
    return write_json(storage.series(adjustments.series_id).adjustments, adjustments)


def apply_adjustments(bible: SeriesBible, adjustments: OutlineAdjustments | None) -> SeriesBible:
    """The bible with the adjustments applied to its outlines; the input is not modified.

    Applying twice gives the same bible (a moved character is not moved again, a note is added once).
    """
    if adjustments is None or not adjustments.adjustments:
        return bible
    by_episode = {a.episode: a for a in adjustments.adjustments}
    outlines = []
    for outline in bible.outlines:
        change = by_episode.get(outline.episode_number)
        if change is None:
            outlines.append(outline)
            continue
        focus = list(outline.character_focus)
        journey = outline.emotional_journey
        if change.focus:
            cid = change.focus.character_id
            if cid in focus:
                focus.remove(cid)
            if change.focus.direction == "raise":
                focus.insert(min(change.focus.insert_at, len(focus)), cid)
            elif cid in outline.character_focus:
                focus.append(cid)
        if change.pacing:
            note = PACING_NOTES[change.pacing]
            if note not in journey:
                journey = f"{journey} · {note}" if journey else note
        outlines.append(outline.model_copy(update={"character_focus": focus, "emotional_journey": journey}))
    return bible.model_copy(update={"outlines": outlines})
