"""Concurrency pools of the provider steps and their limits (set per instance)."""

from __future__ import annotations

import time

# llm: OpenAI rate limits allow several scripts at once; tts: ElevenLabs plans allow ~4-10
# concurrent requests; avatar: HeyGen runs about 10 jobs per account; render: ffmpeg uses a core
# each; youtube: uploads one at a time, in release order.
POOL_LIMITS: dict[str, int] = {"llm": 4, "tts": 4, "avatar": 10, "render": 2, "youtube": 1}


def apply_pool_limits(instance, limits: dict[str, int] | None = None) -> dict[str, int]:
    """Set each pool's limit on `instance` (idempotent); returns what was set."""
    limits = dict(POOL_LIMITS if limits is None else limits)
    storage = instance.event_log_storage
    for pool, limit in limits.items():
        for attempt in range(3):
            try:
                storage.set_concurrency_slots(pool, limit)
                break
            except Exception:  # noqa: BLE001 - two CLIs starting at once race to insert the pool's row
                if attempt == 2:
                    raise
                time.sleep(0.2 * (attempt + 1))  # the other one created it; setting it again is an update
    return limits
