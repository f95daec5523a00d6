"""Callback data of /settings and of the 🔕 button under reminders."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class SetAction(StrEnum):
    HOME = "home"
    #: the list of time zones / pick one (`value`: the zone key)
    ZONES = "zones"
    ZONE = "zone"
    #: the quiet-hour choices / pick one (`value`: "21:00-08:00", "" for none)
    QUIETS = "quiets"
    QUIET = "quiet"
    #: switch a category on or off (`value`: the category)
    TOGGLE = "toggle"


class SetCb(CallbackData, prefix="st"):
    action: SetAction
    value: str = ""


class MuteCb(CallbackData, prefix="mu"):
    """🔕 under a reminder: switch its category off."""

    category: str
