"""The day before an event, everyone holding a seat is reminded (once per registration and
event time: a moved event reminds again at its new time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.repo import Repo
from domain.events import EventStatus, RegStatus
from domain.notices import Notice, NoticeKind


async def run(repo: Repo, payload: dict[str, Any], now: datetime) -> None:
    event = await repo.events.get(int(payload["event_id"]))
    if event is None or event.status != EventStatus.SCHEDULED.value:
        return
    at = event.starts_at.isoformat()
    await repo.outbox.add(
        (
            Notice(
                reg.user_id,
                NoticeKind.EVENT_REMINDER,
                {"event_id": event.id, "reg_id": reg.id},
                key=f"reminder:{reg.id}:{at}",
            )
            for reg in await repo.events.participants(event.id)
            if reg.status in (RegStatus.CONFIRMED.value, RegStatus.OFFERED.value)
        ),
        now,
    )
