"""Registering series: a valid config file becomes a series partition with its episode keys.

Shared by the series sensor and `aidas add-series`. Invalid configs are reported, never registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aidas_dagster.core.config import SeriesConfig, SeriesConfigError, load_all, load_series_config
from aidas_dagster.core.storage import file_digest
from aidas_dagster.partitions import EPISODE, SERIES, episode_keys


@dataclass
class SeriesScan:
    valid: list[SeriesConfig] = field(default_factory=list)
    errors: list[SeriesConfigError] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)

    def new_partition_keys(self, known_series: set[str], known_episodes: set[str]) -> tuple[list[str], list[str]]:
        """Series keys and episode keys that are not registered yet."""
        series = [c.series_id for c in self.valid if c.series_id not in known_series]
        longest = max((c.total_episodes for c in self.valid), default=0)
        episodes = [k for k in episode_keys(longest) if k not in known_episodes]
        return series, episodes


def scan(series_dir: Path) -> SeriesScan:
    valid, errors = load_all(series_dir)
    digests = {}
    for config in valid:
        for suffix in (".yaml", ".yml"):
            path = series_dir / f"{config.series_id}{suffix}"
            if path.exists():
                digests[config.series_id] = file_digest(path)
    return SeriesScan(valid=valid, errors=errors, digests=digests)


def register(instance, series_dir: Path, only: Path | None = None) -> tuple[list[str], list[SeriesConfigError]]:
    """Add partitions for every valid config (or just `only`); returns new series ids and errors."""
    if only is not None:
        try:
            found = SeriesScan(valid=[load_series_config(only)])
        except SeriesConfigError as exc:
            return [], [exc]
    else:
        found = scan(series_dir)
    known_series = set(instance.get_dynamic_partitions(SERIES))
    known_episodes = set(instance.get_dynamic_partitions(EPISODE))
    new_series, new_episodes = found.new_partition_keys(known_series, known_episodes)
    if new_episodes:
        instance.add_dynamic_partitions(EPISODE, new_episodes)
    if new_series:
        instance.add_dynamic_partitions(SERIES, new_series)
    return new_series, found.errors
