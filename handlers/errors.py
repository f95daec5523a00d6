"""The global error handler: log with context, apologise politely, never leave a button spinning."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from core.i18n import client_locale
from core.usercache import UserCache

log = logging.getLogger("metodbot.errors")


async def on_error(event: ErrorEvent, bot: Bot, i18n: I18n, user_cache: UserCache) -> bool:
    update = event.update
    query = update.callback_query
    message = update.message or (query.message if query else None)
    tg_user = query.from_user if query else (update.message.from_user if update.message else None)
    log.error(
        "update %s from user %s failed: %r",
        update.update_id,
        tg_user.id if tg_user else None,
        event.exception,
        exc_info=event.exception,
    )
    cached = user_cache.get(tg_user.id) if tg_user else None
    locale = cached.language if cached else client_locale(tg_user, i18n.default_locale)
    with i18n.context(), i18n.use_locale(locale):
        text = _("Sorry, something went wrong on my side. It is logged; please try again.")
        try:
            if query is not None:
                await query.answer(text, show_alert=True)
            elif message is not None:
                await bot.send_message(message.chat.id, text)
        except TelegramAPIError:
            log.warning("could not tell user about the error of update %s", update.update_id)
    return True


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="errors")
    router.error.register(on_error)
    return router
