"""One unit of work per update; it is committed before the bot first talks to Telegram.

`DbSessionMiddleware` opens the update's `AsyncSession` and hands the handler a `Repo`. The
unit of work commits when the handler returns — and also, through `CommitBeforeSend` (a
request middleware on the bot's HTTP session), right before any Bot API call the handler
makes. So a reply never goes out while the update holds a transaction or an event's row lock:
a slow Telegram cannot keep other teachers' sign-ups waiting, and what the reply says is
already saved when the user reads it. What the handler does after its first reply runs in a
new transaction, committed at the end.

After each commit that queued outbox rows, the outbox sender is woken (`outbox.sender`).

On SQLite the update's session comes from the loop-thread engine (`db.sqlite_loop`, built by
`db.engine.create_update_engine`); a handler flagged `offload` gets its own unit of work on
the threaded engine (`bot.middlewares.offload`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.usercache import UserCache
from db.repo import Repo
from domain.reminders import Policy

if TYPE_CHECKING:
    from outbox.sender import OutboxSender


class UnitOfWork:
    """The update's session, its repository facade and what follows a commit."""

    def __init__(
        self,
        session: AsyncSession,
        cache: UserCache,
        sender: OutboxSender | None,
        policy: Policy | None = None,
    ) -> None:
        self.session = session
        self.repo = Repo(session, policy)
        self.cache = cache
        self.sender = sender
        self.task = asyncio.current_task()

    async def commit(self) -> None:
        if self.session.in_transaction():
            await self.session.commit()
        self.after_commit()

    def after_commit(self) -> None:
        # cached facts about touched users are stale now
        self.cache.invalidate(*self.repo.dirty_users)
        self.repo.dirty_users.clear()
        if self.repo.outbox.added:
            self.repo.outbox.added = 0
            if self.sender is not None:
                self.sender.wake()


#: the unit of work of the update being handled in this task (None outside updates)
CURRENT_UOW: ContextVar[UnitOfWork | None] = ContextVar("metodbot_uow", default=None)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
    cache: UserCache,
    sender: OutboxSender | None,
    policy: Policy | None = None,
) -> AsyncIterator[UnitOfWork]:
    """A unit of work on a new session, the current one (`CURRENT_UOW`) inside the block:
    committed when the block ends without an error, rolled back otherwise; the cache entries
    of the users it touched are dropped either way."""
    async with sessionmaker() as session:
        uow = UnitOfWork(session, cache, sender, policy)
        token = CURRENT_UOW.set(uow)
        try:
            yield uow
            await uow.commit()
        finally:
            CURRENT_UOW.reset(token)
            # after a rollback too: what was touched may have changed in between
            cache.invalidate(*uow.repo.dirty_users)


class DbSessionMiddleware(BaseMiddleware):
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
        sender = data.get("outbox_sender")
        async with unit_of_work(self.sessionmaker, self.cache, sender, self.policy) as uow:
            data["repo"] = uow.repo
            return await handler(event, data)


class CommitBeforeSend(BaseRequestMiddleware):
    """Commit the current update's unit of work before any Bot API call it makes."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        uow = CURRENT_UOW.get()
        if uow is not None and uow.task is asyncio.current_task():
            await uow.commit()
        return await make_request(bot, method)
