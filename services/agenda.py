"""The coordinator's morning agenda and day-after summary, planned as outbox rows.

An event's organiser (`events.organiser_id`) gets, in their own time zone:

* STAFF_AGENDA at `Policy.agenda_time` (08:00) on the local day the event starts: one message
  per coordinator per day, however many events that day has (the row's key is the day);
* STAFF_SUMMARY at `Policy.summary_time` (10:00) on the local day after the event ends.

An event without an organiser (imported from the command line, `organiser_id` NULL, or whose
organiser's account was deleted) plans nothing: there is no one to tell.

Rows are planned in the transaction that creates or moves the event (`services.events`). A
move plans the new day's rows and leaves the old day's alone; so does a cancellation: the
renderer (`outbox.render_staff`) reads the day's events when the row is due and returns None
(the row is cancelled unsent) when no scheduled event is left that day. Muting the AGENDA
category cancels the pending rows (`services.reminders.mute`); `plan_user_agenda` plans them
again (a category switched back on, a new time zone).

No aiogram here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from db.models import Event, User
from db.repo import Repo
from domain.events import EventStatus
from domain.notices import Notice, NoticeKind
from domain.reminders import Category, at_local

__all__ = [
    "AGENDA_KINDS",
    "agenda_key",
    "day_bounds",
    "plan_agenda_for_event",
    "plan_user_agenda",
    "summary_key",
]

AGENDA_KINDS = (NoticeKind.STAFF_AGENDA, NoticeKind.STAFF_SUMMARY)

#: how far back `plan_user_agenda` looks for events whose summary may still be ahead
SUMMARY_LOOKBACK = timedelta(days=2)


def agenda_key(user_id: int, day: date) -> str:
    return f"agenda:{user_id}:{day.isoformat()}"


def summary_key(user_id: int, day: date) -> str:
    return f"summary:{user_id}:{day.isoformat()}"


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The local day `day` in the zone `tz` as a UTC interval [start, end)."""
    return at_local(day, time(0, 0), tz), at_local(day + timedelta(days=1), time(0, 0), tz)


def _notices(repo: Repo, user: User, event: Event, now: datetime) -> list[Notice]:
    policy = repo.policy
    tz = policy.tz(user.timezone)
    notices: list[Notice] = []
    if event.status == EventStatus.SCHEDULED.value:
        day = event.starts_at.astimezone(tz).date()
        due = at_local(day, policy.agenda_time, tz)
        if due > now:
            key = agenda_key(user.id, day)
            notices.append(
                Notice(
                    user.id,
                    NoticeKind.STAFF_AGENDA,
                    {"day": day.isoformat()},
                    due_at=due,
                    key=key,
                    ref=key,
                )
            )
    if event.status != EventStatus.CANCELLED.value:
        day = event.ends_at.astimezone(tz).date()
        due = at_local(day + timedelta(days=1), policy.summary_time, tz)
        if due > now:
            key = summary_key(user.id, day)
            notices.append(
                Notice(
                    user.id,
                    NoticeKind.STAFF_SUMMARY,
                    {"day": day.isoformat()},
                    due_at=due,
                    key=key,
                    ref=key,
                )
            )
    return notices


async def _organiser(repo: Repo, user_id: int | None) -> User | None:
    """The organiser to plan for: None without one, or when they switched agendas off."""
    if user_id is None:
        return None
    user = await repo.users.get(user_id)
    if user is None or user.erased_at is not None or Category.AGENDA.value in (user.muted or []):
        return None
    return user


async def plan_agenda_for_event(repo: Repo, event: Event, now: datetime) -> int:
    """Plan the organiser's agenda for the event's day and summary for the day after (each
    only if still ahead; the day's key makes it one row per coordinator per day). How many
    rows were added."""
    user = await _organiser(repo, event.organiser_id)
    if user is None:
        return 0
    notices = _notices(repo, user, event, now)
    return await repo.outbox.add(notices, now) if notices else 0


async def plan_user_agenda(repo: Repo, user_id: int, now: datetime) -> int:
    """Plan again all the agendas and summaries of the user's events still ahead (a category
    switched back on, a new time zone): the pending rows are withdrawn first, since a new zone
    moves both their day and their hour. How many rows were added."""
    user = await _organiser(repo, user_id)
    if user is None:
        return 0
    await repo.outbox.cancel_kinds(user_id, AGENDA_KINDS, "agenda planned again")
    notices = [
        notice
        for event in await repo.events.organised_since(user_id, now - SUMMARY_LOOKBACK)
        for notice in _notices(repo, user, event, now)
    ]
    return await repo.outbox.add(notices, now) if notices else 0
