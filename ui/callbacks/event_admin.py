"""Callback data of the coordinator's event and site screens (each carries only ids)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class NewEventAction(StrEnum):
    KIND = "kind"
    COMP = "comp"
    DONE = "done"
    SITE = "site"
    AUD = "aud"
    PUBLISH = "publish"
    BACK = "back"
    KEEP = "keep"
    CANCEL = "cancel"


class NewEventCb(CallbackData, prefix="evn"):
    action: NewEventAction
    value: str = ""


class NewSiteAction(StrEnum):
    SCHOOL = "school"
    PAGE = "page"
    SKIP = "skip"
    COMP = "comp"
    DONE = "done"
    CREATE = "create"
    BACK = "back"
    KEEP = "keep"
    CANCEL = "cancel"


class NewSiteCb(CallbackData, prefix="stn"):
    action: NewSiteAction
    value: str = ""


class EventAdminAction(StrEnum):
    LIST = "list"
    CARD = "card"
    #: the card as a new message (from the morning agenda, which stays on screen)
    OPEN = "open"
    PEOPLE = "people"
    ATT = "att"
    CSV = "csv"
    MSG = "msg"
    QR = "qr"
    CAP = "cap"
    EDIT = "edit"
    CANCEL = "cancel"
    CANCEL_YES = "cancel_yes"


class EventAdminCb(CallbackData, prefix="eadm"):
    action: EventAdminAction
    event: int = 0
    reg: int = 0


class AdminFormAction(StrEnum):
    """The message to participants, after its preview."""

    CANCEL = "cancel"
    SEND = "send"
    EDIT = "edit"


class AdminFormCb(CallbackData, prefix="eadf"):
    action: AdminFormAction


class EventEditField(StrEnum):
    TITLE = "title"
    DESCRIPTION = "description"
    WHEN = "when"
    PLACE = "place"
    DEADLINE = "deadline"
    CANCEL = "cancel"  # back to the card


class EventEditCb(CallbackData, prefix="eedt"):
    field: EventEditField
    event: int


class SiteAdminAction(StrEnum):
    LIST = "list"
    CARD = "card"
    TITLE = "title"
    DESCRIPTION = "description"
    CONTACT = "contact"
    MODULES = "modules"
    CANCEL = "cancel"


class SiteAdminCb(CallbackData, prefix="sadm"):
    action: SiteAdminAction
    site: int = 0
    page: int = 0
