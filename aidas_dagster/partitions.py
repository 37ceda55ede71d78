"""Series and episode partitions.

`series` is dynamic: one key per config file stem in `assets_data/series/`, added by the series
sensor or `aidas add-series`. Episodes are `series × episode`; the episode dimension is dynamic too
("001", "002", …) and holds as many keys as the longest registered series, so a short series has
partitions beyond its end: those fail at once and write nothing (see `episode_partition`).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

SERIES = "series"
EPISODE = "episode"

series_partitions = dg.DynamicPartitionsDefinition(name=SERIES)
episode_numbers = dg.DynamicPartitionsDefinition(name=EPISODE)
episode_partitions = dg.MultiPartitionsDefinition({SERIES: series_partitions, EPISODE: episode_numbers})

# Series-level assets feed every episode of the same series.
series_of_episode = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name=SERIES)


def episode_key(episode: int) -> str:
    return f"{episode:03d}"


def episode_keys(count: int) -> list[str]:
    return [episode_key(n) for n in range(1, count + 1)]


@dataclass(frozen=True)
class EpisodePartition:
    series_id: str
    episode: int

    @property
    def key(self) -> dg.MultiPartitionKey:
        return dg.MultiPartitionKey({SERIES: self.series_id, EPISODE: episode_key(self.episode)})


def parse_episode_partition(partition_key: str | dg.MultiPartitionKey) -> EpisodePartition:
    if not isinstance(partition_key, dg.MultiPartitionKey):
        # Keys print as "003|first-love": dimensions sort alphabetically.
        episode_text, _, series_id = str(partition_key).partition("|")
        partition_key = dg.MultiPartitionKey({SERIES: series_id, EPISODE: episode_text})
    dims = partition_key.keys_by_dimension
    try:
        episode = int(dims[EPISODE])
    except ValueError as exc:
        raise ValueError(f"episode partition {dims[EPISODE]!r} is not a number like '001'") from exc
    return EpisodePartition(series_id=dims[SERIES], episode=episode)
