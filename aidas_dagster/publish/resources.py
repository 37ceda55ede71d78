"""The publish stage's resource: the channel (YouTube with a token, else the local channel)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from aidas_dagster.core.ledger import CostLedger
from aidas_dagster.core.storage import Storage
from aidas_dagster.publish.adjustments import AdjustmentSettings
from aidas_dagster.publish.local_channel import LocalChannel
from aidas_dagster.publish.quota import QuotaSettings
from aidas_dagster.publish.youtube import youtube_publisher


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

    def quota_settings(self) -> QuotaSettings:
        return QuotaSettings(
            daily_units=self.quota_daily_units,
            daily_inserts=self.quota_daily_inserts,
            insert_rule=self.quota_insert_rule,  # validated there
            method_units=dict(self.quota_method_units),
        )

    def adjustment_settings(self) -> AdjustmentSettings:
        return AdjustmentSettings(min_comments=self.feedback_min_comments, max_future_episodes=self.feedback_future_episodes)

    def publisher(self, storage: Storage, ledger: CostLedger | None = None):
        """YouTube when a token file is configured, else the offline local channel."""
        if not self.youtube_token_file:
            return LocalChannel(storage.channel_dir(), replace_after_release=self.replace_after_release)
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


def publish_resources() -> dict[str, dg.ConfigurableResource]:
    """The channel as the environment configures it (AIDAS_YOUTUBE_* variables)."""
    return {
        "channel": Channel(
            youtube_token_file=os.environ.get("AIDAS_YOUTUBE_TOKEN") or None,
            youtube_api_root=os.environ.get("AIDAS_YOUTUBE_API_ROOT") or None,
            replace_after_release=os.environ.get("AIDAS_YOUTUBE_REPLACE_AFTER_RELEASE", "") == "1",
        )
    }
