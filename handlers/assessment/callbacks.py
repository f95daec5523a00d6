"""Callback data of the self-assessment: the quiz buttons, the answers, the results' offers."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class AssessCb(CallbackData, prefix="as"):
    action: str  # start | continue | restart | pause | back
    attempt: int = 0
    code: str = ""


class AnswerCb(CallbackData, prefix="aa"):
    attempt: int
    code: str
    value: int


class ResultCb(CallbackData, prefix="ar"):
    action: str  # mentor | route
