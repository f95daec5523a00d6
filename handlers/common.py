"""Small helpers shared by the feature routers: replying in place, keyboards, escaping."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from domain.pagination import Page
from domain.roles import Role

log = logging.getLogger(__name__)


def h(value: object) -> str:
    """Escape user-provided text for an HTML message."""
    return html.escape(str(value), quote=False)


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


def rows(buttons: Sequence[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def pager_row(page: Page[Any], make: Callable[[int], CallbackData]) -> list[InlineKeyboardButton]:
    """◀ 2/5 ▶ — only when there is more than one page."""
    if page.pages <= 1:
        return []
    row = []
    if page.has_prev:
        row.append(button("◀", make(page.page - 1)))
    row.append(button(f"{page.page + 1}/{page.pages}", make(page.page)))
    if page.has_next:
        row.append(button("▶", make(page.page + 1)))
    return row


# Main menu (reply keyboard). Later features append their entries here, in order.
MENU_ASSESS = __("📝 Self-assessment")
MENU_ROUTE = __("🧭 My route")
MENU_EVENTS = __("📅 Events")
MENU_MY = __("🎟 My registrations")
MENU_PROFILE = __("👤 My profile")
MENU_SETTINGS = __("⚙️ Settings")
MENU_HELP = __("❓ Help")
MENU_STAFF = __("🗂 Coordinator tools")


def main_menu(role: Role) -> ReplyKeyboardMarkup:
    keyboard = [
        [KeyboardButton(text=str(MENU_ASSESS)), KeyboardButton(text=str(MENU_ROUTE))],
        [KeyboardButton(text=str(MENU_EVENTS)), KeyboardButton(text=str(MENU_MY))],
        [KeyboardButton(text=str(MENU_PROFILE)), KeyboardButton(text=str(MENU_SETTINGS))],
        [KeyboardButton(text=str(MENU_HELP))],
    ]
    if role.at_least(Role.COORDINATOR):
        keyboard[3].append(KeyboardButton(text=str(MENU_STAFF)))
    return ReplyKeyboardMarkup(
        keyboard=keyboard,
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=_("Choose a section below"),
    )
