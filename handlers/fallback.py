"""Last router: anything no feature handled gets a helpful answer, buttons never spin."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from ui.keyboards.menu import main_menu


async def stale_button(query: CallbackQuery) -> None:
    await query.answer(
        _("This button is out of date. Send /start to begin again."), show_alert=True
    )


async def unknown_message(message: Message, user: UserContext) -> None:
    if not user.consented:
        await message.answer(_("Send /start to begin: I will explain everything."))
        return
    if not user.profile_complete:
        await message.answer(_("Let us finish your profile first: send /profile."))
        return
    await message.answer(
        _("I did not understand that. Choose a section in the menu or send /help."),
        reply_markup=main_menu(user.role),
    )


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="fallback")
    router.callback_query.register(stale_button)
    router.message.register(unknown_message)
    return router
