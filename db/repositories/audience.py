"""Who gets a broadcast, in SQL: `domain.broadcasts.Filters` inside a `Scope`, written once.

`recipients` is the one query: it is counted for the wizard's live audience size and streamed
into the outbox (INSERT … SELECT) when a broadcast starts. Only people who can be written to
count: consent given, profile complete, data not erased. `tests/test_audience_sql.py` checks it
against `domain.broadcasts.matches` on the same teachers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean

from db.models import Attempt, Event, Registration, Route, User, UserSubject
from db.repositories.teacher_events import json_list_has
from domain.broadcasts import YOUNG_MAX_YEARS, EventGroup, Filters, Scope, municipalities
from domain.events import EventStatus, RegStatus
from domain.profile import AgeBand

#: `users.consent` of someone who agreed to the processing of their data
CONSENT_GIVEN = "given"


class json_member(FunctionElement[bool]):
    """`value` is an element of the JSON list at `key` of the JSON object `column`."""

    type = Boolean()
    inherit_cache = True
    name = "json_member"


@compiles(json_member, "sqlite")
def _json_member_sqlite(element: json_member, compiler: Any, **kw: Any) -> str:
    column, key, value = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXISTS (SELECT 1 FROM json_each({column}, '$.' || {key}) AS j WHERE j.value = {value})"


@compiles(json_member, "postgresql")
def _json_member_pg(element: json_member, compiler: Any, **kw: Any) -> str:
    column, key, value = (compiler.process(arg, **kw) for arg in element.clauses)
    return (
        f"(CAST({column} AS JSONB) -> CAST({key} AS TEXT)) "
        f"@> jsonb_build_array(CAST({value} AS TEXT))"
    )


def _latest_finished() -> Any:
    """The id of the user's latest finished self-assessment (correlated to `users`)."""
    return (
        select(Attempt.id)
        .where(Attempt.user_id == User.id, Attempt.finished_at.is_not(None))
        .order_by(Attempt.finished_at.desc(), Attempt.id.desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )


def _event_group(event_id: int, group: EventGroup) -> ColumnElement[bool]:
    reg = select(Registration.id).where(
        Registration.event_id == event_id, Registration.user_id == User.id
    )
    if group is EventGroup.PARTICIPANTS:
        statuses = [RegStatus.CONFIRMED.value, RegStatus.ATTENDED.value]
        return exists(reg.where(Registration.status.in_(statuses)))
    if group is EventGroup.WAITLIST:
        statuses = [RegStatus.WAITLISTED.value, RegStatus.OFFERED.value]
        return exists(reg.where(Registration.status.in_(statuses)))
    over = select(Event.id).where(Event.id == event_id, Event.status == EventStatus.COMPLETED.value)
    return and_(
        exists(over),
        exists(
            reg.where(
                Registration.status == RegStatus.CONFIRMED.value,
                Registration.attended_at.is_(None),
            )
        ),
    )


def conditions(filters: Filters, scope: Scope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        User.telegram_id.is_not(None),
        User.consent == CONSENT_GIVEN,
        User.profile_completed_at.is_not(None),
    ]
    allowed = municipalities(filters, scope)
    if allowed is not None:
        where.append(User.municipality_id.in_(sorted(allowed)))
    if scope.school_ids is not None:  # a school methodist's: never beyond the school
        where.append(User.school_id.in_(sorted(scope.school_ids)))
    if filters.school_ids:
        where.append(User.school_id.in_(list(filters.school_ids)))
    if filters.positions:
        where.append(User.position_code.in_(list(filters.positions)))
    if filters.subjects:
        where.append(
            exists(
                select(UserSubject.user_id).where(
                    UserSubject.user_id == User.id,
                    UserSubject.subject_code.in_(list(filters.subjects)),
                )
            )
        )
    if filters.age_bands:
        where.append(User.age_band.in_(list(filters.age_bands)))
    if filters.young:
        where += [
            User.age_band == AgeBand.UNDER_35.value,
            User.experience_years.is_not(None),
            User.experience_years <= YOUNG_MAX_YEARS,
        ]
    if filters.deficit is not None:
        where.append(
            exists(
                select(Attempt.id).where(
                    Attempt.id == _latest_finished(),
                    json_member(Attempt.result, "deficits", filters.deficit),
                )
            )
        )
    if filters.no_assessment:
        where.append(
            ~exists(
                select(Attempt.id).where(
                    Attempt.user_id == User.id, Attempt.finished_at.is_not(None)
                )
            )
        )
    if filters.no_route:
        where.append(~exists(select(Route.id).where(Route.user_id == User.id)))
    if filters.event_id is not None:
        where.append(_event_group(filters.event_id, filters.event_group))
    return where


def recipients(filters: Filters, scope: Scope) -> Select[tuple[int]]:
    """The ids of the people who get a broadcast, in id order."""
    return select(User.id).where(*conditions(filters, scope)).order_by(User.id)


def muted_news() -> ColumnElement[bool]:
    """The user switched "news from methodists" off (they are skipped)."""
    return json_list_has(User.muted, "news")


def count(filters: Filters, scope: Scope) -> Select[tuple[int, int]]:
    """(everyone, of them muted "news") — the wizard's live audience size."""
    muted = func.coalesce(func.sum(case((muted_news(), 1), else_=0)), 0)
    return select(func.count(User.id), muted).where(*conditions(filters, scope))


__all__ = ["CONSENT_GIVEN", "conditions", "count", "json_member", "muted_news", "recipients"]
