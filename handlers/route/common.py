"""Shared by the route's screens: status icons and labels, the evidence states, and the
answer to a button that is out of date."""

from __future__ import annotations

from datetime import date

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


def kind_label(kind: str) -> str:
    return {
        "learn": _("Learning"),
        "practice": _("Internship site"),
        "masterclass": _("Master-class"),
        "mentoring": _("Mentoring / consultation"),
        "transfer": _("Into practice"),
        "reflection": _("Reflection"),
        "custom": _("Methodist's task"),
    }.get(kind, kind)


def status_label(status: str) -> str:
    return {
        "planned": _("planned"),
        "in_progress": _("in progress"),
        "done": _("done"),
        "skipped": _("skipped"),
    }.get(status, status)


def pace_label(pace: str) -> str:
    return {"intensive": _("intensive"), "normal": _("normal"), "relaxed": _("relaxed")}.get(
        pace, pace
    )


def step_title(step: RouteStep, lang: str) -> str:
    return str(step.content["title"]["en" if lang == "en" else "ru"])


def format_date(value: date) -> str:
    return value.strftime("%d.%m.%Y")


async def stale(query: CallbackQuery) -> None:
    """A button that no longer fits (services.route.Refusal.STALE)."""
    await query.answer(_("This button is out of date."), show_alert=True)
