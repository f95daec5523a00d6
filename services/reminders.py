"""Reminders planned as outbox rows, in the transaction of their cause.

Each reminder is a scheduled outbox row (`due_at`) with a kind, a recipient and a reference
(`ref`): a confirmed seat plans the event's reminders at the policy's lead times; a moved
event moves them, a cancelled registration or event cancels them, a muted category cancels
the user's rows of that category. Whether a row is still worth sending is decided once more
when it is due (`outbox.sender`, `outbox.render`), so a row a change failed to reach still
never produces a wrong message.

`services.followups.FOLLOWUPS` plan a reminder's successor in the transaction that marks it
sent (the next route nudge a week later).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime

from db.models import Event, Registration
from db.repo import Repo
from domain.events import EventStatus, RegStatus
from domain.notices import Notice, NoticeKind
from domain.reminders import CATEGORY, Category
from services import digest
from services.agenda import plan_user_agenda
from services.nudges import plan_assessment, plan_route

__all__ = [
    "PLANNERS",
    "cancel_event_reminders",
    "event_ref",
    "mute",
    "plan_event_reminders",
    "plan_user_events",
    "replan_event",
    "replan_user",
    "unmute",
]

#: the kinds that a change to an event withdraws from its registrants
EVENT_REMINDER_KINDS = (NoticeKind.EVENT_REMINDER,)


def event_ref(event_id: int) -> str:
    return f"event:{event_id}"


def _reminder(repo: Repo, event: Event, reg: Registration, now: datetime) -> list[Notice]:
    at = event.starts_at.isoformat()
    notices = []
    for lead in repo.policy.event_reminders(event.starts_at, now):
        minutes = int(lead.total_seconds() // 60)
        notices.append(
            Notice(
                reg.user_id,
                NoticeKind.EVENT_REMINDER,
                {"event_id": event.id, "reg_id": reg.id, "lead": minutes},
                due_at=event.starts_at - lead,
                key=f"remind:{reg.id}:{minutes}:{at}",
                ref=event_ref(event.id),
            )
        )
    return notices


async def plan_event_reminders(
    repo: Repo, event: Event, regs: Iterable[Registration], now: datetime
) -> int:
    """Plan the reminders of the confirmed `regs` of a scheduled event (each lead time still
    ahead; a key makes planning twice harmless). How many rows were added."""
    if event.status != EventStatus.SCHEDULED.value:
        return 0
    notices = [
        notice
        for reg in regs
        if reg.status == RegStatus.CONFIRMED.value
        for notice in _reminder(repo, event, reg, now)
    ]
    return await repo.outbox.add(notices, now) if notices else 0


async def cancel_event_reminders(
    repo: Repo, event_id: int, reason: str, *, user_id: int | None = None
) -> int:
    """Withdraw the pending reminders of an event (of one registrant)."""
    return await repo.outbox.cancel_ref(
        event_ref(event_id), reason, user_id=user_id, kinds=EVENT_REMINDER_KINDS
    )


async def replan_event(repo: Repo, event: Event, now: datetime) -> int:
    """The event moved: its pending reminders are withdrawn and planned for the new time."""
    await cancel_event_reminders(repo, event.id, "the event moved")
    regs = [
        reg
        for reg in await repo.events.participants(event.id)
        if reg.status == RegStatus.CONFIRMED.value
    ]
    return await plan_event_reminders(repo, event, regs, now)


async def plan_user_events(repo: Repo, user_id: int, now: datetime) -> int:
    """Plan the reminders of all the user's confirmed seats on events still ahead (a category
    switched back on)."""
    added = 0
    for reg in await repo.events.of_user(user_id):  # loads each registration's event
        if reg.status == RegStatus.CONFIRMED.value and reg.event.starts_at > now:
            added += await plan_event_reminders(repo, reg.event, [reg], now)
    return added


Planner = Callable[[Repo, int, datetime], Awaitable[int]]


async def plan_staff(repo: Repo, user_id: int, now: datetime) -> int:
    """The AGENDA category: the agendas and summaries of the user's events, the Monday
    statistics digest."""
    return await plan_user_agenda(repo, user_id, now) + await digest.plan_user_digest(
        repo, user_id, now
    )


#: what plans a user's reminders of each category from the database (after a category is
#: switched back on, a new time zone or new quiet hours). Categories planned at a fixed local
#: time of day (route, self-assessment, agenda) move with the user's zone.
PLANNERS: dict[Category, Planner] = {
    Category.EVENTS: plan_user_events,
    Category.ROUTE: plan_route,
    Category.ASSESSMENT: plan_assessment,
    Category.AGENDA: plan_staff,
}


async def replan_user(
    repo: Repo, user_id: int, now: datetime, categories: Iterable[Category] | None = None
) -> int:
    """Plan the user's reminders of `categories` (all) again; muted ones are left alone."""
    user = await repo.users.get(user_id)
    if user is None:
        return 0
    added = 0
    for category in categories if categories is not None else list(PLANNERS):
        planner = PLANNERS.get(category)
        if planner is not None and category.value not in (user.muted or []):
            added += await planner(repo, user_id, now)
    return added


def kinds_of(category: Category) -> list[NoticeKind]:
    return [kind for kind, of in CATEGORY.items() if of is category]


async def mute(repo: Repo, user_id: int, category: Category) -> bool:
    """Switch a category off: the user's pending rows of it are withdrawn at once. False if
    it was off already."""
    user = await repo.users.get(user_id)
    if user is None:
        return False
    muted = list(user.muted or [])
    if category.value in muted:
        return False
    user.muted = [*muted, category.value]
    await repo.outbox.cancel_kinds(user_id, kinds_of(category), f"muted: {category.value}")
    await repo.session.flush()
    return True


async def unmute(repo: Repo, user_id: int, category: Category, now: datetime) -> bool:
    """Switch a category back on: what it withdrew is planned again. False if it was on
    already."""
    user = await repo.users.get(user_id)
    if user is None or category.value not in (user.muted or []):
        return False
    user.muted = [c for c in user.muted if c != category.value]
    await repo.session.flush()
    await replan_user(repo, user_id, now, [category])
    return True
