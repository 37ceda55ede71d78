"""The offline script writer: each episode's Korean script from the bible, the roster and the story so far.

Deterministic by construction: every choice comes from `random.Random` seeded with the series id
and episode, and nothing iterates over an unordered set, so the same inputs give byte-identical
output (the pipeline caches on it).

Dialogue is built from a library of Korean line templates written in polite speech (해요체).
A line spoken to someone the speaker talks down to or is close with is converted to 반말 before
the placeholders are filled; particles (이/가, 은/는, ...) are chosen from the word they follow.

Placeholders in the line library:
  {L}     how the speaker calls the listener ("수진 씨", "언니", "아버지")
  {you}   the listener as a subject or object (반말: 너, 존댓말: 수진 씨); {your} possessive
  {T}     a third person as the speaker refers to them
  {K}     the plot thread the scene talks about; {N} the new conflict; {R} the thread being resolved
  {X}     a thread resolved in one of the last five episodes; {KS} every open thread at once
  {P}     the place; {O} an object of the story world; {W}/{LW} what the speaker/listener is busy with
A particle goes after a bar: {T|이/가}, {K|은/는}, {you|을/를}.
"""

from __future__ import annotations

import random
from collections import Counter

from aidas_dagster.story.cast import People, pair_key
from aidas_dagster.story.korean import casual_vocative, fill, hangul_syllables, josa, thread_keyword, to_banmal
from aidas_dagster.story.lines import (
    ATMOSPHERES,
    CALM_SELF_TAILS,
    CLIFF_DESCRIPTIONS,
    DEVELOPMENT_LINES,
    EMOTION_WORDS,
    EMOTIONS,
    REACTIONS,
    TAILS,
    THRILLER_ATMOSPHERES,
    TIMES,
)
from aidas_dagster.story.moves import (
    ANSWER,
    BEAT_DELTA,
    BIG_BEATS,
    FRIENDLY,
    INVESTIGATORS_ONLY,
    JOKES,
    MAX_DELTA,
    MOVE_DELTA,
    OPENER_FALLBACK,
    PAIRED,
    PLAYFUL,
    REPLY_FALLBACK,
    ROMANCE_ONLY,
    SAFE_MOVE,
    SUPPORT_MOVES,
    TAIL_MOVES,
)
from aidas_dagster.story.models import CharacterState, EpisodeScript, Line, Roster, Scene, SeriesBible, StoryState
from aidas_dagster.story.composer import composition_of
from aidas_dagster.story.scene_planning import LineSpec, ScenePlan, ScenePlanner
from aidas_dagster.story.validation import check_next_episode
from aidas_dagster.story.world import given_names, thread_text

ROTATION = 3  # episodes before a template's third of its pool comes first again


class EpisodeWriter(ScenePlanner):
    """Writes one episode from the bible, the roster and the story state after the previous one."""

    def __init__(self, bible: SeriesBible, roster: Roster, previous: StoryState, episode: int):
        # composer: the series' composed world, its line library (setting lines merged) and moods
        comp = composition_of(bible)
        self.template, self.world = comp.template, comp.world
        self.library, self.cliff_library = comp.lines, comp.cliff_lines
        self.moods, self.mood_share = comp.atmospheres, comp.atmosphere_share
        self.flavors = self.template.flavors
        self.bible, self.roster, self.prev, self.episode = bible, roster, previous, episode
        self.total = bible.config.total_episodes
        self.final = episode == self.total
        self.rng = random.Random(f"{bible.series_id}:{episode}:script")
        self.people = People(self.world, roster, dict(previous.relationships))
        self.names = given_names(self.world)
        self.outline = bible.outline(episode)
        self.leads = self.people.leads
        known = set(self.people.chars)
        self.focus = list(self.leads) + [c for c in self.outline.character_focus if c in known and c not in self.leads]
        self.main_kw = thread_keyword(bible.main_conflict)
        self.conflicts = {c.keyword: c for c in self.world.conflicts}
        self.conflicts[self.world.main_conflict.keyword] = self.world.main_conflict
        threads = list(previous.open_threads)
        self.threads = threads
        self.thread_kws = [thread_keyword(t) for t in threads]
        # The thread this episode partly resolves: the oldest open one besides the main conflict.
        r_index = next((i for i, kw in enumerate(self.thread_kws) if kw != self.main_kw), None)
        self.r_thread = threads[r_index] if r_index is not None else (threads[0] if threads else bible.main_conflict)
        self.r_kw = thread_keyword(self.r_thread)
        self.r_conflict = self.conflicts.get(self.r_kw)
        self.n_conflict = self._new_conflict()
        self.n_kw = self.n_conflict.keyword
        self.n_thread = thread_text(self.n_conflict, self.names)
        # Threads resolved in the last five episodes' summaries can be called back to.
        recent = previous.summaries[-5:]
        self.callbacks = [
            kw for kw in (thread_keyword(t) for t in previous.resolved_threads) if any(kw in s for s in recent)
        ]
        self.used_templates: set[tuple[str, int]] = set()
        self.used_texts: set[str] = set()
        self.moves: list[tuple[str, str, str | None]] = []  # (move, speaker, listener) per line
        self.tics_used: Counter[str] = Counter()
        self.used_tails: set[str] = set()
        self.strangers = False  # the leads' first meeting: no names yet
        self.late: str | None = None  # a cliffhanger arrival stays off screen until the last line
        self.last_raw = ""
        placed = {b.beat: b.episode for b in bible.genre_beats}
        self.beat_episode = placed

    # -- writing the lines --------------------------------------------------------------------

    def _who(self, spec: LineSpec, cast: list[str], spoken: Counter[str], prev: Line | None) -> tuple[str, str | None]:
        if (
            spec.speaker
            and spec.speaker in cast
            and not (spec.reply and prev is not None and prev.speaker == spec.speaker)
        ):
            s = spec.speaker
        elif spec.reply and prev is not None and prev.listener in cast:
            s = prev.listener
        else:
            pool = [c for c in cast if prev is None or c != prev.speaker] or cast
            s = min(pool, key=lambda c: (spoken[c], cast.index(c)))
        others = [c for c in cast if c != s]
        if spec.listener and spec.listener in others:
            return s, spec.listener
        if spec.reply and prev is not None and prev.speaker in others:
            return s, prev.speaker
        if not others:
            return s, None
        # the least heard, and among them the one the speaker is closest to
        return s, min(others, key=lambda c: (spoken[c], -self.people.close(s, c), cast.index(c)))

    def playful(self, cid: str) -> bool:
        return self.template.key == "comedy" or bool(PLAYFUL & set(self.people.chars[cid].personality))

    def _adjust_move(self, move: str, s: str, l: str | None) -> str:
        """Keep moves in character: romance between the leads, jokes for the playful, questions for detectives."""
        p = self.people
        leads = l is not None and {s, l} == set(self.leads)
        if move in JOKES and not (
            self.playful(s) or leads or (l is not None and p.close(s, l) >= 60 and move == "tease")
        ):
            return SAFE_MOVE[move]
        if move == "threat" and (s in self.leads or p.detective(s)):
            return "suspicion"
        if move in INVESTIGATORS_ONLY and not p.detective(s):
            return INVESTIGATORS_ONLY[move]
        if move in FRIENDLY and l is not None and not leads and p.close(s, l) < 20:
            return "recall"  # strangers and adversaries talk business, not small talk
        if move in ROMANCE_ONLY and (l is None or {s, l} != set(self.leads)):
            return SAFE_MOVE[move]
        if move == "family_nag" and (l is None or not p.is_parent(s, l)):
            return "advice"
        if move == "family_reply" and (l is None or not p.is_parent(l, s)):
            return "advice_reply"
        if move == "interrogate" and (l is None or not p.detective(s) or p.detective(l)):
            return "suspicion"
        if move == "alibi" and (l is None or p.detective(s)):
            return "suspicion_reply"
        return move

    def _third(self, spec: LineSpec, move: str, s: str, l: str | None, cast: list[str], prev_t: str | None) -> str | None:
        p = self.people
        if spec.t:
            pool = [spec.t]
        elif spec.reply and prev_t:
            pool = [prev_t]
        elif move in ("reveal", "shock", "decide"):
            pool = self.chars_of(self.n_kw)
        elif move in ("resolve", "resolve_reply"):
            pool = self.chars_of(self.r_kw)
        elif move in ("jealousy", "crisis"):
            pool = [
                c
                for c in p.ids
                if c not in self.leads
                and p.chars[c].gender == p.chars[s].gender
                and not (p.family(c) and p.family(c) == p.family(s))
            ]
            pool.sort(key=lambda c: p.chars[c].importance != "major_supporting")
        elif move == "misunderstanding" and l is not None:  # a joke about a match: someone of the listener's age
            pool = [
                c
                for c in p.ids
                if abs(p.chars[c].age - p.chars[l].age) <= 8 and not (p.family(c) and p.family(c) == p.family(l))
            ]
        elif spec.topic:
            pool = self.chars_of(spec.topic)
        else:
            pool = []
        absent_only = move in ("gossip", "gossip_reply")  # nobody gossips about someone standing there
        primary = [c for c in dict.fromkeys(pool) if c not in (s, l) and not (absent_only and c in cast)]
        if primary:  # the person the line is about: someone off screen if possible
            return next((c for c in primary if c not in cast), primary[0])
        rest = [c for c in dict.fromkeys(self.leads + [c for c in self.focus] + p.ids) if c not in (s, l)]
        rest = [c for c in rest if c not in cast] or ([] if absent_only else rest)
        if not rest:
            return None
        return rest[0] if rest[0] in self.leads else self.rng.choice(rest[:2])

    def _address(self, s: str, l: str) -> tuple[str, str, bool]:
        if self.strangers and {s, l} == set(self.leads):
            return "저기요", "그쪽", False
        return self.people.address(s, l)

    def _values(self, s: str, l: str | None, t: str | None, topic: str, short: str) -> dict[str, str]:
        p = self.people
        values = {
            "K": topic or self.main_kw,
            "N": self.n_kw,
            "R": self.r_kw,
            "KS": ", ".join(josa(kw, "도/도") for kw in self.thread_kws) if self.thread_kws else self.main_kw + "도",
            "P": short,
            "O": self.rng.choice(self.world.objects),
            "W": p.work(s),
        }
        if self.callbacks:
            values["X"] = self.callbacks[-1 - self.rng.randrange(min(2, len(self.callbacks)))]
        if l is not None:
            vocative, reference, banmal = self._address(s, l)
            casual = banmal and vocative == casual_vocative(p.given(l))
            values.update(
                L=vocative, you="너" if casual else reference, your="네" if casual else reference, LW=p.work(l)
            )
        if t is not None:
            values["T"] = p.refer(s, t)
        return values

    def _pick(
        self, moves: list[str], values: dict[str, str], banmal: bool, library: dict, answer: int | None = None
    ) -> tuple[str, str, str, int]:
        """(text, emotion, move, index): a template not used in this episode if any move of the chain
        has one, else any whose filled text is new; `answer` is the index of the opener being answered."""
        for fresh_only in (True, False):
            for move in dict.fromkeys(moves):
                found = self._pick_from(move, values, banmal, library, answer if move == moves[0] else None, fresh_only)
                if found:
                    return found
        # Only hour-long episodes get here: the library is spent, so a line may come back.
        found = self._pick_from(moves[0], values, banmal, library, answer, False, allow_repeat=True)
        if found is None:
            raise RuntimeError(f"no usable template for {moves[0]!r}")
        return found

    def _pick_from(
        self,
        move: str,
        values: dict[str, str],
        banmal: bool,
        library: dict,
        answer: int | None,
        fresh_only: bool,
        allow_repeat: bool = False,
    ) -> tuple[str, str, str, int] | None:
        default, templates = library[move]
        order = list(range(len(templates)))
        self.rng.shuffle(order)
        # Consecutive episodes draw first from different thirds of each pool, so an episode rarely
        # says word for word what one of the last two said.
        order.sort(key=lambda i: (i - self.episode) % ROTATION)
        if answer is not None and answer < len(templates):
            order.remove(answer)
            order.insert(0, answer)
        for i in order:
            if fresh_only and (move, i) in self.used_templates:
                continue
            raw, emotion = templates[i], default
            if raw.startswith("@"):
                head, raw = raw.split(" ", 1)
                emotion = head[1:]
            if any(f"{{{key}" in raw and key not in values for key in ("X", "T", "L", "you", "your", "LW")):
                continue
            text = fill(to_banmal(raw) if banmal else raw, values)
            self.last_raw = raw
            if text in self.used_texts and not allow_repeat:
                continue
            self.used_templates.add((move, i))
            self.used_texts.add(text)
            return text, emotion, move, i
        return None

    def _line(
        self,
        spec: LineSpec,
        s: str,
        l: str | None,
        cast: list[str],
        short: str,
        prev_t: str | None,
        answering: tuple[str, int] | None,
    ) -> tuple[Line, str | None, tuple[str, int]]:
        """One line; `answering` is the (move, template) of the line it replies to, if any."""
        p = self.people
        banmal = l is not None and self._address(s, l)[2]
        if spec.move == "cliff":
            t = self._third(LineSpec("reveal"), "reveal", s, l, cast, None)
            values = self._values(s, l, t, spec.topic, short)
            text, emotion, move, index = self._pick([self._cliff_type(), "위기 발생"], values, banmal, self.cliff_library)
        else:
            move, answer = spec.move, None
            if spec.reply and answering and answering[0] in ANSWER:
                move = ANSWER[answering[0]]  # answer what was actually said
                answer = answering[1] if answering[0] in PAIRED else None
            if answer is None:
                move = self._adjust_move(move, s, l)
            t = self._third(spec, move, s, l, cast, prev_t)
            values = self._values(s, l, t, spec.topic, short)
            fallback = REPLY_FALLBACK if spec.reply else OPENER_FALLBACK
            chain = [move, SAFE_MOVE.get(move, move), *fallback]
            text, emotion, move, index = self._pick(chain, values, banmal, self.library, answer)
            text = self._lengthen(text, self.last_raw, spec, move, emotion, banmal, values)
            tics = p.tics(s)
            first_word = text.split(" ", 1)[0]
            if (
                tics
                and not spec.reply
                and not spec.essential
                and self.tics_used[s] < 2
                and self.rng.random() < 0.15
                and not first_word.endswith((",", "?", "!", "..."))
            ):
                self.tics_used[s] += 1
                tic = self.rng.choice(tics)
                text = f"{to_banmal(tic) if banmal else tic} {text}"
        self.moves.append((move, s, l))
        reaction = self.rng.choice(REACTIONS[emotion]) if l is not None else ""
        return Line(speaker=s, text=text, emotion=emotion, listener=l, reaction=reaction), t, (move, index)

    def _lengthen(
        self, text: str, raw: str, spec: LineSpec, move: str, emotion: str, banmal: bool, values: dict[str, str]
    ) -> str:
        """Call the listener by name now and then, and give short statements a follow-up in the same mood."""
        first_word = text.split(" ", 1)[0]
        addressed = any(f"{{{key}" in raw for key in ("L", "you", "your"))
        if (
            not spec.reply
            and "L" in values
            and not addressed
            and not self.strangers
            and self.rng.random() < 0.45
            and not first_word.endswith((",", "?", "!", "..."))
        ):
            text = f"{values['L']}, {text}"
        if (
            move in TAIL_MOVES
            and not spec.essential
            and hangul_syllables(text) < 22
            and text.endswith(".")
            and not text.endswith("...")
        ):
            tails = CALM_SELF_TAILS if emotion == "calm" and move not in SUPPORT_MOVES else TAILS[emotion]
            fresh = [t for t in tails if t not in self.used_tails]
            if fresh:
                tail = self.rng.choice(fresh)
                self.used_tails.add(tail)
                text = f"{text} {to_banmal(tail) if banmal else tail}"
        return text

    def _place(self, plan: ScenePlan, previous: str) -> tuple[str, str]:
        kind = plan.kinds[0]
        shared = [pl for pl in self.world.places if pl[0] != previous]
        if kind in ("beat", "cliff", "bond", "ensemble"):
            return self.rng.choice(shared)
        host = plan.cast[0]
        if kind in ("resolve", "new"):
            doers = self.chars_of(self.r_kw if kind == "resolve" else self.n_kw)
            host = next((c for c in doers if c in plan.cast), host)
        place = self.people.home(host)
        return place if place[0] != previous else self.rng.choice(shared)

    def scenes(self) -> list[Scene]:
        plans = self.plan()
        start = self.rng.choice((0, 1))
        span = len(TIMES) - 1 - start
        scenes: list[Scene] = []
        location = ""
        for number, plan in enumerate(plans, 1):
            location, short = self._place(plan, location)
            time = TIMES[start + (span * (number - 1)) // max(1, len(plans) - 1)]
            spoken: Counter[str] = Counter()
            lines: list[Line] = []
            prev: Line | None = None
            prev_t: str | None = None
            said: tuple[str, int] | None = None
            self.strangers = "first_meeting" in self.outline.beats and "beat" in plan.kinds
            outsider = plan.close.speaker if plan.close and plan.close.move == "cliff" else None
            self.late = outsider if outsider and outsider not in self.leads else None
            for spec in self._fit(plan):
                cast = (
                    plan.cast if spec.move == "cliff" or self.late is None else [c for c in plan.cast if c != self.late]
                )
                s, l = self._who(spec, cast, spoken, prev)
                line, prev_t, said = self._line(spec, s, l, cast, short, prev_t, said)
                spoken[s] += 1
                lines.append(line)
                prev = line
            present = [c for c in plan.cast if any(c in (ln.speaker, ln.listener) for ln in lines)]
            mood = ATMOSPHERES.get(plan.kinds[0], ATMOSPHERES["ensemble"])
            if "thriller" in self.flavors and plan.kinds[0] in ("beat", "new", "cliff"):
                mood = THRILLER_ATMOSPHERES
            scenes.append(
                Scene(
                    number=number,
                    location=location,
                    time_of_day=time,
                    atmosphere=self._atmosphere(number, mood),
                    characters=present,
                    lines=lines,
                )
            )
        return scenes

    def _atmosphere(self, number: int, mood: tuple[str, ...]) -> str:
        """Half the scenes (a 사극: all) take the setting's own atmospheres; a separate seed keeps the lines as they were."""
        general = self.rng.choice(mood)
        rng = random.Random(f"{self.bible.series_id}:{self.episode}:{number}:mood")
        return rng.choice(self.moods) if self.moods and rng.random() < self.mood_share else general

    # -- the state after the episode ----------------------------------------------------------

    def relationship_changes(self) -> dict[str, int]:
        raw: Counter[str] = Counter()
        for move, s, l in self.moves:
            if l is not None and move in MOVE_DELTA:
                raw[pair_key(s, l)] += MOVE_DELTA[move]
        leads = pair_key(*self.leads)
        beats = set(self.outline.beats)
        bonus = {
            "confession": 6,
            "resolution": 6,
            "reconciliation": 6,
            "heartwarming_resolution": 4,
            "turning_point": 4,
            "major_crisis": -8,
        }
        raw[leads] += sum(v for k, v in bonus.items() if k in beats)
        changes: dict[str, int] = {}
        for key in sorted(raw):
            if key not in self.prev.relationships:
                continue
            cap = BEAT_DELTA if key == leads and beats & BIG_BEATS else MAX_DELTA
            delta = max(-cap, min(cap, raw[key]))
            before = self.prev.relationships[key]
            delta = max(0, min(100, before + delta)) - before
            if delta:
                changes[key] = delta
        return changes


def write_script(bible: SeriesBible, roster: Roster, previous: StoryState, episode: int) -> EpisodeScript:
    """One episode written from the continuity context: the outline and the state after the previous episode."""
    check_next_episode(bible, previous, episode)
    w = EpisodeWriter(bible, roster, previous, episode)
    scenes = w.scenes()
    people, names = w.people, w.names
    outline = w.outline
    cliff_line = scenes[-1].lines[-1]
    cliff_desc = fill(
        CLIFF_DESCRIPTIONS[w._cliff_type()],
        {
            "speaker": people.given(cliff_line.speaker),
            "listener": people.given(cliff_line.listener) if cliff_line.listener else "모두",
            "Nq": f"'{w.n_kw}'",
        },
    )
    resolution = fill(w.r_conflict.resolution, names) if w.r_conflict else f"'{w.r_kw}' 문제는 한고비를 넘긴다"
    partly_resolved = f"{w.r_kw}: {resolution}"
    new_conflict = w.n_thread
    new_desc = fill(w.n_conflict.description, names)
    main_resolution = fill(w.world.main_conflict.resolution, names)

    sentences = [outline.main_event, f"한편 {resolution}"]
    if w.final:
        sentences.append(main_resolution)
        sentences.append(f"그리고 새로운 이야기의 씨앗이 뿌려진다: {new_desc}")
    elif outline.main_event != new_desc:
        sentences.append(f"그러나 새로운 갈등이 시작된다: {new_desc}")
    sentences.append(f"마지막 순간, {cliff_desc}")
    summary = f"{episode}화 '{outline.title}': " + " ".join(s.rstrip(".") + "." for s in sentences)

    key_events = [
        outline.main_event,
        partly_resolved,
        f"새 갈등 — {new_conflict}",
        f"클리프행어 — {w._cliff_type()}: {cliff_desc}",
    ]
    if w.final:
        key_events.insert(2, f"결말 — {w.main_kw}: {main_resolution}")

    # Who felt what, and where they ended up.
    emotions: dict[str, Counter[str]] = {}
    location: dict[str, str] = {}
    for scene in scenes:
        for cid in scene.characters:
            location[cid] = scene.location
        for line in scene.lines:
            emotions.setdefault(line.speaker, Counter())[line.emotion] += 1
    n_chars, r_chars = set(w.chars_of(w.n_kw)), set(w.chars_of(w.r_kw))
    developments: dict[str, str] = {}
    states = dict(previous.character_states)
    for cid in people.ids:
        if cid not in emotions:
            continue
        counts = emotions[cid]
        mood = max(EMOTIONS, key=lambda e: (counts[e], -EMOTIONS.index(e)))
        kw = w.n_kw if cid in n_chars else w.r_kw if cid in r_chars else w.main_kw
        developments[cid] = fill(DEVELOPMENT_LINES[mood], {"name": people.given(cid), "kw": f"'{kw}'"})
        before = states.get(cid)
        goals = [g for g in (before.active_goals if before else list(people.chars[cid].goals)) if w.r_kw not in g]
        if cid in n_chars and f"{w.n_kw} 해결" not in goals:
            goals.append(f"{w.n_kw} 해결")
        if w.final:
            goals = [g for g in goals if not g.endswith(" 해결")] + ([f"{w.n_kw} 해결"] if cid in n_chars else [])
        states[cid] = CharacterState(
            emotional_state=EMOTION_WORDS[mood],
            location=location.get(cid, before.location if before else people.home(cid)[0]),
            active_goals=goals[-4:],
            status=before.status if before else "active",
        )
    for cid, place in location.items():  # present but silent: they still moved
        if cid not in emotions and cid in states:
            states[cid] = states[cid].model_copy(update={"location": place})

    changes = w.relationship_changes()
    relationships = dict(previous.relationships)
    for key, delta in changes.items():
        relationships[key] += delta

    if w.final:
        resolved_now = list(previous.open_threads)
        open_threads = [new_conflict]
    else:
        resolved_now = [w.r_thread] if w.r_kw != w.main_kw else []
        open_threads = [t for t in previous.open_threads if t not in resolved_now] + [new_conflict]
    state = StoryState(
        after_episode=episode,
        character_states={cid: states[cid] for cid in sorted(states)},
        relationships=relationships,
        key_events=(previous.key_events + key_events)[-40:],
        open_threads=open_threads,
        resolved_threads=previous.resolved_threads + resolved_now,
        summaries=previous.summaries + [summary],
    )
    return EpisodeScript(
        series_id=bible.series_id,
        episode_number=episode,
        title=outline.title,
        scenes=scenes,
        summary=summary,
        key_events=key_events,
        new_conflict=new_conflict,
        partly_resolved=partly_resolved,
        cliffhanger=f"{w._cliff_type()} — {cliff_desc}",
        character_developments=developments,
        relationship_changes=changes,
        state_after=state,
        writer="offline",
    )
