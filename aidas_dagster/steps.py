"""How a pipeline step is retried: one policy shape for every asset (exponential backoff with jitter).

Each asset says only how long its first wait is (a paid upload waits longer than a local render),
so the policy's shape is written once.
"""

from __future__ import annotations

import dagster as dg


def step_retry(delay_seconds: float, max_retries: int = 2) -> dg.RetryPolicy:
    """Retry a failed step `max_retries` times, the first after `delay_seconds`, then doubling, jittered."""
    return dg.RetryPolicy(
        max_retries=max_retries, delay=delay_seconds, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )
