"""Whether messages can reach a user: Telegram tells when they block or unblock the bot."""

from __future__ import annotations

from datetime import datetime

from db.repo import Repo

BLOCKED = "the user blocked the bot"


async def chat_status_changed(repo: Repo, user_id: int, *, blocked: bool, now: datetime) -> None:
    """Blocked: nothing more is sent and what waited is cancelled. Unblocked: reachable."""
    if blocked:
        await repo.outbox.block_user(user_id, now, BLOCKED)
        return
    user = await repo.users.get(user_id)
    if user is not None:
        await repo.users.set_reachable(user)
