"""Callback data of the teacher's side of events: ids only, 64 bytes at most."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class EvList(CallbackData, prefix="el"):
    mode: str = "rec"  # rec | all | mine | comp | kind
    value: str = ""
    when: str = "all"  # all | week | month
    page: int = 0


class EvAct(CallbackData, prefix="ea"):
    action: str  # card | signup | join | cancel | cancelok | ics | share | site
    event: int


class OfferCb(CallbackData, prefix="of"):
    reg: int
    take: bool


class FeedbackCb(CallbackData, prefix="fb"):
    reg: int
    rating: int
