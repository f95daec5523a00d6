"""Monitoring (issue #11) in SQL: the indicators, the activity of a period and the deficit map,
each as a few aggregate statements (GROUP BY, conditional sums, correlated EXISTS/MIN on
indexed columns); never a query per teacher. `services.stats` turns the rows into a
`domain.stats.StatsReport`. The per-teacher pieces are in `db.repositories.stats_people`, the
per-teacher milestones (when each indicator first became true, kept exact by triggers) in
`db.repositories.stats_milestones`, the period's activity in `db.repositories.stats_activity`
(the modules stay small).

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
    cast,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased

from db.models import (
    Route,
)
from db.repositories import stats_milestones as milestones
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
    count_if,
    name_of,
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
        one statement: per teacher the first time each indicator became true (the milestone
        rows, or the raw rows for the users a write marked stale: `stats_milestones.people`),
        then conditional sums per moment on integers, grouped. A route active at the moment:
        the newest route's span is in the row; an older one is looked up (a correlated
        EXISTS) only for the young specialists with several routes and no other support."""
        if not moments:
            return []
        latest = max(t for t, _ in moments)
        dialect = self.session.get_bind().dialect.name
        people = milestones.people(dialect, scope, group, latest).subquery("people")
        p = people.c
        current, newer = aliased(Route), aliased(Route)

        def older_route_active(t: datetime) -> ColumnElement[bool]:
            """A route other than the newest active at `t` (only asked of the few with
            several routes: the newest one's span is in the row)."""
            return exists(
                select(current.id).where(
                    current.user_id == p.user_id,
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
            at = milestones.to_us(t)
            alive = p.since < at
            is_young = p.young.is_(true())
            newest_active = and_(
                p.route_from < at, or_(p.route_until.is_(None), p.route_until >= at)
            )
            columns += [
                count_if(alive),
                count_if(and_(is_young, alive)),
                count_if(or_(p.assessed < at, and_(alive, p.external_on < day))),
                count_if(p.routed < at),
                count_if(p.course < at),
                count_if(
                    and_(
                        is_young,
                        alive,
                        or_(
                            p.supported < at,
                            newest_active,
                            and_(p.routes > 1, older_route_active(t)),
                        ),
                    )
                ),
                count_if(p.attended < at),
                count_if(p.route_done < at),
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

    async def refresh_milestones(self, limit: int) -> int:
        """Recompute up to `limit` users' stale milestones (`stats_milestones.refresh`)."""
        return await milestones.refresh(self.session, limit)

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
        dialect = self.session.get_bind().dialect.name
        people = milestones.diagnosed(dialect, scope, group, t, day).subquery("people")
        p = people.c
        # grouped by the id alone, the names joined to the 20 or 25 counts (not to every
        # teacher: PostgreSQL sorted 70,000 rows by name for it)
        counts = (
            select(
                p.grp.label("grp"),
                func.count().label("n"),
                *(
                    count_if(self._has_deficit(p.deficits, code)).label(f"c{k}")
                    for k, code in enumerate(competencies)
                ),
            )
            .group_by(p.grp)
            .subquery("counts")
        )
        table, name = name_of(group, locale)
        query = (
            select(
                counts.c.grp,
                name,
                counts.c.n,
                *(counts.c[f"c{k}"] for k in range(len(competencies))),
            )
            .select_from(counts)
            .outerjoin(table, table.id == counts.c.grp)
            .order_by(name, counts.c.grp)
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

    def _has_deficit(self, deficits: Any, code: str) -> ColumnElement[bool]:
        """Whether a deficit list (a JSON array of competency codes, or NULL) holds `code`.
        On SQLite a search of the array's text for the quoted code: exact, because every
        stored code is a framework competency code (`domain.framework`: `[a-z_]`, nothing a
        JSON string escapes), and ten times cheaper than taking the array apart."""
        if self.session.get_bind().dialect.name == "postgresql":
            # the column is JSONB already: the cast costs nothing, it gives the `?` operator
            has: ColumnElement[bool] = cast(deficits, JSONB).has_key(code)
            return has
        return func.instr(deficits, f'"{code}"') > 0


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
