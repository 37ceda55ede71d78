"""The story stage's resource: the writers' room (OpenAI when a key is set, else the offline engine)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from aidas_dagster.core.ledger import Budget, CostLedger
from aidas_dagster.resources import env_or_none
from aidas_dagster.story.engine import OfflineStoryEngine, StoryEngine
from aidas_dagster.story.openai_engine import OpenAIStoryEngine


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

    def engine(
        self, ledger: CostLedger | None = None, budget: Budget | None = None, cache_dir: Path | None = None
    ) -> StoryEngine:
        """OpenAIStoryEngine when a key is set (calls recorded in `ledger`, gated by `budget`, answered
        from `cache_dir` when unchanged), else the offline engine."""
        if not self.openai_api_key:
            return OfflineStoryEngine()
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


def story_resources() -> dict[str, dg.ConfigurableResource]:
    """The writers' room as the environment configures it (OPENAI_* variables)."""
    return {
        "writers_room": WritersRoom(
            openai_api_key=env_or_none("OPENAI_API_KEY"),
            model=os.environ.get("OPENAI_MODEL") or "gpt-4o-mini",
            base_url=os.environ.get("OPENAI_BASE_URL") or None,
            economy_model=os.environ.get("OPENAI_ECONOMY_MODEL") or None,
        )
    }
