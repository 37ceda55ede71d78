"""Series configs: the short YAML file a producer drops into `assets_data/series/`.

A config is validated completely before anything is created from it: a bad file gets one error
that names the file and every offending field, and no partition or file is made for it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError, field_validator

SERIES_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
CONFIG_SUFFIXES = (".yaml", ".yml")


class FileProblems(ValueError):
    """A data file that cannot be used; the message names the file and, one per line, the fields."""

    what = "file"

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        super().__init__(f"{self.path}: invalid {self.what}:\n" + "\n".join(f"  - {p}" for p in problems))


class SeriesConfigError(FileProblems):
    """A series config that cannot be used."""

    what = "series config"


class SeriesConfig(BaseModel):
    """What a producer decides; everything else is written by the pipeline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    series_id: StrictStr = Field(description="partition key: the config file's stem")
    title: StrictStr = Field(min_length=1, max_length=80)
    genre: StrictStr = Field(min_length=1, max_length=40, description="e.g. 로맨틱 코미디, romance, thriller, comedy")
    total_episodes: StrictInt = Field(ge=1, le=200)
    episode_duration: StrictFloat | StrictInt = Field(
        gt=0, le=60, description="minutes per episode (fractions allowed for short test episodes)"
    )
    main_theme: StrictStr = Field(min_length=1, max_length=200)
    target_audience: StrictStr = Field(min_length=1, max_length=100)
    active: bool = Field(default=True, description="inactive series are not scheduled")
    world: StrictStr = Field(
        default="",
        max_length=40,
        description="optional: a built-in story world of assets_data/story/worlds/ to write in, instead of "
        "composing one from the premise",
    )

    @field_validator("title", "genre", "main_theme", "target_audience")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @property
    def episode_seconds(self) -> float:
        return float(self.episode_duration) * 60.0

    def has_episode(self, episode: int) -> bool:
        return 1 <= episode <= self.total_episodes


def series_id_for(path: Path) -> str:
    return path.stem


def load_series_config(path: Path | str) -> SeriesConfig:
    """Read and validate one config file, or raise SeriesConfigError naming file and fields."""
    path = Path(path)
    if path.suffix not in CONFIG_SUFFIXES:
        raise SeriesConfigError(path, [f"file name must end in {' or '.join(CONFIG_SUFFIXES)}"])
    series_id = series_id_for(path)
    if not SERIES_ID_PATTERN.match(series_id):
        raise SeriesConfigError(
            path,
            [f"series id {series_id!r} (the file name) must be lower-case letters, digits and '-', at most 63 characters"],
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SeriesConfigError(path, [f"cannot read file: {exc.strerror or exc}"]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SeriesConfigError(path, [f"text is not UTF-8 (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
        raise SeriesConfigError(path, [f"YAML syntax error{where}: {problem}"]) from exc
    if not isinstance(data, dict):
        raise SeriesConfigError(path, ["the file must be a YAML mapping of fields (title, genre, total_episodes, ...)"])
    if "series_id" in data and data["series_id"] != series_id:
        raise SeriesConfigError(path, [f"series_id: {data['series_id']!r} differs from the file name {series_id!r}"])
    data = {**data, "series_id": series_id}
    try:
        return SeriesConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "(file)"
            got = err.get("input")
            got_text = "" if err["type"] == "missing" else f" (got {got!r})"
            problems.append(f"{field}: {err['msg']}{got_text}")
        raise SeriesConfigError(path, problems) from exc


def config_files(series_dir: Path) -> list[Path]:
    if not series_dir.is_dir():
        return []
    return sorted(p for p in series_dir.iterdir() if p.suffix in CONFIG_SUFFIXES and not p.name.startswith("."))


def find_series_config(series_dir: Path, series_id: str) -> Path:
    for suffix in CONFIG_SUFFIXES:
        candidate = series_dir / f"{series_id}{suffix}"
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{series_dir / (series_id + '.yaml')}: no config file for series {series_id!r}")


def load_all(series_dir: Path) -> tuple[list[SeriesConfig], list[SeriesConfigError]]:
    """Every valid config in the folder, and the errors of the invalid ones."""
    good: list[SeriesConfig] = []
    bad: list[SeriesConfigError] = []
    for path in config_files(series_dir):
        try:
            good.append(load_series_config(path))
        except SeriesConfigError as exc:
            bad.append(exc)
    return good, bad


def env_whole_number(name: str, env: Mapping[str, str] | None = None) -> int | None:
    """The whole number an environment variable holds, None when it is unset or blank; an error naming
    the variable when it holds something else."""
    raw = (os.environ if env is None else env).get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name}={raw!r}: expected a whole number") from exc
