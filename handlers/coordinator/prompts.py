"""The methodist's typed answers about a teacher: a comment, a step and its date."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.settings import Settings
from db.models import RouteStep, User
from db.repo import Repo
from domain.ids import parse_id
from domain.notices import Notice, NoticeKind
from domain.roles import Role
from handlers.coordinator.common import CoordinatorForm, _cancel_markup, _teacher_in_scope


async def got_comment(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, clock: Clock
) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > 500:
        await message.answer(_("Please send a text of up to 500 characters."))
        return
    teacher = await _teacher_in_scope(
        repo, staff, role, parse_id(str((await state.get_data()).get("teacher", ""))) or 0
    )
    await state.clear()
    if teacher is None:
        await message.answer(_("You cannot change this teacher's route."))
        return
    route = await repo.routes.active(teacher.id)
    if route is not None:
        await repo.routes.add_comment(route.id, staff.id, text)
    await repo.audit.record("route_comment", actor=staff, target=teacher)
    await repo.outbox.add(
        [Notice(teacher.id, NoticeKind.ROUTE_COMMENT, {"text": text})], clock.now()
    )
    await message.answer(_("Sent. The teacher has been notified."))


async def got_step_title(message: Message, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > 60:
        await message.answer(_("Please send the step as text, up to 60 characters."))
        return
    await state.update_data(title=text)
    await state.set_state(CoordinatorForm.step_date)
    teacher_ref = parse_id(str((await state.get_data()).get("teacher", ""))) or 0
    await message.answer(
        _("By what date? Send it as DD.MM.YYYY."), reply_markup=_cancel_markup(teacher_ref)
    )


async def got_step_date(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    clock: Clock,
) -> None:
    try:
        due = datetime.strptime((message.text or "").strip(), "%d.%m.%Y").date()
    except ValueError:
        await message.answer(_("Please send the date as DD.MM.YYYY, e.g. 25.12.2026."))
        return
    if due < clock.now().astimezone(settings.tz).date():
        await message.answer(_("This date has passed. Please send a future date."))
        return
    data = await state.get_data()
    teacher = await _teacher_in_scope(
        repo, staff, role, parse_id(str(data.get("teacher", ""))) or 0
    )
    route = await repo.routes.active(teacher.id) if teacher else None
    await state.clear()
    if teacher is None or route is None:
        await message.answer(_("You cannot change this teacher's route."))
        return
    title = str(data.get("title", ""))
    await repo.routes.add_step(
        route,
        RouteStep(
            competency="custom",
            number=1 + sum(1 for s in route.steps if s.competency == "custom"),
            kind="custom",
            target_date=due,
            status="planned",
            added_by_user_id=staff.id,
            content={
                "title": {"ru": title, "en": title},
                "what": {"ru": "Задание методиста.", "en": "A task from your methodist."},
                "how": {
                    "ru": "Уточните детали у методиста.",
                    "en": "Ask your methodist for details.",
                },
                "competency": {"ru": "Задания методиста", "en": "Methodist's tasks"},
                "resources": [],
            },
        ),
    )
    await repo.audit.record("route_step_added", actor=staff, target=teacher)
    await repo.outbox.add(
        [Notice(teacher.id, NoticeKind.ROUTE_STEP_ADDED, {"title": title})], clock.now()
    )
    await message.answer(_("Added. The teacher has been notified."))
