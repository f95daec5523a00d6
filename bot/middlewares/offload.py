"""Heavy handlers run on the threaded engine: the `offload` handler flag.

On SQLite an update's unit of work runs on the loop-thread engine (`db.sqlite_loop`): a few
short statements, no thread hops. Work that grows with the region (the statistics, exports,
imports, a broadcast's audience) must not run there — it would stall every other user. Such a
handler is registered with `flags=OFFLOAD`; for it `OffloadMiddleware` (an inner middleware on
the dispatcher's observers, so it sees the handler's flags) commits the update's unit of work,
opens a session on the threaded sessionmaker and hands the handler a fresh `Repo` inside a new
`UnitOfWork` (the current one while the handler runs: `CommitBeforeSend` and the commit's
follow-ups — cache invalidation, waking the outbox sender — keep working), commits it after the
handler and puts the update's own unit of work back.

ORM rows the filters put in the handler's data (`staff`) are merged into the new session
(without a statement), so the handler can hand them to its repository as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares.session import CURRENT_UOW, unit_of_work
from core.usercache import UserCache
from db.models import Base
from domain.reminders import Policy

#: the handler flag's name
OFFLOAD_FLAG = "offload"
#: `router.message.register(handler, ..., flags=OFFLOAD)`: the handler's work runs on the
#: threaded engine
OFFLOAD: dict[str, Any] = {OFFLOAD_FLAG: True}


class OffloadMiddleware(BaseMiddleware):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        cache: UserCache,
        policy: Policy | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.cache = cache
        self.policy = policy

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not get_flag(data, OFFLOAD_FLAG):
            return await handler(event, data)
        outer = CURRENT_UOW.get()
        if outer is not None:
            # what the filters and the middlewares did is saved; the loop session holds nothing
            await outer.commit()
        saved = {key: data[key] for key in ("repo", *_rows(data))}
        sender = data.get("outbox_sender")
        try:
            async with unit_of_work(self.sessionmaker, self.cache, sender, self.policy) as uow:
                data["repo"] = uow.repo
                for key in saved:
                    if key != "repo":
                        data[key] = await uow.session.merge(saved[key], load=False)
                return await handler(event, data)
        finally:
            data.update(saved)


def _rows(data: dict[str, Any]) -> list[str]:
    return [key for key, value in data.items() if isinstance(value, Base)]
