"""tui/format.py: the one place dates and ages are written for the screen."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tui.format import ago, day, minute, second

AT = datetime(2026, 11, 28, 15, 14, 14)


def test_dates_to_the_day_minute_and_second():
    assert day(AT) == "2026-11-28"
    assert minute(AT) == "2026-11-28 15:14"
    assert minute(AT, utc=True) == "2026-11-28 15:14 UTC"
    assert second(AT) == "2026-11-28 15:14:14"
    assert second(AT, utc=True) == "2026-11-28 15:14:14 UTC"


@pytest.mark.parametrize("say", [day, minute, second, lambda dt: ago(dt, AT)])
def test_no_time_is_never(say):
    assert say(None) == "never"


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        (timedelta(seconds=-5), "just now"),  # a clock a little ahead is not "in the future"
        (timedelta(seconds=59), "just now"),
        (timedelta(seconds=60), "1 min ago"),
        (timedelta(minutes=59, seconds=59), "59 min ago"),
        (timedelta(hours=1), "1 h ago"),
        (timedelta(hours=23, minutes=59), "23 h ago"),
        (timedelta(days=1), "1 d ago"),
        (timedelta(days=59), "59 d ago"),
        (timedelta(days=60), "2026-09-29"),
    ],
)
def test_ages_are_relative_while_recent_then_a_date(before, expected):
    assert ago(AT - before, AT) == expected
