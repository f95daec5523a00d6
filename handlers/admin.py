"""Administrators: grant and revoke roles, list staff, read the audit log. By command.

A coordinator's scope is a staff assignment made here (`/grant <id> coordinator <municipality
code>`), recorded in the audit log; the coordinator's own profile never changes it.
"""

from __future__ import annotations

from datetime import tzinfo

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.commands import set_user_commands
from core.clock import Clock
from db.models import AuditEntry, Municipality, User
from db.repo import Repo
from domain.ids import parse_id
from domain.roles import Role
from handlers.filters import RoleFilter
from services import staff as staff_service
from ui.formatting import h

AUDIT_SHOWN = 20


def role_name(role: Role | str) -> str:
    """A role in the reader's language (unknown stored values read as a teacher)."""
    try:
        role = Role(role)
    except ValueError:
        role = Role.TEACHER
    return {
        Role.TEACHER: _("teacher"),
        Role.COORDINATOR: _("coordinator"),
        Role.ADMIN: _("administrator"),
    }[role]


def action_names() -> dict[str, str]:
    """Every audited action in the reader's language (tests check none is missing)."""
    return {
        "assessment_finished": _("finished a self-assessment"),
        "attendance_marked": _("marked attendance"),
        "attendance_unmarked": _("removed an attendance mark"),
        "broadcast_cancelled": _("cancelled a scheduled broadcast"),
        "broadcast_created": _("created a broadcast"),
        "broadcast_edited": _("replaced the message of a scheduled broadcast"),
        "broadcast_rescheduled": _("moved a scheduled broadcast to another time"),
        "broadcast_stopped": _("stopped a broadcast"),
        "checked_in": _("checked in at an event"),
        "cli": _("command line"),
        "consent_given": _("gave consent"),
        "data_erased": _("erased their data"),
        "diagnoses_imported": _("imported external diagnoses"),
        "event_cancelled": _("cancelled an event"),
        "event_capacity": _("changed the number of seats"),
        "event_created": _("created an event"),
        "event_edited": _("edited an event"),
        "event_message": _("messaged event participants"),
        "import": _("imported a file"),
        "mentor_volunteer": _("volunteered as a mentor"),
        "profile_completed": _("completed the profile"),
        "registration_cancelled": _("cancelled a registration"),
        "role_set": _("set a role"),
        "route_built": _("built a route"),
        "route_comment": _("commented on a route"),
        "route_step_added": _("added a route step"),
        "route_step_by_event": _("a route step was completed by attendance"),
        "school_merged": _("merged a typed-in school into a listed one"),
        "school_rejected": _("rejected a typed-in school"),
        "school_renamed": _("corrected a school's name"),
        "school_verified": _("verified a school"),
        "site_created": _("created a site"),
        "site_edited": _("edited a site"),
    }


def _usage_grant() -> str:
    return _(
        "Usage: <code>/grant &lt;telegram id&gt; coordinator &lt;municipality code&gt;</code>, "
        "<code>/grant &lt;telegram id&gt; admin</code> or "
        "<code>/grant &lt;telegram id&gt; teacher</code>."
    )


def _describe(user: User, municipality: Municipality | None, locale: str) -> str:
    name = h(user.full_name) if user.full_name else _("(no profile yet)")
    role = role_name(user.role)
    if municipality is not None:
        role = _("{role}, {municipality}").format(
            role=role, municipality=h(municipality.name(locale))
        )
    return f"<code>{user.telegram_id}</code> — {name} — {role}"


async def _municipality_codes(repo: Repo) -> str:
    return ", ".join(f"<code>{h(m.code)}</code>" for m in await repo.reference.municipalities())


async def cmd_grant(
    message: Message,
    command: CommandObject,
    repo: Repo,
    staff: User,
    bot: Bot,
    i18n: I18n,
    clock: Clock,
) -> None:
    args = (command.args or "").split()
    telegram_id = parse_id(args[0]) if args else None
    role = Role(args[1]) if len(args) > 1 and args[1] in {r.value for r in Role} else None
    if telegram_id is None or role is None or len(args) > (3 if role is Role.COORDINATOR else 2):
        await message.answer(_usage_grant())
        return
    municipality = None
    if role is Role.COORDINATOR:
        municipality = (
            await repo.reference.municipality_by_code(args[2]) if len(args) == 3 else None
        )
        if municipality is None:
            await message.answer(
                _("A coordinator serves one municipality: name its code. Codes: {codes}").format(
                    codes=await _municipality_codes(repo)
                )
                + "\n"
                + _usage_grant()
            )
            return
    await _set_role(message, repo, staff, bot, i18n, telegram_id, role, municipality, clock)


async def cmd_revoke(
    message: Message,
    command: CommandObject,
    repo: Repo,
    staff: User,
    bot: Bot,
    i18n: I18n,
    clock: Clock,
) -> None:
    telegram_id = parse_id(command.args or "")
    if telegram_id is None:
        await message.answer(
            _("Usage: {usage}").format(usage="<code>/revoke &lt;telegram id&gt;</code>")
        )
        return
    await _set_role(message, repo, staff, bot, i18n, telegram_id, Role.TEACHER, None, clock)


async def _set_role(
    message: Message,
    repo: Repo,
    staff: User,
    bot: Bot,
    i18n: I18n,
    telegram_id: int,
    role: Role,
    municipality: Municipality | None,
    clock: Clock,
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
    await staff_service.set_role(repo, target, role, municipality, clock.now(), actor=staff)
    assert target.telegram_id is not None
    await set_user_commands(bot, i18n, target.telegram_id, role, target.language)
    await message.answer(
        _("Done: {user}").format(user=_describe(target, municipality, i18n.current_locale))
    )


async def cmd_staff(message: Message, repo: Repo, i18n: I18n) -> None:
    staff = await repo.users.with_roles([Role.COORDINATOR, Role.ADMIN])
    if not staff:
        await message.answer(
            _("No coordinators or administrators yet (ADMIN_IDS are always admins).")
        )
        return
    municipalities = {m.id: m for m in await repo.reference.municipalities()}
    lines = [_("<b>Staff</b>")]
    for user in staff:
        scope = municipalities.get(user.staff_municipality_id or 0)
        line = _describe(user, scope, i18n.current_locale)
        if user.role == Role.COORDINATOR and scope is None:
            line += " — " + _("⚠️ no municipality assigned: no staff powers until /grant")
        lines.append(line)
    await message.answer("\n".join(lines))


def _audit_line(entry: AuditEntry, names: dict[int, str | None], tz: tzinfo) -> str:
    def who(user_id: int | None) -> str:
        if user_id is None:
            return "—"
        name = names.get(user_id)
        return h(name) if name else _("user #{id}").format(id=user_id)

    action = action_names().get(entry.action, entry.action)
    line = f"{entry.at.astimezone(tz):%d.%m %H:%M} · {who(entry.actor_user_id)} — {h(action)}"
    if entry.target_user_id is not None:
        line += f" → {who(entry.target_user_id)}"
    details = entry.details
    if entry.action == "role_set" and "role" in details:
        line += ": " + role_name(str(details["role"]))
        if details.get("municipality"):
            line += f" ({h(str(details['municipality']))})"
    else:
        refs = [
            label.format(id=details[key])
            for key, label in (
                ("event_id", _("event #{id}")),
                ("site_id", _("site #{id}")),
                ("school_id", _("school #{id}")),
                ("route_id", _("route #{id}")),
            )
            if isinstance(details.get(key), int)
        ]
        if refs:
            line += ": " + ", ".join(refs)
    return line


async def cmd_audit(message: Message, repo: Repo, tz: tzinfo) -> None:
    entries = await repo.audit.recent(AUDIT_SHOWN)
    if not entries:
        await message.answer(_("The audit log is empty."))
        return
    ids = {uid for e in entries for uid in (e.actor_user_id, e.target_user_id) if uid}
    names = await repo.users.names(ids)
    lines = [_("<b>Recent actions</b>")]
    lines += [_audit_line(e, names, tz) for e in entries]
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
