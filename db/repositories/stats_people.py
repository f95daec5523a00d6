"""Monitoring: who counts and when each indicator became true for each teacher, as SQL
pieces for `db.repositories.stats` (whose docstring defines the population and every
indicator) and `db.repositories.stats_milestones` (which keeps the per-teacher "first times"
computed by `correlated_lookups`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    func,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from db.models import (
    Attempt,
    Event,
    ExternalDiagnosis,
    Municipality,
    Registration,
    Route,
    RouteStep,
    School,
    User,
)
from db.repositories.audience import conditions
from domain.broadcasts import YOUNG_MAX_YEARS, Filters, Scope
from domain.events import EventKind, RegStatus
from domain.framework import StepKind
from domain.profile import AgeBand
from domain.route import StepStatus
from domain.stats import IndicatorCode

#: event kinds of indicator 5a
ATTENDANCE_KINDS = (EventKind.INTERNSHIP.value, EventKind.MASTERCLASS.value)


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


class unindexed(FunctionElement[int]):
    """A column SQLite must not search by an index (`+column`); itself on PostgreSQL."""

    inherit_cache = True
    name = "unindexed"


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(unindexed, "postgresql")
def _unindexed_pg(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


def population(scope: Scope) -> list[ColumnElement[bool]]:
    """`audience.conditions(Filters(), scope)`, the people who count, with one difference for
    SQLite when the scope is municipalities: it reads `users` by a full scan. Its planner knows
    only the average number of teachers per municipality (`sqlite_stat1` keeps no histogram),
    so for a large municipality it would walk `ix_users_municipality_name` and fetch each row
    on its own; the statistics read most columns of every teacher of the scope, and the scan is
    cheaper for any municipality (bench/stats.py, 100,000 teachers: a municipality of 25,000
    290 ms instead of 510 ms, one of 3,900 55 ms instead of 70 ms). A school's scope keeps its
    index."""
    if scope.municipality_ids is None or scope.school_ids is not None:
        return conditions(Filters(), scope)
    return [
        *conditions(Filters(), Scope(None)),
        unindexed(User.municipality_id).in_(sorted(scope.municipality_ids)),
    ]


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


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """The rows where `condition` holds: `count(*) FILTER (WHERE …)` (SQLite ≥ 3.30 and
    PostgreSQL), cheaper than a SUM of a CASE."""
    return func.count().filter(condition)


def young() -> ColumnElement[int]:
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


def group_column(group: Group) -> Any:
    return User.school_id if group is Group.SCHOOL else User.municipality_id


def name_of(group: Group, locale: str) -> tuple[Any, Any]:
    """(the table holding the group's name, the name column)."""
    if group is Group.SCHOOL:
        return School, School.short_name
    return Municipality, Municipality.name_en if locale == "en" else Municipality.name_ru


def correlated_lookups() -> list[Any]:
    """Per teacher, the first time each indicator became true: correlated MIN lookups on
    indexed columns (`users.id` of the enclosing query), labelled. `stats_milestones`
    evaluates them once per user it refreshes or reads stale."""
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
    is_young = young()
    return [
        attempt_done.label("assessed_at"),
        external.label("external_on"),
        routed.label("routed_at"),
        course.label("course_at"),
        attended(ATTENDANCE_KINDS).label("attended_at"),
        done.label("done_at"),
        # only the young specialists' support is asked: skip the lookups for others
        case((is_young == 1, attended(None))).label("any_attended_at"),
        case((is_young == 1, mentored)).label("mentored_at"),
    ]


__all__ = [
    "ATTENDANCE_KINDS",
    "ZERO",
    "Counts",
    "Group",
    "GroupCounts",
    "Moment",
    "correlated_lookups",
    "count_if",
    "group_column",
    "name_of",
    "population",
    "unindexed",
    "utc_date",
    "young",
]
