"""The composer: the story world of one series, put together from the premise.

A setting of the library (or a built-in world, or — when the premise matches no setting — the
config's own words) × a genre × the config's nouns give the `StoryWorld` the offline writer writes
from: a named cast with occupations, homes, speech and work; addresses and relations; the main
conflict built around the config's theme; the threads, subplots and titles in a series-specific
subset and order; the places with the kinds the picture stage draws; props and atmospheres; and the
setting's own lines merged into the writer's line library.

Every choice is seeded by series id and title, so the same config always composes the same world
(the bible, the roster and every script recompute it from `bible.config` instead of storing it:
the bible stays the contract it is for the OpenAI writer and the later stages, and a world is a
few milliseconds to compose) and two configs in one setting get different stories. A built-in
world (`config.world`) goes through the same builder, but keeps its fixed names and takes its first
alternative everywhere, so the sample series keep their story.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aidas_dagster.core.config import SeriesConfig
from aidas_dagster.story import library, premise as premise_mod
from aidas_dagster.story.genres import TEMPLATES, GenreTemplate, template_from_data
from aidas_dagster.story.korean import josa, speech_only
from aidas_dagster.story.library import GenreData, LocationData, SettingData, StoryDataError
from aidas_dagster.story.lines import CLIFF_LINES, LINES
from aidas_dagster.story.models import Location, Premise, SeriesBible
from aidas_dagster.story.moves import PAIRED
from aidas_dagster.story.world import (
    AddressSpec,
    age_group,
    CastSpec,
    ConflictSpec,
    RelationSpec,
    StoryWorld,
    SubplotSpec,
)

COMPOSED = "composed"  # StoryWorld.key of a world composed from the config's own words
DEFAULT_CLIFFHANGERS = ("위기 발생", "비밀 발각", "선택의 기로", "예상치 못한 등장")
HISTORICAL_SETTINGS = ("palace",)  # settings whose people have 사극-era names
TIERS = ("main", "major_supporting", "supporting", "minor")
# Episode threads a composed series keeps (of the setting's 12-16): enough to never run dry.
MIN_THREADS, MAX_THREADS = 9, 12
NOUN_TITLES = 2  # episode titles built from the config's own words


# ---------------------------------------------------------------------------------------------
# Data: names and the material of a premise outside the library
# ---------------------------------------------------------------------------------------------


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _GenderNames(_Data):
    male: list[str] = Field(min_length=10)
    female: list[str] = Field(min_length=10)


class _ModernNames(_GenderNames):
    older_male: list[str] = Field(min_length=5)
    older_female: list[str] = Field(min_length=5)


class NamesData(_Data):
    """assets_data/story/names.yaml."""

    surnames: list[str] = Field(min_length=10)
    modern: _ModernNames
    historical: _GenderNames


class _Workplace(_Data):
    name: str
    said: str
    kind: str


class ComposedData(_Data):
    """assets_data/story/composed.yaml: a SettingData template with <w> <n1> ... slots."""

    workplaces: list[_Workplace] = Field(min_length=1)
    noun_titles: list[str] = Field(min_length=NOUN_TITLES)
    modern_words: list[str] = Field(min_length=1, description="words a 사극 never says")
    setting: dict


def _load(path: Path, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(library.read_yaml(path))
    except ValidationError as exc:
        raise StoryDataError(path, library._problems(exc)) from exc


@functools.cache
def names_data(root: Path = library.STORY_DATA_DIR) -> NamesData:
    return _load(root / "names.yaml", NamesData)  # type: ignore[return-value]


@functools.cache
def composed_data(root: Path = library.STORY_DATA_DIR) -> ComposedData:
    return _load(root / "composed.yaml", ComposedData)  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Korean text
# ---------------------------------------------------------------------------------------------

_BRACE = re.compile(r"\{(\w+)(?:\|([^}]*))?\}")
_ANGLE = re.compile(r"<(\w+)(?:\|([^>]*))?>")


def fill_known(text: str, values: Mapping[str, str], pattern: re.Pattern[str] = _BRACE) -> str:
    """Replace the placeholders whose key is in `values` (particle after a bar chosen for the word);
    leave the others for the writer (role keys it fills with names at writing time)."""

    def sub(m: re.Match[str]) -> str:
        key, forms = m.group(1), m.group(2)
        if key not in values:
            return m.group(0)
        return josa(values[key], forms) if forms else values[key]

    return pattern.sub(sub, text)


def theme_phrase(theme: str) -> str:
    """The theme as a noun phrase a particle can follow: a question or a sentence is quoted
    ("우리는 다시 사랑할 수 있을까" → "'우리는 다시 사랑할 수 있을까'라는 물음")."""
    t = theme.strip().rstrip(".")
    if not any(c.isalnum() for c in t):
        return "이 이야기"
    if t.endswith("?") or re.search(r"(까|다|요|죠|네)$", t):
        return f"'{t.rstrip('?')}'라는 물음" if t.endswith(("?", "까")) else f"'{t}'라는 이야기"
    return t


# ---------------------------------------------------------------------------------------------
# The composition
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Composition:
    """Everything the offline writer needs that the config's premise decides."""

    world: StoryWorld
    template: GenreTemplate
    premise: Premise
    setting: str  # library setting key; '' for a built-in world or a composed premise
    locations: tuple[Location, ...]
    lines: dict[str, tuple[str, tuple[str, ...]]]  # the writer's line library for this series
    cliff_lines: dict[str, tuple[str, tuple[str, ...]]]
    atmospheres: tuple[str, ...]
    atmosphere_share: float  # how many scenes take the setting's own atmospheres
    genre_label: str
    notes: tuple[str, ...]


def _template(key: str, genres: Mapping[str, GenreData]) -> GenreTemplate:
    if key in TEMPLATES:
        return TEMPLATES[key]
    if key in genres:
        return template_from_data(genres[key])
    return TEMPLATES["drama"]


class _Names:
    """Draws full names: unique given names, a family's surname, era-appropriate pools."""

    def __init__(self, data: NamesData, rng: random.Random, historical: bool, taken: set[str]):
        self.data, self.rng, self.historical = data, rng, historical
        self.given_taken = set(taken)

    def surname(self) -> str:
        s = self.data.surnames
        return s[int(len(s) * self.rng.random() ** 2)]  # common surnames more often

    def given(self, gender: str, age: int) -> str:
        if self.historical:
            pool = self.data.historical.male if gender == "male" else self.data.historical.female
        elif age >= 50:
            pool = self.data.modern.older_male if gender == "male" else self.data.modern.older_female
        else:
            pool = self.data.modern.male if gender == "male" else self.data.modern.female
        fresh = [g for g in pool if g not in self.given_taken]
        if not fresh:  # every name of the pool is in use: fall back to the whole modern pool
            fresh = [g for g in self.data.modern.male + self.data.modern.female if g not in self.given_taken]
        name = self.rng.choice(fresh)
        self.given_taken.add(name)
        return name


def _pick(rng: random.Random, items: list, fixed: bool):
    return items[0] if fixed else rng.choice(items)


def _sample(rng: random.Random, items: list, k: int, fixed: bool) -> list:
    k = min(k, len(items))
    return list(items[:k]) if fixed else rng.sample(items, k)


def _of_the_era(table: Mapping[str, tuple[str, tuple[str, ...]]], modern: re.Pattern[str]) -> dict:
    """The general lines a 사극 can say: none with 커피, 연락, 주말 ... A paired move loses an opener
    and its reply together (the i-th reply answers the i-th opener); a move left empty keeps its lines."""
    out = dict(table)
    for move, reply in PAIRED.items():
        if move in table and reply in table:
            pairs = [(o, r) for o, r in zip(table[move][1], table[reply][1]) if not (modern.search(o) or modern.search(r))]
            if pairs:
                out[move] = (table[move][0], tuple(o for o, _r in pairs))
                out[reply] = (table[reply][0], tuple(r for _o, r in pairs))
    paired = set(PAIRED) | set(PAIRED.values())
    for move, (emotion, texts) in table.items():
        if move not in paired:
            kept = tuple(t for t in texts if not modern.search(t))
            out[move] = (emotion, kept or texts)
    return out


def _ages_meet(a: tuple[int, int], b: tuple[int, int], slack: int = 3) -> bool:
    """Two age ranges overlap, give or take `slack` years."""
    return a[0] - slack <= b[1] and b[0] - slack <= a[1]


def _keys(text: str) -> set[str]:
    return {key for key, _forms in _BRACE.findall(text)}


def _fits(line: str, general: tuple[str, ...]) -> bool:
    """`line` holds every placeholder that all `general` lines of its move hold."""
    if not general:
        return True
    needed = set.intersection(*(_keys(t) for t in general))
    return needed <= _keys(line)


def _overlap(text: str, nouns: list[str]) -> int:
    return sum(1 for n in nouns if len(n) >= 2 and n in text)


class _Builder:
    def __init__(
        self,
        config: SeriesConfig,
        premise: Premise,
        setting: SettingData,
        genre: GenreData | None,
        names: NamesData,
        fixed: bool,
        words: premise_mod.PremiseWords,
        root: Path = library.STORY_DATA_DIR,
    ):
        self.config, self.premise, self.setting, self.genre = config, premise, setting, genre
        self.root = root
        self.fixed = fixed
        self.rng = random.Random(f"{config.series_id}:{config.title}:compose")
        self.words = words
        self.notes: list[str] = []
        self.historical = setting.key in HISTORICAL_SETTINGS or premise.genre.value == "historical"
        self.names = names
        self.given: dict[str, str] = {}
        generic = set(words.generic) | set(words.stopwords)
        role_words = {w for m in premise.roles for w in m.value.split()}
        self.specific = [n for n in premise.nouns if n not in generic and n not in role_words] or list(premise.nouns)

    # -- people -------------------------------------------------------------------------------

    def _lead_jobs(self) -> dict[str, str]:
        """Role key -> the occupation the config gives it ("신참 변호사"). The config's roles are its
        protagonists: each goes to a lead who can hold it, else to a free lead, unless only a
        supporting role of another age holds that job in the setting ("새 감독" is the team's coach,
        not a 26-year-old lead); then that role takes the config's words."""
        roles = {r.key: r for r in self.setting.roles}
        leads = [r.key for r in self.setting.roles if r.importance == "main"]
        jobs: dict[str, str] = {}
        for phrase, plural in premise_mod.role_details(self.premise):
            head = phrase.split()[-1]
            able = [k for k, r in roles.items() if any(head in o for o in r.occupations)]
            able_leads = [k for k in leads if k in able]
            free = [k for k in ("lead_f", "lead_m") if k in leads and k not in jobs]
            others = [k for k in able if k not in leads and k not in jobs]
            if plural:  # 레지던트들: every lead who can be one (both when neither is written as one)
                targets = able_leads or leads
            elif able_leads:
                targets = [k for k in able_leads if k not in jobs][:1] or free[:1]
            elif others and free and not _ages_meet(roles[others[0]].age, roles[free[0]].age):
                targets = others[:1]
            else:
                targets = free[:1] or others[:1]
            for key in targets:
                jobs.setdefault(key, phrase)
        for key, job in jobs.items():
            self.notes.append(f"{key} is {job} (the config's own words)")
        return jobs

    def cast(self) -> tuple[CastSpec, ...]:
        roles = list(self.setting.roles)
        if not self.fixed:
            roles.sort(key=lambda r: TIERS.index(r.importance))
        ages = {r.key: (r.age[0] if self.fixed else self.rng.randint(*r.age)) for r in roles}
        taken = {r.given or r.name[1:] for r in roles if r.name}
        drawer = _Names(self.names, self.rng, self.historical, taken)
        # A family shares the surname of its oldest man; a woman of his generation keeps her own.
        family_surname: dict[str, str] = {}
        full: dict[str, tuple[str, str]] = {}
        for r in sorted(roles, key=lambda r: -ages[r.key]):
            if r.name:
                full[r.key] = (r.name, r.given or r.name[1:])
                continue
            given = drawer.given(r.gender, ages[r.key])
            fam = r.family
            if fam and fam in family_surname and not (
                r.gender == "female" and self._spouse_generation(r.key, fam, roles, ages)
            ):
                surname = family_surname[fam]
            else:
                surname = drawer.surname()
                if fam and fam not in family_surname and r.gender == "male":
                    family_surname[fam] = surname
            full[r.key] = (surname + given, given)
        self.given = {k: g for k, (_n, g) in full.items()}
        jobs = {} if self.fixed else self._lead_jobs()
        cast = []
        for r in roles:
            name, given = full[r.key]
            age = ages[r.key]
            occupation = jobs.get(r.key) or _pick(self.rng, r.occupations, self.fixed)
            home = self.place(r.home)
            cast.append(
                CastSpec(
                    key=r.key,
                    name=name,
                    given=given,
                    role=self.text(r.role),
                    importance=r.importance,
                    gender=r.gender,
                    age=age,
                    occupation=occupation,
                    personality=tuple(_sample(self.rng, r.personality, 3, self.fixed)),
                    background=self.text(_pick(self.rng, r.backgrounds, self.fixed), names=True),
                    goals=tuple(self.text(g, names=True) for g in _sample(self.rng, r.goals, 2, self.fixed)),
                    secrets=tuple(
                        self.text(s, names=True) for s in (r.secrets if self.fixed else _sample(self.rng, r.secrets, 1, False))
                    ),
                    speech_style=self._speech(r),
                    age_group=r.age_group or age_group(age),
                    tone=r.voice_tone,
                    speaking_style=r.speaking_style,
                    home=home.name,
                    home_short=home.said,
                    work=self.text(_pick(self.rng, r.work, self.fixed)),
                    title=self.text(r.title, names=True),
                    family=r.family,
                    tics=tuple(r.tics),
                    detective=r.detective,
                )
            )
        return tuple(cast)

    def _speech(self, role) -> str:
        """The role's speech style, with the exceptions its addresses make ("준서에게는 반말"): a style
        that names one level for everyone would contradict an address written in the other."""
        only = speech_only(role.speech_style)
        if only is None:
            return role.speech_style
        other = []
        for a in self.setting.addresses:
            if a.speaker != role.key or a.listener not in self.given:
                continue
            levels = {a.banmal} | ({a.close_banmal} if a.close_at <= 100 else set())
            if (only == "polite" and True in levels) or (only == "banmal" and False in levels):
                other.append(self.given[a.listener])
        if not other:
            return role.speech_style
        level = "반말" if only == "polite" else "존댓말"
        self.notes.append(f"{role.key}: speaks {level} to {', '.join(other)} as its addresses say")
        return f"{role.speech_style}, {'·'.join(other)}에게는 {level}"

    @staticmethod
    def _spouse_generation(key: str, fam: str, roles: list, ages: dict[str, int]) -> bool:
        """A woman of the family's parent generation: someone in the family is 18+ years younger."""
        members = [r.key for r in roles if r.family == fam]
        return any(ages[key] - ages[m] >= 18 for m in members)

    # -- text ---------------------------------------------------------------------------------

    @functools.cached_property
    def institution(self) -> str:
        return _pick(self.rng, self.setting.institutions, self.fixed)

    @functools.cached_property
    def text_values(self) -> dict[str, str]:
        c = self.config
        label = self.genre.label if self.genre is not None else c.genre
        return {
            "title": c.title,
            "theme": theme_phrase(c.main_theme),
            "episodes": str(c.total_episodes),
            "genre": label,
            "institution": self.institution,
            "audience": c.target_audience,
        }

    def text(self, text: str, names: bool = False) -> str:
        """Fill the series' text placeholders; with `names`, the cast's given names too."""
        values = dict(self.text_values)
        if names:
            values.update(self.given)
        return fill_known(text, values)

    def place(self, loc: LocationData) -> Location:
        return Location(name=self.text(loc.name, names=True), said=self.text(loc.said, names=True), kind=loc.kind)

    # -- story --------------------------------------------------------------------------------

    def _conflict(self, c) -> ConflictSpec:
        return ConflictSpec(c.keyword, self.text(c.description), tuple(c.chars), self.text(c.resolution))

    def main_conflict(self) -> ConflictSpec:
        alts = list(self.setting.main_conflicts)
        if self.fixed:
            return self._conflict(alts[0])
        scored = sorted(
            alts, key=lambda c: -_overlap(c.keyword + c.description, self.premise.nouns + [self.config.main_theme])
        )
        best = scored[0] if _overlap(scored[0].keyword + scored[0].description, self.premise.nouns) else None
        alt = best or self.rng.choice(alts)
        spec = self._conflict(alt)
        keyword = self.premise.conflict or spec.keyword
        if keyword != spec.keyword:
            self.notes.append(f"main conflict {keyword!r} (the theme's words) on the setting's spine {alt.keyword!r}")
        description = spec.description.rstrip(".")
        if keyword != spec.keyword:
            stake = fill_known("{theme|이/가} 여기에 달려 있다", {"theme": theme_phrase(self.config.main_theme)})
            description = f"{description}. {stake}"
        return ConflictSpec(keyword, description, spec.chars, spec.resolution)

    def conflicts(self, main: ConflictSpec) -> tuple[ConflictSpec, ...]:
        pool = [c for c in self.setting.conflicts if c.keyword != main.keyword]
        if self.fixed:
            return tuple(self._conflict(c) for c in pool)
        k = min(len(pool), self.rng.randint(MIN_THREADS, MAX_THREADS))
        chosen = self.rng.sample(pool, k)
        # Threads that share the config's words come first: the series opens on its premise.
        chosen.sort(key=lambda c: -_overlap(c.keyword + c.description, self.specific))
        return tuple(self._conflict(c) for c in chosen)

    def subplots(self) -> tuple[SubplotSpec, ...]:
        chosen = _sample(self.rng, list(self.setting.subplots), 3, self.fixed)
        return tuple(SubplotSpec(self.text(s.title, names=True), tuple(s.chars), self.text(s.description)) for s in chosen)

    def titles(self, noun_titles: list[str]) -> tuple[str, ...]:
        titles = list(self.setting.titles)
        if self.fixed:
            return tuple(titles)
        self.rng.shuffle(titles)
        nouns = self.specific[:2] or list(self.premise.nouns[:2])
        if nouns and noun_titles:
            values = {"n1": nouns[0], "n2": nouns[-1], "w": nouns[0]}
            own = [fill_known(t, values, _ANGLE) for t in self.rng.sample(noun_titles, min(NOUN_TITLES, len(noun_titles)))]
            own = [t for t in own if t not in titles and "<" not in t]
            for i, t in enumerate(own):
                titles.insert(min(len(titles), i * 6), t)  # episode 1, 7, ...
        return tuple(titles)

    def logline(self) -> str:
        text = _pick(self.rng, list(self.setting.loglines), self.fixed)
        return self.text(text, names=True)

    def addresses(self) -> tuple[AddressSpec, ...]:
        out = []
        for a in self.setting.addresses:
            out.append(
                AddressSpec(
                    a.speaker,
                    a.listener,
                    self.text(a.vocative, names=True),
                    self.text(a.reference, names=True),
                    a.banmal,
                    a.close_at,
                    self.text(a.close_vocative, names=True),
                    self.text(a.close_reference, names=True),
                    a.close_banmal,
                )
            )
        return tuple(out)

    def relations(self) -> tuple[RelationSpec, ...]:
        return tuple(RelationSpec(r.a, r.b, r.type, r.intimacy, self.text(r.arc, names=True)) for r in self.setting.relations)

    @functools.cached_property
    def modern(self) -> re.Pattern[str]:
        words = composed_data(self.root).modern_words
        return re.compile(r"(?<![가-힣])(?:" + "|".join(re.escape(w) for w in words) + ")")

    def lines(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The general line library with the setting's lines in front; a paired move's openers and
        replies are put in front together, so the i-th reply still answers the i-th opener.

        A setting line joins a move only if it holds every placeholder all the move's general lines
        hold: the writer relies on them (a thread is kept alive by a `recall` that says {K})."""
        merged = _of_the_era(LINES, self.modern) if self.historical else dict(LINES)
        dropped = 0
        for move, texts in self.setting.lines.items():
            if move in merged:
                emotion, general = merged[move]
                fit = tuple(t for t in texts if _fits(t, general))
                dropped += len(texts) - len(fit)
                merged[move] = (emotion, fit + tuple(t for t in general if t not in fit))
        for move, pairs in self.setting.exchanges.items():
            reply = PAIRED.get(move)
            if move not in merged or reply not in merged:
                continue
            (oe, openers), (re_, replies) = merged[move], merged[reply]
            fit = [(o, r) for o, r in pairs if _fits(o, openers) and _fits(r, replies)]
            dropped += len(pairs) - len(fit)
            merged[move] = (oe, tuple(o for o, _r in fit) + openers)
            merged[reply] = (re_, tuple(r for _o, r in fit) + replies)
        if dropped:
            self.notes.append(f"{dropped} line(s) of setting {self.setting.key} left out: they lack a placeholder the move needs")
        return merged


def _composed_setting(config: SeriesConfig, premise: Premise, root: Path, words: premise_mod.PremiseWords) -> tuple[SettingData, list[str]]:
    """The composed.yaml template filled with the config's own words, validated as a setting."""
    data = composed_data(root)
    generic = set(words.generic) | set(words.stopwords)
    role_words = {w for m in premise.roles for w in m.value.split()}
    nouns = [n for n in premise.nouns if n not in generic and n not in role_words and len(n) >= 1]
    places = [n for n in premise.nouns if n in words.places]
    rng = random.Random(f"{config.series_id}:{config.title}:composed")
    n1 = nouns[0] if nouns else (premise.nouns[0] if premise.nouns else config.title.split()[0])
    n2 = nouns[1] if len(nouns) > 1 else n1
    if places:
        w, w_kind = places[0], words.places[places[0]]
        # a place named after a person's job: "등대" for "등대지기" is better than "섬"
        for p in places:
            if any(n.startswith(p) and n != p for n in premise.nouns):
                w, w_kind = p, words.places[p]
                break
    else:
        wp = rng.choice(data.workplaces)
        w, w_kind = fill_known(wp.name, {"n": n1}, _ANGLE), wp.kind
    other = [p for p in places if p != w]
    place, place_kind = (other[0], words.places[other[0]]) if other else (f"{w} 앞 골목", "alley")
    job = premise.roles[0].value if premise.roles else f"{w} 직원"
    values = {"w": w, "place": place, "n1": n1, "n2": n2, "job": job, "w_kind": w_kind, "place_kind": place_kind}

    def fill_all(node):
        if isinstance(node, str):
            return fill_known(node, values, _ANGLE)
        if isinstance(node, list):
            return [fill_all(x) for x in node]
        if isinstance(node, dict):
            return {k: fill_all(v) for k, v in node.items()}
        return node

    filled = fill_all(data.setting)
    # The second place is the workplace itself when the config names only one: keep places unique.
    seen: set[str] = set()
    filled["locations"] = [loc for loc in filled["locations"] if not (loc["name"] in seen or seen.add(loc["name"]))]
    try:
        setting = SettingData.model_validate(filled)
    except ValidationError as exc:
        raise StoryDataError(root / "composed.yaml", library._problems(exc)) from exc
    notes = [f"composed from the config's own words: workplace {w!r} ({w_kind}), words {', '.join(nouns) or n1}, leads: {job}"]
    return setting, notes


@functools.lru_cache(maxsize=64)
def _compose_cached(config_json: str, premise_json: str, root: str) -> Composition:
    config = SeriesConfig.model_validate_json(config_json)
    premise = Premise.model_validate_json(premise_json)
    return _compose(config, premise, Path(root))


def compose(config: SeriesConfig, premise: Premise | None = None, root: Path = library.STORY_DATA_DIR) -> Composition:
    """The composition of a config (deterministic; cached per config and premise)."""
    if premise is None:
        premise = analyse(config, root)
    return _compose_cached(config.model_dump_json(), premise.model_dump_json(), str(root))


def analyse(config: SeriesConfig, root: Path = library.STORY_DATA_DIR) -> Premise:
    return premise_mod.analyse_premise(
        config, library.settings(root), library.genres(root), premise_mod.premise_words(root)
    )


def _compose(config: SeriesConfig, premise: Premise, root: Path) -> Composition:
    genres = library.genres(root)
    words = premise_mod.premise_words(root)
    genre = genres.get(premise.genre.value)
    notes: list[str] = []
    if config.world:
        setting, fixed, setting_key = library.world_data(config.world, root), True, ""
        notes.append(f"built-in world {config.world} (config.world), with its fixed cast")
    elif premise.settings:
        setting, fixed, setting_key = library.settings(root)[premise.settings[0].value], False, premise.settings[0].value
        notes.append(f"composed in setting {setting.key} ({setting.label})")
    else:
        setting, composed_notes = _composed_setting(config, premise, root, words)
        fixed, setting_key = False, ""
        notes += composed_notes
    b = _Builder(config, premise, setting, genre, names_data(root), fixed, words, root)
    cast = b.cast()
    main = b.main_conflict()
    world = StoryWorld(
        key=config.world or setting_key or COMPOSED,
        logline=b.logline(),
        main_conflict=main,
        cast=cast,
        addresses=b.addresses(),
        relations=b.relations(),
        conflicts=b.conflicts(main),
        subplots=b.subplots(),
        titles=b.titles(composed_data(root).noun_titles if not fixed else []),
        places=tuple((b.place(loc).name, b.place(loc).said) for loc in setting.locations),
        objects=tuple(setting.props),
        cliffhangers=tuple(setting.cliffhangers or (genre.cliffhangers if genre else DEFAULT_CLIFFHANGERS)),
        lead_pair_type=setting.lead_pair_type,
        place_kinds={},
    )
    locations: dict[str, Location] = {}
    for loc in setting.locations:
        placed = b.place(loc)
        locations.setdefault(placed.name, placed)
    for r in setting.roles:
        placed = b.place(r.home)
        locations.setdefault(placed.name, placed)
    notes += b.notes
    world = dataclasses.replace(world, place_kinds={loc.name: loc.kind for loc in locations.values()})
    return Composition(
        world=world,
        template=_template(premise.genre.value, genres),
        premise=premise,
        setting=setting_key,
        locations=tuple(locations.values()),
        lines=b.lines(),
        cliff_lines=_of_the_era(CLIFF_LINES, b.modern) if b.historical else dict(CLIFF_LINES),
        atmospheres=tuple(setting.atmospheres),
        atmosphere_share=1.0 if b.historical else 0.5,
        genre_label=genre.label if genre else config.genre,
        notes=tuple(notes),
    )


def composition_of(bible: SeriesBible) -> Composition:
    """The composition a bible was written from, recomputed from its config and premise."""
    return compose(bible.config, bible.premise)


def world_of(bible: SeriesBible) -> tuple[GenreTemplate, StoryWorld]:
    comp = composition_of(bible)
    return comp.template, comp.world
