"""How often the studio's sensors look, with one setting that shortens them all (tests, demos).

Production keeps each sensor's own interval. `AIDAS_SENSOR_INTERVAL_SECONDS`, when set, caps every
sensor's minimum interval, so an acceptance test of the daemon does not wait half-minute ticks.
It is read when the definitions load (the daemon's code server reads its own environment).
"""

from __future__ import annotations

from aidas_dagster.core.config import env_whole_number

SENSOR_INTERVAL_ENV = "AIDAS_SENSOR_INTERVAL_SECONDS"


def sensor_interval(default: int) -> int:
    """`default` seconds, or the environment's cap when it is set and shorter (at least 1 s)."""
    cap = env_whole_number(SENSOR_INTERVAL_ENV)
    return default if cap is None else max(1, min(default, cap))
