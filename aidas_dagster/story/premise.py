"""Premise analysis: what a series config is about, read from its own words.

Deterministic and explainable keyword matching, no model: the config's title, genre, theme and
audience are cut into words (spaces and punctuation), each word's trailing particles and endings
are stripped (의 을 를 이 가 은 는 에 에서 으로 로 와 과 들 하는 한 적인 ...; a particle is only
taken off where Korean grammar allows it after that syllable, so 작가 keeps its 가 and 아이 its 이),
and the stems are matched against the story library: the settings' keywords and occupations and
the genres' words. Every conclusion records the config words that led to it, and `notes` says in
plain words what was decided and why (the bible stores the Premise, the log prints the notes).

No PyPI morphology library: matching curated data lists only needs particle stripping, and the
libraries that do more (kiwipiepy, konlpy) bring a large model or a JVM and may change their
analysis between versions, which would change every offline series.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story import library
from aidas_dagster.story.genres import genre_match
from aidas_dagster.story.library import GenreData, SettingData, StoryDataError
from aidas_dagster.story.models import Premise, PremiseMatch

# How much a keyword hit counts, by the config field it is in.
FIELD_WEIGHTS = {"title": 3.0, "theme": 3.0, "genre": 2.0, "audience": 1.0}
# A keyword found inside a longer word (법정 in 법정물) counts this much of a whole-word hit.
INSIDE_WORD = 0.5
# Occupations of a setting's roles point to it, a little less than its keywords.
OCCUPATION_WEIGHT = 0.6
# A setting is chosen only from a hit in the title, theme or genre, never from the audience alone.
CHOSEN_FIELDS = ("title", "theme", "genre")
# Below this a setting's hits are too thin to write a series in (one job word three settings share).
MIN_SCORE = 1.5
# The most settings a premise lists (best first).
MAX_SETTINGS = 3
# A genre that every config could be: loses to any other genre found in the same words.
GENERIC_GENRE = "drama"


class PremiseWords(BaseModel):
    """assets_data/story/premise.yaml: the analysis' own word lists."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stopwords: list[str] = Field(min_length=1)
    generic: list[str] = Field(min_length=1)
    role_words: list[str] = Field(min_length=1)
    role_modifiers: list[str] = Field(default_factory=list)
    role_suffixes: list[str] = Field(default_factory=list, description="endings that make a word a job: 지기, 꾼")
    tones: dict[str, str] = Field(default_factory=dict)
    places: dict[str, str] = Field(default_factory=dict, description="place word -> backdrop kind")


@functools.cache
def premise_words(root: Path = library.STORY_DATA_DIR) -> PremiseWords:
    path = root / "premise.yaml"
    try:
        return PremiseWords.model_validate(library.read_yaml(path))
    except ValidationError as exc:
        raise StoryDataError(path, library._problems(exc)) from exc


# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------

_SPLIT = re.compile(r"[\s,.!?·:;\"'“”‘’()\[\]{}<>/~…\-–—_+&|=*#]+")

# Particles and endings, longest first: (suffix, after which syllables, syllables that must remain,
# rank). Conditions: "final" after a closed syllable (사람이), "open" after an open one (변호사가),
# "open_l" open or ending in ㄹ (학교로, 서울로), "any" anywhere. Korean stacks them in one order,
# noun + 들 + case particle + delimiter (변호사들의, 응급실에서는), so each strip must have a lower
# rank than the one before: delimiter 3, case 2, plural 1; endings (적인, 한) rank 2.
_SUFFIXES: tuple[tuple[str, str, int, int], ...] = (
    ("으로서", "final", 1, 2), ("로서", "open_l", 1, 2), ("에게서", "any", 1, 2), ("이라는", "final", 1, 2),
    ("라는", "open", 1, 2), ("스러운", "any", 2, 2), ("에서", "any", 1, 2), ("에게", "any", 1, 2),
    ("한테", "any", 1, 2), ("까지", "any", 1, 3), ("부터", "any", 1, 3), ("처럼", "any", 1, 2),
    ("보다", "any", 1, 2), ("마저", "any", 1, 3), ("조차", "any", 1, 3), ("으로", "final", 1, 2),
    ("이나", "final", 1, 3), ("이란", "final", 1, 2), ("적인", "any", 2, 2),
    ("하는", "any", 2, 2), ("하던", "any", 2, 2), ("되는", "any", 2, 2), ("다운", "any", 2, 2),
    ("로", "open_l", 1, 2), ("과", "final", 1, 2), ("와", "open", 1, 2),
    ("을", "final", 1, 2), ("를", "open", 1, 2), ("은", "final", 1, 3), ("는", "open", 1, 3),
    ("이", "final", 1, 2), ("가", "open", 1, 2), ("의", "any", 1, 2), ("에", "any", 1, 2),
    ("도", "any", 1, 3), ("만", "any", 1, 3), ("들", "any", 1, 1), ("적", "any", 2, 2),
    ("한", "any", 2, 2), ("된", "any", 2, 2),
)  # fmt: skip
_ENDINGS = ("스러운", "적인", "하는", "하던", "되는", "다운", "적", "한", "된", "기")
# Auxiliary verbs after a verb's connective form (밝혀 가는, 버텨 내는).
_AUXILIARIES = {"가는", "가며", "간", "갈", "가다", "내는", "낸", "내며", "주는", "준", "보는", "본", "오는", "온",
                "나가는", "버린", "버리는", "두는", "가요", "냈다", "간다", "낸다"}  # fmt: skip
# Final syllables of words that describe or do (verbs, adjectives), not name: 앞둔, 외딴, 떠나고.
_VERBISH_END = re.compile(
    r"(는|은|던|운|둔|된|한|른|온|딴|낸|킨|린|쁜|픈|다|요|까|게|며|면|고|서|듯|도록|니|[려러져쳐겨]와"
    r"|[어아나여와워]간|[꺼라너어러]진|떠난|잃은|잊은|남은|(?<=[가-힣]{2})[할될])$"
)


def _hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def _final(ch: str) -> int:
    """종성 index of a Hangul syllable (0 = open syllable)."""
    return (ord(ch) - 0xAC00) % 28 if _hangul(ch) else 0


def _allowed(before: str, condition: str, suffix: str = "") -> bool:
    if not _hangul(before):
        return condition == "any"
    if suffix == "와" and before in "려러져쳐겨혀":
        return False  # 내려와, 찾아와: a verb, not "and"
    final = _final(before)
    if condition == "final":
        return final != 0
    if condition == "open":
        return final == 0
    if condition == "open_l":
        return final in (0, 8)
    return True


@dataclass(frozen=True)
class Token:
    """One word of the config: as written, its stem, every form met on the way, what was stripped."""

    surface: str
    stem: str
    forms: tuple[str, ...]
    stripped: tuple[str, ...] = ()
    field: str = ""
    index: int = 0

    @property
    def plural(self) -> bool:
        return "들" in self.stripped

    @property
    def particle(self) -> bool:
        """A particle or ending was taken off (the word ends a phrase)."""
        return bool(self.stripped)


def strip_word(word: str, known: frozenset[str] = frozenset()) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(stem, forms, stripped suffixes) of one word: trailing particles/endings taken off while
    Korean grammar allows them there; stops at a form that is a known word of the library."""
    forms = [word]
    stripped: list[str] = []
    current = word
    rank = 4
    for _ in range(3):
        if current in known or current.lower() in known:
            break
        for suffix, condition, min_left, suffix_rank in _SUFFIXES:
            if suffix_rank >= rank or not current.endswith(suffix) or len(current) - len(suffix) < min_left:
                continue
            rest = current[: -len(suffix)]
            if not _hangul(rest[-1]) and condition != "any":
                continue
            if _allowed(rest[-1], condition, suffix):
                current = rest
                forms.append(rest)
                stripped.append(suffix)
                rank = suffix_rank
                break
        else:
            break
    return current, tuple(forms), tuple(stripped)


def tokenize(text: str, known: frozenset[str] = frozenset(), field_name: str = "") -> list[Token]:
    """The words of `text` (split on spaces and punctuation), each with its stem."""
    words = [w for w in _SPLIT.split(text) if w]
    tokens = []
    for i, word in enumerate(words):
        stem, forms, stripped = strip_word(word, known)
        # 는/은 right before a bare word is the verb ending of 지키는 사람, not the topic marker.
        if stripped == ("는",) or stripped == ("은",):
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if nxt and stem not in known and not _VERBISH_END.search(strip_word(nxt, known)[0]):
                stem, forms, stripped = word, (word,), ()
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if word.endswith("기") and nxt in ("위해", "위한", "위해서"):
            stem, forms, stripped = word, (word,), ("기",)  # 들기 위해: a verb made noun, not a thing
        elif nxt in _AUXILIARIES and stem not in known:
            stem, forms, stripped = word, (word,), ("기",)  # 밝혀 가는, 버텨 내는: a verb
        tokens.append(Token(word, stem, forms, stripped, field_name, i))
    return tokens


def compact(text: str) -> str:
    """Lower case without spaces and punctuation: '의학 드라마' → '의학드라마'."""
    return _SPLIT.sub("", text.lower())


def is_noun(token: Token, known: frozenset[str], words: PremiseWords) -> bool:
    """A naming word: known to the library, or it lost a particle, or it does not end like a verb."""
    stem = token.stem
    if stem in words.stopwords or stem.lower() in words.stopwords:
        return False
    if stem in known:
        return True
    if not any(_hangul(c) for c in stem):
        return len(stem) >= 3 and stem.isalpha()
    if any(s in _ENDINGS for s in token.stripped):
        return False  # 깐깐한, 현실적인: describes a noun, is none
    if token.particle:
        return len(stem) >= 1
    return len(stem) >= 2 and not _VERBISH_END.search(stem)


# ---------------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------------


@dataclass
class _Hit:
    keyword: str
    field: str
    word: str  # the config word as written
    weight: float


@dataclass
class _Score:
    key: str
    score: float = 0.0
    hits: list[_Hit] = field(default_factory=list)

    def words(self) -> list[str]:
        return list(dict.fromkeys(h.keyword for h in self.hits))


def _find(keyword: str, tokens: list[Token]) -> tuple[str, float] | None:
    """(config word, strength) where `keyword` occurs in `tokens`: 1.0 as a whole word (or a run of
    words for a multi-word keyword), INSIDE_WORD inside a longer word, None if absent."""
    parts = keyword.lower().split()
    if not parts:
        return None
    if len(parts) > 1:
        for i in range(len(tokens) - len(parts) + 1):
            run = tokens[i : i + len(parts)]
            if all(p in {f.lower() for f in t.forms} for p, t in zip(parts, run)):
                return " ".join(t.surface for t in run), 1.0
        joined = "".join(parts)
    else:
        joined = parts[0]
    for t in tokens:
        if joined in {f.lower() for f in t.forms}:
            return t.surface, 1.0
    hangul_len = sum(_hangul(c) for c in joined)
    if hangul_len >= 2 or (hangul_len == 0 and len(joined) >= 4):
        for t in tokens:
            if joined in t.surface.lower():
                return t.surface, INSIDE_WORD
    return None


def _fields(config: SeriesConfig, known: frozenset[str]) -> dict[str, list[Token]]:
    return {
        "title": tokenize(config.title, known, "title"),
        "theme": tokenize(config.main_theme, known, "theme"),
        "genre": tokenize(config.genre, known, "genre"),
        "audience": tokenize(config.target_audience, known, "audience"),
    }


def _setting_terms(setting: SettingData) -> dict[str, float]:
    """Words that point to a setting and their base weight: keywords, then occupation words."""
    terms: dict[str, float] = {}
    for role in setting.roles:
        for occupation in role.occupations:
            words = occupation.split()
            for term in {occupation, words[-1]}:
                if sum(_hangul(c) for c in term) >= 2:
                    terms[term] = OCCUPATION_WEIGHT
    for kw in setting.keywords:
        terms[kw] = 1.0
    return terms


def score_settings(config: SeriesConfig, settings: Mapping[str, SettingData], known: frozenset[str]) -> list[_Score]:
    """Every setting with a hit, best first. A term shared by k settings counts 1/k (specificity)."""
    fields = _fields(config, known)
    terms = {key: _setting_terms(s) for key, s in settings.items()}
    spread: dict[str, int] = {}
    for ts in terms.values():
        for t in ts:
            spread[t.lower()] = spread.get(t.lower(), 0) + 1
    scores = []
    for key, ts in terms.items():
        sc = _Score(key)
        for term, base in ts.items():
            for field_name, tokens in fields.items():
                found = _find(term, tokens)
                if found is None:
                    continue
                word, strength = found
                weight = FIELD_WEIGHTS[field_name] * base * strength / spread[term.lower()]
                weight *= 1.0 + 0.15 * min(3, max(0, sum(_hangul(c) for c in term) - 2))  # longer = more specific
                sc.hits.append(_Hit(term, field_name, word, weight))
        # One config word counts once per field: its best-weighted term.
        best: dict[tuple[str, str], _Hit] = {}
        for h in sc.hits:
            k = (h.field, h.word)
            if k not in best or h.weight > best[k].weight:
                best[k] = h
        sc.hits = sorted(best.values(), key=lambda h: -h.weight)
        sc.score = round(sum(h.weight for h in sc.hits), 3)
        if any(h.field in CHOSEN_FIELDS for h in sc.hits) and sc.score >= MIN_SCORE:
            scores.append(sc)
    return sorted(scores, key=lambda s: (-s.score, s.key))


def genre_in(text: str, genres: Mapping[str, GenreData]) -> tuple[str, str] | None:
    """(genre key, matched word) for free genre text, as the writers' genre_match reads it (highest
    priority, then the longest word; blends such as 로맨스 + 코미디); None when no word matches."""
    key, found = genre_match(text, genres)
    return (key, max(found, key=len)) if found else None


def genre_in_tokens(tokens: list[Token], genres: Mapping[str, GenreData]) -> tuple[str, str] | None:
    """A genre named by a whole word of the title or theme (not inside a word: 사랑 is no genre there)."""
    for key, genre in sorted(genres.items(), key=lambda kv: -kv[1].priority):
        if key == GENERIC_GENRE:
            continue
        for word in sorted(genre.words, key=len, reverse=True):
            found = _find(word, tokens)
            if found and found[1] == 1.0:
                return key, word
    return None


# ---------------------------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------------------------


def _lexicon(settings: Mapping[str, SettingData], genres: Mapping[str, GenreData], words: PremiseWords) -> frozenset[str]:
    known: set[str] = set(words.role_words) | set(words.role_modifiers) | set(words.generic) | set(words.places)
    for s in settings.values():
        known |= set(s.keywords)
        for role in s.roles:
            for occupation in role.occupations:
                known |= {strip_word(w)[0] for w in occupation.split()}  # "세자의 호위무사" → 세자, 호위무사
    for g in genres.values():
        known |= {w for w in g.words if " " not in w}
    return frozenset(k for k in known if k)


def _roles(
    tokens: list[Token], setting: SettingData | None, words: PremiseWords
) -> list[tuple[PremiseMatch, bool, str]]:
    """The leads' roles named in the title/theme: (match, plural, head occupation word).
    A role is an occupation word with the config's own modifiers in front ("신참 변호사")."""
    heads: set[str] = set(words.role_words)
    if setting is not None:
        for role in setting.roles:
            if role.importance == "main":
                for occupation in role.occupations:
                    heads.add(occupation.split()[-1])
    heads -= set(words.role_modifiers) - set(words.role_words)
    found: list[tuple[PremiseMatch, bool, str]] = []
    seen: set[str] = set()
    i = 0
    while i < len(tokens):
        t = tokens[i]
        # a two-word role word ("아이돌 연습생") or a one-word one
        two = (
            f"{t.stem} {tokens[i + 1].stem}"
            if i + 1 < len(tokens) and not t.particle and tokens[i + 1].field == t.field
            else ""
        )
        if two and two in heads:
            head_tokens = [t, tokens[i + 1]]
        elif t.stem in heads and t.stem not in words.role_modifiers:
            head_tokens = [t]
        elif len(t.stem) >= 3 and t.stem.endswith(tuple(words.role_suffixes)):
            head_tokens = [t]  # 등대지기, 사냥꾼: a job the library does not list
        elif t.stem in heads and (
            i + 1 >= len(tokens)
            or t.particle
            or tokens[i + 1].field != t.field
            or (tokens[i + 1].stem not in heads and tokens[i + 1].stem not in words.role_modifiers)
        ):
            head_tokens = [t]  # a modifier word used alone as the role ("신입들의")
        else:
            i += 1
            continue
        start = i
        while (
            start > 0
            and not tokens[start - 1].particle
            and (tokens[start - 1].stem in words.role_modifiers or tokens[start - 1].stem in words.places)
            and tokens[start - 1].field == t.field
        ):
            start -= 1
        run = tokens[start:i] + head_tokens
        phrase = " ".join(x.stem for x in run)
        if phrase not in seen:
            seen.add(phrase)
            found.append((PremiseMatch(value=phrase, words=[x.surface for x in run]), head_tokens[-1].plural, head_tokens[-1].stem))
        i += len(head_tokens)
    return found


def _chunks(tokens: list[Token], known: frozenset[str], words: PremiseWords) -> list[list[Token]]:
    """Noun phrases of a text: runs of naming words, ended by a particle or a verb-like word."""
    chunks: list[list[Token]] = []
    run: list[Token] = []
    for t in tokens:
        naming = is_noun(t, known, words) or t.stem in ("첫", "새", "마지막", "두", "세", "옛")
        if not naming:
            if run:
                chunks.append(run)
            run = []
            continue
        run.append(t)
        if t.particle and not (t.stripped == ("의",) and len(run) < 3):  # 역모의 진실: one phrase
            chunks.append(run)
            run = []
    if run:
        chunks.append(run)
    return chunks


def central_conflict(
    theme_tokens: list[Token],
    role_words: set[str],
    known: frozenset[str],
    words: PremiseWords,
    places: frozenset[str] = frozenset(),
) -> tuple[str, list[str]]:
    """The thread the series turns on, in the theme's words: its first noun phrase that is not a role
    or a word every story has ("첫 재판을 앞둔 신참 변호사들의 성장" → "첫 재판")."""
    generic = set(words.generic) | set(words.stopwords)
    for chunk in _chunks(theme_tokens, known, words):
        while chunk and (chunk[0].stem in role_words or chunk[0].stem in words.role_modifiers):
            chunk = chunk[1:]  # "팀장의 좌충우돌 회사 생활": the role is not the conflict
        if not chunk or any(t.stem in role_words for t in chunk):
            continue
        stems = [t.stem for t in chunk]
        if stems[-1] in places or stems[-1] in words.places:
            continue  # 궁궐에 들어온: where the story is, not what it turns on
        content = [s for s in stems if s not in generic and sum(_hangul(c) for c in s) >= 2]
        if not content:
            continue  # 천 년, 첫 사랑: no word of its own
        genitive = [i for i, t in enumerate(chunk) if t.stripped == ("의",)]
        if len(chunk) > 2 and genitive and genitive[0] > 0:
            chunk = chunk[: genitive[0] + 1]  # 해체 위기의 여자 배구팀 → 해체 위기
            chunk[-1] = dataclasses.replace(chunk[-1], stripped=())
        chunk = chunk[-2:] if len(chunk) > 2 else chunk
        phrase = " ".join([t.surface if t.stripped == ("의",) else t.stem for t in chunk[:-1]] + [chunk[-1].stem])
        if sum(_hangul(c) for c in phrase) > 10:
            continue
        return phrase, [t.surface for t in chunk]
    return "", []


def analyse_premise(
    config: SeriesConfig,
    settings: Mapping[str, SettingData] | None = None,
    genres: Mapping[str, GenreData] | None = None,
    words: PremiseWords | None = None,
) -> Premise:
    """What the config is about: setting(s), genre, the leads' roles, the central conflict, tone,
    the config's own content words, and notes that say why (the config words that matched)."""
    settings = library.settings() if settings is None else settings
    genres = library.genres() if genres is None else genres
    words = premise_words() if words is None else words
    known = _lexicon(settings, genres, words)
    fields = _fields(config, known)
    notes: list[str] = []

    scores = score_settings(config, settings, known)[:MAX_SETTINGS]
    setting_matches = [PremiseMatch(value=s.key, words=s.words()) for s in scores]
    best = settings[scores[0].key] if scores else None
    if scores:
        for s in scores:
            hits = ", ".join(f"{h.word}→{h.keyword} ({h.field})" for h in s.hits[:6])
            notes.append(f"setting {s.key} scores {s.score:g}: {hits}")
        notes.append(f"setting: {scores[0].key} ({settings[scores[0].key].label})")
    else:
        notes.append("setting: none of the library's settings matches the title, theme or genre")

    # Genre: the config's genre words first, then the title/theme, then the setting's usual genre.
    found = genre_in(config.genre, genres) if genres else None
    if found:
        genre = PremiseMatch(value=found[0], words=[found[1]])
        notes.append(f"genre: {found[0]} from the genre words {config.genre!r} ({found[1]!r})")
    else:
        found = genre_in_tokens(fields["title"] + fields["theme"], genres)
        if found:
            genre = PremiseMatch(value=found[0], words=[found[1]])
            notes.append(f"genre: {config.genre!r} names no known genre; {found[0]} from the title/theme word {found[1]!r}")
        elif best is not None and best.genre_hint in genres:
            genre = PremiseMatch(value=best.genre_hint, words=[])
            notes.append(
                f"genre: {config.genre!r} names no known genre; {best.genre_hint}, the usual genre of setting {best.key}"
            )
        else:
            genre = PremiseMatch(value=GENERIC_GENRE, words=[])
            notes.append(f"genre: {config.genre!r} names no known genre and no setting matched; {GENERIC_GENRE}")

    text_tokens = fields["title"] + fields["theme"]
    roles = _roles(text_tokens, best, words)
    for match, plural, head in roles:
        notes.append(f"role: {match.value} from {' '.join(match.words)!r}" + (" (plural: both leads)" if plural else ""))
    role_stems = {w for m, _p, _h in roles for w in m.value.split()}

    places = frozenset(
        w for s in settings.values() for loc in s.locations for w in (loc.said, loc.said.split()[-1])
    )
    conflict, conflict_words = central_conflict(fields["theme"], role_stems, known, words, places)
    if conflict:
        notes.append(f"central conflict: {conflict!r} from the theme words {' '.join(conflict_words)!r}")
    else:
        notes.append("central conflict: the theme names no thread of its own; the setting's main conflict")

    tone_bits = [phrase for word, phrase in words.tones.items() if word in compact(config.title + config.main_theme + config.genre)]
    tone_bits = list(dict.fromkeys(tone_bits))
    template_tone = genres[genre.value].tone if genre.value in genres else ""
    tone = ", ".join(tone_bits + ([template_tone] if template_tone else []))
    if tone_bits:
        notes.append(f"tone: {', '.join(tone_bits)} (from the config's words)")

    nouns = [
        t.stem
        for t in fields["title"] + fields["theme"]
        if is_noun(t, known, words) and t.stem not in ("첫", "새", "마지막", "두", "세", "옛")
    ]
    nouns = list(dict.fromkeys(nouns))
    composed = best is None
    if composed:
        notes.append(f"composed from the config's own words: {', '.join(nouns) or '(none)'}")
    return Premise(
        settings=setting_matches,
        genre=genre,
        roles=[m for m, _p, _h in roles],
        conflict=conflict,
        tone=tone,
        nouns=nouns,
        composed_from_config=composed,
        notes=notes,
    )


def role_details(premise: Premise) -> list[tuple[str, bool]]:
    """(role phrase, plural) for each role of the premise: plural when the config wrote it with 들."""
    out = []
    for match in premise.roles:
        last = match.words[-1] if match.words else ""
        out.append((match.value, "들" in strip_word(last)[2]))
    return out
