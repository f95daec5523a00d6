"""The methodist's typed answers about a teacher: a comment, a step and its date."""

from __future__ import annotations

from datetime import datetime, tzinfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from db.models import User
from db.repo import Repo
from domain.ids import parse_id
from domain.roles import Role
from handlers.coordinator.common import CoordinatorForm, _cancel_markup
from services import route as route_service


async def got_comment(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, clock: Clock
) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > 500:
        await message.answer(_("Please send a text of up to 500 characters."))
        return
    teacher_id = parse_id(str((await state.get_data()).get("teacher", ""))) or 0
    await state.clear()
    done = await route_service.comment_on_route(repo, staff, role, teacher_id, text, clock.now())
    if isinstance(done, route_service.Refusal):
        await message.answer(_("You cannot change this teacher's route."))
        return
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
    tz: tzinfo,
    clock: Clock,
) -> None:
    try:
        due = datetime.strptime((message.text or "").strip(), "%d.%m.%Y").date()
    except ValueError:
        await message.answer(_("Please send the date as DD.MM.YYYY, e.g. 25.12.2026."))
        return
    if due < clock.now().astimezone(tz).date():
        await message.answer(_("This date has passed. Please send a future date."))
        return
    data = await state.get_data()
    await state.clear()
    done = await route_service.add_methodist_step(
        repo,
        staff,
        role,
        parse_id(str(data.get("teacher", ""))) or 0,
        str(data.get("title", "")),
        due,
        clock.now(),
    )
    if isinstance(done, route_service.Refusal):
        await message.answer(_("You cannot change this teacher's route."))
        return
    await message.answer(_("Added. The teacher has been notified."))
