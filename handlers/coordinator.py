"""Coordinators (methodists): check the schools teachers typed in. Scoped to their municipality."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.roles import Role
from handlers.common import MENU_STAFF, button, h
from handlers.filters import RoleFilter

SCHOOLS_SHOWN = 10


class VerifySchoolCb(CallbackData, prefix="vs"):
    school_id: int


def _scope(staff: User, role: Role) -> int | None:
    """Admins see every municipality; a coordinator only their own."""
    return None if role is Role.ADMIN else staff.municipality_id


async def cmd_schools(message: Message, repo: Repo, staff: User, role: Role) -> None:
    if role is not Role.ADMIN and staff.municipality_id is None:
        await message.answer(
            _("Set your municipality in /profile first: you will see its schools.")
        )
        return
    schools = await repo.reference.unverified_schools(_scope(staff, role))
    if not schools:
        await message.answer(_("✅ No schools are waiting for a check."))
        return
    await message.answer(
        _(
            "🏫 <b>Schools typed in by teachers</b> ({n}). Verified schools appear in everyone's list."
        ).format(n=len(schools))
    )
    for school in schools[:SCHOOLS_SHOWN]:
        await message.answer(
            f"<b>{h(school.name)}</b>\n{h(school.municipality.name_ru)}",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[button(_("✅ Verify"), VerifySchoolCb(school_id=school.id))]]
            ),
        )


async def verify_school(
    query: CallbackQuery, callback_data: VerifySchoolCb, repo: Repo, staff: User, role: Role
) -> None:
    school = await repo.reference.school(callback_data.school_id)
    scope = _scope(staff, role)
    if school is None or (scope is not None and school.municipality_id != scope):
        await query.answer(_("You cannot change this school."), show_alert=True)
        return
    if school.verified:
        await query.answer(_("Already verified."))
        return
    await repo.reference.verify_school(school)
    await repo.audit.record("school_verified", actor=staff, school_id=school.id)
    assert isinstance(query.message, Message)
    await query.message.edit_text(
        _("✅ Verified: {name}").format(name=h(school.name)), reply_markup=None
    )
    await query.answer()


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="coordinator")
    router.message.filter(RoleFilter(Role.COORDINATOR))
    router.callback_query.filter(RoleFilter(Role.COORDINATOR))
    router.message.register(cmd_schools, Command("schools"))
    router.message.register(cmd_schools, F.text == MENU_STAFF)
    router.callback_query.register(verify_school, VerifySchoolCb.filter())
    return router
