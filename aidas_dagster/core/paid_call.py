"""One retry mechanism for every paid call, shared by all providers.

A provider wraps its client call in `call_with_retry` and says, through `classify`, what a failure
means: retry it (rate limit, 5xx, timeout: exponential backoff with full jitter, honouring a
server's Retry-After), fail over to the backup (out of credit: retrying cannot help), or fail now
(bad request, bad key). Retries are bounded; the last error is raised with what was tried.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

T = TypeVar("T")

Verdict = Literal["retry", "failover", "fail"]


class ProviderError(RuntimeError):
    """A provider call failed for good; the message names the provider and what was asked."""

    # Whether running the whole step again could help (e.g. a model asked afresh may answer better).
    step_may_retry = False


class OutOfCredit(ProviderError):
    """The provider's account has no credit or quota left: use the backup, do not retry."""


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header's wait: delta-seconds or an HTTP date (RFC 9110), never negative;
    None when absent or unreadable (then our own backoff decides)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    retry_after: float | None = None  # seconds the server asked us to wait


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full-jitter exponential backoff, never shorter than the server's Retry-After."""
        backoff = random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return min(self.max_delay, max(backoff, retry_after or 0.0))


def call_with_retry(
    fn: Callable[[], T],
    *,
    what: str,
    classify: Callable[[BaseException], Decision],
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Call `fn` until it succeeds, a failure is final, or attempts run out.

    Raises OutOfCredit for a failover verdict and ProviderError otherwise, chained to the cause.
    """
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classify decides what each failure means
            decision = classify(exc)
            if decision.verdict == "failover":
                raise OutOfCredit(f"{what}: out of credit or quota ({exc})") from exc
            if decision.verdict == "fail" or attempt == policy.max_attempts:
                tried = f" after {attempt} attempts" if attempt > 1 else ""
                raise ProviderError(f"{what} failed{tried}: {exc}") from exc
            wait = policy.delay(attempt, decision.retry_after)
            if on_retry is not None:
                on_retry(attempt, exc, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
