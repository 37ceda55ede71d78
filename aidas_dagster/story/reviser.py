"""Revision: fix what the quality gate found in a finished script, keep everything else.

Also the 반말 → 해요체 conversion (to_polite), which needs the gate's reading of speech levels.
"""

from __future__ import annotations

import random
import re

from aidas_dagster.story import quality
from aidas_dagster.story.korean import (
    WORD_END,
    WORD_START,
    casual_vocative,
    final_consonant,
    josa,
    thread_keyword,
    to_banmal,
)
from aidas_dagster.story.lines import REACTIONS
from aidas_dagster.story.models import CharacterState, EpisodeScript, Line, Roster, Scene, SeriesBible, StoryState
from aidas_dagster.story.writer import EpisodeWriter

_POLITE_PRONOUN_FORMS = (
    ("나는", "저는"),
    ("내가", "제가"),
    ("나도", "저도"),
    ("나를", "저를"),
    ("나한테", "저한테"),
    ("나랑", "저랑"),
    ("나만", "저만"),
    ("내", "제"),
    ("응", "네"),
)
_POLITE_STEMS = re.compile(r"(아니|뭐|거|누구|어디|언제|이거|그거|저거|나)야$")


def _politely(word: str) -> str:
    """One sentence-final 반말 word in 해요체: 했어 → 했어요, 맞지 → 맞죠, 거야 → 거예요, 하자 → 하죠."""
    m = _POLITE_STEMS.search(word)
    if m:
        stem = word[: -1]
        stem = "저" if stem.endswith("나") and len(stem) == 1 else stem
        return stem + ("에요" if stem.endswith("아니") else "예요")
    if word.endswith("이야"):
        return word[:-1] + "에요"
    if word.endswith("야"):
        return word[:-1] + ("이에요" if final_consonant(word[:-1]) else "예요")
    if word.endswith("지"):
        return word[:-1] + "죠"
    if word.endswith(("냐", "니")):
        return word[:-1] + "나요"
    if word.endswith("자"):
        return word[:-1] + "죠"
    return word + "요"


def to_polite(text: str, you: str = "그쪽") -> str:
    """반말 → 해요체 for the common endings and pronouns; 너 becomes `you` (how the speaker calls the
    listener, e.g. "민준 씨"). Sentences already polite are kept."""
    for plain, forms in (("너는", "은/는"), ("네가", "이/가"), ("니가", "이/가"), ("너를", "을/를"), ("너랑", "이랑/랑")):
        text = re.sub(WORD_START + plain + WORD_END, josa(you, forms), text)
    for plain, particle in (("너도", "도"), ("너한테", "한테"), ("너만", "만"), ("너", "")):
        text = re.sub(WORD_START + plain + WORD_END, you + particle, text)
    out = []
    for m in re.finditer(r"([^.?!…~]+)([.?!…~]*)", text):
        sentence, end = m.group(1), m.group(2)
        for plain, polite in _POLITE_PRONOUN_FORMS:
            sentence = re.sub(WORD_START + plain + WORD_END, polite, sentence)
        if quality.sentence_level(sentence) == "banmal" and not end.startswith(("..", "…")):
            body = sentence.rstrip()
            tail = sentence[len(body) :]
            head, _, last = body.rpartition(" ")
            core = re.sub(r"[^가-힣]+$", "", last)
            rest = last[len(core) :]
            sentence = (head + " " if head else "") + _politely(core) + rest + tail
        out.append(sentence + end)
    return "".join(out)


def _rephrase(text: str, banmal: bool, you: str) -> str:
    """The spec's unnatural patterns rewritten the way people talk, then set in the pair's speech level."""
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"그것은(.*)것입니다", r"그건\1거예요", text)
    text = re.sub(r"(하는|한|라는) 것이다", r"\1 거예요", text)
    text = re.sub(r"것입니다", "거예요", text)
    text = re.sub(r"입니까", "이에요?", text).replace("?.", "?").replace("??", "?")
    text = re.sub(r"([가-힣])입니다", lambda m: m.group(1) + ("이에요" if final_consonant(m.group(1)) else "예요"), text)
    text = re.sub(r"입니다", "이에요", text)
    for formal, spoken in (("합니다", "해요"), ("있습니다", "있어요"), ("없습니다", "없어요"), ("했습니다", "했어요"),
                           ("겠습니다", "겠어요"), ("됩니다", "돼요"), ("싶습니다", "싶어요"), ("압니다", "알아요")):
        text = text.replace(formal, spoken)
    text = re.sub(r"(?<![가-힣])나의(?![가-힣])", "내", text)
    text = re.sub(r"(?<![가-힣])저의(?![가-힣])", "제", text)
    text = re.sub(r"(?<![가-힣])너의(?![가-힣])", "네", text)
    text = re.sub(r"(?<![가-힣])그녀(?=[가-힣]?)", "그 사람", text)
    text = re.sub(r"그 사람(는|가|를)", lambda m: {"는": "그 사람은", "가": "그 사람이", "를": "그 사람을"}[m.group(1)], text)

    def as_you(m: re.Match[str]) -> str:
        particle = m.group(1) or ""
        forms = {"은": "은/는", "이": "이/가", "을": "을/를"}
        return josa(you, forms[particle]) if particle in forms else you + particle

    text = re.sub(r"(?<![가-힣])당신(은|이|을|의|에게|한테|도|만)?", as_you, text)
    text = re.sub(r"(\S+)에 대해서?(?:는|도)? (?:이야기|말)(하)", r"\1 얘기를 \2", text)
    text = re.sub(r"(\S+)에 대해서?(?:는|도)? 생각(하)", r"\1 생각을 \2", text)
    text = re.sub(r"(시간|대화|관계)을 가지", lambda m: {"시간": "시간을 내", "대화": "얘기를 나누", "관계": "사이를 이어 가"}[m.group(1)], text)
    text = re.sub(r"(?<![가-힣])([가-힣]+)(?: \1){2,}(?![가-힣])", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip()
    return to_banmal(text) if banmal else to_polite(text, you if you != "너" else "그쪽")


class _Reviser:
    """Applies rule-based fixes to a finished script; each fix re-checks with the quality gate."""

    def __init__(self, bible: SeriesBible, roster: Roster, previous: StoryState, script: EpisodeScript):
        self.q = quality
        self.bible, self.roster, self.prev = bible, roster, previous
        self.script = script.model_copy(deep=True)
        self.w = EpisodeWriter(bible, roster, previous, script.episode_number)
        self.w.rng = random.Random(f"{bible.series_id}:{script.episode_number}:revision")
        self.w.used_texts = {line.text for _s, line in self.script.lines()}
        self.known = roster.by_id()

    # -- helpers --------------------------------------------------------------------------------

    def _banmal(self, s: str, l: str | None, fallback: bool = False) -> bool:
        if l is None or s not in self.known or l not in self.known:
            return fallback
        return self.w._address(s, l)[2]

    def _write(self, moves: list[str], s: str, l: str | None, topic: str = "") -> Line:
        w = self.w
        values = w._values(s, l, None, topic, w.people.home(s)[1])
        text, emotion, _move, _i = w._pick(moves, values, self._banmal(s, l), w.library)
        reaction = w.rng.choice(REACTIONS[emotion]) if l is not None else ""
        return Line(speaker=s, text=text, emotion=emotion, listener=l, reaction=reaction)

    def _active(self, cid: str) -> bool:
        state = self.prev.character_states.get(cid)
        return cid in self.known and (state is None or state.status == "active")

    def _spare(self, scene: Scene) -> int | None:
        """A line the scene can lose: not its first or last, not mentioning any thread."""
        keywords = [thread_keyword(t) for t in self.prev.open_threads + [self.script.new_conflict]]
        for i in range(len(scene.lines) - 2, 0, -1):
            if not any(kw and kw in scene.lines[i].text for kw in keywords):
                return i
        return None

    def _make_room(self, n: int, keep: Scene | None = None) -> None:
        """Drop `n` spare lines when the episode is at its length limit, from the longest scenes."""
        _low, high = self.q.expected_line_range(self.bible.config)
        excess = self.script.line_count + n - high
        while excess > 0:
            scenes = sorted(self.script.scenes, key=lambda sc: -len(sc.lines))
            for scene in scenes:
                i = self._spare(scene) if len(scene.lines) > 3 else None
                if i is not None:
                    del scene.lines[i]
                    excess -= 1
                    break
            else:
                return

    # -- fixes --------------------------------------------------------------------------------

    def fix_people(self) -> None:
        """The dead and the absent fall silent and nobody talks to them; unknown speakers leave; the scenes
        they leave behind get a companion for whoever remains; speakers are listed in their scene."""
        for scene in self.script.scenes:
            scene.lines = [
                line
                for line in scene.lines
                if self._active(line.speaker) and (line.listener is None or self._active(line.listener))
            ]
            for line in scene.lines:
                if line.listener == line.speaker:
                    line.listener = None
                for cid in (line.speaker, line.listener):
                    if cid is not None and cid not in scene.characters:
                        scene.characters.append(cid)
            scene.characters = [c for c in scene.characters if self._active(c)]
            if len(scene.characters) == 1:
                host = scene.characters[0]
                others = [c for c in self.w.people.ids if c != host and self._active(c)]
                closest = max(others, key=lambda c: (self.w.people.close(host, c), -self.w.people.ids.index(c)))
                scene.characters.append(closest)
        self.script.scenes = [s for s in self.script.scenes if s.characters]
        for scene in self.script.scenes:
            if len(scene.lines) < 2:
                a, b = scene.characters[0], scene.characters[1] if len(scene.characters) > 1 else None
                scene.lines = scene.lines or [self._write(["greet", "worry"], a, b)]
                if b is not None:
                    scene.lines.append(self._write(["greet_reply", "comfort"], b, a))

    def _you(self, s: str, l: str | None) -> str:
        if l is None or s not in self.known or l not in self.known:
            return "그쪽"
        vocative, reference, banmal = self.w._address(s, l)
        return "너" if banmal and vocative == casual_vocative(self.w.people.given(l)) else reference

    def fix_phrasing(self) -> None:
        flagged = self.q.flagged_lines(self.script, self.roster)
        for scene in self.script.scenes:
            levels = self.q.pair_levels(self.script)
            for i, line in enumerate(scene.lines, 1):
                if (scene.number, i) not in flagged:
                    continue
                usual = self.q.dominant_level(lv for *_r, lv in levels.get((line.speaker, line.listener), []))
                banmal = self._banmal(line.speaker, line.listener, fallback=usual == "banmal")
                text = _rephrase(line.text, banmal, self._you(line.speaker, line.listener))
                if self.q.unnatural_phrases(text) or self.q.speech_level(text) == "mixed" or text in self.w.used_texts:
                    fresh = self._write(["comfort", "advice_reply", "smalltalk_reply"], line.speaker, line.listener)
                    text = fresh.text
                self.w.used_texts.add(text)
                line.text = text

    def fix_threads(self) -> None:
        """Bring up every open thread the episode forgot, in its first scene, and keep it in the state."""
        said = [ln.text for _s, ln in self.script.lines()] + list(self.script.key_events)
        missing = [t for t in self.prev.open_threads if not self.q.thread_mentioned(t, said)]
        first = self.script.scenes[0]
        speaker = next((c for c in first.characters if c in self.w.leads), first.characters[0])
        listener = next((c for c in first.characters if c != speaker), None)
        for n, thread in enumerate(missing):
            self._make_room(2)
            opener = self._write(["recall", "worry"], speaker, listener, topic=thread_keyword(thread))
            if not self.q.thread_mentioned(thread, [opener.text]):
                opener.text = f"{opener.text} {thread_keyword(thread)} 일도 아직 그대로예요."
                opener.text = to_banmal(opener.text) if self._banmal(speaker, listener) else opener.text
            at = min(1 + 2 * n, len(first.lines))
            first.lines.insert(at, opener)
            if listener is not None:
                reply = self._write(["recall_reply", "comfort"], listener, speaker, thread_keyword(thread))
                first.lines.insert(at + 1, reply)

    def fix_plot(self) -> None:
        """The thread partly resolved and the new conflict are said on screen, not only in the summary."""
        said = [ln.text for _s, ln in self.script.lines()]
        wanted = [(self.script.partly_resolved, ["resolve", "recall"]), (self.script.new_conflict, ["recall", "worry"])]
        for thread, moves in wanted:
            if not thread.strip() or self.q.thread_mentioned(thread, said):
                continue
            kw = thread_keyword(thread)
            scene = max(self.script.scenes[:-1] or self.script.scenes, key=lambda sc: len(sc.characters))
            a = next((c for c in scene.characters if c in self.w.leads), scene.characters[0])
            b = next((c for c in scene.characters if c != a), None)
            self._make_room(1)
            line = self._write(moves, a, b, topic=kw)
            if not self.q.thread_mentioned(thread, [line.text]):
                line.text = f"{kw}, 이제 한고비는 넘긴 것 같아요. {line.text}"
                line.text = to_banmal(line.text) if self._banmal(a, b) else line.text
            scene.lines.insert(max(1, len(scene.lines) - 1), line)
            said.append(line.text)

    def fix_forgotten(self, problems: list[str]) -> None:
        """Give everyone the gate says was forgotten a short exchange in the busiest non-final scene."""
        ids = re.findall(r"\((CHAR\d{3})\) (?:has not spoken|does not appear)", "\n".join(problems))
        for cid in dict.fromkeys(ids):
            if not self._active(cid) or cid in self.q.speakers(self.script):
                continue
            pool = self.script.scenes[:-1] or self.script.scenes
            scene = max(pool, key=lambda sc: len(sc.lines))
            host = next((c for c in scene.characters if c != cid), None)
            self._make_room(2)
            if cid not in scene.characters:
                scene.characters.append(cid)
            at = min(2, len(scene.lines))
            scene.lines.insert(at, self._write(["greet", "worry"], cid, host))
            if host is not None:
                scene.lines.insert(at + 1, self._write(["greet_reply", "comfort"], host, cid))

    def fix_length(self) -> None:
        low, _high = self.q.expected_line_range(self.bible.config)
        self._make_room(0)
        while self.script.line_count < low:
            scene = min(self.script.scenes, key=lambda sc: (len(sc.lines), -len(sc.characters)))
            a = scene.characters[0]
            b = next((c for c in scene.characters if c != a), None)
            at = max(1, len(scene.lines) - 1)
            scene.lines.insert(at, self._write(["smalltalk", "advice", "worry"], a, b))
            if b is not None and self.script.line_count < low:
                scene.lines.insert(at + 1, self._write(["smalltalk_reply", "advice_reply", "comfort"], b, a))

    def fix_state(self) -> None:
        """Relationships step at most MAX_RELATIONSHIP_STEP; nothing of the state before is lost."""
        script, prev = self.script, self.prev
        after = script.state_after
        step = self.q.MAX_RELATIONSHIP_STEP
        relationships = dict(after.relationships)
        changes: dict[str, int] = {}
        for pair, before in prev.relationships.items():
            now = relationships.get(pair, before)
            now = max(0, min(100, max(before - step, min(before + step, now))))
            relationships[pair] = now
            if now != before:
                changes[pair] = now - before
        states = dict(after.character_states)
        for cid in self.known:
            before = prev.character_states.get(cid)
            if cid not in states:
                states[cid] = before or CharacterState(
                    emotional_state="평온",
                    location=self.w.people.home(cid)[0],
                    active_goals=list(self.known[cid].goals[:3]),
                )
            if before is not None and before.status == "dead":
                states[cid] = states[cid].model_copy(update={"status": "dead"})
            goals = states[cid].active_goals
            if before is not None and before.active_goals and not set(before.active_goals) & set(goals):
                states[cid] = states[cid].model_copy(update={"active_goals": (before.active_goals + goals)[-4:]})
        resolved = list(after.resolved_threads) + [t for t in prev.resolved_threads if t not in after.resolved_threads]
        open_threads = list(after.open_threads)
        for thread in prev.open_threads:
            if thread not in open_threads and thread not in resolved:
                open_threads.append(thread)
        if script.new_conflict and script.new_conflict not in open_threads and script.new_conflict not in resolved:
            open_threads.append(script.new_conflict)
        summaries = list(prev.summaries) + [script.summary or (after.summaries[-1] if after.summaries else "")]
        key_events = list(after.key_events) + [e for e in script.key_events if e not in after.key_events]
        script.relationship_changes = changes
        script.state_after = StoryState(
            after_episode=script.episode_number,
            character_states={cid: states[cid] for cid in sorted(states)},
            relationships=relationships,
            key_events=key_events[-40:],
            open_threads=open_threads,
            resolved_threads=resolved,
            summaries=summaries,
        )


def revise_script(
    bible: SeriesBible, roster: Roster, previous: StoryState, script: EpisodeScript, problems: list[str]
) -> EpisodeScript:
    """A revision of `script` fixing what rules can fix: dead or absent speakers, unnatural or mixed-level
    lines, open threads never mentioned or dropped, forgotten characters, length, relationship jumps and
    an incomplete story state. `problems` are the quality gate's findings (used to find the forgotten);
    everything else is re-derived from the script, so a revision never trusts stale text."""
    if previous.after_episode != script.episode_number - 1:
        raise ValueError(
            f"episode {script.episode_number} of {bible.series_id} must be revised against the state after "
            f"episode {script.episode_number - 1}, got the state after episode {previous.after_episode}"
        )
    r = _Reviser(bible, roster, previous, script)
    r.fix_people()
    r.fix_phrasing()
    r.fix_threads()
    r.fix_plot()
    r.fix_forgotten(problems)
    r.fix_length()
    r.fix_phrasing()  # inserted lines are checked too
    r.fix_state()
    return EpisodeScript.model_validate(r.script.model_dump())
