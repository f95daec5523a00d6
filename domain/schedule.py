"""What happens at a time, and when: the job kinds and the times they are scheduled for.

`services/` schedule jobs with these kinds and times; `scheduler/jobs/<kind>.py` runs each
kind. Messages are not jobs: a message for later is an outbox row with `due_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

#: the reminder goes this long before the start (a day)
REMIND_BEFORE = timedelta(hours=24)
#: feedback is asked for this long after the end
FEEDBACK_AFTER = timedelta(hours=1)


class JobKind(StrEnum):
    #: an offered seat lapses if not taken (`reg_id`)
    OFFER_EXPIRE = "offer_expire"
    #: the day before an event: remind everyone holding a seat (`event_id`)
    EVENT_REMINDER = "event_reminder"
    #: after an event: mark it completed and ask for feedback (`event_id`)
    FEEDBACK_REQUEST = "feedback_request"


def reminder_at(starts_at: datetime, now: datetime) -> datetime | None:
    """When an event starting at `starts_at` is reminded of; None if that time has passed
    (its registrants are told of a late change anyway)."""
    at = starts_at - REMIND_BEFORE
    return at if at > now else None


def feedback_at(ends_at: datetime) -> datetime:
    return ends_at + FEEDBACK_AFTER
