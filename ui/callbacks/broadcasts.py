"""Callback data of broadcasts: the recipient's "open the event" button."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class BcOpen(CallbackData, prefix="bo"):
    """A recipient opens the event a broadcast is about (counted for its report)."""

    bc: int
    event: int


class BcAdminAction(StrEnum):
    STOP = "stop"
    REPORT = "report"
    #: the report with the reasons of failures
    REASONS = "reasons"


class BcAdmin(CallbackData, prefix="ba"):
    """The author's buttons on a broadcast's progress message and report."""

    action: BcAdminAction
    bc: int
