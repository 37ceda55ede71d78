"""Names of the run tags AIDAS sets and reads, on the common floor so any stage can read them.

The daily schedule (operations) sets them on the runs it requests; publish reads the release slot;
the override sensor (story) says what triggered its runs; the studio resource reads which
process holds a run's budget reservations. Dagster's own partition tags are named
by `partitions.py`'s dimensions and read only by the operations code.
"""

from __future__ import annotations

PLAN_DAY_TAG = "aidas/plan_day"  # the production day whose plan requested the run
PUBLISH_AT_TAG = "aidas/publish_at"  # the release slot the plan gave the episode (ISO time)
BUDGET_MODE_TAG = "aidas/budget_mode"  # the daily budget's mode when the run was planned
# On every run of the produce_episode job: it makes the episode's script and all after it, so
# automation does not re-make what such a run updates (steps.remade_when_upstream_changes).
WHOLE_EPISODE_TAG = "aidas/whole_episode"
TRIGGER_TAG = "aidas/trigger"  # what asked for a run outside the plan (e.g. "script-override")
# The process that executes a run in this machine (set by the operations code's watched execution):
# a run whose process is gone is failed and its pool slots and budget reservations are released.
PID_TAG = "aidas/pid"
PID_STARTED_TAG = "aidas/pid_started"  # the process's start time: a reused pid is not our run
HOST_TAG = "aidas/host"
