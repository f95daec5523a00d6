"""Sending long HTML texts: the parts :func:`ui.formatting.split_html` cuts, as messages."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from handlers.common import show
from ui.formatting import split_html


async def send_long(
    bot: Bot,
    chat_id: int,
    blocks: Sequence[str],
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send a long text as several messages; the buttons go under the last one."""
    chunks = split_html(blocks)
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        await bot.send_message(chat_id, chunk, reply_markup=markup if last else None)


async def show_long(
    event: Message | CallbackQuery,
    blocks: Sequence[str],
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Like `show`: the first part replaces the tapped message (or answers the typed one),
    further parts follow as new messages; the buttons go under the last part."""
    chunks = split_html(blocks) or ["—"]
    first, rest = chunks[0], chunks[1:]
    await show(event, first, None if rest else markup)
    if not rest:
        return
    message = event.message if isinstance(event, CallbackQuery) else event
    assert message is not None and event.bot is not None
    await send_long(event.bot, message.chat.id, rest, markup)
