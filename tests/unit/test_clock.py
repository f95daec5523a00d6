"""core.clock: the system clock is aware UTC; the manual clock stands still until moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.clock import Clock, ManualClock, SystemClock, utcnow


def test_the_system_clock_is_aware_utc_and_moves() -> None:
    clock: Clock = SystemClock()
    first = clock.now()
    assert first.tzinfo is UTC
    assert abs(first - datetime.now(UTC)) < timedelta(seconds=5)
    assert clock.now() >= first and utcnow().tzinfo is UTC


def test_the_manual_clock_stands_still_until_set_or_advanced() -> None:
    start = datetime(2026, 12, 2, 15, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    clock: Clock = ManualClock(start)
    assert isinstance(clock, ManualClock)
    assert clock.now() == clock.now() == start
    assert clock.now().tzinfo is UTC and clock.now().hour == 12  # kept in UTC
    assert clock.advance(timedelta(minutes=10)) == start + timedelta(minutes=10)
    assert clock.advance(hours=1, minutes=5) == start + timedelta(hours=1, minutes=15)
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2027, 1, 1, tzinfo=UTC)


def test_the_manual_clock_starts_at_the_real_time_by_default() -> None:
    assert abs(ManualClock().now() - utcnow()) < timedelta(seconds=5)


def test_the_manual_clock_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 12, 2, 15, 0))
    clock = ManualClock()
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 12, 2, 15, 0))
