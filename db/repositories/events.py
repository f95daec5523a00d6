"""Events: reading, the teacher's listing as one SQL query (`TeacherEvents`), the event lock,
creating and editing.

Every change of an event's seats runs after `_lock`: an UPDATE of the event row that takes a
row lock on PostgreSQL and the write lock on SQLite, so concurrent sign-ups and cancellations
of one event are serialised and capacity is never exceeded (tests: 50 concurrent sign-ups for
10 seats on both databases). The seats themselves are in `db.repositories.registrations`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    and_,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Event, Registration, Site
from db.repositories.staff import events_in
from db.repositories.teacher_events import TeacherEvents
from domain.events import EventFacts, EventStatus, RegStatus
from domain.pagination import Page
from domain.scope import Scope


def facts_of(event: Event) -> EventFacts:
    return EventFacts(
        status=EventStatus(event.status),
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        capacity=event.capacity,
        registration_deadline=event.registration_deadline,
    )


#: what holds a seat (as `registrations.SEAT_STATUSES`, which imports this module)
_SEAT_STATUSES = tuple(s.value for s in RegStatus if s.holds_seat)


@dataclass(frozen=True, slots=True)
class DayEvent:
    """An event of a coordinator's morning agenda, with its seats and waitlist."""

    event: Event
    seats_taken: int
    waitlist: int


@dataclass(frozen=True, slots=True)
class EventTally:
    """An event of a coordinator's day-after summary: who came, who did not, the feedback."""

    event: Event
    attended: int
    #: confirmed seats that were never checked in
    no_shows: int
    feedback: int
    #: the sum of the ratings given (the average is `rating_sum / feedback`)
    rating_sum: int


def _per_event(value: ColumnElement[int], *conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    """An aggregate over the registrations of the outer query's event (a correlated subquery:
    a list of events and their counts in one statement)."""
    return (
        select(value)
        .where(Registration.event_id == Event.id, *conditions)
        .correlate(Event)
        .scalar_subquery()
    )


class EventRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ reading

    async def get(self, event_id: int) -> Event | None:
        event: Event | None = await self.session.scalar(
            select(Event).where(Event.id == event_id).options(selectinload(Event.site))
        )
        return event

    async def for_teacher(
        self, query: TeacherEvents, page: int, per_page: int
    ) -> tuple[Page[Event], int]:
        """One page of the events a teacher may see and how many there are in all: filtered,
        counted and paged in SQL (soonest first; the page number is clamped, so a stale button
        never fails)."""
        where = and_(*query.conditions())
        total = int(
            await self.session.scalar(select(func.count()).select_from(Event).where(where)) or 0
        )
        pages = max(1, -(-total // per_page))
        page = min(max(page, 0), pages - 1)
        order: list[ColumnElement[Any]] = [Event.starts_at.asc()]
        if query.weights:
            order.append(query.score().desc())
        items = list(
            await self.session.scalars(
                select(Event)
                .where(where)
                .order_by(*order, Event.id)
                .limit(per_page)
                .offset(page * per_page)
            )
        )
        return Page(items=items, page=page, pages=pages), total

    async def site_title(self, site_id: int | None) -> str | None:
        """The title of an event's site, read by id (no relationship loading on the event)."""
        if site_id is None:
            return None
        title: str | None = await self.session.scalar(select(Site.title).where(Site.id == site_id))
        return title

    async def in_scope(self, scope: Scope, since: datetime) -> list[Event]:
        """Events organised inside a staff member's scope that end after `since`."""
        query = (
            select(Event)
            .where(Event.ends_at > since, *events_in(scope))
            .order_by(Event.starts_at, Event.id)
        )
        return list(await self.session.scalars(query.limit(100)))

    async def event_by_code(self, code: str) -> Event | None:
        event: Event | None = await self.session.scalar(select(Event).where(Event.code == code))
        return event

    # ------------------------------------------------------------------ the event lock

    async def _lock(self, event_id: int) -> Event | None:
        await self.session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(lock_version=Event.lock_version + 1)
            .execution_options(synchronize_session=False)
        )
        # populate_existing refreshes an Event already in the session; without the selectinload
        # it would also reset its `site`, and a later `event.site` would lazy-load (an error in
        # async code): a site-linked event's card after a sign-up failed that way
        event: Event | None = await self.session.scalar(
            select(Event)
            .where(Event.id == event_id)
            .options(selectinload(Event.site))
            .execution_options(populate_existing=True)
        )
        return event

    async def lock(self, event_id: int) -> Event | None:
        """Take the event's row lock (held until the unit of work ends) and read it afresh:
        what `services.events` checks its rules under."""
        return await self._lock(event_id)

    # ------------------------------------------------------------------ managing events

    async def add_event(self, event: Event) -> Event:
        self.session.add(event)
        await self.session.flush()
        return event

    async def complete(self, event: Event) -> None:
        if event.status == EventStatus.SCHEDULED.value:
            event.status = EventStatus.COMPLETED.value
            await self.session.flush()

    #: what a coordinator may change in a published event (handlers.event_admin)
    EDITABLE_EVENT_FIELDS = frozenset(
        {
            "title",
            "description",
            "starts_at",
            "ends_at",
            "place",
            "online_url",
            "registration_deadline",
        }
    )

    async def update_event(self, event: Event, **changes: Any) -> list[str]:
        """Change the given fields under the event lock (sign-ups read the times); the names
        of the fields whose value actually changed. Unknown fields are a programming error."""
        unknown = set(changes) - self.EDITABLE_EVENT_FIELDS
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        await self._lock(event.id)
        changed = [name for name, value in changes.items() if getattr(event, name) != value]
        for name in changed:
            setattr(event, name, changes[name])
        await self.session.flush()
        return changed

    #: what an import may change besides the editable fields and the capacity
    LISTING_FIELDS = frozenset(
        {
            "kind",
            "competencies",
            "site_id",
            "municipality_id",
            "region_wide",
            "positions",
            "subjects",
        }
    )

    async def update_listing(self, event: Event, **changes: Any) -> list[str]:
        """Like `update_event`, for `LISTING_FIELDS` (the caller holds the event lock)."""
        unknown = set(changes) - self.LISTING_FIELDS
        if unknown:
            raise ValueError(f"not a listing field: {sorted(unknown)}")
        changed = [name for name, value in changes.items() if getattr(event, name) != value]
        for name in changed:
            setattr(event, name, changes[name])
        await self.session.flush()
        return changed

    # ------------------------------------------------------------------ the organiser's day

    async def organiser_day(
        self, organiser_id: int, since: datetime, until: datetime
    ) -> list[DayEvent]:
        """The organiser's events (not cancelled: one that ended is completed) starting in
        [since, until), soonest first, with their seats taken and waitlist length: one
        query."""
        taken = _per_event(func.count(Registration.id), Registration.status.in_(_SEAT_STATUSES))
        waiting = _per_event(
            func.count(Registration.id), Registration.status == RegStatus.WAITLISTED.value
        )
        rows = await self.session.execute(
            select(Event, taken, waiting)
            .where(
                Event.organiser_id == organiser_id,
                Event.status != EventStatus.CANCELLED.value,
                Event.starts_at >= since,
                Event.starts_at < until,
            )
            .order_by(Event.starts_at, Event.id)
        )
        return [DayEvent(event, int(n or 0), int(w or 0)) for event, n, w in rows.tuples()]

    async def organiser_tally(
        self, organiser_id: int, since: datetime, until: datetime
    ) -> list[EventTally]:
        """The organiser's events (not cancelled) ending in [since, until), in order, with
        attended, no-shows (confirmed, never checked in), feedback count and rating sum: one
        query."""
        attended = _per_event(
            func.count(Registration.id), Registration.status == RegStatus.ATTENDED.value
        )
        no_shows = _per_event(
            func.count(Registration.id), Registration.status == RegStatus.CONFIRMED.value
        )
        rated = Registration.feedback_rating.is_not(None)
        feedback = _per_event(func.count(Registration.id), rated)
        rating_sum = _per_event(func.coalesce(func.sum(Registration.feedback_rating), 0), rated)
        rows = await self.session.execute(
            select(Event, attended, no_shows, feedback, rating_sum)
            .where(
                Event.organiser_id == organiser_id,
                Event.status != EventStatus.CANCELLED.value,
                Event.ends_at >= since,
                Event.ends_at < until,
            )
            .order_by(Event.starts_at, Event.id)
        )
        return [
            EventTally(event, int(a or 0), int(n or 0), int(f or 0), int(r or 0))
            for event, a, n, f, r in rows.tuples()
        ]

    async def organised_since(self, organiser_id: int, since: datetime) -> list[Event]:
        """The organiser's events (not cancelled) ending after `since`: what their agenda
        and summaries are planned from."""
        return list(
            await self.session.scalars(
                select(Event)
                .where(
                    Event.organiser_id == organiser_id,
                    Event.status != EventStatus.CANCELLED.value,
                    Event.ends_at > since,
                )
                .order_by(Event.starts_at, Event.id)
            )
        )
