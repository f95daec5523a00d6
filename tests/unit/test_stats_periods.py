"""Statistics periods: weeks Monday–Sunday, months, quarters, school years from 1 September,
moved back and forth, and their bounds in a staff member's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.stats import Indicator, IndicatorCode, Period, PeriodKind

K = PeriodKind


@pytest.mark.parametrize(
    ("kind", "day", "start", "end"),
    [
        (K.WEEK, date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 30)),  # a Sunday
        (K.WEEK, date(2026, 11, 30), date(2026, 11, 30), date(2026, 12, 7)),  # a Monday
        (K.WEEK, date(2026, 12, 31), date(2026, 12, 28), date(2027, 1, 4)),  # across the year
        (K.MONTH, date(2026, 12, 15), date(2026, 12, 1), date(2027, 1, 1)),
        (K.QUARTER, date(2026, 11, 30), date(2026, 10, 1), date(2027, 1, 1)),
        (K.QUARTER, date(2026, 3, 31), date(2026, 1, 1), date(2026, 4, 1)),
        (K.YEAR, date(2026, 11, 30), date(2026, 9, 1), date(2027, 9, 1)),
        (K.YEAR, date(2026, 8, 31), date(2025, 9, 1), date(2026, 9, 1)),
    ],
)
def test_the_period_containing_a_day(kind: PeriodKind, day: date, start: date, end: date) -> None:
    period = Period.containing(kind, day)
    assert (period.start, period.end) == (start, end)


def test_periods_move_back_and_forth() -> None:
    week = Period.containing(K.WEEK, date(2026, 1, 2))
    assert week.previous().start == date(2025, 12, 22) and week.shift(2).start == date(2026, 1, 12)
    month = Period.containing(K.MONTH, date(2026, 1, 31))
    assert month.previous().start == date(2025, 12, 1) and month.shift(13).start == date(2027, 2, 1)
    quarter = Period.containing(K.QUARTER, date(2026, 2, 1))
    assert quarter.previous() == Period(K.QUARTER, date(2025, 10, 1), date(2026, 1, 1))
    year = Period.containing(K.YEAR, date(2026, 10, 1))
    assert year.previous() == Period(K.YEAR, date(2025, 9, 1), date(2026, 9, 1))
    assert year.last_day == date(2027, 8, 31)


def test_bounds_are_local_midnights_in_utc() -> None:
    week = Period.containing(K.WEEK, date(2026, 11, 30))
    moscow = week.bounds(ZoneInfo("Europe/Moscow"))
    assert moscow == (datetime(2026, 11, 29, 21, tzinfo=UTC), datetime(2026, 12, 6, 21, tzinfo=UTC))
    yekaterinburg = week.bounds(ZoneInfo("Asia/Yekaterinburg"))
    assert yekaterinburg[0] == datetime(2026, 11, 29, 19, tzinfo=UTC)


def test_an_indicator_share_its_change_and_its_target() -> None:
    before = Indicator(IndicatorCode.YOUNG_SUPPORTED, 5, 10, 0.7)
    now = Indicator(IndicatorCode.YOUNG_SUPPORTED, 8, 10, 0.7, previous=before)
    assert now.share == 0.8 and now.change == pytest.approx(0.3) and now.meets_target is True
    assert before.meets_target is False and before.change is None
    empty = Indicator(IndicatorCode.DIAGNOSED, 0, 0)
    assert empty.share is None and empty.meets_target is None and empty.change is None
