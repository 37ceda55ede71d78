"""The budget gate: checked before paid work starts (spec 15.1 limits, 15.2 cheaper options).

Paid-work assets call `ensure_budget` first; the daily schedule calls `daily_gate` before it asks
for any run. Both read the shared cost ledger and its reservations, so every process and worker
sees the same spend and what the others have set aside. Days are studio days (AIDAS_STUDIO_TZ).
"""

from __future__ import annotations

from collections.abc import Callable

from aidas_dagster.core.ledger import Budget, BudgetExceeded, BudgetMode, studio_tz, today

__all__ = ["BudgetExceeded", "daily_gate", "ensure_budget"]


def ensure_budget(
    budget: Budget,
    provider: str,
    estimate_usd: float = 0.0,
    *,
    log: Callable[[str], None] | None = None,
    day: str | None = None,
) -> BudgetMode:
    """The mode `provider` must work in today; raises BudgetExceeded before any paid call.

    "economy" means at least 80 % of the provider's or the daily limit is spent: the caller picks
    its cheaper option (smaller model, faster voice, fewer avatar clips).
    """
    mode = budget.ensure_can_spend(provider, estimate_usd, day=day)
    if mode == "economy" and log is not None:
        spent = budget.ledger.spent(day or today(), provider)
        log(
            f"budget economy mode for {provider}: 80 % of a daily limit is spent "
            f"(${spent:.2f} by {provider} today); using the cheaper option"
        )
    return mode


def daily_gate(budget: Budget, day: str | None = None) -> tuple[BudgetMode, str]:
    """The mode of the all-provider daily budget and a sentence saying where it stands."""
    day = day or today()
    spent = budget.ledger.spent(day)
    reserved = budget.reserved(day)
    limit = budget.limits.daily_usd
    mode = budget.mode("", day)  # "" matches no provider limit: only the daily total counts
    zone = studio_tz().key
    held = f" + ${reserved:.2f} reserved by running work" if reserved > 0 else ""
    if mode == "exhausted":
        sentence = f"daily budget reached: ${spent:.2f}{held} of ${limit:.2f} spent on {day} ({zone}); no paid work starts"
    elif mode == "economy":
        sentence = f"daily budget at {(spent + reserved) / limit:.0%}: ${spent:.2f}{held} of ${limit:.2f}; cheaper options in use"
    else:
        sentence = f"daily budget: ${spent:.2f}{held} of ${limit:.2f} spent on {day} ({zone})"
    return mode, sentence
