"""The sensor interval cap: production intervals unless the environment shortens them."""

from __future__ import annotations

import pytest

from aidas_dagster.core.intervals import SENSOR_INTERVAL_ENV, sensor_interval


def test_unset_keeps_each_sensors_own_interval(monkeypatch):
    monkeypatch.delenv(SENSOR_INTERVAL_ENV, raising=False)
    assert (sensor_interval(30), sensor_interval(300)) == (30, 300)


def test_the_cap_shortens_and_never_lengthens(monkeypatch):
    monkeypatch.setenv(SENSOR_INTERVAL_ENV, "5")
    assert (sensor_interval(30), sensor_interval(3)) == (5, 3)
    monkeypatch.setenv(SENSOR_INTERVAL_ENV, "0")
    assert sensor_interval(30) == 1


def test_a_cap_that_is_not_a_number_is_named(monkeypatch):
    monkeypatch.setenv(SENSOR_INTERVAL_ENV, "fast")
    with pytest.raises(ValueError, match="AIDAS_SENSOR_INTERVAL_SECONDS='fast'"):
        sensor_interval(30)
