"""The YouTube quota counter: per Pacific day, persisted, deferring instead of overspending."""

from __future__ import annotations

import datetime as dt

import pytest

from aidas_dagster.publish.quota import PACIFIC, QuotaCounter, QuotaDeferred, QuotaSettings


def at(year, month, day, hour, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PACIFIC)


def test_the_count_belongs_to_the_pacific_day_and_resets_at_midnight_pacific(tmp_path):
    now = {"t": at(2026, 11, 24, 23, 50)}
    counter = QuotaCounter(tmp_path / "quota.json", QuotaSettings(daily_units=100), clock=lambda: now["t"])
    counter.spend("thumbnails.set")
    counter.spend("thumbnails.set")
    with pytest.raises(QuotaDeferred) as deferred:
        counter.spend("videos.list", what="statistics")
    # 23:50 Pacific is already the 25th in UTC and Seoul; the quota day is still the 24th.
    assert deferred.value.until == dt.date(2026, 11, 25)
    assert "statistics deferred until 2026-11-25" in str(deferred.value) and "100 of 100" in str(deferred.value)

    now["t"] = at(2026, 11, 25, 0, 1)
    fresh = QuotaCounter(tmp_path / "quota.json", QuotaSettings(daily_units=100), clock=lambda: now["t"])  # another process
    assert fresh.remaining_units() == 100
    fresh.spend("videos.list")
    assert fresh.snapshot().by_method == {"videos.list": 1}


def test_quota_exceeded_from_the_server_closes_the_day_for_everyone(tmp_path):
    clock = lambda: at(2026, 11, 24, 10)  # noqa: E731
    QuotaCounter(tmp_path / "quota.json", clock=clock).mark_exhausted("upload")
    other = QuotaCounter(tmp_path / "quota.json", clock=clock)
    assert other.remaining_units() == 0
    with pytest.raises(QuotaDeferred, match="quotaExceeded"):
        other.ensure("upload", {"videos.insert": 1})


def test_method_units_are_configurable_and_bad_settings_are_named():
    settings = QuotaSettings(method_units={"thumbnails.set": 60}, insert_rule="both")
    assert settings.units("thumbnails.set") == 60 and settings.units("videos.insert") == 1600
    assert settings.inserts("videos.insert") == 1 and settings.units("commentThreads.list") == 1
    with pytest.raises(ValueError, match="insert_rule must be 'units', 'bucket' or 'both'"):
        QuotaSettings(insert_rule="sometimes")
    with pytest.raises(ValueError, match="thumbnails.set must not be negative"):
        QuotaSettings(method_units={"thumbnails.set": -1})


def test_a_corrupt_counter_file_is_named(tmp_path):
    path = tmp_path / "quota.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="quota.json: quota counter is unreadable"):
        QuotaCounter(path).spend("videos.list")
