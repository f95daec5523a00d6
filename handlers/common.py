"""Small helpers shared by the feature routers: replying in place, messaging another user.
Keyboards are in `ui.keyboards`, escaping and formats in `ui.formatting`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from db.models import User

log = logging.getLogger(__name__)

#: what a notification renders in the recipient's language: a text, or a text and buttons
Rendered = str | tuple[str, InlineKeyboardMarkup | None]


async def notify_user(
    bot: Bot,
    i18n: I18n,
    user: User,
    render: Callable[[], Rendered],
    *,
    errors: list[TelegramAPIError] | None = None,
) -> bool:
    """Message another user in THEIR language; False if they cannot be reached (no Telegram
    id any more, blocked the bot...). The caller's update goes on either way; a caller that
    must tell a refused message (400) from an unreachable user passes `errors` to get it."""
    if user.telegram_id is None:
        return False
    with i18n.context(), i18n.use_locale(user.language):
        rendered = render()
    text, markup = rendered if isinstance(rendered, tuple) else (rendered, None)
    try:
        await bot.send_message(user.telegram_id, text, reply_markup=markup)
    except TelegramAPIError as exc:
        log.warning("could not message user %s: %s", user.id, exc)
        if errors is not None:
            errors.append(exc)
        return False
    return True


async def show(
    event: Message | CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    answer: bool = True,
) -> None:
    """Edit the message a button belongs to, or answer a typed message with a new one.

    `answer=False` leaves the callback unanswered, for a caller that answers it with a popup.
    """
    if isinstance(event, CallbackQuery):
        message = event.message
        if isinstance(message, Message) and message.text is not None:
            try:
                await message.edit_text(text, reply_markup=markup)
            except TelegramBadRequest as exc:
                if "not modified" not in exc.message:
                    raise
        elif message is not None:
            await event.bot.send_message(message.chat.id, text, reply_markup=markup)  # type: ignore[union-attr]
        if answer:
            await event.answer()
        return
    await event.answer(text, reply_markup=markup)
