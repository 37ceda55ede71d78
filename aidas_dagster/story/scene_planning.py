"""What each scene of an offline episode does, and who is in it: the episode's conflicts, the cast
of every scene, and the plan of its lines (which moves, in which order, within the line budget).

ScenePlanner is the planning half of the offline writer: EpisodeWriter (writer.py) sets up the
bible, the people, the outline, the threads and the seeded random source in its __init__, then
writes the lines of these plans. Kept apart because planning is the scene's structure and writing
is its words; both draw from the same seeded random source in the same order, so the output is
byte-identical to one class.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story.library import STORY_DATA_DIR, StoryDataError
from aidas_dagster.story.lines import CLIFF_LINES
from aidas_dagster.story.world import ConflictSpec


PAIR_SCENES_FILE = STORY_DATA_DIR / "pair_scenes.yaml"


def load_pair_scenes(path: Path = PAIR_SCENES_FILE) -> dict[str, list[tuple[str, str | None, str]]]:
    """mode -> the (opener, reply or None, "a"/"b" who opens) exchanges of a pair scene; a malformed
    entry fails naming the file, the mode and the entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StoryDataError(f"{path}: cannot be read as YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise StoryDataError(f"{path}: expected a mapping of scene mode to a list of exchanges")
    table: dict[str, list[tuple[str, str | None, str]]] = {}
    for mode, exchanges in data.items():
        table[mode] = []
        for i, entry in enumerate(exchanges if isinstance(exchanges, list) else [exchanges]):
            words = str(entry).split()
            if len(words) != 3 or words[2] not in ("a", "b"):
                raise StoryDataError(f"{path}: {mode}.{i}: {entry!r} is not \"opener reply a|b\" (reply \"-\" for none)")
            opener, reply, first = words
            table[mode].append((opener, None if reply == "-" else reply, first))
    return table


PAIR_SCENES = load_pair_scenes()

LINES_PER_MINUTE = 9  # ≈ 90 lines for 10 minutes; the offline voice speaks ~25 syllables a line
SCENES_PER_MINUTE = 0.6  # ≈ 6 scenes for 10 minutes


def script_size(config: SeriesConfig) -> tuple[int, int]:
    """(lines, scenes) for an episode of the config's length: ≈ 90 lines and 6 scenes for 10 minutes."""
    minutes = float(config.episode_duration)
    lines = max(4, int(minutes * LINES_PER_MINUTE + 0.5))
    scenes = max(1, int(minutes * SCENES_PER_MINUTE + 0.5))
    if minutes >= 5:
        scenes = max(5, scenes)
    return lines, min(scenes, max(1, lines // 4))


@dataclass
class LineSpec:
    """One planned line: what it does, and who says it to whom when that matters."""

    move: str
    speaker: str | None = None
    listener: str | None = None
    reply: bool = False
    topic: str = ""  # the thread keyword for {K}
    t: str | None = None  # a fixed third person for {T}
    essential: bool = False  # continuity needs it: thread mentions, resolution, new conflict, cliffhanger


def _unit(
    opener: str,
    reply: str | None = None,
    a: str | None = None,
    b: str | None = None,
    *,
    topic: str = "",
    t: str | None = None,
    essential: bool = False,
) -> list[LineSpec]:
    first = LineSpec(opener, a, b, topic=topic, t=t, essential=essential)
    return [first] if reply is None else [first, LineSpec(reply, b, a, reply=True, topic=topic, t=t)]


@dataclass
class ScenePlan:
    kinds: tuple[str, ...]
    cast: list[str]
    musts: list[list[LineSpec]] = field(default_factory=list)
    fills: list[list[LineSpec]] = field(default_factory=list)
    close: LineSpec | None = None
    budget: int = 0


def _layout(n_scenes: int) -> list[tuple[str, ...]]:
    """Which dramatic jobs each scene does; short episodes fold several jobs into one scene."""
    if n_scenes == 1:
        return [("opening", "resolve", "new", "cliff")]
    if n_scenes == 2:
        return [("opening", "resolve"), ("new", "cliff")]
    if n_scenes == 3:
        return [("opening", "resolve"), ("beat", "new"), ("cliff",)]
    if n_scenes == 4:
        return [("opening",), ("beat",), ("resolve", "new"), ("cliff",)]
    if n_scenes == 5:
        return [("opening",), ("beat",), ("resolve",), ("new",), ("cliff",)]
    extras = ("family", "ensemble", "bond", "subplot")
    middle = [(extras[i % len(extras)],) for i in range(n_scenes - 6)]
    return [("opening",), ("beat",), ("subplot",), ("resolve",), ("new",), *middle, ("cliff",)]


OUTSIDER_CLIFFS = {"예상치 못한 등장", "오해의 시작"}


class ScenePlanner:
    """Plans the scenes of one episode; the writer's __init__ sets the state it reads."""

    # -- the episode's conflicts ------------------------------------------------------------

    def _new_conflict(self) -> ConflictSpec:
        pool = self.world.conflicts
        start = (self.episode + 1) % len(pool)
        for i in range(len(pool)):
            c = pool[(start + i) % len(pool)]
            if c.keyword not in self.thread_kws and c.keyword != self.main_kw:
                return c
        return pool[start]

    def resolver(self) -> str | None:
        """Who brings the partial resolution about: the first person its text names, else the thread's own."""
        if self.r_conflict is not None:
            named = self.people.ids_of(tuple(re.findall(r"\{(\w+)", self.r_conflict.resolution)))
            if named:
                return named[0]
        chars = self.chars_of(self.r_kw)
        return chars[0] if chars else None

    def subject(self) -> str | None:
        """Whom the new conflict is about: the first person its description names."""
        named = self.people.ids_of(tuple(re.findall(r"\{(\w+)", self.n_conflict.description)))
        return named[0] if named else None

    def messenger(self) -> str | None:
        """Who brings the news of the new conflict: someone involved who is not its subject."""
        chars = self.chars_of(self.n_kw)
        return next((c for c in chars if c != self.subject()), chars[0] if chars else None)

    def chars_of(self, keyword: str) -> list[str]:
        c = self.conflicts.get(keyword)
        return self.people.ids_of(c.chars) if c else []

    # -- casting the scenes -------------------------------------------------------------------

    def _friend_of(self, host: str, exclude: list[str]) -> str:
        pool = [c for c in self.focus if c not in self.leads and c not in exclude] or [
            c for c in self.people.ids if c not in self.leads and c not in exclude
        ]
        return max(pool, key=lambda c: (self.people.close(host, c), -self.people.ids.index(c)))

    def _outsider(self) -> str:
        for cid in self.chars_of(self.n_kw) + self.chars_of(self.r_kw) + self.focus:
            if cid not in self.leads:
                return cid
        return next(c for c in self.people.ids if c not in self.leads)

    def _cast(self, kind: str, taken: list[str]) -> list[str]:
        a, b = self.leads[(self.episode - 1) % 2], self.leads[self.episode % 2]
        p = self.people
        if kind == "opening":
            return [a, self._friend_of(a, [])]
        if kind in ("beat", "bond"):
            cast = [a, b]
            if kind == "beat" and self.template.key in ("thriller", "comedy"):
                pool = [
                    c
                    for c in self.chars_of(self.n_kw) + self.chars_of(self.r_kw) + self.focus
                    if c not in self.leads and not p.detective(c)
                ]
                if pool:
                    # questioning goes to suspects and witnesses before anyone else
                    rank = {"용의자": 0, "목격자": 1}
                    pool.sort(key=lambda c: min([v for k, v in rank.items() if k in p.chars[c].role] or [2]))
                    cast.append(pool[0])
            return cast
        if kind == "subplot":
            members = [
                c for sp in self.bible.subplots if self.episode in sp.episodes for c in sp.characters if c in p.chars
            ]
            members = [c for c in dict.fromkeys(members) if c not in self.leads][:3]
            if len(members) < 2:
                members = [c for c in self.focus if c not in self.leads and c not in taken][:3]
            return members if len(members) >= 2 else members + [b]
        if kind == "resolve":
            cast = list(dict.fromkeys([c for c in [self.resolver()] if c] + self.chars_of(self.r_kw)[:1]))
            if not any(c in self.leads for c in cast):
                cast.append(b)
            return cast if len(cast) >= 2 else cast + [self._friend_of(b, cast)]
        if kind == "new":
            cast = [self.messenger()] if self.messenger() else []
            if a not in cast:
                cast.append(a)
            return cast if len(cast) >= 2 else cast + [self._friend_of(a, cast)]
        if kind == "cliff":
            cast = [a, b]
            if self._cliff_type() in OUTSIDER_CLIFFS:
                cast.append(self._outsider())
            return cast
        if kind == "family":
            groups: dict[str, list[str]] = {}
            for cid in self.people.ids:
                fam = p.family(cid)
                if fam and (cid in self.focus or cid in self.leads):
                    groups.setdefault(fam, []).append(cid)
            best = max(groups.values(), key=len, default=[])
            if len(best) >= 2:
                return best[:3]
            kind = "ensemble"
        # ensemble: whoever in focus has not been on screen yet
        rest = [c for c in self.focus if c not in taken and c not in self.leads][:4]
        return rest if len(rest) >= 2 else rest + [c for c in self.focus if c not in rest][: 2 - len(rest)]

    # -- what the scenes do -------------------------------------------------------------------

    def _cliff_type(self) -> str:
        kind = self.outline.cliffhanger_type
        return kind if kind in CLIFF_LINES else "위기 발생"

    def _pair_mode(self, for_cliff: bool = False) -> str:
        beats, e, placed = set(self.outline.beats), self.episode, self.beat_episode
        a, b = self.leads
        close = self.people.close(a, b)
        if "romance" in self.flavors:
            if "first_meeting" in beats:
                return "bicker" if for_cliff else "meet"
            if "confession" in beats:
                return "sweet" if for_cliff else "confess"
            if "major_crisis" in beats:
                return "crisis"
            if "resolution" in beats:
                return "reunite"
            crisis, end = placed.get("major_crisis"), placed.get("resolution")
            if crisis and end and crisis < e < end:
                return "longing"
            if "first_conflict" in beats:
                return "quarrel"
            return "sweet" if close >= 30 else "bicker"
        if "thriller" in self.flavors:
            return "partners"
        if "comedy" in self.flavors:
            return "sweet" if close >= 50 else "comic"
        if "reconciliation" in beats:
            return "reunite"
        if "major_crisis" in beats:
            return "longing"
        return "sweet" if close >= 70 else "friends"

    def _pair_units(self, mode: str) -> list[list[LineSpec]]:
        a, b = self.leads[(self.episode - 1) % 2], self.leads[self.episode % 2]
        if mode in ("confess", "reunite"):
            a, b = self.leads  # the beat says who confesses
        who = {"a": (a, b), "b": (b, a)}
        return [_unit(opener, reply, *who[first]) for opener, reply, first in PAIR_SCENES[mode]]

    def _flavor_units(self) -> list[list[LineSpec]]:
        units: list[list[LineSpec]] = []
        comic_beat = {"misunderstanding", "big_mixup", "slapstick_moment", "running_gag"} & set(self.outline.beats)
        if "comedy" in self.flavors:
            pair = [_unit("gag", "gag_reply"), _unit("misunderstanding", "gag_reply")]
            units += pair[::-1] if comic_beat else pair
        if "thriller" in self.flavors:
            units += [
                _unit("suspicion", "suspicion_reply", topic=self.main_kw),
                _unit("clue", "clue_reply"),
                _unit("threat", "threat_reply"),
            ]
        if "drama" in self.flavors:
            units += [_unit("secret_hint", "secret_reply")]
        if "romance" in self.flavors:
            units += [_unit("tease", "tease_back")]
        return units

    def _culprit(self) -> str | None:
        return self.people.id_of("chief") if "thriller" in self.flavors else None

    def _plan_kind(self, kind: str, cast: list[str]) -> tuple[list[list[LineSpec]], list[list[LineSpec]], LineSpec | None]:
        """(must units, filler units, closing line) for one dramatic job."""
        U = _unit
        p = self.people
        greet = U("greet", "greet_reply")
        generic = [
            U("work", "work_reply"),
            U("smalltalk", "smalltalk_reply"),
            U("advice", "advice_reply"),
            U("worry", "comfort"),
        ]
        callback = [U("callback", "comfort")] if self.callbacks else []
        if kind == "opening":
            recalls = [
                U("recall", "recall_reply", topic=kw, essential=True)
                for kw in reversed(self.thread_kws)
                if kw != self.r_kw
            ]
            return [greet, *recalls, U("worry", "comfort")], callback + self._flavor_units() + generic, LineSpec("plan")
        if kind in ("beat", "bond"):
            mode = self._pair_mode()
            units = self._pair_units(mode)
            musts = units[:2] if kind == "beat" else units[:1]
            extra = [c for c in cast if c not in self.leads]
            if kind == "beat" and extra:
                x = extra[0]
                d = next((c for c in self.leads if p.detective(c)), self.leads[0])
                beats = set(self.outline.beats)
                if "thriller" in self.flavors:
                    musts = [U("interrogate", "alibi", d, x), U("clue", "clue_reply"), *musts[1:]]
                    culprit = self._culprit()
                    if "final_twist" in beats and culprit:  # the leads name the one they trusted most
                        a, b = self.leads
                        musts.append(U("twist", "twist_reply", a, b, t=culprit, topic=self.main_kw))
                else:
                    musts = [*musts, U("gag", "gag_reply", x), U("misunderstanding", "misunderstanding_reply", x)]
            after = units[1:] if mode == "meet" else self._pair_units(self._pair_mode(for_cliff=True))
            fills = after if mode == "confess" else units[2:] + after
            return musts, fills, None if mode == "meet" else LineSpec("plan")
        if kind == "subplot":
            absent = [c for c in self.focus if c not in cast]
            musts = [greet, U("gossip", "gossip_reply", t=absent[0] if absent else None)]
            parents = [(x, y) for x in cast for y in cast if p.is_parent(x, y)]
            if parents:
                musts.append(U("family_nag", "family_reply", *parents[0]))
            return musts, self._flavor_units() + [U("secret_hint", "secret_reply")] + generic, LineSpec("plan")
        if kind == "resolve":
            doer = self.resolver() if self.resolver() in cast else None
            topic = self.r_kw
            low = len(cast) >= 2 and p.close(cast[0], cast[1]) < 70
            middle = U("argue", "defend", topic=topic) if low else U("worry", "comfort", topic=topic)
            musts = [
                greet,
                U("recall", "recall_reply", topic=topic),
                middle,
                U("resolve", "resolve_reply", doer, topic=topic, essential=True),
            ]
            return (
                musts,
                [U("apologize", "forgive"), *callback, U("smalltalk", "smalltalk_reply"), U("advice", "advice_reply")],
                LineSpec("plan"),
            )
        if kind == "new":
            teller = self.messenger() if self.messenger() in cast else None
            subject = self.subject() or next(iter(self.chars_of(self.n_kw)), None)
            middle = U("recall", "recall_reply", topic=self.n_kw)
            told = next((c for c in cast if c in self.leads and c != teller), None)
            musts = [
                greet,
                U("reveal", "shock", teller, told, essential=True),
                U("worry", "comfort", topic=self.n_kw),
                middle,
            ]
            fills = [U("gossip", "gossip_reply", t=subject), U("advice", "advice_reply"), U("work", "work_reply")]
            return musts, fills, LineSpec("decide", topic=self.n_kw)
        if kind == "cliff":
            units = self._pair_units(self._pair_mode(for_cliff=True))
            return [units[0], U("worry", "comfort", topic=self.n_kw)], units[1:] + units, self._cliff_spec(cast)
        if kind == "family":
            parents = [(x, y) for x in cast for y in cast if p.is_parent(x, y)]
            musts = [U("family_nag", "family_reply", *parents[0])] if parents else [greet]
            return (
                musts,
                [U("worry", "comfort"), U("smalltalk", "smalltalk_reply"), U("secret_hint", "secret_reply")] + generic,
                LineSpec("plan"),
            )
        # ensemble
        return [greet, U("gossip", "gossip_reply")], self._flavor_units() + generic, LineSpec("plan")

    def _cliff_spec(self, cast: list[str]) -> LineSpec:
        kind = self._cliff_type()
        a, b = self.leads[(self.episode - 1) % 2], self.leads[self.episode % 2]
        if kind in OUTSIDER_CLIFFS:
            outsider = next((c for c in cast if c not in self.leads), None)
            if outsider:
                return LineSpec("cliff", outsider, a, topic=self.n_kw, essential=True)
        if kind in ("고백 직전", "여운"):
            return LineSpec("cliff", self.leads[0], self.leads[1], topic=self.n_kw, essential=True)
        return LineSpec("cliff", b, a, topic=self.n_kw, essential=True)

    def plan(self) -> list[ScenePlan]:
        n_lines, n_scenes = script_size(self.bible.config)
        plans: list[ScenePlan] = []
        taken: list[str] = []
        for kinds in _layout(n_scenes):
            cast: list[str] = []
            for kind in kinds:
                for cid in self._cast(kind, taken + cast):
                    if cid not in cast:
                        cast.append(cid)
            taken += [c for c in cast if c not in taken]
            plans.append(ScenePlan(kinds, cast))
        budgets = [n_lines // n_scenes + (1 if i < n_lines % n_scenes else 0) for i in range(n_scenes)]
        for plan, budget in zip(plans, budgets):
            plan.budget = budget
        # Everyone in focus gets on screen: leftovers join the least crowded ensemble-like scene.
        for cid in self.focus:
            if any(cid in p.cast for p in plans):
                continue
            # not into the lead pair's scenes, nor into the scene where the news about them breaks
            busy = {"beat", "bond", "cliff"} | ({"new"} if cid == self.subject() else set())
            roomy = [p for p in plans if p.budget >= 8 and len(p.cast) < 4 and not set(p.kinds) & busy]
            if not roomy:
                continue
            # join the scene of the people they are closest to (family, friends), else the emptiest one
            target = max(
                roomy, key=lambda p: (max(self.people.close(cid, c) for c in p.cast), -len(p.cast), -plans.index(p))
            )
            target.cast.append(cid)
        for plan in plans:
            musts, fills, close = [], [], None
            for kind in plan.kinds:
                m, f, c = self._plan_kind(kind, plan.cast)
                if musts:  # one greeting per scene is enough
                    m = [u for u in m if u[0].move != "greet"]
                musts += m
                fills += f
                close = c
            if close is not None and close.move == "plan" and close.speaker is None:
                close.speaker = plan.cast[0]  # the host wraps the scene up
            plan.musts, plan.fills, plan.close = musts, fills, close
        return plans

    @staticmethod
    def _fit(plan: ScenePlan) -> list[LineSpec]:
        """Exactly `plan.budget` lines: the musts, then fillers; short scenes keep what continuity needs."""
        specs = [s for unit in plan.musts for s in unit]
        close = [plan.close] if plan.close else []
        room = plan.budget - len(close)
        if len(specs) <= room:
            fills = plan.fills or [_unit("smalltalk", "smalltalk_reply")]
            i = 0
            while len(specs) < room:
                unit = fills[i % len(fills)]
                i += 1
                specs.extend(unit[: room - len(specs)])
            return specs + close
        for idx in reversed(range(len(specs))):  # drop what continuity can spare, latest first
            if len(specs) <= room:
                break
            if not specs[idx].essential:
                del specs[idx]
        recalls = [s for s in specs if s.move == "recall"]
        if len(specs) > room and len(recalls) > 1:
            first = specs.index(recalls[0])
            specs = [s for s in specs if s.move != "recall"]
            specs.insert(first, LineSpec("recall_all", essential=True))
        return specs[-room:] + close if room > 0 else close[-plan.budget :]
