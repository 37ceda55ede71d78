"""The common floor's resource: where produced files live, the series configs, the cost ledger and budget.

Each stage builds its own provider resource in its `resources.py` (story: writers_room, voice:
voice_booth, picture: avatar_studio, publish: channel). Each picks the real service when its key is
configured and the offline implementation otherwise, so a new user with no keys gets real episodes
made locally. Keys come from the environment through `dg.EnvVar` (`env_or_none`), never from code.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from aidas_dagster.core.config import SeriesConfig, SeriesConfigError, find_series_config, load_series_config
from aidas_dagster.core.ledger import (
    DEFAULT_DAILY_LIMIT_USD,
    DEFAULT_PROVIDER_LIMITS_USD,
    Budget,
    BudgetLimits,
    CostLedger,
)
from aidas_dagster.core.run_tags import PID_TAG
from aidas_dagster.core.storage import Storage, default_series_dir, default_storage_root
from aidas_dagster.partitions import EpisodePartition, parse_episode_partition


class StudioResource(dg.ConfigurableResource):
    """The storage root for produced files and the folder of series configs."""

    storage_root: str = Field(default_factory=lambda: str(default_storage_root()))
    series_dir: str = Field(default_factory=lambda: str(default_series_dir()))
    daily_budget_usd: float = Field(default=DEFAULT_DAILY_LIMIT_USD, gt=0, description="all providers, per studio day (AIDAS_STUDIO_TZ)")
    provider_budgets_usd: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_PROVIDER_LIMITS_USD), description="per provider, per studio day"
    )

    # Inside a run: the run id holds the budget reservations its steps make (and the CLI's pid,
    # whose death releases them); outside one, this process holds them.
    _holder: str = PrivateAttr(default="")
    _holder_pid: int = PrivateAttr(default=-1)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.dagster_run
        if run is not None:
            self._holder = f"run:{run.run_id}"
            pid = run.tags.get(PID_TAG, "")
            # A CLI run lives and dies with its process; a launched run's steps come and go, so
            # its reservations end with the run (pool_watch) or their time to live.
            self._holder_pid = int(pid) if pid.isdigit() else 0

    @property
    def storage(self) -> Storage:
        return Storage(self.storage_root)

    @property
    def ledger(self) -> CostLedger:
        """Every provider call (paid or cached) is recorded here."""
        return CostLedger(self.storage.ledger_path())

    @property
    def budget(self) -> Budget:
        return Budget(
            self.ledger,
            BudgetLimits(self.daily_budget_usd, dict(self.provider_budgets_usd)),
            holder=self._holder,
            holder_pid=self._holder_pid,
        )

    def series_config(self, series_id: str) -> SeriesConfig:
        """The validated config of a series, or a Failure naming the file and fields."""
        try:
            return load_series_config(find_series_config(Path(self.series_dir), series_id))
        except (SeriesConfigError, FileNotFoundError) as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc

    def episode(self, partition_key: str | dg.MultiPartitionKey) -> tuple[SeriesConfig, EpisodePartition]:
        """The series config and episode of an episode partition.

        An episode beyond the series' length fails here, before anything is written.
        """
        part = parse_episode_partition(partition_key)
        config = self.series_config(part.series_id)
        if not config.has_episode(part.episode):
            raise dg.Failure(
                description=(
                    f"series {part.series_id!r} has {config.total_episodes} episodes; "
                    f"episode {part.episode} is beyond its end, so nothing was produced"
                ),
                allow_retries=False,
            )
        return config, part


def env_or_none(name: str) -> dg.EnvVar | None:
    """Wire a secret as EnvVar only when it is set, so the offline default needs no keys."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def _budget_settings() -> dict:
    """Daily limits from AIDAS_DAILY_BUDGET_USD and AIDAS_<PROVIDER>_BUDGET_USD (openai, elevenlabs,
    heygen), else spec 15.1's; a value that is not a positive number fails naming the variable."""
    out: dict = {}
    providers = dict(DEFAULT_PROVIDER_LIMITS_USD)
    names = {"daily": "AIDAS_DAILY_BUDGET_USD", **{p: f"AIDAS_{p.upper()}_BUDGET_USD" for p in providers}}
    for key, name in names.items():
        raw = os.environ.get(name)
        if not raw:
            continue
        try:
            value = float(raw)
            if value <= 0:
                raise ValueError
        except ValueError:
            raise ValueError(f"{name}={raw!r}: expected a positive number of USD") from None
        if key == "daily":
            out["daily_budget_usd"] = value
        else:
            providers[key] = value
    if providers != DEFAULT_PROVIDER_LIMITS_USD:
        out["provider_budgets_usd"] = providers
    return out


def floor_resources() -> dict[str, dg.ConfigurableResource]:
    """The resource every stage uses (budget limits from the environment); each stage builds its own
    in its `resources.py`."""
    return {"studio": StudioResource(**_budget_settings())}
