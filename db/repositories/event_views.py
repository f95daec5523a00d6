"""What a teacher's event screens show, each in one statement: the card (`card_view`), a
page of the list with its seats, the user's statuses and the total (`teacher_page`), and
what the screens need to know of the teacher (`teacher_facts`). The statements are built
once, at import; their values are bound per call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Event, FrameworkVersion, Registration, RouteStep, Site, User, UserSubject
from db.repositories.assessment import LATEST_RESULT
from db.repositories.registrations import SEAT_STATUSES
from db.repositories.routes import CURRENT_ROUTE_ID
from db.repositories.teacher_events import TeacherEvents
from domain.events import RegStatus
from domain.pagination import Page

_SEAT_STATUSES = SEAT_STATUSES

_SEAT = aliased(Registration, name="seat")
_OWN = aliased(Registration, name="own")
#: the seats an event's registrations hold
_TAKEN = (
    select(func.count())
    .select_from(_SEAT)
    .where(_SEAT.event_id == Event.id, _SEAT.status.in_(_SEAT_STATUSES))
    .correlate(Event)
    .scalar_subquery()
)
#: the status of the registration of the user bound as `own_user`
_MINE = (
    select(_OWN.status)
    .where(_OWN.event_id == Event.id, _OWN.user_id == bindparam("own_user"))
    .correlate(Event)
    .scalar_subquery()
)
_CARD = (
    select(Event, Site.title, _TAKEN, Registration)
    .outerjoin(Site, Site.id == Event.site_id)
    .outerjoin(
        Registration,
        and_(Registration.event_id == Event.id, Registration.user_id == bindparam("card_user")),
    )
    .where(Event.id == bindparam("card_event"))
)


#: joins codes (subjects, competencies: `[a-z0-9_]`, never this character) into one value
_SEP = "\x1f"
_FACTS = select(
    User.id,
    User.language,
    User.municipality_id,
    User.position_code,
    select(func.aggregate_strings(UserSubject.subject_code, _SEP))
    .where(UserSubject.user_id == User.id)
    .correlate(User)
    .scalar_subquery(),
    LATEST_RESULT.scalar_subquery(),
    select(func.aggregate_strings(RouteStep.competency, _SEP))
    .where(RouteStep.route_id == CURRENT_ROUTE_ID)
    .scalar_subquery(),
    select(FrameworkVersion.version)
    .order_by(FrameworkVersion.id.desc())
    .limit(1)
    .scalar_subquery(),
).where(User.id == bindparam("facts_user"))


@dataclass(frozen=True, slots=True)
class TeacherFacts:
    """What the event screens need to know of the teacher (`EventRepo.teacher_facts`)."""

    user_id: int
    language: str
    municipality_id: int | None
    position_code: str | None
    #: the teacher's subjects (in no particular order)
    subjects: tuple[str, ...]
    #: the stored result of the latest finished self-assessment
    latest_result: dict[str, Any] | None
    #: the competencies of the steps of the current route
    route_competencies: frozenset[str]
    #: the active (newest) framework version
    framework_version: str | None


def _codes(joined: str | None) -> tuple[str, ...]:
    return tuple(joined.split(_SEP)) if joined else ()


@dataclass(frozen=True, slots=True)
class CardView:
    """An event as its card shows it (`EventRepo.card_view`)."""

    event: Event
    site_title: str | None
    taken: int
    registration: Registration | None


@dataclass(frozen=True, slots=True)
class ListedEvent:
    """An event in a teacher's list (`EventRepo.teacher_page`)."""

    event: Event
    taken: int
    #: the user's registration status (None: never registered)
    mine: RegStatus | None


class TeacherEventViews:
    """Part of `repo.events` (`db.repo.EventArea`)."""

    session: AsyncSession

    async def teacher_facts(self, user_id: int) -> TeacherFacts | None:
        """The teacher's placement, subjects, latest self-assessment result, current route's
        competencies and the active framework version, in one statement (four before)."""
        bound = {"facts_user": user_id, "result_user": user_id, "route_user": user_id}
        row = (await self.session.execute(_FACTS, bound)).first()
        if row is None:
            return None
        user, language, municipality, position, subjects, result, competencies, version = (
            row._tuple()
        )
        return TeacherFacts(
            user_id=user,
            language=language,
            municipality_id=municipality,
            position_code=position,
            subjects=_codes(subjects),
            latest_result=result or None,
            route_competencies=frozenset(_codes(competencies)),
            framework_version=version,
        )

    async def card_view(self, event_id: int, user_id: int) -> CardView | None:
        """What the teacher's event card shows, in one statement: the event (its
        relationships not loaded), its site's title, the seats taken and the user's
        registration."""
        row = (
            await self.session.execute(_CARD, {"card_event": event_id, "card_user": user_id})
        ).first()
        if row is None:
            return None
        event, site_title, seats, reg = row._tuple()
        return CardView(event, site_title, int(seats or 0), reg)

    async def teacher_page(
        self, query: TeacherEvents, page: int, per_page: int, user_id: int
    ) -> tuple[Page[ListedEvent], int]:
        """`for_teacher` with what the list shows of each event (the seats taken, the user's
        registration status), in one statement: the total rides along as a window count.
        Only a page past the end (a stale button) costs a second look, at the last page.
        The statement is built once per `query.shape()`; each call binds its values."""
        statement = _page_statement(query.shape(), query)
        page = max(page, 0)
        bound = query.params() | {"own_user": user_id, "page_size": per_page}
        rows = (
            (await self.session.execute(statement, bound | {"page_skip": page * per_page}))
            .tuples()
            .all()
        )
        if not rows and page > 0:
            where = and_(*query.conditions())
            total = int(
                await self.session.scalar(select(func.count()).select_from(Event).where(where)) or 0
            )
            page = max(1, -(-total // per_page)) - 1
            rows = (
                (await self.session.execute(statement, bound | {"page_skip": page * per_page}))
                .tuples()
                .all()
            )
        total = int(rows[0][3]) if rows else 0
        items = [
            ListedEvent(event, int(seats or 0), RegStatus(status) if status else None)
            for event, seats, status, _count in rows
        ]
        return Page(items=items, page=page, pages=max(1, -(-total // per_page))), total


#: the teacher's list statements by `TeacherEvents.shape()` (a few dozen shapes at most: the
#: filters, and how many subjects and weighted competencies a teacher has)
_PAGES: dict[tuple[Any, ...], Select[Any]] = {}


def _page_statement(shape: tuple[Any, ...], query: TeacherEvents) -> Select[Any]:
    statement = _PAGES.get(shape)
    if statement is None:
        if len(_PAGES) >= 512:  # a bound, never reached in practice
            _PAGES.clear()
        order: list[ColumnElement[Any]] = [Event.starts_at.asc()]
        if query.weights:
            order.append(query.score().desc())
        statement = _PAGES[shape] = (
            select(Event, _TAKEN, _MINE, func.count().over())
            .where(and_(*query.conditions()))
            .order_by(*order, Event.id)
            .limit(bindparam("page_size", type_=Integer))
            .offset(bindparam("page_skip", type_=Integer))
        )
    return statement
