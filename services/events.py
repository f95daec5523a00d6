"""Event use cases: create, change (time, place, audience, capacity) and cancel an event.

The event card, the edit forms and the CSV/XLSX import all go through these functions, so the
rules hold whichever way a change arrives: the capacity never drops below the seats taken,
seats that appear are offered to the waitlist, a moved event moves its reminder and feedback
jobs and its registrants are told, a cancelled or finished event is not brought back.

Each function runs in the caller's unit of work (`db.repo.Repo`) and never commits. The rules
are checked under the event's row lock (`EventRepo.lock`), which is held until the caller
commits. Nothing here talks to Telegram: the `Notice`s a change produces are written to the
outbox in the same transaction (they leave after the commit, in each recipient's language)
and listed in the result for the caller's summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from db.models import Event
from db.repo import Repo
from db.repositories.events import EventRepo
from domain.events import EventStatus, RegStatus
from domain.notices import Notice, NoticeKind, count
from domain.schedule import JobKind, feedback_at
from services import agenda, reminders
from services.registrations import offer_freed_seats

__all__ = [
    "CAPACITY",
    "MOVED_FIELDS",
    "NOTIFIED_FIELDS",
    "Done",
    "Notice",
    "NoticeKind",
    "Refusal",
    "Refused",
    "cancel_event",
    "change_capacity",
    "change_event",
    "check_change",
    "create_event",
    "message_participants",
    "update_event",
]

#: registrants are told when any of these change
NOTIFIED_FIELDS = frozenset({"starts_at", "ends_at", "place", "online_url"})
#: the reminder and the feedback request follow these
MOVED_FIELDS = frozenset({"starts_at", "ends_at"})
CAPACITY = "capacity"


class Refusal(StrEnum):
    NOT_FOUND = "not_found"
    CANCELLED = "cancelled"
    #: the event has taken place (completed)
    OVER = "over"
    #: the new capacity is below the seats already taken (`Refused.seats_taken`)
    BELOW_TAKEN = "below_taken"


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal
    seats_taken: int = 0


@dataclass(frozen=True, slots=True)
class Done:
    event: Event
    #: the names of the columns whose value actually changed
    changed: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()

    def count(self, kind: NoticeKind) -> int:
        return count(self.notices, kind)


async def _schedule_jobs(repo: Repo, event: Event, now: datetime) -> None:
    """The feedback request after the end. (Reminders are planned per registration when a
    seat is confirmed: `services.reminders`.)"""
    await repo.jobs.schedule(
        JobKind.FEEDBACK_REQUEST, feedback_at(event.ends_at), event_id=event.id
    )


async def _move_jobs(repo: Repo, event: Event, now: datetime) -> None:
    """The feedback request and the registrants' reminders of a moved event follow it (a
    reminder whose time has passed is dropped: the registrants are told of the change)."""
    # an `event_reminder` job of an event published before reminders were planned per seat
    await repo.jobs.reschedule(JobKind.EVENT_REMINDER, event.id, None, now)
    await repo.jobs.reschedule(JobKind.FEEDBACK_REQUEST, event.id, feedback_at(event.ends_at), now)
    await reminders.replan_event(repo, event, now)
    # the organiser's agenda and summary of the new day (the old day's rows find, when due,
    # that the event has left their day)
    await agenda.plan_agenda_for_event(repo, event, now)


async def create_event(repo: Repo, event: Event, now: datetime) -> Done:
    """Publish a new event and schedule its feedback request and its organiser's agenda and
    summary."""
    event.status = EventStatus.SCHEDULED.value
    await repo.events.add_event(event)
    await _schedule_jobs(repo, event, now)
    await agenda.plan_agenda_for_event(repo, event, now)
    return Done(event)


async def check_change(
    repo: Repo, event_id: int, *, capacity: int | None = None
) -> Event | Refused:
    """Lock the event and check that it may be changed (to `capacity` seats, if given); the
    locked event. The lock is held until the caller's unit of work ends, so what was checked
    still holds when the change is applied in the same unit of work."""
    event = await repo.events.lock(event_id)
    if event is None:
        return Refused(Refusal.NOT_FOUND)
    if event.status == EventStatus.CANCELLED.value:
        return Refused(Refusal.CANCELLED)
    if event.status != EventStatus.SCHEDULED.value:
        return Refused(Refusal.OVER)
    if capacity is not None:
        taken = await repo.events.seats_taken(event_id)
        if capacity < taken:
            return Refused(Refusal.BELOW_TAKEN, seats_taken=taken)
    return event


async def update_event(
    repo: Repo, event_id: int, changes: Mapping[str, Any], now: datetime
) -> Done | Refused:
    """Change any of the editable, listing and capacity fields of a scheduled event under its
    lock: refused for a cancelled or finished event and below the seats taken; the jobs follow
    a move, registrants are told of a new time or place, new seats go to the waitlist."""
    allowed = EventRepo.EDITABLE_EVENT_FIELDS | EventRepo.LISTING_FIELDS | {CAPACITY}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not changeable: {sorted(unknown)}")
    capacity = changes.get(CAPACITY)
    checked = await check_change(repo, event_id, capacity=capacity)
    if isinstance(checked, Refused):
        return checked
    event = checked
    was_starts_at, was_ends_at = event.starts_at, event.ends_at
    changed = await repo.events.update_listing(
        event, **{k: v for k, v in changes.items() if k in EventRepo.LISTING_FIELDS}
    )
    changed += await repo.events.update_event(
        event, **{k: v for k, v in changes.items() if k in EventRepo.EDITABLE_EVENT_FIELDS}
    )
    notices: list[Notice] = []
    if MOVED_FIELDS & set(changed):
        await _move_jobs(repo, event, now)
    if NOTIFIED_FIELDS & set(changed):
        moved = bool(MOVED_FIELDS & set(changed))
        payload: dict[str, Any] = {"event_id": event.id, "changed": list(changed)}
        if moved:
            payload |= {
                "was_starts_at": was_starts_at.isoformat(),
                "was_ends_at": was_ends_at.isoformat(),
            }
        notices += [
            Notice(reg.user_id, NoticeKind.EVENT_CHANGED, payload)
            for reg in await repo.events.active_registrants(event.id)
        ]
        await repo.outbox.add(notices, now)
    if capacity is not None and capacity != event.capacity:
        if not await repo.events.set_capacity(event.id, int(capacity)):
            # cannot happen: checked under the lock we still hold
            raise RuntimeError(f"event {event.id}: capacity refused after the check")
        changed.append(CAPACITY)
        notices += await offer_freed_seats(repo, event.id, now)
    return Done(event, tuple(changed), tuple(notices))


async def change_capacity(
    repo: Repo, event_id: int, capacity: int, now: datetime
) -> Done | Refused:
    """The event card's 🪑: never below the seats taken; new seats are offered to the waitlist."""
    return await update_event(repo, event_id, {CAPACITY: capacity}, now)


async def change_event(
    repo: Repo, event_id: int, changes: Mapping[str, Any], now: datetime
) -> Done | Refused:
    """The edit forms: title, description, time, place, registration deadline."""
    return await update_event(repo, event_id, changes, now)


async def cancel_event(repo: Repo, event_id: int, now: datetime) -> Done | Refused:
    """Cancel a scheduled event: its pending jobs are closed and everyone signed up is told."""
    checked = await check_change(repo, event_id)
    if isinstance(checked, Refused):
        return checked
    event = checked
    regs = await repo.events.cancel_event(event)
    for kind in (JobKind.EVENT_REMINDER, JobKind.FEEDBACK_REQUEST):
        await repo.jobs.reschedule(kind, event.id, None, now)
    await reminders.cancel_event_reminders(repo, event.id, "the event was cancelled")
    notices = [
        Notice(reg.user_id, NoticeKind.EVENT_CANCELLED, {"event_id": event.id}) for reg in regs
    ]
    await repo.outbox.add(notices, now)
    return Done(event, ("status",), tuple(notices))


async def message_participants(repo: Repo, event: Event, text: str, now: datetime) -> int:
    """An organiser's message to everyone still signed up (confirmed, offered, in the
    waitlist, attended); how many will get it."""
    notices = [
        Notice(
            reg.user_id,
            NoticeKind.PARTICIPANTS_MESSAGE,
            {"event_id": event.id, "title": event.title, "text": text},
        )
        for reg in await repo.events.participants(event.id)
        if RegStatus(reg.status).active
    ]
    await repo.outbox.add(notices, now)
    return len(notices)
