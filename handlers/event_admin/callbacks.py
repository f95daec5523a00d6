"""Callback data of the coordinator's event and site screens (each carries only ids)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

# ------------------------------------------------------------------ callback data


class NewEventCb(CallbackData, prefix="evn"):
    action: str  # kind | comp | done | site | aud | publish | back | keep | cancel
    value: str = ""


class NewSiteCb(CallbackData, prefix="stn"):
    action: str  # school | page | skip | comp | done | create | back | keep | cancel
    value: str = ""


class EventAdminCb(CallbackData, prefix="eadm"):
    action: str  # list | card | people | att | csv | msg | qr | cap | edit | cancel | cancel_yes
    event: int = 0
    reg: int = 0


class AdminFormCb(CallbackData, prefix="eadf"):
    action: str  # cancel | send | edit (the message to participants, after its preview)


class EventEditCb(CallbackData, prefix="eedt"):
    field: str  # title | description | when | place | deadline | cancel (back to the card)
    event: int


class SiteAdminCb(CallbackData, prefix="sadm"):
    action: str  # list | card | title | description | contact | modules | cancel
    site: int = 0
    page: int = 0
