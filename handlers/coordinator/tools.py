"""The answer to the "🗂 Coordinator tools" menu button: the schools waiting for a check (as
`/schools`), then the tools with buttons: a new broadcast and the broadcasts' history."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.roles import Role
from handlers.coordinator.schools import cmd_schools
from ui.keyboards.menu import staff_tools_markup


async def staff_menu(message: Message, repo: Repo, staff: User, role: Role) -> None:
    await cmd_schools(message, repo, staff, role)
    await message.answer(
        _(
            "🗂 <b>Coordinator tools</b>\n"
            "📣 a broadcast to teachers you choose · 📜 past and scheduled broadcasts\n"
            "All the commands: /help"
        ),
        reply_markup=staff_tools_markup(),
    )
