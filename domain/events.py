"""Events and sign-ups: who may register, confirm or waitlist, cancel, promotion, audiences,
recommendations. Pure rules; the database layer applies them under a per-event lock."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum


class EventKind(StrEnum):
    INTERNSHIP = "internship"
    MASTERCLASS = "masterclass"
    SEMINAR = "seminar"
    WEBINAR = "webinar"
    OPEN_LESSON = "open_lesson"
    WORKSHOP = "workshop"


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class RegStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    #: a freed seat offered to the first in line, to be claimed before `offer_expires_at`
    OFFERED = "offered"
    CANCELLED = "cancelled"
    ATTENDED = "attended"

    @property
    def holds_seat(self) -> bool:
        return self in (RegStatus.CONFIRMED, RegStatus.OFFERED, RegStatus.ATTENDED)

    @property
    def active(self) -> bool:
        return self is not RegStatus.CANCELLED


class Decision(StrEnum):
    CONFIRM = "confirm"
    WAITLIST = "waitlist"


class Refusal(StrEnum):
    CANCELLED = "cancelled"
    STARTED = "started"
    DEADLINE = "deadline"
    NOT_ELIGIBLE = "not_eligible"


#: a teacher may cancel up to this long before the start
CANCEL_BEFORE = timedelta(hours=2)
#: how long the first in line has to claim a freed seat
OFFER_WINDOW = timedelta(hours=12)
#: check-in opens this long before the start and closes this long after the end
CHECKIN_EARLY = timedelta(hours=1)
CHECKIN_LATE = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class EventFacts:
    status: EventStatus
    starts_at: datetime
    ends_at: datetime
    capacity: int
    registration_deadline: datetime | None = None

    @property
    def deadline(self) -> datetime:
        return self.registration_deadline or self.starts_at


def signup_decision(
    facts: EventFacts, seats_taken: int, now: datetime, *, eligible: bool = True
) -> Decision | Refusal:
    """Confirm while seats remain, else waitlist; refuse when the event cannot take anyone."""
    if facts.status is not EventStatus.SCHEDULED:
        return Refusal.CANCELLED
    if now >= facts.starts_at:
        return Refusal.STARTED
    if now > facts.deadline:
        return Refusal.DEADLINE
    if not eligible:
        return Refusal.NOT_ELIGIBLE
    return Decision.CONFIRM if seats_taken < facts.capacity else Decision.WAITLIST


#: registrations a teacher may cancel themselves (while the event is far enough ahead)
CANCELLABLE = (RegStatus.CONFIRMED, RegStatus.WAITLISTED, RegStatus.OFFERED)


def can_cancel(facts: EventFacts, status: RegStatus, now: datetime) -> bool:
    return (
        facts.status is EventStatus.SCHEDULED
        and status in CANCELLABLE
        and now <= facts.starts_at - CANCEL_BEFORE
    )


def cancel_too_late(facts: EventFacts, status: RegStatus, now: datetime) -> bool:
    """The registration could be cancelled but for the time: the event starts within
    `CANCEL_BEFORE` (and has not started yet). The card says why there is no cancel button."""
    return (
        facts.status is EventStatus.SCHEDULED
        and status in CANCELLABLE
        and facts.starts_at - CANCEL_BEFORE < now < facts.starts_at
    )


def can_claim(
    facts: EventFacts, status: RegStatus, offer_expires_at: datetime | None, now: datetime
) -> bool:
    """An offered seat may be taken while the offer stands and the event is still ahead."""
    return (
        facts.status is EventStatus.SCHEDULED
        and now < facts.starts_at
        and status is RegStatus.OFFERED
        and (offer_expires_at is None or now <= offer_expires_at)
    )


class FeedbackRefusal(StrEnum):
    CANCELLED = "cancelled"  # the event was cancelled
    NOT_YET = "not_yet"  # the event has not ended
    NOT_PARTICIPANT = "not_participant"  # waitlisted, offered or cancelled registration


def feedback_refusal(facts: EventFacts, status: RegStatus, now: datetime) -> FeedbackRefusal | None:
    """Feedback is for those who had a seat (confirmed or attended), after the end of an event
    that took place; None when it may be given."""
    if facts.status is EventStatus.CANCELLED:
        return FeedbackRefusal.CANCELLED
    if status not in (RegStatus.CONFIRMED, RegStatus.ATTENDED):
        return FeedbackRefusal.NOT_PARTICIPANT
    if now < facts.ends_at:
        return FeedbackRefusal.NOT_YET
    return None


def free_seats(capacity: int, seats_taken: int) -> int:
    return max(0, capacity - seats_taken)


def to_offer(capacity: int, seats_taken: int, waitlist: Sequence[int]) -> list[int]:
    """Registration ids (first in line first) to offer the free seats to."""
    return list(waitlist[: free_seats(capacity, seats_taken)])


def waitlist_numbers(queue: Iterable[tuple[str, int]]) -> dict[int, int]:
    """Place in the waitlist (1 = next in line) by queue number, from (status, queue number)
    pairs of one event's registrations; only waitlisted ones get a place (the queue number
    itself counts everyone who ever signed up, confirmed participants too)."""
    waiting = sorted(number for status, number in queue if status == RegStatus.WAITLISTED.value)
    return {number: place for place, number in enumerate(waiting, start=1)}


def offer_expiry(now: datetime, starts_at: datetime) -> datetime:
    """The claim window, cut short so it always ends before the event starts."""
    return min(now + OFFER_WINDOW, starts_at - CANCEL_BEFORE / 2)


def checkin_open(facts: EventFacts, now: datetime) -> bool:
    return (
        facts.status is not EventStatus.CANCELLED
        and facts.starts_at - CHECKIN_EARLY <= now <= facts.ends_at + CHECKIN_LATE
    )


def interest_weights(deficits: Collection[str], route: Collection[str]) -> dict[str, int]:
    """What each competency is worth to a teacher: those of the route 2, other deficits 1."""
    weights = dict.fromkeys(deficits, 1)
    weights.update(dict.fromkeys(route, 2))
    return weights


def relevance(
    event_competencies: Collection[str], deficits: Collection[str], route: Collection[str]
) -> int:
    """How well an event fits a teacher: route competencies weigh 2, other deficits 1.
    "For me" lists the events with a positive relevance, soonest first (the database applies
    the same weights: `db.repositories.events.TeacherEvents`)."""
    weights = interest_weights(deficits, route)
    return sum(weights.get(code, 0) for code in set(event_competencies))


def days_ahead(when: datetime, now: datetime, tz: tzinfo) -> int:
    """Calendar days from today to `when` in the zone `tz` (0 = today, 1 = tomorrow, -1 =
    yesterday): "today" and "tomorrow" are the local dates, not 24-hour spans."""
    return (when.astimezone(tz).date() - now.astimezone(tz).date()).days


def hours(starts_at: datetime, ends_at: datetime) -> float:
    """Academic record of participation: whole and half hours."""
    return round((ends_at - starts_at).total_seconds() / 1800) / 2
