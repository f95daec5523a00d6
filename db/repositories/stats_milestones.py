"""Monitoring: the per-user milestones (`db.models.StatsMilestone`) — when each indicator
first became true — in one SQL definition used three ways:

* `refresh`: the scheduler's tick recomputes the rows migration 0011's triggers marked stale;
* `people`: what `StatsRepo.indicators` counts — the fresh rows of the scope, and the stale
  users computed from the raw rows by the same definition (so a report is exact at any
  moment, refreshed or not);
* `diagnosed`: the same for the deficit map (each teacher's latest diagnosis as of a moment).

Times are microseconds since the epoch (UTC) in integer columns: comparing integers is what
makes 9 moments × 8 counts over 100,000 teachers cheap (text timestamps on SQLite cost 3×).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    and_,
    case,
    cast,
    func,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from db.models import Attempt, ExternalDiagnosis, Route, StatsMilestone, User
from db.repositories.stats_people import (
    Group,
    correlated_lookups,
    population,
    utc_date,
    young,
)
from domain.broadcasts import Filters, Scope, municipalities

M = StatsMilestone


class epoch_us(FunctionElement[int]):
    """Microseconds since the epoch of a UTC timestamp column (NULL stays NULL)."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_us"


@compiles(epoch_us, "sqlite")
def _epoch_sqlite(element: epoch_us, compiler: Any, **kw: Any) -> str:
    # SQLAlchemy stores SQLite timestamps as "YYYY-MM-DD HH:MM:SS.ffffff" (always 6 digits)
    x = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%s', {x}) AS INTEGER) * 1000000 + CAST(substr({x}, 21, 6) AS INTEGER))"


@compiles(epoch_us, "postgresql")
def _epoch_pg(element: epoch_us, compiler: Any, **kw: Any) -> str:
    x = compiler.process(element.clauses, **kw)
    return f"CAST(EXTRACT(EPOCH FROM {x}) * 1000000 AS BIGINT)"


def to_us(t: datetime) -> int:
    """A moment as the columns keep it."""
    delta = t - datetime(1970, 1, 1, tzinfo=t.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _later(since: ColumnElement[int], x: Any) -> ColumnElement[int]:
    """The later of the profile's completion and `x` (NULL when `x` is NULL)."""
    return case((x.is_(None), null()), (x > since, x), else_=since)


def _earlier(a: Any, b: Any) -> ColumnElement[Any]:
    """The earlier of two, ignoring a NULL (both backends' min/least disagree on NULLs)."""
    return case((a.is_(None), b), (b.is_(None), a), (a < b, a), else_=b)


def _deficits_json(attempt_id: Any, external_id: Any, dialect: str) -> ColumnElement[Any]:
    """The deficit list of the diagnosis that wins (`db.repositories.stats`: the external one
    when it is dated after the UTC day the self-assessment finished): a JSON array, or NULL
    (JSONB on PostgreSQL, like the column)."""
    finished = select(Attempt.finished_at).where(Attempt.id == attempt_id).scalar_subquery()
    external_on = (
        select(ExternalDiagnosis.diagnosed_on)
        .where(ExternalDiagnosis.id == external_id)
        .scalar_subquery()
    )
    external_wins = and_(
        external_id.is_not(None),
        or_(attempt_id.is_(None), external_on > utc_date(finished)),
    )
    if dialect == "postgresql":
        external: Any = (
            select(cast(ExternalDiagnosis.deficits, JSONB))
            .where(ExternalDiagnosis.id == external_id)
            .scalar_subquery()
        )
        own: Any = (
            select(cast(Attempt.result, JSONB)["deficits"])
            .where(Attempt.id == attempt_id)
            .scalar_subquery()
        )
        chosen = case((external_wins, external), else_=own)
        return case((func.jsonb_typeof(chosen) == "array", chosen))
    external = (
        select(ExternalDiagnosis.deficits).where(ExternalDiagnosis.id == external_id)
    ).scalar_subquery()
    own = (
        select(func.json_extract(Attempt.result, "$.deficits"))
        .where(Attempt.id == attempt_id)
        .scalar_subquery()
    )
    chosen = case((external_wins, external), else_=own)
    # only an array counts (`StatsRepo.deficits` searches it)
    return case((func.json_type(chosen) == "array", chosen))


def _latest_attempt(before: datetime | None) -> Any:
    query = select(Attempt.id).where(Attempt.user_id == User.id, Attempt.finished_at.is_not(None))
    if before is not None:
        query = query.where(Attempt.finished_at < before)
    return (
        query.order_by(Attempt.finished_at.desc(), Attempt.id.desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )


def _latest_external(before: date | None) -> Any:
    query = select(ExternalDiagnosis.id).where(ExternalDiagnosis.user_id == User.id)
    if before is not None:
        query = query.where(ExternalDiagnosis.diagnosed_on < before)
    return (
        query.order_by(ExternalDiagnosis.diagnosed_on.desc(), ExternalDiagnosis.id.desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )


def computed(dialect: str, *where: ColumnElement[bool]) -> Select[Any]:
    """Every column of `stats_milestones` computed from the raw rows, one row per user of
    `users` matching `where`: the one definition of the milestones. The lookups run once per
    user in a materialised CTE (SQLite would otherwise copy each correlated lookup into every
    expression that uses it); the times become integers around it."""
    lookups = correlated_lookups()
    newest = (
        select(Route.id)
        .where(Route.user_id == User.id)
        .order_by(Route.id.desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )
    last_assessed = (
        select(func.max(Attempt.finished_at))
        .where(Attempt.user_id == User.id, Attempt.finished_at.is_not(None))
        .correlate(User)
        .scalar_subquery()
    )
    last_external = (
        select(func.max(ExternalDiagnosis.diagnosed_on))
        .where(ExternalDiagnosis.user_id == User.id)
        .correlate(User)
        .scalar_subquery()
    )
    raw = (
        select(
            User.id.label("user_id"),
            and_(*population(Scope(None))).label("counted"),
            User.municipality_id.label("municipality_id"),
            User.school_id.label("school_id"),
            (young() == 1).label("young"),
            User.profile_completed_at.label("since"),
            *lookups,
            newest.label("newest_route"),
            select(func.count(Route.id))
            .where(Route.user_id == User.id)
            .correlate(User)
            .scalar_subquery()
            .label("routes"),
            last_assessed.label("last_assessed"),
            last_external.label("last_external_on"),
            _latest_attempt(None).label("attempt_id"),
            _latest_external(None).label("external_id"),
        )
        .where(*where)
        .cte("raw")
        .prefix_with("MATERIALIZED")
    )
    r = raw.c
    since = epoch_us(r.since)

    def later(column: Any) -> ColumnElement[int]:
        return _later(since, epoch_us(column))

    route_created = select(Route.created_at).where(Route.id == r.newest_route).scalar_subquery()
    route_done = select(Route.completed_at).where(Route.id == r.newest_route).scalar_subquery()
    return select(
        r.user_id,
        r.counted,
        r.municipality_id,
        r.school_id,
        r.young,
        since.label("since"),
        later(r.assessed_at).label("assessed"),
        r.external_on,
        later(r.routed_at).label("routed"),
        later(r.course_at).label("course"),
        later(r.attended_at).label("attended"),
        later(r.done_at).label("route_done"),
        _later(since, _earlier(epoch_us(r.any_attended_at), epoch_us(r.mentored_at))).label(
            "supported"
        ),
        # (one reference each: a lookup by primary key)
        later(route_created).label("route_from"),
        epoch_us(route_done).label("route_until"),
        r.routes,
        epoch_us(r.last_assessed).label("last_assessed"),
        r.last_external_on,
        _deficits_json(r.attempt_id, r.external_id, dialect).label("deficits"),
    )


#: the columns `people` gives (`computed` and the table agree on them)
PEOPLE_COLUMNS = (
    "user_id",
    "young",
    "since",
    "assessed",
    "external_on",
    "routed",
    "course",
    "attended",
    "route_done",
    "supported",
    "route_from",
    "route_until",
    "routes",
)


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    """`population(scope)` on a milestone row (its copy of the placement)."""
    where: list[ColumnElement[bool]] = [M.counted.expression]
    allowed = municipalities(Filters(), scope)
    if allowed is not None:
        where.append(M.municipality_id.in_(sorted(allowed)))
    if scope.school_ids is not None:
        where.append(M.school_id.in_(sorted(scope.school_ids)))
    return where


def stale_users() -> Any:
    return select(M.user_id).where(M.stale)


def people(dialect: str, scope: Scope, group: Group, latest: datetime) -> Select[Any]:
    """The scope's teachers whose profile was completed before `latest`, one row each with
    `grp` (their school or municipality) and `PEOPLE_COLUMNS`: fresh milestone rows, and the
    stale users computed from the raw rows."""
    before = to_us(latest)
    grp: Any = M.school_id if group is Group.SCHOOL else M.municipality_id
    fresh = select(grp.label("grp"), *(M.__table__.c[c] for c in PEOPLE_COLUMNS)).where(
        ~M.stale, *_in_scope(scope), M.since < before
    )
    raw_sub = computed(
        dialect,
        *population(scope),
        User.profile_completed_at < latest,
        User.id.in_(stale_users()),
    ).subquery("stale_people")
    grp_raw: Any = raw_sub.c.school_id if group is Group.SCHOOL else raw_sub.c.municipality_id
    return fresh.union_all(select(grp_raw.label("grp"), *(raw_sub.c[c] for c in PEOPLE_COLUMNS)))  # type: ignore[return-value]


def diagnosed(dialect: str, scope: Scope, group: Group, t: datetime, day: date) -> Select[Any]:
    """The scope's teachers diagnosed before the moment (profile completed before it too):
    `uid`, `grp` and `deficits` (JSON) of their latest diagnosis as of the moment. Fresh rows
    whose latest diagnosis is older than the moment are read as they are; the others (stale,
    or diagnosed again since) are computed from the raw rows."""
    at = to_us(t)
    newer = or_(M.last_assessed >= at, M.last_external_on >= day)
    grp: Any = M.school_id if group is Group.SCHOOL else M.municipality_id
    fresh = select(M.user_id.label("uid"), grp.label("grp"), M.deficits.label("deficits")).where(
        ~M.stale,
        *_in_scope(scope),
        M.since < at,
        or_(M.last_assessed.is_not(None), M.last_external_on.is_not(None)),
        or_(M.last_assessed.is_(None), M.last_assessed < at),
        or_(M.last_external_on.is_(None), M.last_external_on < day),
    )
    user_grp: Any = User.school_id if group is Group.SCHOOL else User.municipality_id
    recheck = select(M.user_id).where(or_(M.stale, newer))
    # the few to look up, materialised first: PostgreSQL would otherwise test the lookups in
    # the WHERE below on every user before joining the few
    few = (
        select(
            User.id.label("uid"),
            user_grp.label("grp"),
            _latest_attempt(t).label("attempt_id"),
            _latest_external(day).label("external_id"),
        )
        .where(*population(scope), User.profile_completed_at < t, User.id.in_(recheck))
        .cte("rediagnosed")
        .prefix_with("MATERIALIZED")
    )
    raw = select(
        few.c.uid,
        few.c.grp,
        _deficits_json(few.c.attempt_id, few.c.external_id, dialect).label("deficits"),
    ).where(or_(few.c.attempt_id.is_not(None), few.c.external_id.is_not(None)))
    return fresh.union_all(raw)  # type: ignore[return-value]


async def refresh(session: AsyncSession, limit: int = 2000) -> int:
    """Recompute up to `limit` stale rows (their own short transaction is the caller's); how
    many. The rows are claimed first (`stale` cleared, row-locked on PostgreSQL: a writer
    marking one again waits, then marks it stale again), computed in the next statement."""
    if await session.scalar(stale_users().limit(1)) is None:
        return 0  # the usual tick: nothing to do, and no write transaction for it
    claim = (
        update(M)
        .where(M.stale, M.user_id.in_(stale_users().limit(limit)))
        .values(stale=False)
        .returning(M.user_id)
    )
    ids = list((await session.scalars(claim)).all())
    if not ids:
        return 0
    dialect = session.get_bind().dialect.name
    rows = computed(dialect, User.id.in_(ids)).subquery("fresh")
    columns = [c.name for c in M.__table__.c if c.name not in ("user_id", "stale")]
    await session.execute(
        update(M)
        .where(M.user_id == rows.c.user_id)
        .values({name: rows.c[name] for name in columns})
        .execution_options(synchronize_session=False)
    )
    return len(ids)


async def stale_count(session: AsyncSession) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(stale_users().subquery())) or 0
    )


def everything_stale() -> Any:
    """Mark every row stale (a test's or an operator's "recompute all")."""
    return update(M).values(stale=True).execution_options(synchronize_session=False)


__all__ = [
    "PEOPLE_COLUMNS",
    "computed",
    "diagnosed",
    "epoch_us",
    "everything_stale",
    "people",
    "refresh",
    "stale_count",
    "to_us",
]
