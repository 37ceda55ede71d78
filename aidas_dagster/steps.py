"""How a pipeline step is retried, and when automation re-makes an episode's step.

Retries: one policy shape for every asset (exponential backoff with jitter); each asset says only
how long its first wait is (a paid upload waits longer than a local render).

Automation: an episode's voice, picture and publish steps are re-made when the step before them
changed outside a whole-episode run (a producer's edited script, a script re-made from the UI).
"""

from __future__ import annotations

import dagster as dg

from aidas_dagster.core.run_tags import WHOLE_EPISODE_TAG


def step_retry(delay_seconds: float, max_retries: int = 2) -> dg.RetryPolicy:
    """Retry a failed step `max_retries` times, the first after `delay_seconds`, then doubling, jittered."""
    return dg.RetryPolicy(
        max_retries=max_retries, delay=delay_seconds, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
    )


def remade_when_upstream_changes() -> dg.AutomationCondition:
    """Dagster's eager condition without its two triggers that raced a whole-episode run.

    A run of the produce_episode job (schedule, backfill, `aidas produce`) makes the script and
    everything after it, but carries no asset selection, so eager counted its script as an update
    made outside the run; a tick that fell after a step had finished but before its update was
    read then requested that step again (seen: audio_track re-made alone after a backfill, its
    stale re-make then racing a producer's edit). Updates by a run tagged WHOLE_EPISODE_TAG are
    therefore not triggers, and neither is a missing partition (the schedule makes new episodes)."""
    changed = (
        dg.AutomationCondition.newly_updated()
        & ~dg.AutomationCondition.executed_with_root_target()
        & ~dg.AutomationCondition.executed_with_tags(tag_keys={WHOLE_EPISODE_TAG})
    ).with_label("updated outside a run that also makes this")
    upstream_changed = dg.AutomationCondition.any_deps_match(changed | dg.AutomationCondition.will_be_requested()).with_label(
        "upstream changed"
    )
    return (
        upstream_changed.since_last_handled()
        & ~dg.AutomationCondition.any_deps_missing()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("remade when upstream changes")
