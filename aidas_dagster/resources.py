"""Resources: where files live, and which provider does each job.

Each provider resource picks the real service when its key is configured and the offline
implementation otherwise, so a new user with no keys gets real episodes made locally.
Keys come from the environment through `dg.EnvVar` (see `definitions.py`), never from code.
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
        from aidas_dagster.ops.recovery import PID_TAG

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


class WritersRoom(dg.ConfigurableResource):
    """The story engine: OpenAI (or any OpenAI-compatible server) when a key is set, else offline."""

    openai_api_key: str | None = None
    model: str = Field(default="gpt-4o-mini", description="chat model (or the local server's model name)")
    base_url: str | None = Field(default=None, description="OpenAI-compatible API root; None means api.openai.com")
    economy_model: str | None = Field(default=None, description="cheaper model used once 80 % of the budget is spent")
    max_repairs: int = Field(default=2, ge=0, le=5, description="repair turns for unusable model output")

    @property
    def mode(self) -> str:
        return "openai" if self.openai_api_key else "offline"

    def engine(self, ledger: CostLedger | None = None, budget: Budget | None = None, cache_dir: Path | None = None):
        """OpenAIStoryEngine when a key is set (calls recorded in `ledger`, gated by `budget`, answered
        from `cache_dir` when unchanged), else the offline engine."""
        from aidas_dagster.story.engine import OfflineStoryEngine

        if not self.openai_api_key:
            return OfflineStoryEngine()
        from aidas_dagster.story.openai_engine import OpenAIStoryEngine

        return OpenAIStoryEngine(
            self.openai_api_key,
            model=self.model,
            base_url=self.base_url,
            ledger=ledger,
            budget=budget,
            economy_model=self.economy_model,
            max_repairs=self.max_repairs,
            cache_dir=cache_dir,
        )


class VoiceBooth(dg.ConfigurableResource):
    """Speech synthesis: ElevenLabs, Google TTS as backup, local espeak-ng when no keys are set."""

    elevenlabs_api_key: str | None = None
    elevenlabs_base_url: str | None = Field(default=None, description="host only, e.g. http://127.0.0.1:8080")
    elevenlabs_model: str = Field(default="eleven_multilingual_v2", description="economy mode uses eleven_flash_v2_5")
    google_credentials_file: str | None = None
    google_endpoint: str | None = Field(default=None, description="Google TTS API endpoint override")

    def provider(self, ledger=None, budget=None, series_id: str = "", episode: int = 0):
        """The failover chain of the configured providers (ElevenLabs > Google > offline)."""
        from aidas_dagster.voice.providers import build_speech_provider

        return build_speech_provider(
            elevenlabs_api_key=self.elevenlabs_api_key,
            elevenlabs_base_url=self.elevenlabs_base_url,
            elevenlabs_model=self.elevenlabs_model,
            google_credentials_file=self.google_credentials_file,
            google_endpoint=self.google_endpoint,
            ledger=ledger,
            budget=budget,
            series_id=series_id,
            episode=episode,
        )


class AvatarStudio(dg.ConfigurableResource):
    """Avatar rendering and the final cut's encoder settings."""

    heygen_api_key: str | None = None
    heygen_base_url: str | None = Field(default=None, description="HeyGen API root; None means https://api.heygen.com")
    heygen_avatar_ids: dict[str, str] = Field(
        default_factory=dict, description="HeyGen avatar (look) id per 'series:CHARnnn' or 'CHARnnn'"
    )
    heygen_price_per_minute_usd: float = Field(default=1.0, gt=0, description="cost ledger price of one avatar-minute")
    heygen_include_supporting: bool = Field(default=False, description="also give major supporting roles HeyGen clips")
    heygen_max_wait_seconds: float = Field(default=1800.0, gt=0, description="per job; then the line renders locally")
    heygen_max_concurrent: int = Field(default=10, ge=1, le=10, description="HeyGen jobs at once (account limit ~10)")
    heygen_poll_seconds: float = Field(default=5.0, gt=0, description="between status polls of a HeyGen job")
    preset: str = Field(default="veryfast", description="libx264 preset for the final cut")
    crf: int = Field(default=23, ge=0, le=51)
    fps: int = 30
    segment_cache_gb: float = Field(default=4.0, gt=0, description="encoded segments kept for quick re-cuts")
    image_api_key: str | None = Field(default=None, description="OpenAI Images API key for generated scene art; unset: drawn art")
    image_base_url: str | None = Field(default=None, description="images API root (any /v1/images/generations server)")
    image_model: str = Field(default="gpt-image-1", description="image model (or the local server's model name)")
    image_quality: str = Field(default="medium", description="low | medium | high (gpt-image), standard | hd (dall-e-3)")
    loudness_lufs: float | None = Field(default=-14.0, le=0, description="integrated loudness of the final mix (None: not normalised)")
    true_peak_db: float = Field(default=-1.0, le=0, description="true-peak ceiling of the final mix (dBTP)")

    def avatar_provider(self, cache_dir: Path, ledger: CostLedger | None = None, budget: Budget | None = None):
        """HeyGen clips (a `HeyGenAvatars`) when a key is set, else None: every line renders locally."""
        if not self.heygen_api_key:
            return None
        from aidas_dagster.picture.heygen import DEFAULT_BASE_URL, HeyGenAvatars, HeyGenClient

        client = HeyGenClient(
            self.heygen_api_key, base_url=self.heygen_base_url or DEFAULT_BASE_URL, poll_interval=self.heygen_poll_seconds
        )
        return HeyGenAvatars(
            client,
            Path(cache_dir),
            ledger=ledger,
            budget=budget,
            avatar_ids=dict(self.heygen_avatar_ids),
            price_per_minute_usd=self.heygen_price_per_minute_usd,
            include_supporting=self.heygen_include_supporting,
            max_wait=self.heygen_max_wait_seconds,
        )


    def scene_artist(self, cache_dir: Path, ledger: CostLedger | None = None, budget: Budget | None = None):
        """Generated portraits and backdrops (a `SceneArtist`) when an image key is set, else None."""
        if not self.image_api_key:
            return None
        from aidas_dagster.picture.image_art import ImageClient, SceneArtist

        client = ImageClient(self.image_api_key, self.image_base_url, model=self.image_model, quality=self.image_quality)
        return SceneArtist(client, Path(cache_dir), ledger=ledger, budget=budget)


class Channel(dg.ConfigurableResource):
    """Where finished episodes are published: YouTube with a token, else the local channel."""

    youtube_token_file: str | None = Field(default=None, description="from `aidas youtube-auth`; unset: local channel")
    youtube_api_root: str | None = Field(default=None, description="replaces https://youtube.googleapis.com/")
    youtube_token_uri: str | None = Field(default=None, description="OAuth token endpoint; default Google's")
    publish_hour: int = Field(default=19, ge=0, le=23, description="daily release slot")
    publish_timezone: str = Field(default="Asia/Seoul", description="time zone of the release slot")
    quota_daily_units: int = Field(default=10_000, gt=0, description="YouTube units per Pacific day")
    quota_daily_inserts: int = Field(default=100, gt=0, description="separate bucket of uploads per Pacific day")
    quota_insert_rule: str = Field(default="bucket", description="bucket (100 uploads/day) | units (1,600 per upload) | both")
    quota_method_units: dict[str, int] = Field(default_factory=dict, description="override units per method")
    upload_chunk_mb: int = Field(default=8, ge=1, le=1024)
    replace_after_release: bool = Field(
        default=False,
        description="a re-cut replaces an already released video too (its views and comments are lost); "
        "default: only a video still scheduled is replaced",
    )
    feedback_max_comments: int = Field(default=1000, ge=0)
    feedback_min_comments: int = Field(default=20, ge=1, description="below this, feedback changes no outline")
    feedback_future_episodes: int = Field(default=3, ge=0, description="outlines one round of feedback may change")

    def quota_settings(self):
        from aidas_dagster.publish.quota import QuotaSettings

        return QuotaSettings(
            daily_units=self.quota_daily_units,
            daily_inserts=self.quota_daily_inserts,
            insert_rule=self.quota_insert_rule,  # validated there
            method_units=dict(self.quota_method_units),
        )

    def adjustment_settings(self):
        from aidas_dagster.publish.adjustments import AdjustmentSettings

        return AdjustmentSettings(min_comments=self.feedback_min_comments, max_future_episodes=self.feedback_future_episodes)

    def publisher(self, storage: Storage, ledger: CostLedger | None = None):
        """YouTube when a token file is configured, else the offline local channel."""
        from aidas_dagster.publish.local_channel import LocalChannel

        if not self.youtube_token_file:
            return LocalChannel(storage.channel_dir(), replace_after_release=self.replace_after_release)
        from aidas_dagster.publish.youtube import youtube_publisher

        return youtube_publisher(
            storage.root,
            token_file=Path(self.youtube_token_file),
            api_root=self.youtube_api_root,
            token_uri=self.youtube_token_uri,
            quota=self.quota_settings(),
            ledger=ledger,
            chunk_bytes=self.upload_chunk_mb * 1024 * 1024,
            replace_after_release=self.replace_after_release,
        )


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


def build_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "studio": StudioResource(**_budget_settings()),
        "writers_room": WritersRoom(
            openai_api_key=env_or_none("OPENAI_API_KEY"),
            model=os.environ.get("OPENAI_MODEL") or "gpt-4o-mini",
            base_url=os.environ.get("OPENAI_BASE_URL") or None,
            economy_model=os.environ.get("OPENAI_ECONOMY_MODEL") or None,
        ),
        "voice_booth": VoiceBooth(
            elevenlabs_api_key=env_or_none("ELEVENLABS_API_KEY"),
            elevenlabs_base_url=os.environ.get("ELEVENLABS_BASE_URL") or None,
            google_credentials_file=os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
            google_endpoint=os.environ.get("GOOGLE_TTS_ENDPOINT") or None,
        ),
        "avatar_studio": AvatarStudio(
            heygen_api_key=env_or_none("HEYGEN_API_KEY"),
            heygen_base_url=os.environ.get("HEYGEN_BASE_URL") or None,
            preset=os.environ.get("AIDAS_X264_PRESET", "veryfast"),
            # Scene art: its own key and server, else the writer's OpenAI key and base URL.
            image_api_key=env_or_none("AIDAS_IMAGE_API_KEY") or env_or_none("OPENAI_API_KEY"),
            image_base_url=os.environ.get("AIDAS_IMAGE_BASE_URL")
            or (None if os.environ.get("AIDAS_IMAGE_API_KEY") else os.environ.get("OPENAI_BASE_URL"))
            or None,
            image_model=os.environ.get("AIDAS_IMAGE_MODEL") or "gpt-image-1",
            image_quality=os.environ.get("AIDAS_IMAGE_QUALITY") or "medium",
        ),
        "channel": Channel(
            youtube_token_file=os.environ.get("AIDAS_YOUTUBE_TOKEN") or None,
            youtube_api_root=os.environ.get("AIDAS_YOUTUBE_API_ROOT") or None,
            replace_after_release=os.environ.get("AIDAS_YOUTUBE_REPLACE_AFTER_RELEASE", "") == "1",
        ),
    }
