"""The one retry mechanism: reading a server's Retry-After the same way for every provider."""

from __future__ import annotations

import email.utils
import time

import pytest

from aidas_dagster.core.paid_call import retry_after_seconds


def test_delta_seconds_and_http_dates_are_read_and_never_negative():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("-3") == 0.0
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert retry_after_seconds(soon) == pytest.approx(30, abs=2)
    assert retry_after_seconds(email.utils.formatdate(time.time() - 30, usegmt=True)) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon-ish"])
def test_absent_or_unreadable_leaves_the_wait_to_our_backoff(value):
    assert retry_after_seconds(value) is None
