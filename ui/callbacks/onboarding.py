"""Callback data of the first contact: the consent and the language."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class ConsentAction(StrEnum):
    AGREE = "agree"
    DECLINE = "decline"
    POLICY = "policy"


class ConsentCb(CallbackData, prefix="consent"):
    action: ConsentAction


class LangCb(CallbackData, prefix="lang"):
    code: str
