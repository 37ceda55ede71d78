"""The writers' room quality gate (spec 7.0, 7.2, 7.6 and the continuity rules of 4.1.4).

Plain functions, no Dagster: each returns the problems it finds as readable strings, so the same
text can go into an asset check's description, a log line, or a revision prompt for an LLM.

- `preproduction_problems`: everything missing before episode 1 may be written (spec 7.0).
- `phrasing_problems`: the spec's unnatural-phrasing patterns, translationese, and 반말/존댓말
  mixed within a line or between the same two characters.
- `continuity_problems`: the episode against the story state it was written from: nobody dead or
  absent speaks, relationships move gradually, open threads are carried or resolved (and visibly
  mentioned), nobody's speech level flips back, nobody is forgotten over a window of episodes, and
  the state after the episode is complete.
- `quality_score`: the spec's six criteria (dialogue naturalness, plot coherence, character
  consistency, pacing, emotional arc, continuity), each 0..1, averaged to a 0-100 score.
- `write_checked_script`: write, score, and revise below the threshold; at most three passes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.core.storage import read_json
from aidas_dagster.story import library as story_library
from aidas_dagster.story.cast import pair_key
from aidas_dagster.story.genres import TEMPLATES, missing_elements
from aidas_dagster.story.korean import hangul_syllables, speech_only, thread_keyword
from aidas_dagster.story.models import EpisodeScript, Line, Roster, Scene, SeriesBible, StoryState
from aidas_dagster.story.quality_signals import exchange_contradictions, premise_fit, repetition, setting_terms
from aidas_dagster.story.validation import bible_problems, expected_line_range, roster_problems, script_problems

WINDOW = 3  # every active character speaks at least once in any three consecutive full-length episodes
LINES_PER_ROUND = 240  # ...that is, in about 240 lines of dialogue: short episodes get a longer window
COOLING_DROP = 5  # an intimacy drop this large (a quarrel, a crisis) may turn 반말 back into cold 존댓말
LEAD_MIN_LINES = 16  # episodes of at least this many lines (about two minutes) show both leads
MAX_RELATIONSHIP_STEP = 10  # intimacy may move at most this far per pair per episode (big beats included)
DEFAULT_THRESHOLD = 85.0  # spec: regenerate below 0.85 (AutomatedQualitySystem)
MAX_PASSES = 3  # spec: at most three write/improve iterations
PENALTY = 0.15  # a category loses this much per problem it counts one by one
CONTINUITY_PENALTY = 0.25  # ...and continuity, whose every problem breaks the series, this much

SpeechLevel = Literal["polite", "banmal", "mixed", "neutral"]


# =============================================================================================
# Korean speech levels
# =============================================================================================

# The spec's patterns (7.2 DialogueNaturalnessChecker) and further translationese, with the reason.
UNNATURAL_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"나는.*입니다"), "'나는 …입니다': 일상 대화에서 어색한 격식체"),
    (re.compile(r"당신은.*입니까"), "'당신은 …입니까': 지나치게 격식적"),
    (re.compile(r"그것은.*것입니다"), "'그것은 …것입니다': 번역투"),
    (re.compile(r"(?<![가-힣])당신"), "'당신': 대화에서 상대를 부르는 번역투 (이름이나 호칭을 쓴다)"),
    (re.compile(r"(?<![가-힣])그녀"), "'그녀': 대사에 쓰지 않는 문어체 대명사"),
    (re.compile(r"하는 것이다|한 것이다|라는 것이다"), "'…하는 것이다': 문어체 서술"),
    (re.compile(r"(?<![가-힣])(나의|저의|너의)(?![가-힣])"), "'나의/저의/너의': 번역투 소유격 (내/제/네)"),
    (re.compile(r"에 대해서?(는|도)? (이야기|말|생각)하"), "'…에 대해 이야기하다': 번역투"),
    (re.compile(r"(시간|대화|관계)을 가지"), "'…을 가지다': 영어식 표현"),
    (re.compile(r"[{}]"), "채워지지 않은 자리표시자"),
    (re.compile(r"(?<![가-힣])([가-힣]+)(?: \1){2,}(?![가-힣])"), "같은 낱말을 세 번 이상 반복"),
)

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|‘[^’]*’|“[^”]*”")
_SENTENCES = re.compile(r"([^.?!…~]+)([.?!…~]*)")
_FINAL_JAMO_B = 17  # ㅂ as a final consonant (합니다, 입니까)
_NEUTRAL_WORDS = {
    "음", "어", "아", "앗", "와", "야", "흠", "참", "뭐", "왜", "헐", "에이", "어머", "어머나", "아이고", "우와",
    "세상에", "글쎄", "저기", "그게", "그럼", "진짜", "정말", "근데", "그래서", "그리고", "엄마", "아빠", "언니",
    "누나", "오빠", "이모", "아버지", "어머니", "형", "형님", "선배", "후배", "사장", "대표", "삼촌", "할머니",
    "할아버지", "남자", "여자", "의자", "과자", "모자", "바다",
}
_SHORT_PREDICATES = set("돼해봐줘와가놔써타사자줄할")
# Endings of a predicate said without 요: 했어, 그래, 줘, 봐, 맞지, 할게, 그러게, 뭐야, 갈까, 했다 ...
_BANMAL_FINALS = set("어아야해돼줘봐와워지네데게래까걸냐니자군나라렴")  # not 다: "아, 망했다." is self-talk
_POLITE_PRONOUNS = re.compile(r"(?<![가-힣])(저는|제가|저도|저를|저한테\w*|저랑|저희\w*|저만|저야|저에게|제)(?![가-힣])")
_PLAIN_PRONOUNS = re.compile(r"(?<![가-힣])(너는|네가|니가|너도|너를|너한테\w*|너랑|너만|너야|너)(?![가-힣])")


def _has_final(syllable: str, jong: int) -> bool:
    code = ord(syllable) - 0xAC00
    return 0 <= code < 11172 and code % 28 == jong


def sentence_level(sentence: str) -> SpeechLevel:
    """The speech level a sentence ends in: 해요체/하십시오체 'polite', 해체/해라체 'banmal', else 'neutral'.

    An inverted sentence ("괜히 떨리네요, 이상하게") takes the level of the clause before its last word.
    """
    clauses = [c for c in sentence.split(",") if c.strip()]
    if len(clauses) >= 2 and len(clauses[-1].split()) == 1 and len(clauses[-2].split()) >= 2:
        before = _clause_level(",".join(clauses[:-1]))
        if before != "neutral":
            return before
    return _clause_level(sentence)


def _clause_level(sentence: str) -> SpeechLevel:
    words = [re.sub(r"[^가-힣]", "", w) for w in sentence.split()]
    words = [w for w in words if w]
    if not words:
        return "neutral"
    last = words[-1]
    if last in ("네", "예"):
        return "polite"
    if last == "응":
        return "banmal"
    if (last.endswith(("요", "죠")) and last != "필요") or (
        len(last) >= 3 and last.endswith(("니다", "니까")) and _has_final(last[-3], _FINAL_JAMO_B)
    ):
        return "polite"
    if len(last) == 1 and len(words) >= 2 and last in _SHORT_PREDICATES:  # 해도 돼, 같이 가
        return "banmal"
    if len(last) < 2 or last in _NEUTRAL_WORDS or last.endswith(("씨", "님")):
        return "neutral"
    if len(last) >= 2 and last[-1] == "지" and _has_final(last[-2], 8):  # -ㄹ지: 택할지, 될지 (elliptical)
        return "neutral"
    if last.endswith("니까") or last.endswith("면"):  # connective left hanging: 그러니까, 그러면
        return "neutral"
    return "banmal" if last[-1] in _BANMAL_FINALS else "neutral"


def speech_level(text: str) -> SpeechLevel:
    """The speech level of a whole line, from its sentence endings and its pronouns (quotes ignored)."""
    body = _QUOTED.sub(" ", text)
    levels = {
        sentence_level(m.group(1)) for m in _SENTENCES.finditer(body) if not m.group(2).startswith(("..", "…"))
    } - {"neutral"}  # a sentence trailing off ("믿었는데...") has no ending yet
    if _POLITE_PRONOUNS.search(body):
        levels.add("polite")
    if _PLAIN_PRONOUNS.search(body) and "polite" in levels and "banmal" not in levels:
        levels.add("banmal")  # 너 in 해요체 ("너는 괜찮아요?") is a mix
    if len(levels) == 2:
        return "mixed"
    return next(iter(levels)) if levels else "neutral"


def unnatural_phrases(text: str) -> list[str]:
    """Why a line sounds unnatural, one reason per matching pattern."""
    return [reason for pattern, reason in UNNATURAL_PATTERNS if pattern.search(text)]


def _mixes_on_purpose(roster: Roster, speaker: str) -> bool:
    """A character written to mix levels ('반말 섞인 존댓말') is in character when mixing."""
    try:
        return "섞" in roster.character(speaker).speech_style
    except KeyError:
        return False


def _where(scene: Scene, index: int, line: Line) -> str:
    to = f"→{line.listener}" if line.listener else ""
    return f"scene {scene.number} line {index} ({line.speaker}{to})"


def pair_levels(script: EpisodeScript) -> dict[tuple[str, str], list[tuple[Scene, int, Line, SpeechLevel]]]:
    """Every line of the script grouped by (speaker, listener), with its speech level."""
    pairs: dict[tuple[str, str], list[tuple[Scene, int, Line, SpeechLevel]]] = {}
    for scene in script.scenes:
        for i, line in enumerate(scene.lines, 1):
            if line.listener:
                pairs.setdefault((line.speaker, line.listener), []).append((scene, i, line, speech_level(line.text)))
    return pairs


def dominant_level(levels: Iterable[SpeechLevel]) -> SpeechLevel:
    """The level a speaker mostly uses: 'polite' or 'banmal' by majority (ties go polite), else 'neutral'."""
    counts = Counter(lv for lv in levels if lv in ("polite", "banmal"))
    if not counts:
        return "neutral"
    return "banmal" if counts["banmal"] > counts["polite"] else "polite"


# =============================================================================================
# Phrasing
# =============================================================================================


def flagged_lines(script: EpisodeScript, roster: Roster | None = None) -> dict[tuple[int, int], list[str]]:
    """(scene number, line index) -> why the line reads unnaturally."""
    flagged: dict[tuple[int, int], list[str]] = {}
    for scene in script.scenes:
        for i, line in enumerate(scene.lines, 1):
            reasons = unnatural_phrases(line.text)
            mixing = roster is not None and _mixes_on_purpose(roster, line.speaker)
            if speech_level(line.text) == "mixed" and not mixing:
                reasons.append("한 대사 안에서 반말과 존댓말이 섞임")
            if reasons:
                flagged[(scene.number, i)] = reasons
    for (speaker, listener), lines in pair_levels(script).items():
        if roster is not None and _mixes_on_purpose(roster, speaker):
            continue
        levels = [lv for *_rest, lv in lines if lv in ("polite", "banmal")]
        if not _mixed_sequence(levels):
            continue
        usual = dominant_level(levels)
        for scene, i, _line, lv in lines:
            if lv in ("polite", "banmal") and lv != usual:
                word = "존댓말" if usual == "polite" else "반말"
                flagged.setdefault((scene.number, i), []).append(f"같은 상대({listener})에게 평소 {word}인데 말투가 바뀜")
    return flagged


def _mixed_sequence(levels: list[SpeechLevel]) -> bool:
    """Both levels towards one listener, except one switch from 존댓말 to 반말 (말을 놓는 순간)."""
    switches = [(a, b) for a, b in zip(levels, levels[1:]) if a != b]
    return bool(switches) and switches != [("polite", "banmal")]


def phrasing_problems(script: EpisodeScript, roster: Roster | None = None) -> list[str]:
    """Unnatural phrasing (spec 7.2 patterns, translationese) and 반말/존댓말 mixing, one problem per line."""
    problems = []
    by_place = {(scene.number, i): (scene, line) for scene in script.scenes for i, line in enumerate(scene.lines, 1)}
    for key, reasons in sorted(flagged_lines(script, roster).items()):
        scene, line = by_place[key]
        problems.append(f"{_where(scene, key[1], line)}: '{line.text}' — {'; '.join(reasons)}")
    return problems


# =============================================================================================
# Speakers
# =============================================================================================


def speaker_problems(script: EpisodeScript, roster: Roster) -> list[str]:
    """Every speaker and listener is in the roster and in the scene; nobody talks to themselves."""
    known = roster.by_id()
    problems = []
    for scene in script.scenes:
        for cid in scene.characters:
            if cid not in known:
                problems.append(f"scene {scene.number}: {cid!r} is listed as present but is not in the roster")
        for i, line in enumerate(scene.lines, 1):
            where = _where(scene, i, line)
            if line.speaker not in known:
                problems.append(f"{where}: speaker {line.speaker!r} is not in the roster")
            elif line.speaker not in scene.characters:
                problems.append(f"{where}: {known[line.speaker].name} speaks but is not in the scene")
            if line.listener is not None:
                if line.listener not in known:
                    problems.append(f"{where}: listener {line.listener!r} is not in the roster")
                elif line.listener == line.speaker:
                    problems.append(f"{where}: {known[line.speaker].name} talks to themselves")
                elif line.listener not in scene.characters:
                    problems.append(f"{where}: {known[line.listener].name} is addressed but is not in the scene")
    return problems


# =============================================================================================
# Continuity
# =============================================================================================


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def thread_mentioned(thread: str, texts: Iterable[str]) -> bool:
    """A thread is mentioned when its keyword (the part before ':', else its first words) is said, or, for
    a keyword of several words, when one line says at least two thirds of them (particles aside):
    "지호와 하늘의 엇갈린 짝사랑" is mentioned by "지호랑 하늘이 짝사랑 때문에 …"."""
    keyword = thread_keyword(thread)
    compact = _compact(keyword)
    if not compact:
        return False
    stems = [w[: max(2, len(w) - 1)] for w in re.findall(r"[가-힣A-Za-z0-9]+", keyword) if len(w) >= 2]
    need = math.ceil(len(stems) * 2 / 3)
    for text in texts:
        if compact in _compact(text):
            return True
        if len(stems) >= 3 and sum(stem in text for stem in stems) >= need:
            return True
    return False


def dialogue(script: EpisodeScript) -> list[str]:
    return [line.text for _scene, line in script.lines()]


def speakers(script: EpisodeScript) -> set[str]:
    return {line.speaker for _scene, line in script.lines()}


def continuity_problems(
    script: EpisodeScript,
    roster: Roster,
    previous_state: StoryState,
    recent_scripts: Sequence[EpisodeScript] = (),
    config: SeriesConfig | None = None,
) -> list[str]:
    """The episode against the state it continues from (and, if given, the scripts of recent episodes).

    `recent_scripts` are earlier episodes' scripts (any order; others are ignored): they enable the
    speech-level check across episodes and the window check that nobody is forgotten. `config` scales
    that window (and the rule that both leads appear) to the episode length; without it, full length.
    """
    problems: list[str] = []
    episode = script.episode_number
    after = script.state_after
    names = {c.id: c.name for c in roster.characters}
    if previous_state.after_episode != episode - 1:
        problems.append(
            f"written from the state after episode {previous_state.after_episode}, not after episode {episode - 1}"
        )
    if after.after_episode != episode:
        problems.append(f"state_after says episode {after.after_episode}, the script is episode {episode}")

    problems += character_problems(script, roster, previous_state, recent_scripts)

    # Relationships move gradually and add up.
    for pair, before in sorted(previous_state.relationships.items()):
        if pair not in after.relationships:
            problems.append(f"relationship {pair} disappeared from the story state")
            continue
        now = after.relationships[pair]
        if not 0 <= now <= 100:
            problems.append(f"relationship {pair} intimacy {now} is outside 0-100")
        if abs(now - before) > MAX_RELATIONSHIP_STEP:
            problems.append(
                f"relationship {pair} jumps from {before} to {now} in one episode "
                f"(at most ±{MAX_RELATIONSHIP_STEP}: relationships move gradually)"
            )
        if now - before != script.relationship_changes.get(pair, 0):
            problems.append(
                f"relationship {pair} moved by {now - before} but relationship_changes says "
                f"{script.relationship_changes.get(pair, 0)}"
            )

    # Open threads are carried or resolved, and visibly so.
    said = dialogue(script) + list(script.key_events)
    for thread in previous_state.open_threads:
        if thread not in after.open_threads and thread not in after.resolved_threads:
            problems.append(f"open thread dropped without resolution: '{thread}'")
        if not thread_mentioned(thread, said):
            problems.append(f"open thread not mentioned in the episode: '{thread_keyword(thread)}' ({thread})")
    for thread in previous_state.resolved_threads:
        if thread not in after.resolved_threads:
            problems.append(f"resolved thread forgotten by the story state: '{thread}'")

    # The state after the episode is complete.
    for cid in names:
        if cid not in after.character_states:
            problems.append(f"state_after has no state for {names[cid]} ({cid})")
    if after.summaries[:-1] != previous_state.summaries or len(after.summaries) != len(previous_state.summaries) + 1:
        problems.append("state_after.summaries must be the previous summaries plus this episode's")
    if not script.key_events or not all(e in after.key_events for e in script.key_events[-3:]):
        problems.append("the episode's key events are missing from state_after.key_events")
    new = script.new_conflict
    if new and new not in after.open_threads and new not in after.resolved_threads:
        problems.append(f"the new conflict is not among the open threads: '{script.new_conflict}'")

    problems += _forgotten(script, roster, previous_state, recent_scripts, config)
    return problems


def character_problems(
    script: EpisodeScript, roster: Roster, previous_state: StoryState, recent_scripts: Sequence[EpisodeScript] = ()
) -> list[str]:
    """Characters stay who they are: the dead and the absent stay silent, goals change gradually,
    everyone keeps their written manner, and nobody's 반말 turns back into 존댓말 out of nowhere."""
    problems: list[str] = []
    after = script.state_after
    names = {c.id: c.name for c in roster.characters}
    # Nobody dead or absent speaks; the dead stay dead.
    spoke = speakers(script)
    for cid, state in sorted(previous_state.character_states.items()):
        if state.status == "dead":
            if cid in spoke:
                problems.append(f"{names.get(cid, cid)} ({cid}) is dead but speaks")
            now = after.character_states.get(cid)
            if now is not None and now.status != "dead":
                problems.append(f"{names.get(cid, cid)} ({cid}) was dead and is '{now.status}' again")
        elif state.status == "absent" and cid in spoke:
            now = after.character_states.get(cid)
            told = any(names.get(cid, cid) in e for e in script.key_events)
            returns = now is not None and now.status == "active" and told
            if not returns:
                problems.append(
                    f"{names.get(cid, cid)} ({cid}) is absent but speaks; a return must be a key event "
                    "and leave them 'active'"
                )

    # Goals change gradually: someone with goals keeps at least one, or loses them to a resolved thread.
    resolved_now = [t for t in after.resolved_threads if t not in previous_state.resolved_threads]
    resolved_kws = [thread_keyword(t) for t in resolved_now]
    for cid, before in sorted(previous_state.character_states.items()):
        now = after.character_states.get(cid)
        if now is None or not before.active_goals:
            continue
        kept = [g for g in before.active_goals if g in now.active_goals]
        explained = [g for g in before.active_goals if any(kw in g for kw in resolved_kws)]
        if not kept and len(explained) < len(before.active_goals):
            problems.append(
                f"{names.get(cid, cid)} ({cid}) drops every goal at once ({', '.join(before.active_goals)}): "
                "a sudden change of character"
            )

    problems += manner_problems(script, roster)
    problems += _speech_flips(script, roster, recent_scripts)
    return problems


def manner_problems(script: EpisodeScript, roster: Roster) -> list[str]:
    """Lines out of a character's written manner: someone who speaks only 존댓말 ("깍듯한 존댓말") using
    반말, or someone who speaks only 반말 ("정겨운 반말") turning polite."""
    people = roster.by_id()
    problems = []
    for scene in script.scenes:
        for i, line in enumerate(scene.lines, 1):
            speaker, listener = people.get(line.speaker), people.get(line.listener or "")
            only = speech_only(speaker.speech_style) if speaker else None
            if only is None or listener is None:
                continue
            # the gruffest still speak politely to their elders; the most polite talk down to a child
            if (only == "banmal" and listener.age > speaker.age) or (only == "polite" and listener.age < 20):
                continue
            level = speech_level(line.text)
            if level in ("polite", "banmal") and level != only:
                names = {c.id: c.name for c in roster.characters}
                style = speaker.speech_style
                word = "존댓말" if only == "polite" else "반말"
                problems.append(
                    f"{_where(scene, i, line)}: {names[line.speaker]} speaks only {word} ('{style}') but says "
                    f"'{line.text}': a sudden change of character"
                )
    return problems


def _speech_flips(script: EpisodeScript, roster: Roster, recent: Sequence[EpisodeScript]) -> list[str]:
    """반말 to someone in the last episode they spoke, 존댓말 now: a sudden change of manner.

    Getting closer (존댓말 → 반말) is allowed; so is growing cold after a drop in intimacy.
    """
    earlier = sorted((s for s in recent if s.episode_number < script.episode_number), key=lambda s: s.episode_number)
    if not earlier:
        return []
    names = {c.id: c.name for c in roster.characters}
    last_level: dict[tuple[str, str], tuple[int, SpeechLevel]] = {}
    for old in earlier:
        for pair, lines in pair_levels(old).items():
            level = dominant_level(lv for *_r, lv in lines)
            if level != "neutral":
                last_level[pair] = (old.episode_number, level)
    cooled = {k for k, d in script.relationship_changes.items() if d <= -COOLING_DROP}
    cooled |= {k for k, d in earlier[-1].relationship_changes.items() if d <= -COOLING_DROP}
    problems = []
    for pair, lines in sorted(pair_levels(script).items()):
        if pair not in last_level or _mixes_on_purpose(roster, pair[0]):
            continue
        level = dominant_level(lv for *_r, lv in lines)
        was_episode, was = last_level[pair]
        if was == "banmal" and level == "polite" and pair_key(*pair) not in cooled:
            s, l = pair
            problems.append(
                f"{names.get(s, s)} spoke 반말 to {names.get(l, l)} in episode {was_episode} "
                "but 존댓말 now, with nothing between them cooling: a sudden change of manner"
            )
    return problems


def forgotten_window(config: SeriesConfig) -> int:
    """Episodes within which every active character must speak: 3 at full length, more for short episodes."""
    low, _high = expected_line_range(config)
    return max(WINDOW, math.ceil(LINES_PER_ROUND / max(1, low)))


def _forgotten(
    script: EpisodeScript,
    roster: Roster,
    previous_state: StoryState,
    recent: Sequence[EpisodeScript],
    config: SeriesConfig | None,
) -> list[str]:
    """Leads speak every episode; every active character speaks at least once every window of episodes."""
    spoke = speakers(script)
    inactive = {cid for cid, s in previous_state.character_states.items() if s.status != "active"}
    long_enough = config is None or expected_line_range(config)[0] >= LEAD_MIN_LINES
    problems = [
        f"lead {c.name} ({c.id}) does not appear"
        for c in roster.characters
        if long_enough and c.importance == "main" and c.id not in spoke and c.id not in inactive
    ]
    episode = script.episode_number
    size = forgotten_window(config) if config is not None else WINDOW
    window = {s.episode_number: s for s in recent if episode - size < s.episode_number < episode}
    if episode < size or len(window) < size - 1:
        return problems  # the window is not complete yet (or its scripts were not given)
    heard = spoke | {cid for s in window.values() for cid in speakers(s)}
    for c in roster.characters:
        if c.id not in heard and c.id not in inactive:
            problems.append(
                f"{c.name} ({c.id}) has not spoken in episodes {episode - size + 1}-{episode}: nobody is forgotten"
            )
    return problems


# =============================================================================================
# Pre-production (spec 7.0 and 7.6)
# =============================================================================================


def bible_readiness_problems(bible: SeriesBible) -> list[str]:
    """The story half of pre-production: arc, outlines, subplots and genre requirements."""
    problems = list(bible_problems(bible))
    n = bible.config.total_episodes
    for name in ("logline", "tone", "main_conflict"):
        if not getattr(bible, name).strip():
            problems.append(f"bible has no {name}")
    if not bible.themes:
        problems.append("bible has no themes")
    for part in bible.arc:
        if not part.description.strip():
            problems.append(f"arc part '{part.name}' has no description")
    if not 2 <= len(bible.subplots) <= 3:
        problems.append(f"{len(bible.subplots)} subplots; 2-3 are needed")
    for sp in bible.subplots:
        if not sp.episodes:
            problems.append(f"subplot '{sp.title}' is placed in no episode")
        outside = [e for e in sp.episodes if not 1 <= e <= n]
        if outside:
            problems.append(f"subplot '{sp.title}' is placed in episodes {outside} outside 1-{n}")
        if not sp.characters:
            problems.append(f"subplot '{sp.title}' has no characters")
    phases = {part.name for part in bible.arc}
    for outline in bible.outlines:
        where = f"outline of episode {outline.episode_number}"
        for name in ("title", "main_event", "emotional_journey", "cliffhanger_type"):
            if not getattr(outline, name).strip():
                problems.append(f"{where} has no {name}")
        if outline.arc_phase not in phases:
            problems.append(f"{where} names arc phase '{outline.arc_phase}', which is not one of the four parts")
        if not outline.character_focus:
            problems.append(f"{where} has no character focus")
        if not outline.sub_events:
            problems.append(f"{where} has no sub-events")
    for beat in bible.genre_beats:
        if not 1 <= beat.episode <= n:
            problems.append(f"genre beat '{beat.beat}' is placed in episode {beat.episode}, outside 1-{n}")
    template = TEMPLATES.get(bible.genre_key)
    if template is None:
        problems.append(f"genre template '{bible.genre_key}' is unknown")
    else:
        for element in missing_elements(template, [b.beat for b in bible.genre_beats]):
            problems.append(f"genre requirement '{element}' of {template.label} is not placed in any episode")
    return problems


def cast_readiness_problems(bible: SeriesBible, roster: Roster) -> list[str]:
    """The cast half: 10+ characters in tiers, every profile complete, voices and avatars assigned."""
    problems = list(roster_problems(roster))
    if roster.series_id != bible.series_id:
        problems.append(f"roster belongs to '{roster.series_id}', the bible to '{bible.series_id}'")
    template = TEMPLATES.get(bible.genre_key)
    if template is not None and len(roster.characters) < template.min_characters:
        problems.append(f"{template.label} needs at least {template.min_characters} characters")
    ids = {c.id for c in roster.characters}
    for c in roster.characters:
        who = f"{c.id} {c.name}"
        missing = [
            name
            for name, value in (
                ("name", c.name),
                ("role", c.role),
                ("occupation", c.occupation),
                ("background", c.background),
                ("speech style", c.speech_style),
                ("voice tone", c.voice_profile.tone),
                ("speaking style", c.voice_profile.speaking_style),
            )
            if not value.strip()
        ]
        if not c.secrets:
            missing.append("secrets")
        if not c.voice.provider.strip() or not c.voice.voice_id.strip():
            missing.append("voice assignment")
        if missing:
            problems.append(f"{who} lacks {', '.join(missing)}")
    related: set[str] = set()
    for r in roster.relationships:
        if r.a not in ids or r.b not in ids:
            problems.append(f"relationship {r.a}-{r.b} names someone not in the roster")
        if r.a == r.b:
            problems.append(f"relationship of {r.a} with themselves")
        if not r.type.strip() or not r.potential_arc.strip():
            problems.append(f"relationship {r.a}-{r.b} lacks its type or potential arc")
        related |= {r.a, r.b}
    leads = [c.id for c in roster.characters if c.importance == "main"]
    if len(leads) >= 2 and pair_key(leads[0], leads[1]) not in {pair_key(r.a, r.b) for r in roster.relationships}:
        problems.append("the two leads have no relationship in the matrix")
    for c in roster.characters:
        if c.id not in related:
            problems.append(f"{c.id} {c.name} has no relationship with anyone")
    focused = {cid for o in bible.outlines for cid in o.character_focus}
    for cid in sorted(focused - ids):
        problems.append(f"outlines focus on {cid}, who is not in the roster")
    for c in roster.characters:
        if c.id not in focused and bible.config.total_episodes >= WINDOW:  # 1-2 episodes cannot feature all
            problems.append(f"{c.id} {c.name} is in no episode's focus: the outline forgets them")
    return problems


def preproduction_problems(bible: SeriesBible, roster: Roster) -> list[str]:
    """Everything missing before episode 1 can be written (spec 7.0): empty when production may start."""
    return bible_readiness_problems(bible) + cast_readiness_problems(bible, roster)


# =============================================================================================
# The quality score (spec 7.2 and AutomatedQualitySystem)
# =============================================================================================


@dataclass(frozen=True)
class QualityReport:
    score: float  # 0-100
    categories: dict[str, float]  # criterion -> 0..1
    problems: list[str] = field(default_factory=list)  # everything found, category-prefixed
    blocking: list[str] = field(default_factory=list)  # structure, speaker and continuity problems

    def acceptable(self, threshold: float = DEFAULT_THRESHOLD) -> bool:
        return self.score >= threshold and not self.blocking

    def metadata(self) -> dict[str, float]:
        return {"quality_score": round(self.score, 1), **{k: round(v, 3) for k, v in self.categories.items()}}


def _fraction(ok: int, total: int) -> float:
    return ok / total if total else 1.0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 1.0


def _plot_coherence(script: EpisodeScript, previous_state: StoryState) -> tuple[float, list[str]]:
    problems: list[str] = []
    said = dialogue(script)
    threads = previous_state.open_threads
    after = script.state_after
    mentioned = sum(thread_mentioned(t, said + list(script.key_events)) for t in threads)
    carried = sum(t in after.open_threads or t in after.resolved_threads for t in threads)
    items = [_fraction(mentioned, len(threads)), _fraction(carried, len(threads))]
    new_ok = bool(script.new_conflict.strip()) and script.new_conflict not in threads
    if not new_ok:
        problems.append("no new conflict (spec: each episode adds one)")
    elif not thread_mentioned(script.new_conflict, said + [script.summary]):
        problems.append(f"the new conflict '{thread_keyword(script.new_conflict)}' is never brought up")
        new_ok = False
    items.append(float(new_ok))
    partly = bool(script.partly_resolved.strip()) and thread_mentioned(script.partly_resolved, said)
    if not partly:
        problems.append("no existing conflict is partly resolved on screen (spec: one per episode)")
    items.append(float(partly))
    cliff = bool(script.cliffhanger.strip())
    if not cliff:
        problems.append("no cliffhanger")
    items.append(float(cliff))
    told = bool(script.summary.strip() and script.key_events)
    if not told:
        problems.append("no summary or key events")
    items.append(float(told))
    return _mean(items), problems


def _pacing(script: EpisodeScript, config: SeriesConfig) -> tuple[float, list[str]]:
    problems: list[str] = []
    low, high = expected_line_range(config)
    n = script.line_count
    if low <= n <= high:
        length = 1.0
    else:
        length = max(0.0, 1 - (low - n if n < low else n - high) / low)
        problems.append(f"{n} lines; a {config.episode_duration}-minute episode needs {low}-{high}")
    min_scenes = 5 if float(config.episode_duration) >= 5 else 1
    scenes = min(1.0, len(script.scenes) / min_scenes)
    if scenes < 1:
        problems.append(f"{len(script.scenes)} scenes; at least {min_scenes} expected")
    sizes = [len(s.lines) for s in script.scenes]
    largest = max(sizes) / n if n else 1.0
    balance = 1.0 if len(sizes) < 3 or largest <= 0.4 else max(0.0, 1 - (largest - 0.4) * 2)
    if balance < 1:
        problems.append(f"one scene holds {largest:.0%} of the lines")
    syllables = [hangul_syllables(line.text) for _s, line in script.lines()]
    mean_len = _mean(syllables) if syllables else 0
    rhythm = 1.0 if 10 <= mean_len <= 40 else 0.5
    if rhythm < 1:
        problems.append(f"lines average {mean_len:.0f} syllables; 10-40 keeps the dialogue moving")
    runs, run = 0, 1
    previous = None
    for _s, line in script.lines():
        run = run + 1 if line.speaker == previous else 1
        previous = line.speaker
        runs += run == 4
    monologue = max(0.0, 1 - PENALTY * runs)
    if runs:
        problems.append(f"{runs} stretches of four or more lines by one speaker")
    texts = dialogue(script)
    repeats = len(texts) - len(set(texts))
    fresh = max(0.0, 1 - PENALTY * repeats)
    if repeats:
        problems.append(f"{repeats} lines said twice")
    return _mean([length, scenes, balance, rhythm, monologue, fresh]), problems


CHARGED = {"happy", "sad", "angry", "surprised", "shy", "worried", "excited", "tense"}


def _emotional_arc(script: EpisodeScript) -> tuple[float, list[str]]:
    problems: list[str] = []
    emotions = [line.emotion for _s, line in script.lines()]
    distinct = len(set(emotions))
    want = min(4, max(2, len(emotions) // 3))  # a four-line episode cannot run through four emotions
    variety = min(1.0, distinct / want) if want else 0.0
    if variety < 1:
        problems.append(f"only {distinct} emotions in the episode; the arc needs at least {want}")
    dominant = [Counter(line.emotion for line in s.lines).most_common(1)[0][0] for s in script.scenes]
    moves = 1.0 if len(dominant) < 2 or len(set(dominant)) >= 2 else 0.0
    if not moves:
        problems.append("every scene has the same dominant emotion")
    ending = script.scenes[-1].lines[-3:]
    charged_end = any(line.emotion in CHARGED for line in ending)
    if not charged_end:
        problems.append("the episode ends flat: no charged emotion in its last lines")
    flat_share = _fraction(sum(e in ("neutral", "calm") for e in emotions), len(emotions))
    flat = 1.0 if flat_share <= 0.5 else max(0.0, 1 - (flat_share - 0.5) * 2)
    if flat < 1:
        problems.append(f"{flat_share:.0%} of the lines are neutral or calm")
    return _mean([variety, moves, float(charged_end), flat]), problems


def quality_score(
    script: EpisodeScript,
    roster: Roster,
    previous_state: StoryState,
    config: SeriesConfig,
    recent_scripts: Sequence[EpisodeScript] = (),
    bible: SeriesBible | None = None,
    settings: dict[str, story_library.SettingData] | None = None,
) -> QualityReport:
    """The spec's six criteria plus premise fit, each 0..1, averaged into a 0-100 score, with every
    problem found. Premise fit is measured when the bible is given (against `settings`, by default
    the story library's)."""
    total = script.line_count
    flagged = flagged_lines(script, roster)
    repeated, repetition_found, repetition_blocking = repetition(script, recent_scripts)
    naturalness = _fraction(total - len(set(flagged) | repeated), total)
    phrasing = [f"phrasing: {p}" for p in phrasing_problems(script, roster)]

    structure = [f"structure: {p}" for p in script_problems(script, roster, config)]
    speakers_ = [f"speakers: {p}" for p in speaker_problems(script, roster)]
    continuity = [
        f"continuity: {p}" for p in continuity_problems(script, roster, previous_state, recent_scripts, config)
    ]
    contradictions = [f"contradiction: {p}" for p in exchange_contradictions(script, previous_state)]
    consistency_found = character_problems(script, roster, previous_state, recent_scripts) + speakers_ + contradictions
    consistency = max(0.0, 1 - PENALTY * len(consistency_found))

    plot, plot_found = _plot_coherence(script, previous_state)
    pacing, pacing_found = _pacing(script, config)
    arc, arc_found = _emotional_arc(script)
    continuity_score = max(0.0, 1 - CONTINUITY_PENALTY * len(continuity))

    categories = {
        "dialogue_naturalness": naturalness,
        "plot_coherence": plot,
        "character_consistency": consistency,
        "pacing": pacing,
        "emotional_arc": arc,
        "continuity": continuity_score,
    }
    premise_found: list[str] = []
    premise_blocking: list[str] = []
    if bible is not None and (bible.setting or bible.locations):  # older bibles record no world to fit
        library = story_library.settings() if settings is None else settings
        world = story_library.worlds().get(bible.config.world) if bible.config.world else None
        fit, premise_found, premise_blocking = premise_fit(script, setting_terms(bible, roster, library, world))
        categories["premise_fit"] = fit
    score = 100 * _mean(list(categories.values()))
    repetition_ = [f"repetition: {p}" for p in repetition_found]
    blocking = (
        structure
        + speakers_
        + continuity
        + contradictions
        + [f"repetition: {p}" for p in repetition_blocking]
        + [f"premise: {p}" for p in premise_blocking]
    )
    problems = (
        structure
        + speakers_
        + continuity
        + contradictions
        + phrasing
        + repetition_
        + [f"premise: {p}" for p in premise_found]
        + [f"plot: {p}" for p in plot_found]
        + [f"pacing: {p}" for p in pacing_found]
        + [f"emotional arc: {p}" for p in arc_found]
    )
    return QualityReport(
        score=score,
        categories=categories,
        problems=list(dict.fromkeys(problems)),
        blocking=list(dict.fromkeys(blocking)),
    )


# =============================================================================================
# Write, score, improve (spec: at most three passes)
# =============================================================================================


class RevisingEngine(Protocol):
    name: str

    def write_script(self, bible: SeriesBible, roster: Roster, previous: StoryState, episode: int) -> EpisodeScript: ...

    def revise_script(
        self, bible: SeriesBible, roster: Roster, previous: StoryState, script: EpisodeScript, problems: list[str]
    ) -> EpisodeScript: ...


def _rank(report: QualityReport) -> tuple[bool, float]:
    return (not report.blocking, report.score)


def write_checked_script(
    engine: RevisingEngine,
    bible: SeriesBible,
    roster: Roster,
    previous_state: StoryState,
    episode: int,
    config: SeriesConfig,
    threshold: float = DEFAULT_THRESHOLD,
    max_passes: int = MAX_PASSES,
    recent_scripts: Sequence[EpisodeScript] = (),
) -> tuple[EpisodeScript, QualityReport, int]:
    """Write the episode, score it, and revise it while it is below `threshold` or has blocking problems.

    Returns the best script seen (blocking-free first, then by score), its report, and the number of
    passes made (1 = written once, never revised). Never more than `max_passes` passes in all.
    """
    if max_passes < 1:
        raise ValueError(f"max_passes must be at least 1, got {max_passes}")
    script = engine.write_script(bible, roster, previous_state, episode)
    report = quality_score(script, roster, previous_state, config, recent_scripts, bible)
    best, best_report = script, report
    passes = 1
    while not report.acceptable(threshold) and passes < max_passes:
        script = engine.revise_script(bible, roster, previous_state, script, report.problems)
        passes += 1
        report = quality_score(script, roster, previous_state, config, recent_scripts, bible)
        if _rank(report) > _rank(best_report):
            best, best_report = script, report
    return best, best_report, passes


def load_recent_scripts(
    script_path: Callable[[int], Path], episode: int, window: int = WINDOW
) -> list[EpisodeScript]:
    """The stored scripts of the `window - 1` episodes before `episode` that exist, oldest first.

    `script_path(n)` gives episode n's script.json (e.g. `lambda n: storage.script_path(series_id, n)`).
    """
    scripts = []
    for n in range(max(1, episode - window + 1), episode):
        path = script_path(n)
        if path.exists():
            try:
                scripts.append(EpisodeScript.model_validate(read_json(path)))
            except ValueError as exc:
                raise ValueError(f"{path}: stored script of episode {n} is not a valid script: {exc}") from exc
    return scripts
