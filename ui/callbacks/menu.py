"""Callback data of the settings menu and the data erasure question."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class SettingsAction(StrEnum):
    LANGUAGE = "language"
    PRIVACY = "privacy"
    MYDATA = "mydata"
    DELETE = "delete"


class SettingsCb(CallbackData, prefix="set"):
    action: SettingsAction


class DeleteCb(CallbackData, prefix="del"):
    confirm: bool
