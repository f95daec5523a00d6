"""Teacher-side event rules: today/tomorrow in the service zone, cancelling too late,
claiming an offer, feedback, relevance weights."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.events import (
    EventFacts,
    EventStatus,
    FeedbackRefusal,
    RegStatus,
    can_cancel,
    can_claim,
    cancel_too_late,
    days_ahead,
    feedback_refusal,
    interest_weights,
    relevance,
)

MSK = ZoneInfo("Europe/Moscow")
START = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # 15:00 in Moscow


def _facts(status: EventStatus = EventStatus.SCHEDULED) -> EventFacts:
    return EventFacts(status, START, START + timedelta(hours=2), capacity=10)


def test_today_and_tomorrow_are_local_dates() -> None:
    # 22:30 UTC on the 29th is 01:30 on the 30th in Moscow: a 10:00 event on the 30th is today
    now = datetime(2026, 11, 29, 22, 30, tzinfo=UTC)
    assert days_ahead(datetime(2026, 11, 30, 7, 0, tzinfo=UTC), now, MSK) == 0
    assert days_ahead(datetime(2026, 11, 30, 7, 0, tzinfo=UTC), now, UTC) == 1
    assert days_ahead(datetime(2026, 11, 30, 21, 30, tzinfo=UTC), now, MSK) == 1  # 00:30 on 1st
    assert days_ahead(datetime(2026, 11, 29, 20, 0, tzinfo=UTC), now, MSK) == -1


@pytest.mark.parametrize(
    ("before", "too_late", "cancel"),
    [
        (timedelta(hours=3), False, True),
        (timedelta(hours=2), False, True),
        (timedelta(hours=1, minutes=59), True, False),
        (timedelta(minutes=1), True, False),
        (timedelta(0), False, False),  # started: neither
    ],
)
def test_cancelling_closes_two_hours_before_and_says_so(
    before: timedelta, too_late: bool, cancel: bool
) -> None:
    now = START - before
    assert cancel_too_late(_facts(), RegStatus.CONFIRMED, now) is too_late
    assert can_cancel(_facts(), RegStatus.CONFIRMED, now) is cancel
    assert not cancel_too_late(_facts(EventStatus.CANCELLED), RegStatus.CONFIRMED, now)
    assert not cancel_too_late(_facts(), RegStatus.ATTENDED, now)


def test_an_offer_is_claimed_only_on_a_scheduled_event_before_it_starts() -> None:
    now = START - timedelta(hours=5)
    expires = now + timedelta(hours=1)
    assert can_claim(_facts(), RegStatus.OFFERED, expires, now)
    assert not can_claim(_facts(EventStatus.CANCELLED), RegStatus.OFFERED, expires, now)
    assert not can_claim(_facts(), RegStatus.OFFERED, expires, expires + timedelta(seconds=1))
    assert not can_claim(_facts(), RegStatus.OFFERED, None, START)
    assert not can_claim(_facts(), RegStatus.CANCELLED, expires, now)


def test_feedback_only_from_seat_holders_after_the_end() -> None:
    after = START + timedelta(hours=3)
    assert feedback_refusal(_facts(), RegStatus.ATTENDED, after) is None
    assert feedback_refusal(_facts(EventStatus.COMPLETED), RegStatus.CONFIRMED, after) is None
    assert feedback_refusal(_facts(), RegStatus.CONFIRMED, START) is FeedbackRefusal.NOT_YET
    assert (
        feedback_refusal(_facts(EventStatus.CANCELLED), RegStatus.CONFIRMED, after)
        is FeedbackRefusal.CANCELLED
    )
    for status in (RegStatus.WAITLISTED, RegStatus.OFFERED, RegStatus.CANCELLED):
        assert feedback_refusal(_facts(), status, after) is FeedbackRefusal.NOT_PARTICIPANT


def test_relevance_is_the_sum_of_interest_weights() -> None:
    weights = interest_weights({"assessment", "digital"}, {"assessment", "health"})
    assert weights == {"assessment": 2, "digital": 1, "health": 2}
    assert (
        relevance(
            ["assessment", "digital", "other"], {"assessment", "digital"}, {"assessment", "health"}
        )
        == 3
    )
    assert relevance(["other"], {"digital"}, set()) == 0
