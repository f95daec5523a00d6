"""Staff invite links: `/start staff_<code>` gives the role and scope an administrator put in
the link (`/invite`), once the person's onboarding (consent and profile) is done; a used,
expired or unknown link gets a polite word and changes nothing."""

from __future__ import annotations

from datetime import datetime, tzinfo

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from bot.commands import set_user_commands
from db.models import User
from db.repo import Repo
from domain.deeplinks import DeepLink, parse_payload
from handlers import deeplinks
from handlers.admin import grant_text
from services import staff as service
from ui.keyboards.menu import main_menu


def problem_text(problem: service.InviteProblem) -> str:
    if problem is service.InviteProblem.USED:
        return _(
            "This invitation link has already been used. Please ask the administrator for a new one."
        )
    if problem is service.InviteProblem.EXPIRED:
        return _("This invitation link has expired. Please ask the administrator for a new one.")
    return _("This invitation link is not valid. Please ask the administrator for a new one.")


async def notice_at_start(message: Message, repo: Repo, payload: str | None, now: datetime) -> None:
    """Said at /start, before onboarding: what the invite gives, or why it does not work."""
    link = parse_payload(payload)
    if link is None or link.kind != service.INVITE_KIND:
        return
    invite = await service.check_invite(repo, link.arg, now)
    if isinstance(invite, service.InviteProblem):
        await message.answer(problem_text(invite))
        return
    grant = await service.invite_grant(repo, invite)
    if grant is None:
        await message.answer(problem_text(service.InviteProblem.STALE))
        return
    await message.answer(
        _(
            "You are invited to work as {grant}. Finish the registration (consent and profile) "
            "and the role is yours."
        ).format(grant=grant_text(grant))
    )


async def open_staff_link(
    message: Message, repo: Repo, user: User, link: DeepLink, tz: tzinfo, now: datetime
) -> None:
    """After onboarding: the invite's role and scope, once."""
    result = await service.accept_invite(repo, user, link.arg, now)
    if isinstance(result, service.InviteProblem):
        await message.answer(problem_text(result))
        return
    if user.telegram_id is not None and message.bot is not None:
        await set_user_commands(
            message.bot, get_i18n(), user.telegram_id, result.role, user.language
        )
    await message.answer(
        _("🎉 You are now {grant}. /help lists your commands.").format(grant=grant_text(result)),
        reply_markup=main_menu(result.role),
    )


deeplinks.register(service.INVITE_KIND, open_staff_link)
