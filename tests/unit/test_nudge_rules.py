"""When route nudges, stall messages and self-assessment reminders are due (`domain.nudges`,
on `domain.reminders.Policy`): 10:00 in the recipient's zone, a week between nudges counted
in their calendar days, mornings already gone moved to the next one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.nudges import (
    due_targets,
    last_progress,
    morning_after,
    nudge_due,
    postponed,
    retake_due,
    stall_due,
    unfinished_due,
)
from domain.reminders import Policy

MSK, YEKT = ZoneInfo("Europe/Moscow"), ZoneInfo("Asia/Yekaterinburg")
POLICY = Policy()
D = date(2031, 3, 10)


def utc(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def test_morning_after_is_ten_local_at_or_after_the_moment() -> None:
    ten = time(10, 0)
    assert morning_after(utc(D, 6, 59), ten, MSK) == utc(D, 7)  # 09:59 MSK → 10:00 today
    assert morning_after(utc(D, 7), ten, MSK) == utc(D, 7)  # exactly 10:00: that one
    assert morning_after(utc(D, 7, 1), ten, MSK) == utc(D + timedelta(1), 7)
    assert morning_after(utc(D, 7, 1), ten, YEKT) == utc(D + timedelta(1), 5)
    # 23:00 UTC is already the next day in both zones
    assert morning_after(utc(D, 23), ten, MSK) == utc(D + timedelta(1), 7)


def test_a_nudge_comes_the_morning_the_first_open_step_enters_the_window() -> None:
    now = utc(D, 12)
    targets = [D + timedelta(days=9), D + timedelta(days=5)]
    assert nudge_due(POLICY, targets, None, now, MSK) == utc(D + timedelta(2), 7)
    assert nudge_due(POLICY, targets, None, now, YEKT) == utc(D + timedelta(2), 5)
    assert nudge_due(POLICY, [], None, now, MSK) is None


def test_a_window_already_open_moves_to_the_next_morning_not_now() -> None:
    overdue = [D - timedelta(days=4)]
    # the teacher touches the route at 15:00 MSK: no nudge in their face, tomorrow at 10:00
    assert nudge_due(POLICY, overdue, None, utc(D, 12), MSK) == utc(D + timedelta(1), 7)
    # at 08:00 MSK the morning is still ahead: today at 10:00
    assert nudge_due(POLICY, overdue, None, utc(D, 5), MSK) == utc(D, 7)


def test_nudges_are_a_week_apart_in_the_teachers_calendar_days() -> None:
    sent = utc(D, 7, 0) + timedelta(seconds=3)  # 10:00:03 MSK
    due = nudge_due(POLICY, [D], sent, sent, MSK)
    # the same morning a week later, though a few seconds short of 7 × 24 hours
    assert due == utc(D + timedelta(7), 7)
    assert due is not None and due - sent < timedelta(days=7)
    # a window opening later than the week wins
    later = [D + timedelta(days=20)]
    assert nudge_due(POLICY, later, sent, sent, MSK) == utc(D + timedelta(17), 7)


def test_policy_near_and_stall_at_edges() -> None:
    now = utc(D, 12)
    # near: from three days before the target on, and every day after it
    assert not POLICY.near(D + timedelta(4), D)
    assert POLICY.near(D + timedelta(3), D)
    assert POLICY.near(D, D) and POLICY.near(D - timedelta(30), D)
    assert due_targets(POLICY, [D + timedelta(4), D + timedelta(3), D - timedelta(1)], D) == [
        D + timedelta(3),
        D - timedelta(1),
    ]
    assert POLICY.stall_at(now) == now + timedelta(days=30)


def test_the_stall_counts_from_the_last_progress() -> None:
    created = utc(D, 12)
    assert last_progress(created, [None, None]) == created
    done = utc(D + timedelta(12), 9)
    assert last_progress(created, [None, done, utc(D + timedelta(3), 9)]) == done
    # 30 days after 15:00 MSK: the next morning
    assert stall_due(POLICY, created, created, MSK) == utc(D + timedelta(31), 7)
    # long gone (the category was off): the next morning, once
    late = utc(D + timedelta(40), 12)
    assert stall_due(POLICY, created, late, MSK) == utc(D + timedelta(41), 7)


def test_an_unfinished_assessment_is_reminded_after_two_and_seven_days_then_never() -> None:
    started = utc(D, 12)  # 17:00 in Yekaterinburg
    planned = unfinished_due(POLICY, started, started, YEKT)
    assert [(p.days, p.at) for p in planned] == [
        (2, utc(D + timedelta(3), 5)),
        (7, utc(D + timedelta(8), 5)),
    ]
    # planned again on day 4 (05:00 local): the first is due that morning if it was never
    # sent (the category was off); the row's key keeps a sent one from coming again
    again = unfinished_due(POLICY, started, utc(D + timedelta(4), 0), YEKT)
    assert [(p.days, p.at) for p in again] == [
        (2, utc(D + timedelta(4), 5)),
        (7, utc(D + timedelta(8), 5)),
    ]
    # both gone (switched back on after a month): one, the latest, the next morning
    month = utc(D + timedelta(30), 12)
    assert [(p.days, p.at) for p in unfinished_due(POLICY, started, month, YEKT)] == [
        (7, utc(D + timedelta(31), 5))
    ]


def test_the_retake_message_comes_the_first_morning_the_retake_is_possible() -> None:
    allowed = utc(D, 12)
    assert retake_due(POLICY, allowed, utc(D - timedelta(90), 12), MSK) == utc(D + timedelta(1), 7)
    assert retake_due(POLICY, utc(D, 6), utc(D - timedelta(90), 12), MSK) == utc(D, 7)
    assert retake_due(POLICY, None, allowed, MSK) is None  # no waiting: nothing to announce


def test_plus_a_week_counts_from_today_for_an_overdue_step() -> None:
    assert postponed(D + timedelta(2), D) == D + timedelta(9)
    assert postponed(D - timedelta(10), D) == D + timedelta(7)
