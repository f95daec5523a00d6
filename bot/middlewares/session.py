"""One `AsyncSession` per update with a single commit point."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.usercache import UserCache
from db.repo import Repo


class DbSessionMiddleware(BaseMiddleware):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], cache: UserCache) -> None:
        self.sessionmaker = sessionmaker
        self.cache = cache

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.sessionmaker() as session:
            repo = Repo(session)
            data["repo"] = repo
            try:
                result = await handler(event, data)
                await session.commit()
                return result
            finally:
                # after the commit (or the rollback) cached facts about touched users are stale
                self.cache.invalidate(*repo.dirty_users)
