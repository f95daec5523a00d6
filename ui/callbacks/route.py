"""Callback data of the route: the builder, the route's screens, the replace question and
the past routes."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class BuildAction(StrEnum):
    TOGGLE = "toggle"
    START = "start"


class BuildCb(CallbackData, prefix="rb"):
    action: BuildAction
    code: str = ""


class RouteAction(StrEnum):
    OVERVIEW = "overview"
    COMP = "comp"
    STEP = "step"
    STATUS = "status"
    EXPORT = "export"


class RouteCb(CallbackData, prefix="rt"):
    action: RouteAction
    step: int = 0
    code: str = ""
    status: str = ""


class ReplaceCb(CallbackData, prefix="rr"):
    """Replace the current route with a new one (asked first) or keep it."""

    confirm: bool
    route: int


class PastCb(CallbackData, prefix="rp"):
    """Earlier (archived) routes: the list (route=0) or one route's read-only card."""

    route: int = 0


class NudgeAction(StrEnum):
    DONE = "done"
    POSTPONE = "postpone"


class NudgeCb(CallbackData, prefix="rn"):
    """The buttons of a route nudge: ✅ Done and 🔄 +1 week for one step."""

    action: NudgeAction
    step: int
