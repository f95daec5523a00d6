"""Callback data of broadcasts: the recipient's "open the event" button."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class BcOpen(CallbackData, prefix="bo"):
    """A recipient opens the event a broadcast is about (counted for its report)."""

    bc: int
    event: int
