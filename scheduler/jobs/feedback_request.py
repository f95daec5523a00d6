"""After an event: it is marked completed and its participants are asked to rate it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.repo import Repo
from domain.events import EventStatus, RegStatus
from domain.notices import Notice, NoticeKind


async def run(repo: Repo, payload: dict[str, Any], now: datetime) -> None:
    event = await repo.events.get(int(payload["event_id"]))
    if event is None or event.status == EventStatus.CANCELLED.value:
        return
    await repo.events.complete(event)
    await repo.outbox.add(
        (
            Notice(
                reg.user_id,
                NoticeKind.FEEDBACK_REQUEST,
                {"event_id": event.id, "reg_id": reg.id},
                key=f"feedback:{reg.id}",
                ref=f"event:{event.id}",
            )
            for reg in await repo.events.participants(event.id)
            if reg.status in (RegStatus.ATTENDED.value, RegStatus.CONFIRMED.value)
            and reg.feedback_at is None
        ),
        now,
    )
