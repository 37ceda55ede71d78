"""Viewer feedback → small, bounded changes to the outlines of episodes not yet written (spec 7.5).

What may change, and how much:
- character focus: a supporting character viewers clearly love moves up to just after the leads
  in an outline's `character_focus` (or one they clearly dislike moves to its end) — at most one
  focus change per outline, in at most `max_future_episodes` upcoming outlines;
- pacing: many "too slow" (or "too fast") complaints add one fixed pacing note to the outline.
Nothing changes until the recent reports hold at least `min_comments` comments, and a character
needs `min_mentions` approving mentions and a `min_share` of all comments. Only character ids,
counts and fixed phrases reach the outline — never comment text, so a comment cannot instruct the
writer. Adjustments of episodes already written are frozen: recomputing never rewrites them.
The models, and how the writer applies them, are the story stage's (story/adjustments.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aidas_dagster.core.storage import Storage, read_json
from aidas_dagster.publish.feedback import FeedbackReport
from aidas_dagster.story.adjustments import FocusChange, OutlineAdjustment, OutlineAdjustments, Pacing
from aidas_dagster.story.models import Roster, SeriesBible


@dataclass(frozen=True)
class AdjustmentSettings:
    min_comments: int = 20
    max_future_episodes: int = 3
    recent_reports: int = 3
    min_mentions: int = 5
    min_share: float = 0.1
    pacing_share: float = 0.2

    def __post_init__(self) -> None:
        if self.min_comments < 1 or self.max_future_episodes < 0 or self.recent_reports < 1 or self.min_mentions < 1:
            raise ValueError("adjustment settings: min_comments, recent_reports, min_mentions ≥ 1, max_future_episodes ≥ 0")
        if not (0 <= self.min_share <= 1 and 0 <= self.pacing_share <= 1):
            raise ValueError("adjustment settings: min_share and pacing_share are fractions 0-1")


def load_feedback_reports(storage: Storage, series_id: str, episodes: range | list[int]) -> list[FeedbackReport]:
    reports = []
    for episode in episodes:
        path = storage.episode(series_id, episode).feedback
        if path.exists():
            reports.append(FeedbackReport.model_validate(read_json(path)))
    return reports


def _lead_count(focus: list[str], mains: set[str]) -> int:
    count = 0
    for cid in focus:
        if cid not in mains:
            break
        count += 1
    return count


def compute_adjustments(
    bible: SeriesBible,
    roster: Roster,
    reports: list[FeedbackReport],
    produced: set[int],
    previous: OutlineAdjustments | None = None,
    settings: AdjustmentSettings = AdjustmentSettings(),
    now: dt.datetime | None = None,
) -> OutlineAdjustments:
    """Adjustments of the next unproduced outlines from the most recent feedback reports."""
    now = now or dt.datetime.now(dt.timezone.utc)
    frozen = [a for a in (previous.adjustments if previous else []) if a.episode in produced]
    recent = sorted(reports, key=lambda r: r.episode)[-settings.recent_reports :]
    comments = sum(r.comments_analysed for r in recent)
    result = OutlineAdjustments(
        series_id=bible.series_id,
        computed_at=now.isoformat(timespec="seconds"),
        based_on_episodes=[r.episode for r in recent],
        comments_considered=comments,
        adjustments=list(frozen),
    )
    if comments < settings.min_comments:
        result.skipped_reason = f"{comments} comments in the recent reports; at least {settings.min_comments} are needed"
        return result

    mains = {c.id for c in roster.characters if c.importance == "main"}
    known = {c.id for c in roster.characters}
    totals: dict[str, list[float]] = {}  # id -> [mentions, positive, negative, score]
    for report in recent:
        for cid, pop in report.character_popularity.items():
            row = totals.setdefault(cid, [0, 0, 0, 0.0])
            row[0] += pop.mentions
            row[1] += pop.positive
            row[2] += pop.negative
            row[3] += pop.score
    needed = max(settings.min_mentions, settings.min_share * comments)
    loved = [
        (row[3], cid) for cid, row in totals.items()
        if cid in known and cid not in mains and row[1] >= needed and row[1] >= 2 * row[2] and row[3] > 0
    ]
    disliked = [
        (row[3], cid) for cid, row in totals.items()
        if cid in known and cid not in mains and row[2] >= needed and row[2] >= 2 * row[1] and row[3] < 0
    ]
    raise_id = max(loved)[1] if loved else None
    lower_id = min(disliked)[1] if disliked and not raise_id else None

    slow = sum(r.pacing.get("too_slow", 0) for r in recent)
    fast = sum(r.pacing.get("too_fast", 0) for r in recent)
    pacing: Pacing | None = None
    if slow >= settings.pacing_share * comments and slow > 2 * fast:
        pacing = "faster"
    elif fast >= settings.pacing_share * comments and fast > 2 * slow:
        pacing = "slower"

    last_produced = max(produced, default=0)
    future = [o for o in sorted(bible.outlines, key=lambda o: o.episode_number) if o.episode_number > last_produced]
    for outline in future[: settings.max_future_episodes]:
        focus_change = None
        leads = _lead_count(outline.character_focus, mains)
        if raise_id and (raise_id not in outline.character_focus or outline.character_focus.index(raise_id) > leads):
            focus_change = FocusChange(character_id=raise_id, direction="raise", insert_at=leads)
        elif lower_id and lower_id in outline.character_focus and outline.character_focus[-1] != lower_id:
            focus_change = FocusChange(character_id=lower_id, direction="lower", insert_at=len(outline.character_focus) - 1)
        if focus_change is None and pacing is None:
            continue
        basis = []
        if focus_change:
            row = totals[focus_change.character_id]
            basis.append(
                f"{focus_change.character_id}: {int(row[1])} approving / {int(row[2])} disapproving mentions in {comments} comments"
            )
        if pacing:
            basis.append(f"pacing: {slow} too slow / {fast} too fast in {comments} comments")
        result.adjustments.append(
            OutlineAdjustment(episode=outline.episode_number, focus=focus_change, pacing=pacing, basis="; ".join(basis))
        )
    if len(result.adjustments) == len(frozen):
        result.skipped_reason = "no character or pacing signal strong enough"
    return result
