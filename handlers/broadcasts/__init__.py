"""Broadcasts, the methodist's side: the `/broadcast` wizard (`handlers.broadcasts.wizard`),
⏸ stop one while it goes out, read its report.

The `/broadcasts` history is `handlers.broadcasts.history`.
Every action re-checks the role (`RoleFilter`) and that the broadcast is the author's own
(an administrator's: any); the ids in callback data are never trusted.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.middlewares.offload import OFFLOAD
from core.clock import Clock
from core.settings import Settings
from db.models import User
from db.repo import Repo
from domain.reminders import tz_of
from domain.roles import Role
from handlers.broadcasts.history import (
    BcHistForm,
    cmd_broadcasts,
    got_new_message,
    got_new_time,
    on_history,
    on_menu_history,
)
from handlers.broadcasts.states import BcForm
from handlers.broadcasts.wizard import (
    cmd_broadcast,
    got_link,
    got_message,
    got_when,
    on_menu_new,
    on_wizard,
)
from handlers.common import show
from handlers.filters import RoleFilter
from handlers.freetext import TypedAnswer
from services import broadcasts as service
from ui.broadcasts import progress_keyboard, report_text
from ui.callbacks.broadcast_history import BcHist
from ui.callbacks.broadcasts import BcAdmin, BcAdminAction, BcMenu, BcMenuAction, BcWiz

__all__ = ["make_router"]


def _refusal(refusal: service.Refusal) -> str:
    if refusal is service.Refusal.NOT_NOW:
        return _("This broadcast is not being sent any more.")
    return _("This broadcast is not available to you.")


async def on_broadcast_admin(
    query: CallbackQuery,
    callback_data: BcAdmin,
    repo: Repo,
    staff: User,
    role: Role,
    settings: Settings,
    clock: Clock,
) -> None:
    now = clock.now()
    if callback_data.action is BcAdminAction.STOP:
        stopped = await service.stop(repo, staff, role, callback_data.bc, now)
        if isinstance(stopped, service.Refusal):
            await query.answer(_refusal(stopped), show_alert=True)
            return
        await query.answer(_("⏸ Stopped: the rest will not be sent."))
    found = await service.report(repo, staff, role, callback_data.bc)
    if isinstance(found, service.Refusal):
        await query.answer(_refusal(found), show_alert=True)
        return
    text = report_text(
        found.broadcast,
        found.progress,
        tz_of(staff.timezone, settings.tz),
        failures=found.failures if callback_data.action is BcAdminAction.REASONS else None,
        reach=found.reach,
    )
    await show(query, text, progress_keyboard(found.broadcast, found.progress), answer=False)
    if callback_data.action is not BcAdminAction.STOP:
        await query.answer()


def make_router() -> Router:
    router = Router(name="broadcasts")
    router.message.filter(RoleFilter(Role.SCHOOL_METHODIST))
    router.callback_query.filter(RoleFilter(Role.SCHOOL_METHODIST))
    router.callback_query.register(on_broadcast_admin, BcAdmin.filter())
    router.message.register(cmd_broadcast, Command("broadcast"))
    router.message.register(cmd_broadcasts, Command("broadcasts"))
    router.callback_query.register(on_history, BcHist.filter(), flags=OFFLOAD)
    router.message.register(got_new_time, BcHistForm.when, TypedAnswer(), flags=OFFLOAD)
    router.message.register(got_new_message, BcHistForm.message, TypedAnswer())
    router.message.register(got_message, BcForm.message, TypedAnswer())
    router.message.register(got_link, BcForm.link, TypedAnswer())
    router.message.register(got_when, BcForm.when, TypedAnswer(), flags=OFFLOAD)
    router.callback_query.register(on_wizard, BcWiz.filter(), flags=OFFLOAD)
    router.callback_query.register(on_menu_new, BcMenu.filter(F.action == BcMenuAction.NEW))
    router.callback_query.register(on_menu_history, BcMenu.filter(F.action == BcMenuAction.HISTORY))
    return router
