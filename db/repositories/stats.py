"""Monitoring (issue #11) in SQL: the indicators, the activity of a period and the deficit map,
each as a few aggregate statements (GROUP BY, conditional sums, correlated EXISTS/MIN on
indexed columns); never a query per teacher. `services.stats` turns the rows into a
`domain.stats.StatsReport`.

Who counts (the population of a scope as of a moment T): the people
`db.repositories.audience.conditions(Filters(), scope)` picks — the one SQL form of "a
reachable registered teacher in a scope" (consent given, profile complete, data not erased,
placed in the scope) — whose profile was completed before T.

* Staff roles count: the bot's role is a power, not a profession. A coordinator or a school
  methodist with a completed profile is a teacher or manager of their school too (the seeds
  count "teachers and managers"), and a deputy head made school methodist must not vanish
  from their school's numbers. An administrator without a profile is not counted.
* A person who erased their data (/deleteme) does not count in any period, past ones
  included: the numbers are recomputed from what is stored now, and `audience.conditions`
  drops them (no telegram id, consent withdrawn).
* A teacher who moved counts where they are now (municipality and school), in every period:
  the placement's history is not kept.

The indicators of a moment T (cumulative: everything stored with a time before T; the
"previous" value of a period is the same count as of the previous period's end):

* DIAGNOSED: a self-assessment finished before T, or an external diagnosis
  (`external_diagnoses`) dated before T's local date.
* ROUTED: a route made from a self-assessment (`routes.attempt_id` set: `services.route.build`
  always sets it; archived routes count, they were built) created before T.
* COURSES: a step of kind "learn" of such a route, status "done", with an uploaded evidence
  file (`evidence_file_id`: the certificate), completed before T. Typed evidence alone does not
  count. The courses themselves come with the forms-of-support issue.
* YOUNG_SUPPORTED: its denominator is the young specialists (`domain.broadcasts.
  is_young_specialist`: under 35 AND at most 3 years; their current profile). Supported at T:
  an attended event (any kind) before T, a "mentoring" route step done before T (the only
  mentoring the data knows: there is no mentor–mentee relation; `users.mentor_volunteer` is a
  mentor's readiness, not support received), or a route active at T (created before T, not
  completed before T, not yet replaced by a newer route at T).
* ATTENDED: attended (checked in) an event of kind internship or masterclass before T.
* ROUTE_DONE: a route completed before T (`routes.completed_at`, kept when it is archived).

Activity of a period [from, to):
* new teachers: profiles completed in the period; assessments started / finished; routes
  created; route steps done (not skipped) — all of teachers in the population now.
* events: those organised in the scope (their municipality; `municipality_ids` is resolved
  with `Scope.allows` by the caller) starting in the period, not cancelled. Their sign-ups
  (registrations holding a seat or attended), attended, no-shows (a seat held, not attended,
  the event completed), ratings — of every participant, erased people's anonymous rows
  included (a region-wide event's guests from elsewhere too: it is the scope's event).
* broadcasts: started in the period by an author whose scope (stored with the broadcast) lies
  inside the viewer's scope (a region-wide broadcast belongs to the region only); their reach
  is the copies delivered (outbox rows sent).

The deficit map as of T: each teacher's latest diagnosis before T — the latest finished
self-assessment's `result["deficits"]`, or the latest external diagnosis if it is dated after
the day (UTC) that self-assessment finished (on the same day the self-assessment wins: it has
a time, the external one only a date) — counted per competency and column, of the column's
diagnosed teachers. Seats: scheduled events not yet started, organised in the scope or
region-wide (open to the scope's teachers), capacity minus the seats held.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from db.models import (
    Attempt,
    Broadcast,
    Event,
    ExternalDiagnosis,
    Municipality,
    OutboxMessage,
    Registration,
    Route,
    RouteStep,
    School,
    User,
)
from db.repositories.audience import conditions, json_member
from db.repositories.events import json_list_has
from db.repositories.outbox import OutboxState
from domain.broadcasts import YOUNG_MAX_YEARS, Filters, Scope
from domain.events import EventKind, EventStatus, RegStatus
from domain.framework import StepKind
from domain.notices import NoticeKind
from domain.profile import AgeBand
from domain.route import StepStatus
from domain.stats import IndicatorCode

#: event kinds of indicator 5a
ATTENDANCE_KINDS = (EventKind.INTERNSHIP.value, EventKind.MASTERCLASS.value)
_SEAT_STATUSES = tuple(s.value for s in RegStatus if s.holds_seat)
_SIGNUP_STATUSES = (RegStatus.CONFIRMED.value, RegStatus.ATTENDED.value)


class Group(StrEnum):
    """What a breakdown row or a deficit-map column is."""

    SCHOOL = "school"
    MUNICIPALITY = "municipality"


#: (the moment T in UTC, the local date T begins): external diagnoses have only a date
Moment = tuple[datetime, date]


class utc_date(FunctionElement[date]):
    """The UTC calendar day of a UTC timestamp column."""

    type = Date()
    inherit_cache = True
    name = "utc_date"


@compiles(utc_date, "sqlite")
def _utc_date_sqlite(element: utc_date, compiler: Any, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as naive "YYYY-MM-DD HH:MM:SS…" text, dates as "YYYY-MM-DD"
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_date, "postgresql")
def _utc_date_pg(element: utc_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@dataclass(frozen=True, slots=True)
class Counts:
    """The indicator counts of one group at one moment."""

    teachers: int
    young: int
    numerators: dict[IndicatorCode, int]

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.teachers + other.teachers,
            self.young + other.young,
            {c: self.numerators.get(c, 0) + other.numerators.get(c, 0) for c in IndicatorCode},
        )


ZERO = Counts(0, 0, dict.fromkeys(IndicatorCode, 0))


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """A school or municipality (id None: teachers without one) with its counts per moment."""

    id: int | None
    name: str
    by_moment: list[Counts]


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
class DeficitColumn:
    id: int | None
    name: str
    diagnosed: int
    #: competency -> teachers with that deficit
    having: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UpcomingEvent:
    competencies: list[str]
    capacity: int
    free_seats: int


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _young() -> ColumnElement[int]:
    """`domain.broadcasts.is_young_specialist` in SQL (as 1/0)."""
    return case(
        (
            and_(
                User.age_band == AgeBand.UNDER_35.value,
                User.experience_years.is_not(None),
                User.experience_years <= YOUNG_MAX_YEARS,
            ),
            1,
        ),
        else_=0,
    )


def _group_column(group: Group) -> Any:
    return User.school_id if group is Group.SCHOOL else User.municipality_id


def _name_of(group: Group, locale: str) -> tuple[Any, Any]:
    """(the table holding the group's name, the name column)."""
    if group is Group.SCHOOL:
        return School, School.short_name
    return Municipality, Municipality.name_en if locale == "en" else Municipality.name_ru


def _correlated_lookups() -> tuple[list[Any], list[tuple[Any, Any]]]:
    """Per teacher, the first time each indicator became true: correlated MIN lookups on
    indexed columns (`users.id` of the enclosing query). The work grows with the scope: the
    choice for a municipality or a school."""
    attempt_done = (
        select(func.min(Attempt.finished_at))
        .where(Attempt.user_id == User.id, Attempt.finished_at.is_not(None))
        .correlate(User)
        .scalar_subquery()
    )
    external = (
        select(func.min(ExternalDiagnosis.diagnosed_on))
        .where(ExternalDiagnosis.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    routed = (
        select(func.min(Route.created_at))
        .where(Route.user_id == User.id, Route.attempt_id.is_not(None))
        .correlate(User)
        .scalar_subquery()
    )
    course = (
        select(func.min(RouteStep.completed_at))
        .join(Route, Route.id == RouteStep.route_id)
        .where(
            Route.user_id == User.id,
            Route.attempt_id.is_not(None),
            RouteStep.kind == StepKind.LEARN.value,
            RouteStep.status == StepStatus.DONE.value,
            RouteStep.evidence_file_id.is_not(None),
        )
        .correlate(User)
        .scalar_subquery()
    )

    def attended(kinds: Collection[str] | None) -> Any:
        query = (
            select(func.min(Registration.attended_at))
            .join(Event, Event.id == Registration.event_id)
            .where(
                Registration.user_id == User.id,
                Registration.status == RegStatus.ATTENDED.value,
                Registration.attended_at.is_not(None),
            )
        )
        if kinds is not None:
            query = query.where(Event.kind.in_(list(kinds)))
        return query.correlate(User).scalar_subquery()

    done = (
        select(func.min(Route.completed_at))
        .where(Route.user_id == User.id, Route.completed_at.is_not(None))
        .correlate(User)
        .scalar_subquery()
    )
    mentored = (
        select(func.min(RouteStep.completed_at))
        .join(Route, Route.id == RouteStep.route_id)
        .where(
            Route.user_id == User.id,
            RouteStep.kind == StepKind.MENTORING.value,
            RouteStep.status == StepStatus.DONE.value,
        )
        .correlate(User)
        .scalar_subquery()
    )
    young = _young()
    return [
        attempt_done.label("assessed_at"),
        external.label("external_on"),
        routed.label("routed_at"),
        course.label("course_at"),
        attended(ATTENDANCE_KINDS).label("attended_at"),
        done.label("done_at"),
        # only the young specialists' support is asked: skip the lookups for others
        case((young == 1, attended(None))).label("any_attended_at"),
        case((young == 1, mentored)).label("mentored_at"),
    ], []


def _grouped_lookups() -> tuple[list[Any], list[tuple[Any, Any]]]:
    """The same first times as `_correlated_lookups`, as one GROUP BY pass over each table
    joined to `users`: cheaper when the scope is the whole region."""
    done_step = RouteStep.status == StepStatus.DONE.value
    assessed = (
        select(Attempt.user_id, func.min(Attempt.finished_at).label("at"))
        .where(Attempt.finished_at.is_not(None))
        .group_by(Attempt.user_id)
        .subquery("assessed")
    )
    external = (
        select(ExternalDiagnosis.user_id, func.min(ExternalDiagnosis.diagnosed_on).label("on"))
        .group_by(ExternalDiagnosis.user_id)
        .subquery("external")
    )
    routes = (
        select(
            Route.user_id,
            func.min(case((Route.attempt_id.is_not(None), Route.created_at))).label("routed"),
            func.min(Route.completed_at).label("done"),
        )
        .group_by(Route.user_id)
        .subquery("routes")
    )
    steps = (
        select(
            Route.user_id,
            func.min(
                case(
                    (
                        and_(
                            Route.attempt_id.is_not(None),
                            RouteStep.kind == StepKind.LEARN.value,
                            RouteStep.evidence_file_id.is_not(None),
                        ),
                        RouteStep.completed_at,
                    )
                )
            ).label("course"),
            func.min(
                case((RouteStep.kind == StepKind.MENTORING.value, RouteStep.completed_at))
            ).label("mentored"),
        )
        .join(Route, Route.id == RouteStep.route_id)
        .where(
            done_step,
            RouteStep.kind.in_([StepKind.LEARN.value, StepKind.MENTORING.value]),
        )
        .group_by(Route.user_id)
        .subquery("steps")
    )
    visits = (
        select(
            Registration.user_id,
            func.min(case((Event.kind.in_(ATTENDANCE_KINDS), Registration.attended_at))).label(
                "kinds"
            ),
            func.min(Registration.attended_at).label("any"),
        )
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.status == RegStatus.ATTENDED.value,
            Registration.attended_at.is_not(None),
        )
        .group_by(Registration.user_id)
        .subquery("visits")
    )
    return [
        assessed.c.at.label("assessed_at"),
        external.c.on.label("external_on"),
        routes.c.routed.label("routed_at"),
        steps.c.course.label("course_at"),
        visits.c.kinds.label("attended_at"),
        routes.c.done.label("done_at"),
        visits.c.any.label("any_attended_at"),
        steps.c.mentored.label("mentored_at"),
    ], [
        (assessed, assessed.c.user_id == User.id),
        (external, external.c.user_id == User.id),
        (routes, routes.c.user_id == User.id),
        (steps, steps.c.user_id == User.id),
        (visits, visits.c.user_id == User.id),
    ]


class StatsRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ indicators

    async def indicators(
        self, scope: Scope, moments: Sequence[Moment], group: Group, locale: str = "ru"
    ) -> list[GroupCounts]:
        """The indicator counts of every group (school or municipality) at every moment, in
        one statement: per teacher the first time each indicator became true (correlated
        lookups for a narrower scope, grouped passes for the region), then conditional sums
        per moment (a route active at the moment: a correlated EXISTS, for the young
        specialists not supported otherwise), grouped."""
        if not moments:
            return []
        latest = max(t for t, _ in moments)
        lookups, joins = _grouped_lookups() if scope.region else _correlated_lookups()
        query = select(
            User.id.label("uid"),
            _group_column(group).label("grp"),
            User.profile_completed_at.label("since"),
            _young().label("young"),
            *lookups,
        )
        for table, on in joins:
            query = query.outerjoin(table, on)
        people = (
            query.where(*conditions(Filters(), scope), User.profile_completed_at < latest)
            # SQLite would flatten a plain subquery and redo the lookups for every moment
            .cte("people")
            .prefix_with("MATERIALIZED")
        )
        p = people.c
        current, newer = aliased(Route), aliased(Route)

        def active_route(t: datetime) -> ColumnElement[bool]:
            return exists(
                select(current.id).where(
                    current.user_id == p.uid,
                    current.created_at < t,
                    or_(current.completed_at.is_(None), current.completed_at >= t),
                    ~exists(
                        select(newer.id).where(
                            newer.user_id == current.user_id,
                            newer.id > current.id,
                            newer.created_at < t,
                        )
                    ),
                )
            )

        columns: list[ColumnElement[int]] = []
        for t, day in moments:
            alive = p.since < t
            supported = case(
                (or_(p.any_attended_at < t, p.mentored_at < t), 1),
                (active_route(t), 1),
                else_=0,
            )
            columns += [
                _count(alive),
                _count(and_(alive, p.young == 1)),
                _count(and_(alive, or_(p.assessed_at < t, p.external_on < day))),
                _count(and_(alive, p.routed_at < t)),
                _count(and_(alive, p.course_at < t)),
                func.coalesce(func.sum(case((and_(alive, p.young == 1), supported), else_=0)), 0),
                _count(and_(alive, p.attended_at < t)),
                _count(and_(alive, p.done_at < t)),
            ]
        table, name = _name_of(group, locale)
        query = (
            select(p.grp, name, *columns)
            .select_from(people)
            .outerjoin(table, table.id == p.grp)
            .group_by(p.grp, name)
            .order_by(name, p.grp)
        )
        order = (
            IndicatorCode.DIAGNOSED,
            IndicatorCode.ROUTED,
            IndicatorCode.COURSES,
            IndicatorCode.YOUNG_SUPPORTED,
            IndicatorCode.ATTENDED,
            IndicatorCode.ROUTE_DONE,
        )
        result = []
        for row in (await self.session.execute(query)).tuples():
            values = [int(v) for v in row[2:]]
            by_moment = []
            for k in range(len(moments)):
                chunk = values[8 * k : 8 * k + 8]
                by_moment.append(
                    Counts(chunk[0], chunk[1], dict(zip(order, chunk[2:], strict=True)))
                )
            result.append(GroupCounts(row[0], row[1] or "", by_moment))
        return result

    # ------------------------------------------------------------------ activity

    async def activity(self, scope: Scope, since: datetime, until: datetime) -> ActivityCounts:
        """What the scope's teachers did in [since, until), one statement."""
        who = conditions(Filters(), scope)

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
                _count(status.in_(_SIGNUP_STATUSES)),
                _count(status == RegStatus.ATTENDED.value),
                _count(
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

    async def deficits(
        self,
        scope: Scope,
        moment: Moment,
        competencies: Sequence[str],
        group: Group,
        locale: str = "ru",
    ) -> list[DeficitColumn]:
        """Per column: the diagnosed teachers (as of the moment) and, per competency, those
        whose latest diagnosis has it as a deficit. One statement."""
        t, day = moment
        latest_attempt = (
            select(Attempt.id)
            .where(
                Attempt.user_id == User.id,
                Attempt.finished_at.is_not(None),
                Attempt.finished_at < t,
            )
            .order_by(Attempt.finished_at.desc(), Attempt.id.desc())
            .limit(1)
            .correlate(User)
            .scalar_subquery()
        )
        latest_external = (
            select(ExternalDiagnosis.id)
            .where(ExternalDiagnosis.user_id == User.id, ExternalDiagnosis.diagnosed_on < day)
            .order_by(ExternalDiagnosis.diagnosed_on.desc(), ExternalDiagnosis.id.desc())
            .limit(1)
            .correlate(User)
            .scalar_subquery()
        )
        people = (
            select(
                _group_column(group).label("grp"),
                latest_attempt.label("attempt_id"),
                latest_external.label("external_id"),
            )
            .where(*conditions(Filters(), scope), User.profile_completed_at < t)
            .cte("people")
            .prefix_with("MATERIALIZED")
        )
        p = people.c
        external_wins = and_(
            ExternalDiagnosis.id.is_not(None),
            or_(
                Attempt.id.is_(None),
                ExternalDiagnosis.diagnosed_on > utc_date(Attempt.finished_at),
            ),
        )
        having = [
            _count(
                or_(
                    and_(external_wins, json_list_has(ExternalDiagnosis.deficits, code)),
                    and_(not_(external_wins), json_member(Attempt.result, "deficits", code)),
                )
            )
            for code in competencies
        ]
        table, name = _name_of(group, locale)
        query = (
            select(p.grp, name, func.count(), *having)
            .select_from(people)
            .outerjoin(Attempt, Attempt.id == p.attempt_id)
            .outerjoin(ExternalDiagnosis, ExternalDiagnosis.id == p.external_id)
            .outerjoin(table, table.id == p.grp)
            .where(or_(p.attempt_id.is_not(None), p.external_id.is_not(None)))
            .group_by(p.grp, name)
            .order_by(name, p.grp)
        )
        return [
            DeficitColumn(
                row[0],
                row[1] or "",
                int(row[2]),
                {code: int(n) for code, n in zip(competencies, row[3:], strict=True)},
            )
            for row in (await self.session.execute(query)).tuples()
        ]

    async def upcoming_events(
        self, municipality_ids: Collection[int] | None, now: datetime
    ) -> list[UpcomingEvent]:
        """Scheduled events not yet started, open to the scope's teachers (organised in these
        municipalities or region-wide; None: all), with their free seats."""
        taken = (
            select(func.count(Registration.id))
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


__all__ = [
    "ATTENDANCE_KINDS",
    "ZERO",
    "ActivityCounts",
    "Counts",
    "DeficitColumn",
    "EventRow",
    "Group",
    "GroupCounts",
    "Moment",
    "StatsRepo",
    "UpcomingEvent",
]
