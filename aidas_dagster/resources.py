"""Resources: where files live, and which provider does each job.

Each provider resource picks the real service when its key is configured and the offline
implementation otherwise, so a new user with no keys gets real episodes made locally.
Keys come from the environment through `dg.EnvVar` (see `definitions.py`), never from code.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from aidas_dagster.core.config import SeriesConfig, SeriesConfigError, find_series_config, load_series_config
from aidas_dagster.core.ledger import (
    DEFAULT_DAILY_LIMIT_USD,
    DEFAULT_PROVIDER_LIMITS_USD,
    Budget,
    BudgetLimits,
    CostLedger,
)
from aidas_dagster.core.storage import Storage, default_series_dir, default_storage_root
from aidas_dagster.partitions import EpisodePartition, parse_episode_partition


class StudioResource(dg.ConfigurableResource):
    """The storage root for produced files and the folder of series configs."""

    storage_root: str = Field(default_factory=lambda: str(default_storage_root()))
    series_dir: str = Field(default_factory=lambda: str(default_series_dir()))
    daily_budget_usd: float = Field(default=DEFAULT_DAILY_LIMIT_USD, gt=0, description="all providers, per UTC day")
    provider_budgets_usd: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_PROVIDER_LIMITS_USD), description="per provider, per UTC day"
    )

    @property
    def storage(self) -> Storage:
        return Storage(self.storage_root)

    @property
    def ledger(self) -> CostLedger:
        """Every provider call (paid or cached) is recorded here."""
        return CostLedger(self.storage.ledger_path())

    @property
    def budget(self) -> Budget:
        return Budget(self.ledger, BudgetLimits(self.daily_budget_usd, dict(self.provider_budgets_usd)))

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


class WritersRoom(dg.ConfigurableResource):
    """The story engine: OpenAI (or any OpenAI-compatible server) when a key is set, else offline."""

    openai_api_key: str | None = None
    model: str = "gpt-4o-mini"
    base_url: str | None = None

    @property
    def mode(self) -> str:
        return "openai" if self.openai_api_key else "offline"

    def engine(self):
        from aidas_dagster.story.engine import OfflineStoryEngine

        # The OpenAI writer arrives with the writers'-room work; until then keys do not change the engine.
        return OfflineStoryEngine()


class VoiceBooth(dg.ConfigurableResource):
    """Speech synthesis: ElevenLabs, Google TTS as backup, local espeak-ng when no keys are set."""

    elevenlabs_api_key: str | None = None
    google_credentials_file: str | None = None

    def provider(self):
        from aidas_dagster.voice.offline_tts import OfflineSpeech

        return OfflineSpeech()


class AvatarStudio(dg.ConfigurableResource):
    """Avatar rendering and the final cut's encoder settings."""

    heygen_api_key: str | None = None
    preset: str = Field(default="veryfast", description="libx264 preset for the final cut")
    crf: int = Field(default=23, ge=0, le=51)
    fps: int = 30


class Channel(dg.ConfigurableResource):
    """Where finished episodes are published: YouTube with a token, else the local channel."""

    youtube_token_file: str | None = None
    publish_hour: int = Field(default=19, ge=0, le=23, description="daily release slot, Asia/Seoul")

    def publisher(self, storage: Storage):
        from aidas_dagster.publish.local_channel import LocalChannel

        return LocalChannel(storage.channel_dir())


def env_or_none(name: str) -> dg.EnvVar | None:
    """Wire a secret as EnvVar only when it is set, so the offline default needs no keys."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "studio": StudioResource(),
        "writers_room": WritersRoom(
            openai_api_key=env_or_none("OPENAI_API_KEY"),
            base_url=os.environ.get("OPENAI_BASE_URL") or None,
        ),
        "voice_booth": VoiceBooth(
            elevenlabs_api_key=env_or_none("ELEVENLABS_API_KEY"),
            google_credentials_file=os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
        ),
        "avatar_studio": AvatarStudio(
            heygen_api_key=env_or_none("HEYGEN_API_KEY"),
            preset=os.environ.get("AIDAS_X264_PRESET", "veryfast"),
        ),
        "channel": Channel(youtube_token_file=os.environ.get("AIDAS_YOUTUBE_TOKEN") or None),
    }
