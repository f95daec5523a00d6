"""Building blocks of inline keyboards: a button from typed callback data, rows, the pager."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from domain.pagination import Page


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
