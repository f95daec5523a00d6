"""Callback data of the self-assessment: the quiz buttons, the answers, the results' offers."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class AssessAction(StrEnum):
    START = "start"
    CONTINUE = "continue"
    RESTART = "restart"
    PAUSE = "pause"
    BACK = "back"


class AssessCb(CallbackData, prefix="as"):
    action: AssessAction
    attempt: int = 0
    code: str = ""


class AnswerCb(CallbackData, prefix="aa"):
    attempt: int
    code: str
    value: int


class ResultAction(StrEnum):
    MENTOR = "mentor"
    ROUTE = "route"


class ResultCb(CallbackData, prefix="ar"):
    action: ResultAction
