"""Job kinds: what happens at a time. Each runs in the runner's transaction, changes the
database and queues notices in the outbox; none talks to Telegram (`scheduler.runner`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from db.repo import Repo
from domain.schedule import JobKind
from scheduler.jobs import broadcast_start, event_reminder, feedback_request, offer_expire

#: a job's work: the repository of its transaction, its payload and the time of the tick
JobRun = Callable[[Repo, dict[str, Any], datetime], Awaitable[None]]

JOBS: dict[JobKind, JobRun] = {
    JobKind.OFFER_EXPIRE: offer_expire.run,
    JobKind.EVENT_REMINDER: event_reminder.run,
    JobKind.FEEDBACK_REQUEST: feedback_request.run,
    JobKind.BROADCAST_START: broadcast_start.run,
}

__all__ = ["JOBS", "JobRun"]
