"""What happens at a time, and when: the job kinds and the times they are scheduled for.

`services/` schedule jobs with these kinds and times; `scheduler/jobs/<kind>.py` runs each
kind. Messages are not jobs: a message for later is an outbox row with `due_at`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

#: feedback is asked for this long after the end
FEEDBACK_AFTER = timedelta(hours=1)


class JobKind(StrEnum):
    #: an offered seat lapses if not taken (`reg_id`)
    OFFER_EXPIRE = "offer_expire"
    #: an event published before migration 0006: plan its registrants' reminders
    #: (`event_id`); new events plan them per confirmed seat (`services.reminders`)
    EVENT_REMINDER = "event_reminder"
    #: after an event: mark it completed and ask for feedback (`event_id`)
    FEEDBACK_REQUEST = "feedback_request"
    #: a scheduled broadcast starts: its recipients become outbox rows (`broadcast_id`)
    BROADCAST_START = "broadcast_start"


def feedback_at(ends_at: datetime) -> datetime:
    return ends_at + FEEDBACK_AFTER
