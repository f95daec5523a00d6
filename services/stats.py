"""Monitoring (issue #11): a statistics report for a staff member's scope.

`report` checks the role and the scope on the server (a teacher gets `Refusal.NOT_STAFF`) and
calls `report_for_scope`: an administrator sees the region broken down by municipality, a
coordinator (and any narrower staff scope `services.broadcasts.scope_for` gives) their scope
broken down by school. What counts and how is written once, in `db.repositories.stats`
(its docstring defines every indicator, the population and the activity); this module only
chooses the moments and turns the counts into `domain.stats.StatsReport`.

Moments: an indicator of a period is its value as of the period's end (cumulative); its
`previous` is the value as of the previous period's end; a trend point is the value as of the
end of that week. All ends are local midnights in `tz` (`Period.bounds`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from datetime import datetime, tzinfo
from enum import StrEnum

from db.models import User
from db.repo import Repo
from db.repositories.stats import ZERO, Counts, Group, GroupCounts, Moment
from domain.broadcasts import Scope
from domain.events import EventKind
from domain.roles import Role
from domain.stats import (
    Activity,
    BreakdownRow,
    DeficitMap,
    EventFeedback,
    Indicator,
    IndicatorCode,
    KindActivity,
    Period,
    PeriodKind,
    SeatSuggestion,
    StatsReport,
    TrendPoint,
)
from services.broadcasts import scope_for

__all__ = [
    "SUGGESTIONS",
    "TARGETS",
    "TYPICAL_EVENT_SIZE",
    "Refusal",
    "report",
    "report_for_scope",
]

#: the seeds' targets (`004`: courses chosen with the diagnosis ≥ 30 % by 2024; young
#: specialists in support ≥ 70 % by 2024); `001` names the other indicators without a target
TARGETS: dict[IndicatorCode, float] = {
    IndicatorCode.COURSES: 0.30,
    IndicatorCode.YOUNG_SUPPORTED: 0.70,
}
#: seats of an event when no upcoming event of the competency tells a typical size
TYPICAL_EVENT_SIZE = 20
#: how many of the largest deficits get a seat suggestion
SUGGESTIONS = 3


class Refusal(StrEnum):
    NOT_STAFF = "not_staff"


def breaks_down_by_school(scope: Scope) -> bool:
    """One municipality or one school is broken down by school; several municipalities and
    the region by municipality."""
    if scope.school_ids is not None:
        return True
    return scope.municipality_ids is not None and len(scope.municipality_ids) == 1


async def report(
    repo: Repo,
    staff: User,
    role: Role,
    period: Period,
    tz: tzinfo,
    *,
    trend_weeks: int = 0,
    locale: str = "ru",
    now: datetime | None = None,
) -> StatsReport | Refusal:
    """The report of the staff member's own scope (`role`: their current role, as the
    middleware resolved it; never trusted from the client)."""
    scope = await scope_for(repo, staff, role)
    if scope is None:
        return Refusal.NOT_STAFF
    return await report_for_scope(
        repo,
        scope,
        period,
        tz,
        by_school=breaks_down_by_school(scope),
        trend_weeks=trend_weeks,
        locale=locale,
        now=now,
    )


def _end(period: Period, tz: tzinfo) -> Moment:
    return period.bounds(tz)[1], period.end


async def report_for_scope(
    repo: Repo,
    scope: Scope,
    period: Period,
    tz: tzinfo,
    *,
    by_school: bool,
    trend_weeks: int = 0,
    locale: str = "ru",
    now: datetime | None = None,
) -> StatsReport:
    """The report of a scope, broken down by school (`by_school`) or by municipality.
    `locale` picks the municipalities' names; `now` (pass the bot's clock: `clock.now()`)
    decides which events are upcoming for the seat suggestions; without it, those starting
    after the period. Teachers without a school (a municipality) count in the totals but in
    no breakdown row or deficit-map column; rows are sorted by name, columns too."""
    since, until = period.bounds(tz)
    now = now or until
    weeks: list[Period] = []
    if trend_weeks > 0:
        last = Period.containing(PeriodKind.WEEK, period.last_day)
        # one week more than shown: the first point's `previous`
        weeks = [last.shift(-i) for i in range(trend_weeks, -1, -1)]
    wanted = [_end(period, tz), _end(period.previous(), tz), *(_end(w, tz) for w in weeks)]
    moments = list(dict.fromkeys(wanted))
    at = {moment: i for i, moment in enumerate(moments)}
    group = Group.SCHOOL if by_school else Group.MUNICIPALITY

    groups = await repo.stats.indicators(scope, moments, group, locale)
    totals = [_sum(groups, i) for i in range(len(moments))]
    here, before = at[wanted[0]], at[wanted[1]]
    indicators = _indicators(totals[here], totals[before])
    breakdown = [
        BreakdownRow(
            g.id,
            g.name,
            g.by_moment[here].teachers,
            {i.code: i for i in _indicators(g.by_moment[here], g.by_moment[before])},
        )
        for g in groups
        if g.id is not None and g.by_moment[here].teachers
    ]
    trend = [
        TrendPoint(
            week,
            {
                i.code: i
                for i in _indicators(totals[at[_end(week, tz)]], totals[at[_end(weeks[n - 1], tz)]])
            },
        )
        for n, week in enumerate(weeks)
        if n > 0
    ]

    organised_in: list[int] | None = None
    if not scope.region:
        municipalities = await repo.reference.municipalities()
        organised_in = [m.id for m in municipalities if scope.allows(m.id)]
    activity = await _activity(repo, scope, organised_in, since, until)
    deficits = await _deficits(repo, scope, _end(period, tz), group, organised_in, locale, now)
    return StatsReport(
        period=period,
        municipality_ids=scope.municipality_ids,
        teachers=totals[here].teachers,
        indicators=indicators,
        breakdown=breakdown,
        activity=activity,
        deficits=deficits,
        trend=trend,
        by_school=by_school,
        school_ids=scope.school_ids,
    )


def _sum(groups: Sequence[GroupCounts], moment: int) -> Counts:
    total = ZERO
    for g in groups:
        total = total + g.by_moment[moment]
    return total


def _indicators(now: Counts, before: Counts | None) -> list[Indicator]:
    def one(counts: Counts, code: IndicatorCode, previous: Indicator | None) -> Indicator:
        of = counts.young if code is IndicatorCode.YOUNG_SUPPORTED else counts.teachers
        return Indicator(code, counts.numerators[code], of, TARGETS.get(code), previous)

    return [
        one(now, code, None if before is None else one(before, code, None))
        for code in IndicatorCode
    ]


async def _activity(
    repo: Repo,
    scope: Scope,
    organised_in: list[int] | None,
    since: datetime,
    until: datetime,
) -> Activity:
    counts = await repo.stats.activity(scope, since, until)
    events = await repo.stats.events(organised_in, since, until)
    kinds: dict[str, list[int]] = {}
    for e in events:
        acc = kinds.setdefault(e.kind, [0] * 6)
        for n, value in enumerate((1, e.signups, e.attended, e.no_shows, e.ratings, e.rating_sum)):
            acc[n] += value
    order = {kind.value: n for n, kind in enumerate(EventKind)}
    by_kind = [
        KindActivity(
            kind,
            events=acc[0],
            signups=acc[1],
            attended=acc[2],
            no_shows=acc[3],
            ratings=acc[4],
            average_rating=acc[5] / acc[4] if acc[4] else None,
        )
        for kind, acc in sorted(kinds.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    ]
    feedback = [
        EventFeedback(
            e.event_id,
            e.title,
            e.kind,
            e.ratings,
            e.rating_sum / e.ratings if e.ratings else None,
        )
        for e in events
    ]
    sent = [
        copies
        for author_scope, copies in await repo.stats.broadcasts(since, until)
        if scope.region or (author_scope is not None and all(scope.allows(m) for m in author_scope))
    ]
    return Activity(
        new_teachers=counts.new_teachers,
        assessments_started=counts.assessments_started,
        assessments_finished=counts.assessments_finished,
        routes_created=counts.routes_created,
        steps_completed=counts.steps_completed,
        by_kind=by_kind,
        feedback=feedback,
        broadcasts_sent=len(sent),
        broadcast_reach=sum(sent),
    )


async def _deficits(
    repo: Repo,
    scope: Scope,
    moment: Moment,
    group: Group,
    organised_in: list[int] | None,
    locale: str,
    now: datetime,
) -> DeficitMap:
    framework = await repo.frameworks.active()
    competencies = [c.code for c in framework.competencies] if framework else []
    if not competencies:
        return DeficitMap([], [], {})
    columns = await repo.stats.deficits(scope, moment, competencies, group, locale)
    cells = {
        (code, c.id): (c.having[code], c.diagnosed)
        for c in columns
        if c.id is not None
        for code in competencies
    }
    # teachers without a school (or municipality) have no column but count in the totals
    having = {code: sum(c.having[code] for c in columns) for code in competencies}
    largest = sorted(
        (code for code in competencies if having[code]),
        key=lambda code: -having[code],  # stable: the framework's order breaks ties
    )[:SUGGESTIONS]
    suggestions = []
    if largest:
        upcoming = await repo.stats.upcoming_events(organised_in, now)
        for code in largest:
            events = [e for e in upcoming if code in e.competencies]
            seats = sum(e.free_seats for e in events)
            size = statistics.median(e.capacity for e in events) if events else TYPICAL_EVENT_SIZE
            missing = max(0, having[code] - seats)
            suggestions.append(
                SeatSuggestion(
                    competency=code,
                    teachers=having[code],
                    upcoming_seats=seats,
                    events_needed=math.ceil(missing / max(1, size)) if missing else 0,
                )
            )
    return DeficitMap(
        competencies=competencies,
        columns=[(c.id, c.name) for c in columns if c.id is not None],
        cells=cells,
        suggestions=suggestions,
    )
