"""Notices: what a user must be told, as plain data.

A use case (`services/`) records a `Notice` for every message its change causes to someone
other than the person whose update is being answered: an offered seat, a moved or cancelled
event, a reminder, a methodist's comment. The notice is written to the outbox in the same
transaction as the change (`db.repositories.outbox.OutboxRepo.add`), and the sender (`outbox/`)
renders it in the recipient's language and delivers it after the commit. So a notice never
leaves for a change that was rolled back, and a committed change never loses its notice.

Payloads hold ids and the few values that must be frozen at the time of the change (the old
time of a moved event, a methodist's text); everything else is read when the message is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class NoticeKind(StrEnum):
    #: a seat is offered to the first in the waitlist (`reg_id`)
    SEAT_OFFERED = "seat_offered"
    #: an offered seat was not confirmed in time and went to the next person (`event_id`)
    OFFER_EXPIRED = "offer_expired"
    #: the time or the place changed (`event_id`, `changed`, `was_starts_at`, `was_ends_at`)
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    #: before the event, at each lead time (`event_id`, `reg_id`, `lead` in minutes)
    EVENT_REMINDER = "event_reminder"
    #: after the event: rate it (`event_id`, `reg_id`)
    FEEDBACK_REQUEST = "feedback_request"
    #: an organiser's message to an event's participants (`event_id`, `text`)
    PARTICIPANTS_MESSAGE = "participants_message"
    #: a methodist commented on the teacher's route (`text`)
    ROUTE_COMMENT = "route_comment"
    #: a methodist added a step to the teacher's route (`title`, `due`)
    ROUTE_STEP_ADDED = "route_step_added"
    #: the school the teacher typed in was not confirmed (`name`)
    SCHOOL_REJECTED = "school_rejected"
    #: an administrator changed the user's role (`role`, `municipality_id`)
    ROLE_CHANGED = "role_changed"
    #: route steps near or past their target date, all in one message (`route_id`)
    ROUTE_NUDGE = "route_nudge"
    #: a route with no progress for a month: shall we continue? (`route_id`, `since`)
    ROUTE_STALLED = "route_stalled"
    #: a self-assessment left unfinished (`attempt_id`, `days`)
    ASSESSMENT_UNFINISHED = "assessment_unfinished"
    #: the self-assessment can be taken again (`attempt_id`)
    RETAKE_AVAILABLE = "retake_available"
    #: a coordinator's events of the day, in the morning (`day`: the local date)
    STAFF_AGENDA = "staff_agenda"
    #: a coordinator's events of yesterday: attended, no-shows, feedback (`day`)
    STAFF_SUMMARY = "staff_summary"
    #: a coordinator's (administrator's) statistics of last week, on Monday morning
    #: (`week`: the Monday of the week summed up)
    STATS_DIGEST = "stats_digest"
    #: a copy of a methodist's broadcast (`broadcast_id`)
    BROADCAST = "broadcast"
    #: the author's live progress message of a broadcast, edited in place (`broadcast_id`)
    BROADCAST_PROGRESS = "broadcast_progress"
    #: a scheduled broadcast started / ended: told to its author (`broadcast_id`)
    BROADCAST_STARTED = "broadcast_started"
    BROADCAST_DONE = "broadcast_done"


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to one user (`user_id` is `users.id`)."""

    user_id: int
    kind: NoticeKind
    payload: Mapping[str, Any] = field(default_factory=dict)
    #: send no earlier than this (None: as soon as the change is committed)
    due_at: datetime | None = None
    #: the same key is queued once (say, one reminder per registration per event time)
    key: str | None = None
    #: what the row is about ("event:12", "route:3", "attempt:7"): a change to that thing
    #: cancels or moves its pending rows (`OutboxRepo.cancel_ref`)
    ref: str | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.payload.get(name, default)


def count(notices: Iterable[Notice], kind: NoticeKind) -> int:
    return sum(notice.kind is kind for notice in notices)
