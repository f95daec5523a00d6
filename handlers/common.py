"""Small helpers shared by the feature routers: replying in place, messaging another user.
Keyboards are in `ui.keyboards`, escaping and formats in `ui.formatting`."""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

log = logging.getLogger(__name__)


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
