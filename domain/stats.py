"""Monitoring (issue #11): the periods statistics are counted over and the shape of a report.

This module is the contract between the numbers (`db.repositories.stats`, `services.stats`)
and their presentation (`/stats` text, charts, the workbook, the Monday digest). Everything
here is plain data and pure rules; no aiogram, no SQL.

Indicators are shares of the registered teachers in scope (see `services.stats` for who
counts), each with its numerator and denominator, the seeds' target where they give one and
the value of the previous period of the same kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

__all__ = [
    "Activity",
    "BreakdownRow",
    "DeficitMap",
    "EventFeedback",
    "Indicator",
    "IndicatorCode",
    "KindActivity",
    "Period",
    "PeriodKind",
    "SeatSuggestion",
    "StatsReport",
    "TrendPoint",
]


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    #: the school year: 1 September to 31 August
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Period:
    """Local calendar days [start, end) of a week (Monday–Sunday), month, quarter or school
    year in the staff member's time zone."""

    kind: PeriodKind
    start: date
    end: date

    @classmethod
    def containing(cls, kind: PeriodKind, day: date) -> Period:
        if kind is PeriodKind.WEEK:
            start = day - timedelta(days=day.weekday())
            return cls(kind, start, start + timedelta(days=7))
        if kind is PeriodKind.MONTH:
            start = day.replace(day=1)
            return cls(kind, start, _add_months(start, 1))
        if kind is PeriodKind.QUARTER:
            start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
            return cls(kind, start, _add_months(start, 3))
        year = day.year if day.month >= 9 else day.year - 1
        return cls(kind, date(year, 9, 1), date(year + 1, 9, 1))

    def shift(self, steps: int) -> Period:
        """The period `steps` periods later (negative: earlier)."""
        if self.kind is PeriodKind.WEEK:
            return Period.containing(self.kind, self.start + timedelta(days=7 * steps))
        months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind]
        return Period.containing(self.kind, _add_months(self.start, months * steps))

    def previous(self) -> Period:
        return self.shift(-1)

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """The period as UTC moments [from, to) for queries."""
        return (
            datetime.combine(self.start, time(), tz).astimezone(UTC),
            datetime.combine(self.end, time(), tz).astimezone(UTC),
        )

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class IndicatorCode(StrEnum):
    """The seeds' indicators (Volgodonsk concept `001`, the municipal summary `004`)."""

    #: 1. a finished self-assessment or an imported external diagnosis
    DIAGNOSED = "diagnosed"
    #: 2. an individual route built on that diagnosis
    ROUTED = "routed"
    #: 3. further-education courses chosen with the diagnosis, completed (what route data allows)
    COURSES = "courses"
    #: 4. young specialists (under 35 AND ≤ 3 years) involved in at least one form of support;
    #: its denominator is the young specialists, not every teacher
    YOUNG_SUPPORTED = "young_supported"
    #: 5a. attended at least one internship-site session or master-class
    ATTENDED = "attended"
    #: 5b. completed their route
    ROUTE_DONE = "route_done"


@dataclass(frozen=True, slots=True)
class Indicator:
    code: IndicatorCode
    numerator: int
    denominator: int
    #: the seeds' target share (0..1), where they give one
    target: float | None = None
    #: the same indicator in the previous period of the same kind (None: not computed)
    previous: Indicator | None = None

    @property
    def share(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def change(self) -> float | None:
        """Share now minus share in the previous period (None when either is unknown)."""
        if self.previous is None or self.share is None or self.previous.share is None:
            return None
        return self.share - self.previous.share

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or self.share is None:
            return None
        return self.share >= self.target


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """One municipality (an administrator's breakdown) or one school (a coordinator's)."""

    id: int
    name: str
    teachers: int
    indicators: dict[IndicatorCode, Indicator]


@dataclass(frozen=True, slots=True)
class KindActivity:
    """Sign-ups and attendance of the events of one kind that took place in the period."""

    kind: str
    events: int
    signups: int
    attended: int
    no_shows: int
    ratings: int
    average_rating: float | None

    @property
    def no_show_rate(self) -> float | None:
        expected = self.attended + self.no_shows
        return self.no_shows / expected if expected else None


@dataclass(frozen=True, slots=True)
class EventFeedback:
    event_id: int
    title: str
    kind: str
    ratings: int
    average_rating: float | None


@dataclass(frozen=True, slots=True)
class Activity:
    """What happened in the period, in scope."""

    new_teachers: int = 0
    assessments_started: int = 0
    assessments_finished: int = 0
    routes_created: int = 0
    steps_completed: int = 0
    by_kind: list[KindActivity] = field(default_factory=list)
    feedback: list[EventFeedback] = field(default_factory=list)
    broadcasts_sent: int = 0
    #: copies of those broadcasts delivered
    broadcast_reach: int = 0


@dataclass(frozen=True, slots=True)
class SeatSuggestion:
    """For a large deficit: upcoming seats on events of that competency against the teachers
    who have it ("plan 2 more master-classes on …")."""

    competency: str
    teachers: int
    upcoming_seats: int
    #: how many more events of a typical size would seat everyone (0: enough)
    events_needed: int


@dataclass(frozen=True, slots=True)
class DeficitMap:
    """Competencies × columns (schools or municipalities): teachers with that deficit in their
    latest diagnosis, of the column's diagnosed teachers."""

    competencies: list[str]
    #: (column id, name)
    columns: list[tuple[int, str]]
    #: (competency, column id) -> (with the deficit, diagnosed teachers of the column)
    cells: dict[tuple[str, int], tuple[int, int]]
    suggestions: list[SeatSuggestion] = field(default_factory=list)

    def share(self, competency: str, column: int) -> float | None:
        having, of = self.cells.get((competency, column), (0, 0))
        return having / of if of else None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One week of the trend line: the indicators' shares at the end of that week."""

    period: Period
    indicators: dict[IndicatorCode, Indicator]


@dataclass(frozen=True, slots=True)
class StatsReport:
    """Everything `/stats`, its charts, its workbook and the Monday digest show."""

    period: Period
    #: None: the region; otherwise the municipalities in scope
    municipality_ids: frozenset[int] | None
    teachers: int
    indicators: list[Indicator]
    #: by municipality for an administrator, by school for a coordinator
    breakdown: list[BreakdownRow]
    activity: Activity
    deficits: DeficitMap
    #: the last weeks, oldest first (empty when not asked for)
    trend: list[TrendPoint] = field(default_factory=list)
    #: the breakdown is by school (else by municipality)
    by_school: bool = False
    #: the school of a school methodist's scope (None: not one school)
    school_ids: frozenset[int] | None = None
