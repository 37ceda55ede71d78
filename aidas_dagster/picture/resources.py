"""The picture stage's resource: the avatar studio (HeyGen clips, generated scene art, encoder settings)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from aidas_dagster.core.ledger import Budget, CostLedger
from aidas_dagster.picture.heygen import DEFAULT_BASE_URL, HeyGenAvatars, HeyGenClient
from aidas_dagster.picture.image_art import ImageClient, SceneArtist
from aidas_dagster.resources import env_or_none


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

    def avatar_provider(self, cache_dir: Path, ledger: CostLedger | None = None, budget: Budget | None = None) -> HeyGenAvatars | None:
        """HeyGen clips (a `HeyGenAvatars`) when a key is set, else None: every line renders locally."""
        if not self.heygen_api_key:
            return None
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

    def scene_artist(self, cache_dir: Path, ledger: CostLedger | None = None, budget: Budget | None = None) -> SceneArtist | None:
        """Generated portraits and backdrops (a `SceneArtist`) when an image key is set, else None."""
        if not self.image_api_key:
            return None
        client = ImageClient(self.image_api_key, self.image_base_url, model=self.image_model, quality=self.image_quality)
        return SceneArtist(client, Path(cache_dir), ledger=ledger, budget=budget)


def picture_resources() -> dict[str, dg.ConfigurableResource]:
    """The avatar studio as the environment configures it (HEYGEN_*, AIDAS_IMAGE_*, AIDAS_X264_PRESET)."""
    return {
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
        )
    }
