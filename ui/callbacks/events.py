"""Callback data of the teacher's side of events: ids only, 64 bytes at most."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class EvListMode(StrEnum):
    REC = "rec"
    ALL = "all"
    MINE = "mine"
    COMP = "comp"
    KIND = "kind"


class EvListWhen(StrEnum):
    ALL = "all"
    WEEK = "week"
    MONTH = "month"


class EvList(CallbackData, prefix="el"):
    mode: EvListMode = EvListMode.REC
    value: str = ""
    when: EvListWhen = EvListWhen.ALL
    page: int = 0


class EvAction(StrEnum):
    CARD = "card"
    SIGNUP = "signup"
    JOIN = "join"
    CANCEL = "cancel"
    CANCEL_OK = "cancelok"
    ICS = "ics"
    SHARE = "share"
    SITE = "site"


class EvAct(CallbackData, prefix="ea"):
    action: EvAction
    event: int


class OfferCb(CallbackData, prefix="of"):
    reg: int
    take: bool


class FeedbackCb(CallbackData, prefix="fb"):
    reg: int
    rating: int
