"""Administrators: grant and revoke roles, list staff, read the audit log. By command."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.commands import set_user_commands
from bot.config import Settings
from db.models import User
from db.repo import Repo
from domain.roles import Role
from handlers.common import h
from handlers.filters import RoleFilter

USAGE_GRANT = "/grant &lt;telegram id&gt; coordinator|admin|teacher"


def _describe(user: User) -> str:
    name = h(user.full_name) if user.full_name else _("(no profile yet)")
    return f"<code>{user.telegram_id}</code> — {name} — {h(user.role)}"


async def cmd_grant(
    message: Message, command: CommandObject, repo: Repo, staff: User, bot: Bot, i18n: I18n
) -> None:
    args = (command.args or "").split()
    if (
        len(args) != 2
        or not args[0].lstrip("-").isdigit()
        or args[1] not in {r.value for r in Role}
    ):
        await message.answer(_("Usage: {usage}").format(usage=USAGE_GRANT))
        return
    await _set_role(message, repo, staff, bot, i18n, int(args[0]), Role(args[1]))


async def cmd_revoke(
    message: Message, command: CommandObject, repo: Repo, staff: User, bot: Bot, i18n: I18n
) -> None:
    arg = (command.args or "").strip()
    if not arg.lstrip("-").isdigit():
        await message.answer(_("Usage: {usage}").format(usage="/revoke &lt;telegram id&gt;"))
        return
    await _set_role(message, repo, staff, bot, i18n, int(arg), Role.TEACHER)


async def _set_role(
    message: Message, repo: Repo, staff: User, bot: Bot, i18n: I18n, telegram_id: int, role: Role
) -> None:
    target = await repo.users.by_telegram_id(telegram_id)
    if target is None:
        await message.answer(
            _(
                "No user with Telegram id {id}. They need to open the bot and send /start first."
            ).format(id=telegram_id)
        )
        return
    if target.id == staff.id and role is not Role.ADMIN:
        await message.answer(_("You cannot take the admin role from yourself."))
        return
    previous = target.role
    await repo.users.set_role(target, role)
    await repo.audit.record(
        "role_set", actor=staff, target=target, role=role.value, previous=previous
    )
    assert target.telegram_id is not None
    await set_user_commands(bot, i18n, target.telegram_id, role, target.language)
    await message.answer(_("Done: {user}").format(user=_describe(target)))
    with i18n.use_locale(target.language):
        text = {
            Role.COORDINATOR: _("You are now a coordinator. Send /help to see your commands."),
            Role.ADMIN: _("You are now an administrator. Send /help to see your commands."),
            Role.TEACHER: _("Your staff role was removed; you keep your teacher profile."),
        }[role]
    try:
        await bot.send_message(target.telegram_id, text)
    except Exception:  # the user may have blocked the bot: the role is set all the same
        await message.answer(_("(I could not notify the user.)"))


async def cmd_staff(message: Message, repo: Repo) -> None:
    staff = await repo.users.with_roles([Role.COORDINATOR, Role.ADMIN])
    if not staff:
        await message.answer(
            _("No coordinators or administrators yet (ADMIN_IDS are always admins).")
        )
        return
    await message.answer("\n".join([_("<b>Staff</b>")] + [_describe(u) for u in staff]))


async def cmd_audit(message: Message, repo: Repo, settings: Settings) -> None:
    entries = await repo.audit.recent(20)
    if not entries:
        await message.answer(_("The audit log is empty."))
        return
    lines = [_("<b>Recent actions</b>")]
    for e in entries:
        details = ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()))
        lines.append(
            f"{e.at.astimezone(settings.tz):%Y-%m-%d %H:%M} · {h(e.action)} · #{e.actor_user_id or '—'}"
            f" → #{e.target_user_id or '—'} {h(details)}"
        )
    await message.answer("\n".join(lines))


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="admin")
    router.message.filter(RoleFilter(Role.ADMIN))
    router.message.register(cmd_grant, Command("grant"))
    router.message.register(cmd_revoke, Command("revoke"))
    router.message.register(cmd_staff, Command("staff"))
    router.message.register(cmd_audit, Command("audit"))
    return router
