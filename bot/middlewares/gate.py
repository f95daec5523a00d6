"""Per-handler requirements declared as flags: `flags={"needs": "consent" | "profile"}`.

A handler that needs consent (or a complete profile) is not run for a user who lacks it;
the user is told what to do instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext


class GateMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        needs = get_flag(data, "needs")
        ctx: UserContext | None = data.get("user")
        if needs is None or ctx is None:
            return await handler(event, data)
        if not ctx.consented:
            text = _(
                "This needs your consent to personal-data processing first. "
                "Send /start to read it and agree."
            )
        elif needs == "profile" and not ctx.profile_complete:
            text = _("Please finish your profile first: send /profile.")
        else:
            return await handler(event, data)
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message):
            await event.answer(text)
        return None
