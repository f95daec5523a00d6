"""Broadcasts: a methodist informs chosen teachers. Who gets one (`Filters`, combined with AND,
each optional, always inside the sender's `Scope`), the states a broadcast goes through, and
the report's arithmetic. Plain Python: no database, no aiogram.

The SQL form of `Filters` is written once, in `db.repositories.audience`; a test checks that it
picks exactly the teachers `matches` picks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any

from domain.profile import AgeBand
from domain.scope import Scope

#: the seeds' "young teacher" for the monitoring and for broadcasts: under 35 AND in the
#: first three years of work (`domain.profile.is_young_teacher`, used for route templates, is
#: the wider "or")
YOUNG_MAX_YEARS = 3


def is_young_specialist(age_band: str | None, experience_years: int | None) -> bool:
    """Under 35 and at most `YOUNG_MAX_YEARS` years of experience (both must be known)."""
    return (
        age_band == AgeBand.UNDER_35.value
        and experience_years is not None
        and experience_years <= YOUNG_MAX_YEARS
    )


#: the author's progress message is updated this often while a broadcast is being sent
PROGRESS_EVERY = timedelta(seconds=3)


class EventGroup(StrEnum):
    """Which people of an event a broadcast goes to."""

    #: holding a seat or attended
    PARTICIPANTS = "participants"
    WAITLIST = "waitlist"
    #: held a seat and did not come (the event is over)
    NO_SHOWS = "no_shows"


class BroadcastState(StrEnum):
    SCHEDULED = "scheduled"
    #: recipients resolved into outbox rows; the sender delivers them
    SENDING = "sending"
    #: stopped by its author: the rest was not sent
    STOPPED = "stopped"
    DONE = "done"
    #: a scheduled one cancelled before it started
    CANCELLED = "cancelled"

    @property
    def editable(self) -> bool:
        return self is BroadcastState.SCHEDULED


@dataclass(frozen=True, slots=True)
class Filters:
    """Who gets a broadcast; every criterion is optional (empty = no restriction)."""

    municipality_ids: tuple[int, ...] = ()
    school_ids: tuple[int, ...] = ()
    positions: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    age_bands: tuple[str, ...] = ()
    #: under 35 and in the first three years of work
    young: bool = False
    #: a competency among the deficits of the teacher's latest finished self-assessment
    deficit: str | None = None
    #: no finished self-assessment
    no_assessment: bool = False
    #: no individual route (active or completed)
    no_route: bool = False
    #: the people of one event (`event_group` of them)
    event_id: int | None = None
    event_group: EventGroup = EventGroup.PARTICIPANTS

    def to_json(self) -> dict[str, Any]:
        return {
            "municipality_ids": list(self.municipality_ids),
            "school_ids": list(self.school_ids),
            "positions": list(self.positions),
            "subjects": list(self.subjects),
            "age_bands": list(self.age_bands),
            "young": self.young,
            "deficit": self.deficit,
            "no_assessment": self.no_assessment,
            "no_route": self.no_route,
            "event_id": self.event_id,
            "event_group": self.event_group.value,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Filters:
        """Read stored or FSM-kept filters; anything malformed raises ValueError."""

        def ints(name: str) -> tuple[int, ...]:
            values = data.get(name) or []
            if not isinstance(values, list) or not all(type(v) is int for v in values):
                raise ValueError(f"{name}: a list of ids expected")
            return tuple(sorted(set(values)))

        def strs(name: str) -> tuple[str, ...]:
            values = data.get(name) or []
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"{name}: a list of codes expected")
            return tuple(sorted(set(values)))

        event_id = data.get("event_id")
        if event_id is not None and type(event_id) is not int:
            raise ValueError("event_id: an id expected")
        deficit = data.get("deficit")
        if deficit is not None and not isinstance(deficit, str):
            raise ValueError("deficit: a competency code expected")
        return cls(
            municipality_ids=ints("municipality_ids"),
            school_ids=ints("school_ids"),
            positions=strs("positions"),
            subjects=strs("subjects"),
            age_bands=strs("age_bands"),
            young=bool(data.get("young", False)),
            deficit=deficit,
            no_assessment=bool(data.get("no_assessment", False)),
            no_route=bool(data.get("no_route", False)),
            event_id=event_id,
            event_group=EventGroup(data.get("event_group") or EventGroup.PARTICIPANTS.value),
        )

    def toggled(self, name: str, value: Any) -> Filters:
        """The filters with `value` added to or removed from the list `name`."""
        current = getattr(self, name)
        assert isinstance(current, tuple)
        items: dict[str, Any] = {name: tuple(sorted(set(current) ^ {value}))}
        return replace(self, **items)

    @property
    def active(self) -> int:
        """How many criteria are set (the wizard shows it)."""
        return sum(
            bool(v)
            for v in (
                self.municipality_ids,
                self.school_ids,
                self.positions,
                self.subjects,
                self.age_bands,
                self.young,
                self.deficit,
                self.no_assessment,
                self.no_route,
                self.event_id,
            )
        )


def within(filters: Filters, scope: Scope) -> bool:
    """Are the chosen municipalities and schools inside the scope? (Schools and events are
    also checked against the scope by their municipality where they are chosen.)"""
    if scope.school_ids is not None and not set(filters.school_ids) <= scope.school_ids:
        return False
    return scope.municipality_ids is None or set(filters.municipality_ids) <= scope.municipality_ids


def municipalities(filters: Filters, scope: Scope) -> frozenset[int] | None:
    """The municipalities the audience is drawn from: the chosen ones, or the whole scope
    (None: the region)."""
    if filters.municipality_ids:
        chosen = frozenset(filters.municipality_ids)
        return chosen if scope.municipality_ids is None else chosen & scope.municipality_ids
    return scope.municipality_ids


@dataclass(frozen=True, slots=True)
class Teacher:
    """The facts about one teacher a broadcast's filters are checked against."""

    municipality_id: int | None
    school_id: int | None = None
    position: str | None = None
    subjects: Collection[str] = ()
    age_band: str | None = None
    experience_years: int | None = None
    deficits: Collection[str] = ()
    assessed: bool = False
    has_route: bool = False
    #: this teacher's group in the filters' event, if any
    event_group: EventGroup | None = None


def matches(filters: Filters, scope: Scope, teacher: Teacher) -> bool:
    """Does the teacher get the broadcast? (`db.repositories.audience` is this in SQL.)"""
    allowed = municipalities(filters, scope)
    if allowed is not None and teacher.municipality_id not in allowed:
        return False
    if scope.school_ids is not None and teacher.school_id not in scope.school_ids:
        return False
    if filters.school_ids and teacher.school_id not in filters.school_ids:
        return False
    if filters.positions and teacher.position not in filters.positions:
        return False
    if filters.subjects and not set(filters.subjects) & set(teacher.subjects):
        return False
    if filters.age_bands and teacher.age_band not in filters.age_bands:
        return False
    if filters.young and not is_young_specialist(teacher.age_band, teacher.experience_years):
        return False
    if filters.deficit is not None and filters.deficit not in teacher.deficits:
        return False
    if filters.no_assessment and teacher.assessed:
        return False
    if filters.no_route and teacher.has_route:
        return False
    return filters.event_id is None or teacher.event_group is filters.event_group


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a broadcast stands, from its outbox rows."""

    total: int
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    muted: int = 0
    #: cancelled otherwise (stopped, the recipient erased their data)
    dropped: int = 0

    @property
    def done(self) -> int:
        return self.sent + self.failed + self.blocked + self.muted + self.dropped

    @property
    def left(self) -> int:
        return max(self.total - self.done, 0)

    def eta_seconds(self, rate: float) -> float | None:
        """Seconds to the end at `rate` messages a second (None: unknown)."""
        if rate <= 0:
            return None
        return self.left / rate


__all__ = [
    "PROGRESS_EVERY",
    "YOUNG_MAX_YEARS",
    "BroadcastState",
    "EventGroup",
    "Filters",
    "Progress",
    "Scope",
    "Teacher",
    "is_young_specialist",
    "matches",
    "municipalities",
    "within",
]
