"""Callback data of broadcasts: the recipient's "open the event" button, the author's buttons,
the `/broadcast` wizard."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class BcOpen(CallbackData, prefix="bo"):
    """A recipient opens the event a broadcast is about (counted for its report)."""

    bc: int
    event: int


class BcAdminAction(StrEnum):
    STOP = "stop"
    REPORT = "report"
    #: the report with the reasons of failures
    REASONS = "reasons"


class BcAdmin(CallbackData, prefix="ba"):
    """The author's buttons on a broadcast's progress message and report."""

    action: BcAdminAction
    bc: int


class BcWizAction(StrEnum):
    """The `/broadcast` wizard's buttons (`value` carries an id or a code, never trusted)."""

    BACK = "back"
    CANCEL = "cancel"
    NEXT = "next"
    #: the buttons step, shown again (from its event picker)
    BUTTONS = "btns"
    #: the list of events for the "open the event" button, and one picked
    EVENTS = "evs"
    EVENT = "ev"
    NO_EVENT = "noev"
    LINK = "link"
    NO_LINK = "nolink"
    #: the audience step, shown again (from a picker)
    AUDIENCE = "aud"
    POSITION = "pos"
    AGE = "age"
    YOUNG = "young"
    NO_ASSESSMENT = "noa"
    NO_ROUTE = "nor"
    RESET = "reset"
    SCHOOLS = "schs"
    SCHOOL = "sch"
    DEFICITS = "defs"
    DEFICIT = "def"
    FILTER_EVENTS = "fevs"
    FILTER_EVENT = "fev"
    GROUP = "grp"
    MUNICIPALITIES = "munis"
    MUNICIPALITY = "muni"
    SEND = "send"
    SCHEDULE = "sched"


class BcWiz(CallbackData, prefix="bw"):
    action: BcWizAction
    value: str = ""
    page: int = 0


class BcMenuAction(StrEnum):
    #: start the `/broadcast` wizard
    NEW = "new"
    #: the `/broadcasts` history
    HISTORY = "history"


class BcMenu(CallbackData, prefix="bm"):
    """The broadcast buttons of the coordinator's tools ("🗂 Coordinator tools")."""

    action: BcMenuAction
