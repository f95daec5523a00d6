"""Callback data of the profile wizard and the profile card."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class NavAction(StrEnum):
    BACK = "back"
    CANCEL = "cancel"
    SAVE = "save"


class Nav(CallbackData, prefix="pf"):
    action: NavAction
    field: str = ""


class EditCb(CallbackData, prefix="pfe"):
    field: str


class MuniCb(CallbackData, prefix="pfm"):
    id: int = 0
    page: int = -1  # >= 0: show that page


class SchoolCb(CallbackData, prefix="pfs"):
    id: int = 0
    page: int = -1
    other: bool = False


class PositionCb(CallbackData, prefix="pfp"):
    code: str


class SubjectCb(CallbackData, prefix="pft"):
    code: str = ""
    page: int = 0
    done: bool = False


class AgeCb(CallbackData, prefix="pfa"):
    band: str
