"""Monitoring: what happened in a period (activity, events, broadcasts) and the upcoming
seats, for `db.repositories.stats` (its docstring says what counts)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Attempt,
    Broadcast,
    Event,
    OutboxMessage,
    Registration,
    Route,
    RouteStep,
    User,
)
from db.repositories.outbox import OutboxState
from db.repositories.stats_people import count_if, population
from domain.broadcasts import Scope
from domain.events import EventStatus, RegStatus
from domain.notices import NoticeKind
from domain.route import StepStatus

_SEAT_STATUSES = tuple(s.value for s in RegStatus if s.holds_seat)
_SIGNUP_STATUSES = (RegStatus.CONFIRMED.value, RegStatus.ATTENDED.value)


@dataclass(frozen=True, slots=True)
class EventRow:
    event_id: int
    title: str
    kind: str
    signups: int
    attended: int
    no_shows: int
    ratings: int
    rating_sum: int


@dataclass(frozen=True, slots=True)
class ActivityCounts:
    new_teachers: int
    assessments_started: int
    assessments_finished: int
    routes_created: int
    steps_completed: int


@dataclass(frozen=True, slots=True)
class UpcomingEvent:
    competencies: list[str]
    capacity: int
    free_seats: int


class StatsActivityRepo:
    """The activity half of `StatsRepo`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def activity(self, scope: Scope, since: datetime, until: datetime) -> ActivityCounts:
        """What the scope's teachers did in [since, until), one statement."""
        who = population(scope)

        def count_of(column: Any, moment: Any, *joins: tuple[Any, Any]) -> Any:
            query = select(func.count(column))
            for table, on in joins:
                query = query.join(table, on)
            return query.where(*who, moment >= since, moment < until).scalar_subquery()

        by_user = (User, User.id == Attempt.user_id)
        query = select(
            select(func.count(User.id))
            .where(*who, User.profile_completed_at >= since, User.profile_completed_at < until)
            .scalar_subquery(),
            count_of(Attempt.id, Attempt.started_at, by_user),
            count_of(Attempt.id, Attempt.finished_at, by_user),
            count_of(Route.id, Route.created_at, (User, User.id == Route.user_id)),
            select(func.count(RouteStep.id))
            .join(Route, Route.id == RouteStep.route_id)
            .join(User, User.id == Route.user_id)
            .where(
                *who,
                RouteStep.status == StepStatus.DONE.value,
                RouteStep.completed_at >= since,
                RouteStep.completed_at < until,
            )
            .scalar_subquery(),
        )
        row = (await self.session.execute(query)).one()
        return ActivityCounts(*(int(v or 0) for v in row))

    async def events(
        self, municipality_ids: Collection[int] | None, since: datetime, until: datetime
    ) -> list[EventRow]:
        """The events organised in these municipalities (None: anywhere) that start in
        [since, until) and are not cancelled, with their sign-ups, attendance and ratings."""
        status = Registration.status
        query = (
            select(
                Event.id,
                Event.title,
                Event.kind,
                count_if(status.in_(_SIGNUP_STATUSES)),
                count_if(status == RegStatus.ATTENDED.value),
                count_if(
                    and_(
                        status == RegStatus.CONFIRMED.value,
                        Registration.attended_at.is_(None),
                        Event.status == EventStatus.COMPLETED.value,
                    )
                ),
                func.count(Registration.feedback_rating),
                func.coalesce(func.sum(Registration.feedback_rating), 0),
            )
            .outerjoin(Registration, Registration.event_id == Event.id)
            .where(
                Event.status != EventStatus.CANCELLED.value,
                Event.starts_at >= since,
                Event.starts_at < until,
            )
            .group_by(Event.id, Event.title, Event.kind, Event.starts_at)
            .order_by(Event.starts_at, Event.id)
        )
        if municipality_ids is not None:
            query = query.where(Event.municipality_id.in_(sorted(municipality_ids)))
        return [
            EventRow(int(i), str(title), str(kind), *(int(v or 0) for v in rest))
            for i, title, kind, *rest in (await self.session.execute(query)).tuples()
        ]

    async def broadcasts(
        self, since: datetime, until: datetime
    ) -> list[tuple[list[int] | None, int]]:
        """Every broadcast started in [since, until): (its author's scope, copies delivered).
        The caller keeps those inside the viewer's scope (`Scope.allows`)."""
        delivered = (
            select(func.count(OutboxMessage.id))
            .where(
                OutboxMessage.ref == literal("broadcast:", String) + cast(Broadcast.id, String),
                OutboxMessage.state == OutboxState.SENT.value,
                OutboxMessage.kind == NoticeKind.BROADCAST.value,
            )
            .correlate(Broadcast)
            .scalar_subquery()
        )
        rows = await self.session.execute(
            select(Broadcast.scope, delivered)
            .where(Broadcast.started_at >= since, Broadcast.started_at < until)
            .order_by(Broadcast.id)
        )
        return [(scope, int(n or 0)) for scope, n in rows.tuples()]

    # ------------------------------------------------------------------ deficits

    async def upcoming_events(
        self, municipality_ids: Collection[int] | None, now: datetime
    ) -> list[UpcomingEvent]:
        """Scheduled events not yet started, open to the scope's teachers (organised in these
        municipalities or region-wide; None: all), with their free seats."""
        taken = (
            # count(*): read from the (event_id, status) index alone
            select(func.count())
            .select_from(Registration)
            .where(Registration.event_id == Event.id, Registration.status.in_(_SEAT_STATUSES))
            .correlate(Event)
            .scalar_subquery()
        )
        query = select(Event.competencies, Event.capacity, taken).where(
            Event.status == EventStatus.SCHEDULED.value, Event.starts_at >= now
        )
        if municipality_ids is not None:
            query = query.where(
                or_(Event.municipality_id.in_(sorted(municipality_ids)), Event.region_wide)
            )
        return [
            UpcomingEvent(list(comps or []), int(capacity), max(0, int(capacity) - int(seats or 0)))
            for comps, capacity, seats in (await self.session.execute(query)).tuples()
        ]


__all__ = ["ActivityCounts", "EventRow", "StatsActivityRepo", "UpcomingEvent"]
