"""Anti-flood per user: a token bucket; handlers may declare a cost with `flags={"cost": N}`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from domain.throttle import TokenBucketLimiter, Verdict


class ThrottlingMiddleware(BaseMiddleware):
    def __init__(self, limiter: TokenBucketLimiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        tg_user = data.get("event_from_user")
        if tg_user is None:
            return await handler(event, data)
        cost = float(get_flag(data, "cost", default=1.0))
        verdict = self.limiter.hit(tg_user.id, cost)
        if verdict is Verdict.ALLOW:
            return await handler(event, data)
        if verdict is Verdict.WARN:
            text = _("Too many requests at once. Please wait a few seconds and try again.")
            if isinstance(event, CallbackQuery):
                await event.answer(text, show_alert=False)
            elif isinstance(event, Message):
                await event.answer(text)
        elif isinstance(event, CallbackQuery):
            await event.answer()  # never leave a button spinning
        return None
