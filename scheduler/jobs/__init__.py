"""Job kinds: what happens at a time. Each runs in the runner's transaction, changes the
database and queues notices in the outbox; none talks to Telegram (`scheduler.runner`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from db.repo import Repo
from scheduler.jobs import event_reminder, feedback_request, offer_expire

#: a job's work: the repository of its transaction, its payload and the time of the tick
JobRun = Callable[[Repo, dict[str, Any], datetime], Awaitable[None]]

JOBS: dict[str, JobRun] = {
    "offer_expire": offer_expire.run,
    "event_reminder": event_reminder.run,
    "feedback_request": feedback_request.run,
}

__all__ = ["JOBS", "JobRun"]
