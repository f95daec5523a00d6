"""What follows a sent message, planned in the transaction that marks it sent
(`outbox.sender`): the next route nudge a week later, the next update of a broadcast's
progress a few seconds later, the broadcast's end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.repo import Repo
from domain.notices import NoticeKind
from services import broadcasts, digest, nudges


@dataclass(frozen=True, slots=True)
class Sent:
    """A row Telegram accepted."""

    user_id: int
    payload: Mapping[str, Any]
    #: the message Telegram created (or edited)
    message_id: int


Followup = Callable[[Repo, Sent, datetime], Awaitable[None]]


async def _progress(repo: Repo, sent: Sent, now: datetime) -> None:
    await broadcasts.progress_sent(repo, int(sent.payload["broadcast_id"]), now)


async def _started(repo: Repo, sent: Sent, now: datetime) -> None:
    """The "has started" note becomes the live progress message of a scheduled broadcast."""
    await broadcasts.attach_progress(repo, int(sent.payload["broadcast_id"]), sent.message_id, now)


async def _next_nudge(repo: Repo, sent: Sent, now: datetime) -> None:
    await nudges.next_nudge(repo, sent.user_id, now)


async def _next_digest(repo: Repo, sent: Sent, now: datetime) -> None:
    """The Monday digest was sent: the next Monday's is planned."""
    user = await repo.users.get(sent.user_id)
    if user is not None:
        await digest.plan_digest(repo, user, now)


#: kind value → what follows it
FOLLOWUPS: dict[str, Followup] = {
    NoticeKind.ROUTE_NUDGE.value: _next_nudge,
    NoticeKind.BROADCAST_PROGRESS.value: _progress,
    NoticeKind.BROADCAST_STARTED.value: _started,
    NoticeKind.STATS_DIGEST.value: _next_digest,
}

__all__ = ["FOLLOWUPS", "Followup", "Sent"]
