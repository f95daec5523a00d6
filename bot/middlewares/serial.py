"""Handles one user's updates one after another.

aiogram handles updates concurrently; a teacher's quick double tap would otherwise run two
handlers on the same state at once (two wizard questions, two reads of the same answer). Other
users are not held up. In-process only: with several webhook workers, sticky routing by user
(or Redis FSM with locking) would be needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class PerUserSerialMiddleware(BaseMiddleware):
    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user = data.get("event_from_user")
        if tg_user is None:
            return await handler(event, data)
        key = tg_user.id
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                return await handler(event, data)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]  # nobody waits: forget the lock, the map stays small
            else:
                self._locks[key] = (lock, users - 1)

    @property
    def active_users(self) -> int:
        return len(self._locks)
