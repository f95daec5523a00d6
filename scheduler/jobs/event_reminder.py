"""An `event_reminder` job of an event published before reminders were planned per seat
(migration 0006): it plans its registrants' reminder rows, which the outbox then sends at each
lead time still ahead. New events have no such job (`services.reminders`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from db.repo import Repo
from services import reminders

#: the job ran at "start - 24 h": the 24-hour reminder is due at once, not skipped as past
GRACE = timedelta(minutes=15)


async def run(repo: Repo, payload: dict[str, Any], now: datetime) -> None:
    event = await repo.events.get(int(payload["event_id"]))
    if event is None:
        return
    await reminders.plan_event_reminders(
        repo, event, await repo.events.participants(event.id), now - GRACE
    )
