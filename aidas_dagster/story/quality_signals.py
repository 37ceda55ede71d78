"""Signals that let the quality gate tell a script that belongs to its series from one that does not.

Plain functions, no Dagster, used by `quality.quality_score`:
- `premise_fit`: the script's places are the bible's places, its scenes talk in the setting's words,
  and no other setting's distinctive words turn up (an ER drama does not talk about 공판 and 잠복).
- `repetition`: lines repeated within the episode, and lines taken word for word from the last
  episodes.
- `exchange_contradictions`: within one exchange, a speaker who says two things that cannot both
  hold (apologises for a fault and demands the apology for it; forgives an apology never made;
  meets someone "for the first time" they have already talked to).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aidas_dagster.story.library import STORY_DATA_DIR, SettingData
from aidas_dagster.story.models import EpisodeScript, Roster, Scene, SeriesBible, StoryState

SETTING_TALK_SHARE = 0.5  # at least half the scenes say a word of the setting
FOREIGN_TOLERANCE = 1  # one stray word of another world is a coincidence; more is a wrong world
PREMISE_BLOCKING = 0.6  # below this fit the script belongs to another series
REUSE_WARNING = 0.15  # share of lines copied word for word from the last episodes
REUSE_BLOCKING = 0.35
REPEATS_BLOCKING = 3  # lines said twice within one episode


def _compact(text: str) -> str:
    return re.sub(r"[\s.,!?…~'\"“”‘’()\-]+", "", text)


@dataclass(frozen=True)
class SettingTerms:
    """The words that mark a series' world, and other worlds' distinctive words."""

    own: frozenset[str]
    foreign: dict[str, str] = field(default_factory=dict)  # word -> the setting it belongs to
    places: frozenset[str] = frozenset()  # location names of the bible

    def said_in(self, text: str) -> list[str]:
        compact = _compact(text)
        return [w for w in self.own if _compact(w) in compact]

    def foreign_in(self, text: str) -> list[str]:
        compact = _compact(text)
        return [w for w in self.foreign if _compact(w) in compact and not self.said_in(w)]


def _words(setting: SettingData) -> set[str]:
    words = set(setting.vocabulary) | set(setting.props) | {loc.said for loc in setting.locations}
    for role in setting.roles:
        words |= set(role.work) | set(role.occupations) | {role.home.said, role.title.removesuffix("님")}
    return {w for w in words if len(_compact(w)) >= 2}


@functools.cache
def _general_text() -> str:
    """Every line of the writer's general library: words said there belong to no one world."""
    return _compact("".join(p.read_text(encoding="utf-8") for p in sorted((STORY_DATA_DIR / "lines").glob("*.yaml"))))


_TEXTS: dict[int, str] = {}


def _text_of(setting: SettingData) -> str:
    """All the text of a setting file, compacted (kept per loaded setting object)."""
    key = id(setting)
    if key not in _TEXTS:
        _TEXTS[key] = _compact(setting.model_dump_json())
    return _TEXTS[key]


def setting_terms(
    bible: SeriesBible,
    roster: Roster | None,
    library: dict[str, SettingData],
    world: SettingData | None = None,
) -> SettingTerms:
    """Own words: the bible's setting (or the built-in `world` it is written in), its places, the
    cast's occupations and the premise's nouns. Foreign words: vocabulary that belongs to exactly one
    other setting of the library."""
    own: set[str] = set()
    setting = library.get(bible.setting) if bible.setting else world
    if setting is not None:
        own |= _words(setting)
    own |= {loc.said for loc in bible.locations} | {loc.name for loc in bible.locations}
    if bible.premise is not None:
        own |= set(bible.premise.nouns)
    if roster is not None:
        own |= {c.occupation for c in roster.characters}
    own = {w for w in own if len(_compact(w)) >= 2}
    owners: dict[str, set[str]] = {}
    for key, other in library.items():
        for word in other.vocabulary:
            if len(_compact(word)) >= 2:
                owners.setdefault(word, set()).add(key)
    own_compact = {_compact(w) for w in own}
    general = _general_text()
    texts = {key: _text_of(other) for key, other in library.items()}
    foreign = {
        word: next(iter(keys))
        for word, keys in owners.items()
        if len(keys) == 1
        and _compact(word) not in general
        and sum(_compact(word) in text for text in texts.values()) == 1  # said in one world only
        and next(iter(keys)) != bible.setting
        and _compact(word) not in own_compact
        and not any(_compact(word) in o or o in _compact(word) for o in own_compact if len(o) >= 2)
    }
    return SettingTerms(own=frozenset(own), foreign=foreign, places=frozenset(loc.name for loc in bible.locations))


def premise_fit(script: EpisodeScript, terms: SettingTerms) -> tuple[float, list[str], list[str]]:
    """(0..1, problems, blocking problems): the script against the words of its world."""
    problems: list[str] = []
    items: list[float] = []
    if terms.places:
        strange = [s for s in script.scenes if s.location not in terms.places]
        items.append(1 - len(strange) / len(script.scenes))
        for s in strange[:3]:
            problems.append(f"scene {s.number} is set at '{s.location}', not a place of the series")
    if terms.own:
        talking = [s for s in script.scenes if any(terms.said_in(line.text) for line in s.lines)]
        share = len(talking) / len(script.scenes)
        items.append(min(1.0, share / SETTING_TALK_SHARE))
        if share < SETTING_TALK_SHARE:
            problems.append(
                f"only {len(talking)} of {len(script.scenes)} scenes talk in the words of the series' world"
            )
    found = Counter(w for _s, line in script.lines() for w in terms.foreign_in(line.text))
    stray = sum(found.values())
    if stray > FOREIGN_TOLERANCE:
        items.append(max(0.0, 1 - 0.2 * (stray - FOREIGN_TOLERANCE)))
        shown = ", ".join(f"'{w}' ({terms.foreign[w]})" for w, _n in found.most_common(5))
        problems.append(f"{stray} words of other worlds: {shown}")
    fit = sum(items) / len(items) if items else 1.0
    blocking = [f"premise fit {fit:.2f} < {PREMISE_BLOCKING}: " + "; ".join(problems)] if fit < PREMISE_BLOCKING else []
    return fit, problems, blocking


def repetition(
    script: EpisodeScript, recent: Sequence[EpisodeScript] = ()
) -> tuple[set[tuple[int, int]], list[str], list[str]]:
    """(lines that repeat — (scene number, line index) —, problems, blocking problems)."""
    problems: list[str] = []
    blocking: list[str] = []
    seen: dict[str, tuple[int, int]] = {}
    repeated: set[tuple[int, int]] = set()
    earlier = {_compact(line.text) for s in recent for _sc, line in s.lines()}
    reused: set[tuple[int, int]] = set()
    for scene in script.scenes:
        for i, line in enumerate(scene.lines, 1):
            key = _compact(line.text)
            if key in seen:
                repeated.add((scene.number, i))
            else:
                seen[key] = (scene.number, i)
            if key in earlier:
                reused.add((scene.number, i))
    total = script.line_count or 1
    if repeated:
        problems.append(f"{len(repeated)} lines repeat an earlier line of this episode")
        if len(repeated) >= REPEATS_BLOCKING:
            blocking.append(f"{len(repeated)} lines repeat an earlier line of this episode")
    share = len(reused) / total
    if share > REUSE_WARNING:
        message = f"{len(reused)} of {total} lines ({share:.0%}) repeat the last {len(recent)} episode(s) word for word"
        problems.append(message)
        if share > REUSE_BLOCKING:
            blocking.append(message)
    return repeated | reused, problems, blocking


_APOLOGY = re.compile(r"미안|죄송|제 잘못|내 잘못|제가 잘못|내가 잘못|사과드릴|사과할게")
_DEMAND = re.compile(r"사과(하세요|해요|해|하라|부터|하시죠|하십시오|하지 그래|안 해|안 하)|사과를 받아야|사과 받아야")
_FORGIVE = re.compile(r"사과 받을게|사과는 받을게|사과 받아 줄게|사과 받아줄게|용서할게|용서해 줄게|용서해줄게|사과는 됐어")
_FIRST_MEETING = re.compile(r"처음 뵙겠|처음 뵙네|초면|처음 보는 (분|사람|얼굴)")
ACQUAINTED = 30  # intimacy from which two characters know each other


def _exchanges(scene: Scene) -> Iterable[list[tuple[int, str, str | None, str]]]:
    """Runs of consecutive lines between the same two speakers: (index, speaker, listener, text)."""
    run: list[tuple[int, str, str | None, str]] = []
    pair: frozenset[str] = frozenset()
    for i, line in enumerate(scene.lines, 1):
        this = frozenset({line.speaker, line.listener or line.speaker})
        if run and this != pair:
            yield run
            run = []
        pair = this
        run.append((i, line.speaker, line.listener, line.text))
    if run:
        yield run


def exchange_contradictions(script: EpisodeScript, previous: StoryState | None = None) -> list[str]:
    """Things a speaker says within one exchange that cannot both hold."""
    found: list[str] = []
    spoke: set[frozenset[str]] = set()
    for scene in script.scenes:
        for run in _exchanges(scene):
            apologised: dict[str, int] = {}
            demanded: dict[str, int] = {}
            for i, speaker, listener, text in run:
                where = f"scene {scene.number} line {i}"
                if _APOLOGY.search(text) and not _DEMAND.search(text):
                    apologised.setdefault(speaker, i)
                    if speaker in demanded:
                        found.append(f"{where}: {speaker} apologises after demanding an apology in the same exchange")
                if _DEMAND.search(text):
                    demanded.setdefault(speaker, i)
                    if speaker in apologised:
                        found.append(f"{where}: {speaker} demands an apology for what they apologised for")
                if _FORGIVE.search(text) and listener and listener not in apologised:
                    found.append(f"{where}: {speaker} accepts an apology {listener} never made")
                if _FIRST_MEETING.search(text) and listener:
                    pair = frozenset({speaker, listener})
                    intimacy = previous.relationships.get("-".join(sorted(pair)), 0) if previous else 0
                    if pair in spoke or intimacy >= ACQUAINTED:
                        found.append(f"{where}: {speaker} meets {listener} 'for the first time' though they know each other")
            for _i, speaker, listener, _t in run:
                if listener and listener != speaker:
                    spoke.add(frozenset({speaker, listener}))
    return found
