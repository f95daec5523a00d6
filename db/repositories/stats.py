"""Monitoring (issue #11) in SQL: the indicators, the activity of a period and the deficit map,
each as a few aggregate statements (GROUP BY, conditional sums, correlated EXISTS/MIN on
indexed columns); never a query per teacher. `services.stats` turns the rows into a
`domain.stats.StatsReport`. The per-teacher pieces are in `db.repositories.stats_people`, the
period's activity in `db.repositories.stats_activity` (the modules stay small).

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    cast,
    distinct,
    exists,
    func,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased

from db.models import (
    Attempt,
    ExternalDiagnosis,
    Route,
    User,
)
from db.repositories.stats_activity import (
    ActivityCounts,
    EventRow,
    StatsActivityRepo,
    UpcomingEvent,
)
from db.repositories.stats_people import (
    ATTENDANCE_KINDS,
    ZERO,
    Counts,
    Group,
    GroupCounts,
    Moment,
    correlated_lookups,
    count_if,
    group_column,
    grouped_lookups,
    name_of,
    population,
    utc_date,
    young,
)
from domain.broadcasts import Scope
from domain.stats import IndicatorCode


@dataclass(frozen=True, slots=True)
class DeficitColumn:
    id: int | None
    name: str
    diagnosed: int
    #: competency -> teachers with that deficit
    having: dict[str, int] = field(default_factory=dict)


class StatsRepo(StatsActivityRepo):
    """The numbers of `/stats` (`services.stats`); the activity half is in
    `db.repositories.stats_activity`."""

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
        lookups, joins = grouped_lookups() if scope.region else correlated_lookups()
        query = select(
            User.id.label("uid"),
            group_column(group).label("grp"),
            User.profile_completed_at.label("since"),
            young().label("young"),
            *lookups,
        )
        for table, on in joins:
            query = query.outerjoin(table, on)
        query = query.where(*population(scope), User.profile_completed_at < latest)
        # SQLite would flatten a plain subquery and redo the lookups for every moment
        people = query.cte("people").prefix_with("MATERIALIZED")
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
            columns += [
                count_if(alive),
                count_if(and_(alive, p.young == 1)),
                count_if(and_(alive, or_(p.assessed_at < t, p.external_on < day))),
                count_if(and_(alive, p.routed_at < t)),
                count_if(and_(alive, p.course_at < t)),
                count_if(
                    and_(
                        alive,
                        p.young == 1,
                        or_(p.any_attended_at < t, p.mentored_at < t, active_route(t)),
                    )
                ),
                count_if(and_(alive, p.attended_at < t)),
                count_if(and_(alive, p.done_at < t)),
            ]
        # grouped by the id alone (20 municipalities: no sort of every teacher by name), the
        # names joined to the counts
        counts = (
            select(p.grp.label("grp"), *(c.label(f"c{n}") for n, c in enumerate(columns)))
            .select_from(people)
            .group_by(p.grp)
            .subquery("counts")
        )
        table, name = name_of(group, locale)
        query = (
            select(counts.c.grp, name, *(counts.c[f"c{n}"] for n in range(len(columns))))
            .select_from(counts)
            .outerjoin(table, table.id == counts.c.grp)
            .order_by(name, counts.c.grp)
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
                User.id.label("uid"),
                group_column(group).label("grp"),
                latest_attempt.label("attempt_id"),
                latest_external.label("external_id"),
            )
            .where(*population(scope), User.profile_completed_at < t)
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
        diagnosed = or_(p.attempt_id.is_not(None), p.external_id.is_not(None))
        table, name = name_of(group, locale)
        columns = (
            select(p.grp, name.label("name"), null().label("code"), func.count().label("n"))
            .select_from(people)
            .outerjoin(table, table.id == p.grp)
            .where(diagnosed)
            .group_by(p.grp, name)
        )
        # each teacher's deficit list parsed once (not once per competency), its elements
        # counted per column; DISTINCT: a code listed twice still counts the teacher once
        items = self._deficit_items(external_wins)
        cells = (
            select(p.grp, null(), items.c.value, func.count(distinct(p.uid)))
            .select_from(people)
            .outerjoin(Attempt, Attempt.id == p.attempt_id)
            .outerjoin(ExternalDiagnosis, ExternalDiagnosis.id == p.external_id)
            .join(items, true())
            .where(diagnosed, items.c.value.in_(list(competencies)))
            .group_by(p.grp, items.c.value)
        )
        both = union_all(columns, cells).subquery("cells")
        c = both.c
        query = select(c.grp, c.name, c.code, c.n).order_by(
            c.code.is_not(None), c.name, c.grp, c.code
        )
        result: dict[int | None, DeficitColumn] = {}
        for grp, label, code, n in (await self.session.execute(query)).tuples():
            if code is None:
                result[grp] = DeficitColumn(
                    grp, label or "", int(n), dict.fromkeys(competencies, 0)
                )
            elif grp in result:
                result[grp].having[str(code)] = int(n)
        return list(result.values())

    def _deficit_items(self, external_wins: ColumnElement[bool]) -> Any:
        """The elements of the winning diagnosis's deficit list, as a table (column `value`)
        joined laterally to the row."""
        if self.session.get_bind().dialect.name == "postgresql":
            chosen = case(
                (external_wins, cast(ExternalDiagnosis.deficits, JSONB)),
                else_=cast(Attempt.result, JSONB)["deficits"],
            )
            array = case((func.jsonb_typeof(chosen) == "array", chosen))
            return func.jsonb_array_elements_text(array).table_valued("value").lateral("items")
        chosen = case(
            (external_wins, ExternalDiagnosis.deficits),
            else_=func.json_extract(Attempt.result, "$.deficits"),
        )
        array = case((func.json_type(chosen) == "array", chosen))
        return func.json_each(array).table_valued("value").alias("items")


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
