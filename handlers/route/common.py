"""Shared by the route's screens: status icons and labels, the evidence states, the latest
result, and finding the teacher's own route or step behind a button."""

from __future__ import annotations

from datetime import date

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from db.models import Route, RouteStep
from db.repo import Repo
from domain.assessment import AssessmentResult
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


async def latest_result(repo: Repo, user_id: int) -> tuple[int, AssessmentResult] | None:
    finished = [a for a in await repo.assessments.finished(user_id) if a.result]
    if not finished or finished[-1].result is None:
        return None
    return finished[-1].id, AssessmentResult.from_json(finished[-1].result)


async def own_route(query: CallbackQuery, repo: Repo, user: UserContext) -> Route | None:
    route = await repo.routes.active(user.id)
    if route is None:
        await query.answer(_("This button is out of date."), show_alert=True)
    return route


async def own_step(
    query: CallbackQuery, repo: Repo, user: UserContext, step_id: int
) -> RouteStep | None:
    step = await repo.routes.step(step_id)
    if step is None or step.route.user_id != user.id or step.route.status == "archived":
        await query.answer(_("This button is out of date."), show_alert=True)
        return None
    return step
