"""The story library: settings and genres the offline writers' room composes a series from.

The content lives as YAML under `assets_data/story/` (one file per setting or genre); this module
only says what a file must hold and loads it. Every file is validated completely on load: a bad
file raises `StoryDataError` naming the file and each offending field, before anything is written.

Korean text may hold placeholders. In setting text (loglines, conflicts, subplots, beats):
`{lead_m}`, `{rival}`, ... a role's given name (any role key of the setting), `{title}` the
series title, `{theme}` the config's main theme, `{episodes}` the episode count, `{genre}` the
config's genre words, `{institution}` the setting's institution as chosen for the series, and a
particle after a bar: `{lead_m|이/가}`, `{theme|을/를}`. In lines: the line placeholders of
`LINE_PLACEHOLDERS` (see the writer): {L} the listener as called, {you}/{your}, {T} a third person,
{K} the thread talked about, {P} the place as said, {O} a prop, {W}/{LW} what the speaker/listener
is busy with, {X} a recent resolved thread; a line may start with `@emotion `.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aidas_dagster.core.config import FileProblems
from aidas_dagster.story.place_kinds import BACKDROP_KINDS

STORY_DATA_DIR = Path(__file__).resolve().parents[2] / "assets_data" / "story"

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "shy", "worried", "excited", "calm", "tense")
# Openers whose reply is written line for line with them (setting data gives them as pairs).
PAIRED_MOVES = (
    "greet", "smalltalk", "work", "tease", "first_meeting", "spat", "flirt", "jealousy", "gag",
    "misunderstanding",
)  # fmt: skip
# Every other move the writer knows; setting lines for these are single lines.
SINGLE_MOVES = (
    "recall", "recall_reply", "worry", "comfort", "argue", "defend", "apologize", "forgive", "resolve",
    "resolve_reply", "reveal", "shock", "decide", "gossip", "gossip_reply", "advice", "advice_reply",
    "callback", "plan", "family_nag", "family_reply", "secret_hint", "secret_reply", "confession_lead",
    "confession_lead_reply", "confession", "confession_reply", "crisis", "crisis_reply", "reunion",
    "suspicion", "suspicion_reply", "clue", "clue_reply", "twist", "twist_reply", "interrogate", "alibi",
    "threat", "threat_reply",
)  # fmt: skip
LINE_PLACEHOLDERS = ("L", "you", "your", "T", "K", "N", "R", "KS", "P", "O", "W", "LW", "X")
TEXT_PLACEHOLDERS = ("title", "theme", "episodes", "genre", "institution", "audience")

_PLACEHOLDER = re.compile(r"\{(\w+)(?:\|[^}]*)?\}")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: ~10x faster


class StoryDataError(FileProblems):
    """A story data file that cannot be used."""

    what = "story data"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocationData(_Data):
    name: str = Field(min_length=1, description="as scene headings write it: '한빛대학병원 응급실'")
    said: str = Field(min_length=1, description="as characters say it: '응급실'")
    kind: str = Field(description="kind of place the picture stage draws (story.place_kinds)")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        if kind not in BACKDROP_KINDS:
            raise ValueError(f"unknown backdrop kind {kind!r}; one of: {', '.join(BACKDROP_KINDS)}")
        return kind


class RoleData(_Data):
    """One member of the cast as the setting needs them; the composer picks among the alternatives."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="lead_m and lead_f are the two leads")
    role: str = Field(min_length=1, description="the role in the story: '주인공(여)', '수간호사', '라이벌'")
    name: str = Field(default="", description="fixed full name (built-in worlds); '' → the composer names them")
    given: str = Field(default="", description="what friends call them when `name` is fixed: '수진'")
    importance: Literal["main", "major_supporting", "supporting", "minor"]
    gender: Literal["male", "female"]
    age: tuple[int, int] = Field(description="youngest and oldest age the composer may choose")
    occupations: list[str] = Field(min_length=1, description="alternatives: '응급의학과 1년차 레지던트'")
    personality: list[str] = Field(min_length=3, description="pool; the composer picks three")
    backgrounds: list[str] = Field(min_length=1)
    goals: list[str] = Field(min_length=2)
    secrets: list[str] = Field(min_length=1)
    speech_style: str = Field(min_length=1, description="존댓말/반말 habits, tone")
    home: LocationData = Field(description="where they are usually found")
    work: list[str] = Field(min_length=1, description="what keeps them busy, as said in dialogue: '첫 당직'")
    title: str = Field(default="", description="how people outside their circle address them; '' → name + 씨")
    family: str = Field(default="", description="family group key; members address each other as family")
    tics: list[str] = Field(default_factory=list, description="interjections that open some lines: '아이고,'")
    detective: bool = Field(default=False, description="asks the questions in investigation scenes")
    voice_tone: str = Field(
        default="warm", pattern=r"^[a-z_]+$", description="one English word for the voice: warm, soft, husky, ..."
    )
    # How they speak; sets the offline voice's pace (voice.casting.STYLE_RATE).
    speaking_style: Literal[
        "confident", "thoughtful", "articulate", "energetic", "calculating", "calm", "nervous", "blunt",
        "assertive", "formal", "casual", "gentle", "shy",
    ] = "confident"  # fmt: skip
    age_group: Literal["young", "young_adult", "adult", "middle_age", "senior"] | None = Field(
        default=None, description="voice age band; none → from the age chosen"
    )

    @model_validator(mode="after")
    def _ages(self) -> RoleData:
        low, high = self.age
        if not 6 <= low <= high <= 90:
            raise ValueError(f"age: [{low}, {high}] must be two ages 6-90, youngest first")
        return self


class AddressData(_Data):
    """How `speaker` addresses `listener`; from `close_at` intimacy on, the close form."""

    speaker: str
    listener: str
    vocative: str = Field(description="'{lead_f} 씨', '선배', '과장님': role keys allowed as placeholders")
    reference: str
    banmal: bool
    close_at: int = Field(default=101, ge=0, le=101)
    close_vocative: str = ""
    close_reference: str = ""
    close_banmal: bool = True


class RelationData(_Data):
    a: str
    b: str
    type: str = Field(min_length=1, description="'선후배', '연인 후보', '라이벌'")
    intimacy: int = Field(ge=0, le=100)
    arc: str = Field(min_length=1, description="how the relation changes over the series")


class ConflictData(_Data):
    keyword: str = Field(min_length=1, description="noun phrase said in dialogue, also the thread key: '의료 사고'")
    description: str = Field(min_length=1)
    chars: list[str] = Field(min_length=1, description="role keys involved")
    resolution: str = Field(min_length=1, description="how it is (partly) resolved")


class SubplotData(_Data):
    title: str = Field(min_length=1)
    chars: list[str] = Field(min_length=2)
    description: str = Field(min_length=1)


class SettingData(_Data):
    """A kind of world Korean web dramas are set in: its people, places, troubles and talk."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the file's stem")
    label: str = Field(min_length=1, description="'병원·응급실'")
    keywords: list[str] = Field(min_length=5, description="config words that point here: '응급실', '레지던트'")
    genre_hint: str = Field(description="genre key used when the config's genre word is unknown")
    institutions: list[str] = Field(min_length=2, description="name alternatives: '한빛대학병원'")
    vocabulary: list[str] = Field(min_length=12, description="words this world talks in: '바이탈', '당직'")
    props: list[str] = Field(min_length=6, description="objects that turn up in lines")
    locations: list[LocationData] = Field(min_length=6, description="shared places")
    roles: list[RoleData] = Field(min_length=12, description="at least 12: 2 main, 4 major, family, minor")
    addresses: list[AddressData] = Field(default_factory=list)
    relations: list[RelationData] = Field(min_length=10)
    loglines: list[str] = Field(min_length=1, description="alternatives; may use {title} {theme} {episodes} {genre}")
    main_conflicts: list[ConflictData] = Field(min_length=1, description="alternatives for the series' spine")
    conflicts: list[ConflictData] = Field(min_length=10, description="episode threads; the composer picks 8+")
    subplots: list[SubplotData] = Field(min_length=3)
    titles: list[str] = Field(min_length=14, description="episode title pool")
    atmospheres: list[str] = Field(min_length=4, description="scene atmosphere phrases")
    cliffhangers: list[str] = Field(default_factory=list, description="cliffhanger types; [] → the genre's")
    lead_pair_type: str = Field(default="연인 후보", description="the leads' relation type in the roster")
    lines: dict[str, list[str]] = Field(default_factory=dict, description="single-move lines: {move: [text]}")
    exchanges: dict[str, list[tuple[str, str]]] = Field(
        default_factory=dict, description="paired moves: {move: [[opener, reply]]}"
    )

    @model_validator(mode="after")
    def _consistent(self) -> SettingData:
        problems: list[str] = []
        keys = [r.key for r in self.roles]
        known = set(keys)
        if len(known) != len(keys):
            problems.append("roles: role keys must be unique")
        for lead in ("lead_m", "lead_f"):
            if lead not in known:
                problems.append(f"roles: needs a role with key {lead!r} (the two leads)")
        mains = [r.key for r in self.roles if r.importance == "main"]
        if sorted(mains) != ["lead_f", "lead_m"]:
            problems.append(f"roles: exactly lead_m and lead_f are importance 'main' (got {mains})")
        if sum(r.importance == "major_supporting" for r in self.roles) < 4:
            problems.append("roles: at least 4 roles of importance 'major_supporting'")
        refs: list[tuple[str, list[str]]] = []
        refs += [(f"addresses[{i}]", [a.speaker, a.listener]) for i, a in enumerate(self.addresses)]
        refs += [(f"relations[{i}]", [r.a, r.b]) for i, r in enumerate(self.relations)]
        refs += [(f"main_conflicts[{i}].chars", c.chars) for i, c in enumerate(self.main_conflicts)]
        refs += [(f"conflicts[{i}].chars", c.chars) for i, c in enumerate(self.conflicts)]
        refs += [(f"subplots[{i}].chars", s.chars) for i, s in enumerate(self.subplots)]
        for where, names in refs:
            for name in names:
                if name not in known:
                    problems.append(f"{where}: unknown role key {name!r}")
        allowed_text = known | set(TEXT_PLACEHOLDERS)
        texts: list[tuple[str, str]] = [(f"loglines[{i}]", t) for i, t in enumerate(self.loglines)]
        for group in ("main_conflicts", "conflicts"):
            for i, c in enumerate(getattr(self, group)):
                texts += [(f"{group}[{i}].description", c.description), (f"{group}[{i}].resolution", c.resolution)]
        texts += [(f"subplots[{i}].description", s.description) for i, s in enumerate(self.subplots)]
        texts += [(f"relations[{i}].arc", r.arc) for i, r in enumerate(self.relations)]
        for i, a in enumerate(self.addresses):
            texts += [(f"addresses[{i}]", t) for t in (a.vocative, a.reference, a.close_vocative, a.close_reference)]
        for where, text in texts:
            for name in _PLACEHOLDER.findall(text):
                if name not in allowed_text:
                    problems.append(f"{where}: unknown placeholder {{{name}}}")
        for move, lines in self.lines.items():
            if move not in SINGLE_MOVES:
                hint = " (a paired move: put it under exchanges)" if move in PAIRED_MOVES else ""
                problems.append(f"lines.{move}: unknown move{hint}")
            problems += _line_problems(f"lines.{move}", lines)
        for move, pairs in self.exchanges.items():
            if move not in PAIRED_MOVES:
                problems.append(f"exchanges.{move}: not a paired move; one of {', '.join(PAIRED_MOVES)}")
            for i, (opener, reply) in enumerate(pairs):
                problems += _line_problems(f"exchanges.{move}[{i}]", [opener, reply])
        if problems:
            raise ValueError("; ".join(problems))
        return self



class WorldRoleData(RoleData):
    """A role of a built-in world: one fixed person, so no pools to choose from."""

    name: str = Field(min_length=1, description="the fixed full name: '이수진'")
    given: str = Field(min_length=1, description="what friends call them: '수진'")
    personality: list[str] = Field(min_length=2)
    goals: list[str] = Field(min_length=1)


class WorldData(SettingData):
    """A built-in story world (worlds/*.yaml): a setting written as one fixed story.

    The format of a setting, with every role named; the first entry of each list of alternatives
    (logline, main conflict, occupation, ...) is the world's own. A fixed cast needs no spare roles or
    places, so the minimums are those of a series (10 roles, 4 shared places) instead of a pool's."""

    roles: list[WorldRoleData] = Field(min_length=10, description="the cast, in roster order")
    locations: list[LocationData] = Field(min_length=4, description="shared places")


def _line_problems(where: str, lines: list[str]) -> list[str]:
    problems = []
    for i, line in enumerate(lines):
        text = line
        if text.startswith("@"):
            head, _, text = text.partition(" ")
            if head[1:] not in EMOTIONS:
                problems.append(f"{where}[{i}]: unknown emotion {head!r}; one of {', '.join(EMOTIONS)}")
        for name in _PLACEHOLDER.findall(text):
            if name not in LINE_PLACEHOLDERS:
                problems.append(f"{where}[{i}]: unknown line placeholder {{{name}}}")
        if not text.strip():
            problems.append(f"{where}[{i}]: empty line")
    return problems


class BeatData(_Data):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    progress: float = Field(ge=0.0, le=1.0, description="0.0 = first episode, 1.0 = last")
    description: str = Field(min_length=1, description="may use {lead_m} {lead_f}")
    title: str = Field(default="", description="episode title when this beat lands in an episode")


class ArcData(_Data):
    name: str
    end: float = Field(gt=0.0, le=1.0, description="fraction of the series at which this part ends")
    description: str


class GenreData(_Data):
    """A genre's pacing template (spec 7.1, extended in the same form)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="the file's stem")
    label: str
    words: list[str] = Field(min_length=2, description="free-text genre words that mean this genre")
    # The broad genres (romance, comedy, thriller, drama) sit below 0, so a specific genre sharing one
    # of their words (호러, 멜로, 가족) wins over them.
    priority: int = Field(
        default=0, description="when words of several genres match, the highest priority wins (then the longest word)"
    )
    blend: list[str] = Field(
        default_factory=list, description="genre keys whose words all matching also mean this genre: [romance, comedy]"
    )
    required_elements: list[str] = Field(
        default_factory=list, description="spec 7.1 elements the series must place; [] → every beat"
    )
    structure: list[tuple[str, str]] = Field(min_length=3, description="act → description, as in the spec")
    pacing: dict[str, float] = Field(default_factory=dict)
    min_characters: int = Field(ge=2)
    character_roles: list[str] = Field(min_length=3)
    beats: list[BeatData] = Field(min_length=4)
    arc: list[ArcData] = Field(min_length=4, max_length=4)
    tone: str
    themes: list[str] = Field(min_length=2)
    flavors: list[str] = Field(min_length=1, description="dialogue flavours: romance, thriller, comedy, drama")
    comedy_beats_per_episode: int = Field(default=0, ge=0)
    cliffhangers: list[str] = Field(min_length=3, description="cliffhanger types used in rotation")

    @model_validator(mode="after")
    def _ordered(self) -> GenreData:
        ends = [a.end for a in self.arc]
        if ends != sorted(ends) or ends[-1] != 1.0:
            raise ValueError("arc: part ends must rise and the last must be 1.0")
        unknown = [f for f in self.flavors if f not in ("romance", "thriller", "comedy", "drama")]
        if unknown:
            raise ValueError(f"flavors: unknown {unknown}; use romance, thriller, comedy, drama")
        return self



# ---------------------------------------------------------------------------------------------
# The line library (lines/*.yaml): the writer's general lines and text tables
# ---------------------------------------------------------------------------------------------

Emotion = Literal["neutral", "happy", "sad", "angry", "surprised", "shy", "worried", "excited", "calm", "tense"]


def _text_problems(where: str, text: str, allowed: tuple[str, ...]) -> list[str]:
    return [
        f"{where}: unknown placeholder {{{name}}}; one of {', '.join(allowed)}"
        for name in _PLACEHOLDER.findall(text)
        if name not in allowed
    ]


def _every_emotion(where: str, table: dict) -> list[str]:
    missing = [e for e in EMOTIONS if e not in table]
    return [f"{where}: missing emotions {missing}"] if missing else []


class MoveLines(_Data):
    emotion: Emotion = Field(description="the lines' emotion unless a line starts with '@emotion '")
    lines: list[str] = Field(min_length=1)


class DialogueLines(_Data):
    """lines/dialogue.yaml: the general lines by move, in 해요체."""

    moves: dict[str, MoveLines] = Field(min_length=1)

    @model_validator(mode="after")
    def _placeholders(self) -> DialogueLines:
        problems = [p for move, ml in self.moves.items() for p in _line_problems(f"moves.{move}.lines", ml.lines)]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class CliffhangerLines(_Data):
    """lines/cliffhangers.yaml: the last line of an episode by cliffhanger type, and its summary."""

    lines: dict[str, MoveLines] = Field(min_length=1)
    descriptions: dict[str, str] = Field(description="how the summary tells it: {speaker} {listener} {Nq}")

    @model_validator(mode="after")
    def _consistent(self) -> CliffhangerLines:
        problems = [p for kind, ml in self.lines.items() for p in _line_problems(f"lines.{kind}.lines", ml.lines)]
        problems += [
            f"descriptions: no description for cliffhanger {k!r}" for k in self.lines if k not in self.descriptions
        ]
        for kind, text in self.descriptions.items():
            problems += _text_problems(f"descriptions.{kind}", text, ("speaker", "listener", "Nq"))
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TailLines(_Data):
    """lines/tails.yaml: short follow-ups that extend a brief line in the same mood."""

    tails: dict[Emotion, list[str]]
    calm_self: list[str] = Field(min_length=1, description="calm follow-ups about the speaker, not the listener")


class EmotionLines(_Data):
    """lines/emotions.yaml: per emotion, silent reactions, the word for the state, a development line."""

    reactions: dict[Emotion, list[str]]
    words: dict[Emotion, str]
    developments: dict[Emotion, str] = Field(description="a character's development: {name} {kw}")

    @model_validator(mode="after")
    def _complete(self) -> EmotionLines:
        problems = _every_emotion("reactions", self.reactions) + _every_emotion("words", self.words)
        problems += _every_emotion("developments", self.developments)
        problems += [f"reactions.{e}: empty" for e, r in self.reactions.items() if not r]
        for emotion, text in self.developments.items():
            problems += _text_problems(f"developments.{emotion}", text, ("name", "kw"))
        if problems:
            raise ValueError("; ".join(problems))
        return self


class SceneLines(_Data):
    """lines/scenes.yaml: atmospheres by a scene's dramatic job, times of day, episodes' emotional journeys."""

    atmospheres: dict[str, list[str]] = Field(description="by scene job: opening, beat, resolve, new, cliff, ...")
    thriller_atmospheres: list[str] = Field(min_length=1)
    times: list[str] = Field(min_length=1)
    journeys: dict[str, tuple[str, str, str, str]] = Field(description="by flavour: one journey per arc part")
    beat_journeys: dict[str, str] = Field(description="by genre beat: the journey of the episode it lands in")

    @model_validator(mode="after")
    def _complete(self) -> SceneLines:
        problems = [f"atmospheres.{k}: empty" for k, v in self.atmospheres.items() if not v]
        if "ensemble" not in self.atmospheres:
            problems.append("atmospheres: needs 'ensemble' (the fallback for scene jobs without their own)")
        missing = [f for f in ("romance", "thriller", "comedy", "drama") if f not in self.journeys]
        if missing:
            problems.append(f"journeys: missing flavours {missing}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


LINE_FILES: dict[str, type[_Data]] = {
    "dialogue": DialogueLines,
    "cliffhangers": CliffhangerLines,
    "tails": TailLines,
    "emotions": EmotionLines,
    "scenes": SceneLines,
}


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(file)"
        if err["type"] == "value_error" and not err["loc"]:
            # A whole-file check already names its fields ("roles: ...; lines.greet[2]: ..."): one problem each.
            problems += err["msg"].removeprefix("Value error, ").split("; ")
            continue
        got = "" if err["type"] in ("missing", "value_error") else f" (got {err.get('input')!r:.60})"
        problems.append(f"{field}: {err['msg']}{got}")
    return problems


def read_yaml(path: Path) -> dict:
    """A YAML mapping from `path`, or StoryDataError naming the file (and the line for syntax errors)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StoryDataError(path, [f"cannot read file: {exc}"]) from exc
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise StoryDataError(path, [f"YAML syntax error{where}: {getattr(exc, 'problem', None) or exc}"]) from exc
    if not isinstance(data, dict):
        raise StoryDataError(path, ["the file must be a YAML mapping of fields"])
    return data


_Keyed = TypeVar("_Keyed", bound=BaseModel)


def _load_keyed(path: Path, model: type[_Keyed]) -> _Keyed:
    """A file whose `key` is its stem (a setting, world or genre), validated as `model`."""
    data = read_yaml(path)
    if data.get("key", path.stem) != path.stem:
        raise StoryDataError(path, [f"key: {data['key']!r} differs from the file name {path.stem!r}"])
    try:
        return model.model_validate({"key": path.stem, **data})
    except ValidationError as exc:
        raise StoryDataError(path, _problems(exc)) from exc


def load_setting(path: Path) -> SettingData:
    return _load_keyed(path, SettingData)


def load_world(path: Path) -> WorldData:
    return _load_keyed(path, WorldData)


def load_genre(path: Path) -> GenreData:
    return _load_keyed(path, GenreData)


def load_lines(path: Path) -> _Data:
    """One file of the line library; its stem says which table it is (LINE_FILES)."""
    model = LINE_FILES.get(path.stem)
    if model is None:
        raise StoryDataError(path, [f"(file): unknown line table {path.stem!r}; one of {', '.join(LINE_FILES)}"])
    try:
        return model.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise StoryDataError(path, _problems(exc)) from exc


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if not p.name.startswith((".", "_")))


@functools.cache
def settings(root: Path = STORY_DATA_DIR) -> dict[str, SettingData]:
    """Every setting of the library by key (loaded and validated once per process)."""
    return {p.stem: load_setting(p) for p in _yaml_files(root / "settings")}


@functools.cache
def genres(root: Path = STORY_DATA_DIR) -> dict[str, GenreData]:
    """Every genre template of the library by key (loaded and validated once per process)."""
    return {p.stem: load_genre(p) for p in _yaml_files(root / "genres")}


@functools.cache
def worlds(root: Path = STORY_DATA_DIR) -> dict[str, WorldData]:
    """Every built-in story world by key (loaded and validated once per process)."""
    return {p.stem: load_world(p) for p in _yaml_files(root / "worlds")}


def world_data(key: str, root: Path = STORY_DATA_DIR) -> WorldData:
    """The built-in world `key` (worlds/<key>.yaml), or StoryDataError naming the file."""
    path = root / "worlds" / f"{key}.yaml"
    found = worlds(root)
    if key not in found:
        raise StoryDataError(path, [f"(file): no built-in world {key!r}; known: {', '.join(found) or 'none'}"])
    return found[key]


@dataclass(frozen=True)
class LineLibrary:
    dialogue: DialogueLines
    cliffhangers: CliffhangerLines
    tails: TailLines
    emotions: EmotionLines
    scenes: SceneLines


@functools.cache
def line_library(root: Path = STORY_DATA_DIR) -> LineLibrary:
    """The writer's line library from lines/*.yaml (loaded and validated once per process)."""
    folder = root / "lines"
    missing = [stem for stem in LINE_FILES if not (folder / f"{stem}.yaml").is_file()]
    if missing:
        raise StoryDataError(folder, [f"(folder): missing line tables {', '.join(f'{m}.yaml' for m in missing)}"])
    tables = {p.stem: load_lines(p) for p in _yaml_files(folder)}
    return LineLibrary(**{stem: tables[stem] for stem in LINE_FILES})


def check(root: Path = STORY_DATA_DIR) -> list[str]:
    """Validate every file under `root`; the problems of all bad files (empty when all are good)."""
    problems: list[str] = []
    loaders = (("settings", load_setting), ("genres", load_genre), ("worlds", load_world), ("lines", load_lines))
    for folder, loader in loaders:
        for path in _yaml_files(root / folder):
            try:
                loader(path)
            except StoryDataError as exc:
                problems.append(str(exc))
    gs = {p.stem for p in _yaml_files(root / "genres")}
    for folder, loader in (("settings", load_setting), ("worlds", load_world)):
        for path in _yaml_files(root / folder):
            try:
                hint = loader(path).genre_hint
            except StoryDataError:
                continue
            if gs and hint not in gs:
                problems.append(f"{path}: genre_hint: {hint!r} is not a genre file under {root / 'genres'}")
    for path in _yaml_files(root / "genres"):
        try:
            blend = load_genre(path).blend
        except StoryDataError:
            continue
        for other in blend:
            if other not in gs:
                problems.append(f"{path}: blend: {other!r} is not a genre file under {root / 'genres'}")
    return problems


if __name__ == "__main__":  # python -m aidas_dagster.story.library [root]: check the data files
    found = check(Path(sys.argv[1]) if len(sys.argv) > 1 else STORY_DATA_DIR)
    print("\n".join(found) or "story data ok")
    sys.exit(1 if found else 0)
