"""Callback data of `/broadcasts`, the history of a methodist's broadcasts."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class BcHistAction(StrEnum):
    LIST = "list"
    OPEN = "open"
    #: the card with why copies were not delivered
    REASONS = "why"
    #: the message itself, copied to the author again
    SHOW = "show"
    #: a scheduled one: another time, another message, cancel (asked, then confirmed)
    TIME = "time"
    EDIT = "edit"
    CANCEL = "cancel"
    CANCEL_OK = "cancelok"


class BcHist(CallbackData, prefix="bh"):
    """`bc` and `page` are never trusted: every action re-reads the broadcast and checks it is
    the staff member's own (an administrator's: any)."""

    action: BcHistAction
    bc: int = 0
    page: int = 0
