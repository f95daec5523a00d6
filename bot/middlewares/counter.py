"""Counts updates whose handling has completely finished (after the commit).

The outermost of the project's middlewares. The console and the end-to-end tests wait on it to
know that the bot is done with what they sent, instead of guessing with timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class UpdateCounter(BaseMiddleware):
    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Condition()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        finally:
            async with self._changed:
                self.count += 1
                self._changed.notify_all()

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until `count` updates in all have been handled."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.count >= count)
