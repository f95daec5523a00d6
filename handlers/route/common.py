"""Shared by the route's screens: status icons, the evidence states, and the answer to a
button that is out of date. The labels of step kinds and statuses are in `ui.texts`, dates
in `ui.formatting`."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from db.models import RouteStep
from domain.route import StepStatus

STATUS_ICON = {
    StepStatus.PLANNED: "⬜",
    StepStatus.IN_PROGRESS: "🔄",
    StepStatus.DONE: "✅",
    StepStatus.SKIPPED: "⏭",
}


class Evidence(StatesGroup):
    proof = State()
    reflection = State()


def pace_label(pace: str) -> str:
    return {"intensive": _("intensive"), "normal": _("normal"), "relaxed": _("relaxed")}.get(
        pace, pace
    )


def step_title(step: RouteStep, lang: str) -> str:
    return str(step.content["title"]["en" if lang == "en" else "ru"])


async def stale(query: CallbackQuery) -> None:
    """A button that no longer fits (services.route.Refusal.STALE)."""
    await query.answer(_("This button is out of date."), show_alert=True)
