"""Administrators: grant and revoke roles, list staff, read the audit log. By command.

A staff member's scope is an assignment made here (`/grant <id> coordinator <codes>|region`,
`/grant <id> school_methodist <school>`), recorded in the audit log with names; their own
profile never changes it.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n

from bot.commands import set_user_commands
from core.clock import Clock
from db.models import AuditEntry, Municipality, School, User
from db.repo import Repo
from domain.deeplinks import make_link
from domain.ids import parse_id
from domain.roles import Role
from domain.scope import Assignment
from handlers.filters import RoleFilter
from services import staff as staff_service
from ui.formatting import h, split_html

AUDIT_SHOWN = 20


def role_name(role: Role | str) -> str:
    """A role in the reader's language (unknown stored values read as a teacher)."""
    try:
        role = Role(role)
    except ValueError:
        role = Role.TEACHER
    return {
        Role.TEACHER: _("teacher"),
        Role.SCHOOL_METHODIST: _("school methodist"),
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
        "invite_created": _("created a staff invitation link"),
        "invite_used": _("accepted a staff invitation link"),
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
        "Usage: <code>/grant &lt;telegram id or @username&gt; coordinator &lt;municipality codes&gt;</code> "
        "(several, or <code>region</code>), "
        "<code>/grant &lt;telegram id&gt; school_methodist &lt;school id or code&gt;</code>, "
        "<code>/grant &lt;telegram id&gt; admin</code> or "
        "<code>/grant &lt;telegram id&gt; teacher</code>."
    )


def scope_text(
    assignments: list[Assignment],
    municipalities: dict[int, Municipality],
    schools: dict[int, School],
    locale: str,
) -> str:
    """A staff member's assignments in words (names escaped)."""
    if any(a.region for a in assignments):
        return _("the whole region")
    parts = []
    for a in assignments:
        if a.school_id is not None:
            school = schools.get(a.school_id)
            parts.append(h(school.short_name or school.name) if school else f"#{a.school_id}")
        elif a.municipality_id is not None:
            muni = municipalities.get(a.municipality_id)
            parts.append(h(muni.name(locale)) if muni else f"#{a.municipality_id}")
    return ", ".join(parts)


async def describe(repo: Repo, user: User, locale: str) -> str:
    """`<id> — name — role, scope` (a ⚠️ when a scoped role has no scope)."""
    name = h(user.full_name) if user.full_name else _("(no profile yet)")
    role = role_name(user.role)
    assignments = await repo.staff.assignments(user.id)
    if user.role in (Role.COORDINATOR.value, Role.SCHOOL_METHODIST.value):
        if assignments:
            municipalities = {m.id: m for m in await repo.reference.municipalities()}
            schools = {
                a.school_id: school
                for a in assignments
                if a.school_id is not None
                and (school := await repo.reference.school(a.school_id)) is not None
            }
            role = _("{role}, {scope}").format(
                role=role, scope=scope_text(assignments, municipalities, schools, locale)
            )
        else:
            role += " — " + _("⚠️ no scope assigned: no staff powers until /grant")
    return f"<code>{user.telegram_id}</code> — {name} — {role}"


def grant_text(grant: staff_service.Grant) -> str:
    """«coordinator, Volgodonsk, Timashevsky district» in the reader's language (escaped)."""
    locale = get_i18n().current_locale
    role = role_name(grant.role)
    if grant.region:
        return _("{role}, {scope}").format(role=role, scope=_("the whole region"))
    if grant.school is not None:
        name = h(grant.school.short_name or grant.school.name)
        return _("{role}, {scope}").format(role=role, scope=name)
    if grant.municipalities:
        names = ", ".join(h(m.name(locale)) for m in grant.municipalities)
        return _("{role}, {scope}").format(role=role, scope=names)
    return role


async def _target(repo: Repo, ref: str) -> User | None:
    """The user an admin names: a Telegram id or the @username of someone known."""
    if ref.startswith("@"):
        return await repo.users.by_username(ref)
    telegram_id = parse_id(ref)
    return await repo.users.by_telegram_id(telegram_id) if telegram_id is not None else None


def _unknown_target(ref: str) -> str:
    return _(
        "No user {ref}. They need to open the bot and send /start first "
        "(an @username is known once they have agreed to the data policy)."
    ).format(ref=h(ref))


def scope_problem_text(problem: staff_service.ScopeProblem, codes: str) -> str:
    P = staff_service.ScopeProblem
    if problem in (P.NEED_MUNICIPALITIES, P.UNKNOWN_MUNICIPALITY):
        return _(
            "A coordinator serves municipalities: name their codes, or <code>region</code>. "
            "Codes: {codes}"
        ).format(codes=codes)
    if problem in (P.NEED_SCHOOL, P.UNKNOWN_SCHOOL):
        return _("A school methodist serves one school: name its id or code.")
    return _("Only a coordinator or a school methodist is given a scope.")


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
    well_formed = bool(args) and (args[0].startswith("@") or parse_id(args[0]) is not None)
    role = Role(args[1]) if len(args) > 1 and args[1] in {r.value for r in Role} else None
    if not well_formed or role is None:
        await message.answer(_usage_grant())
        return
    grant = await staff_service.resolve_grant(repo, role, args[2:])
    if isinstance(grant, staff_service.ScopeProblem):
        await message.answer(
            scope_problem_text(grant, await _municipality_codes(repo)) + "\n" + _usage_grant()
        )
        return
    await _set_role(message, repo, staff, bot, i18n, args[0], grant, clock)


async def cmd_revoke(
    message: Message,
    command: CommandObject,
    repo: Repo,
    staff: User,
    bot: Bot,
    i18n: I18n,
    clock: Clock,
) -> None:
    ref = (command.args or "").strip()
    if not (ref.startswith("@") and len(ref) > 1) and parse_id(ref) is None:
        await message.answer(
            _("Usage: {usage}").format(
                usage="<code>/revoke &lt;telegram id or @username&gt;</code>"
            )
        )
        return
    grant = staff_service.Grant(Role.TEACHER)
    await _set_role(message, repo, staff, bot, i18n, ref, grant, clock)


async def _set_role(
    message: Message,
    repo: Repo,
    staff: User,
    bot: Bot,
    i18n: I18n,
    ref: str,
    grant: staff_service.Grant,
    clock: Clock,
) -> None:
    target = await _target(repo, ref)
    if target is None:
        await message.answer(_unknown_target(ref))
        return
    if target.id == staff.id and grant.role is not Role.ADMIN:
        await message.answer(_("You cannot take the admin role from yourself."))
        return
    await staff_service.set_role(repo, target, grant, clock.now(), actor=staff)
    assert target.telegram_id is not None
    await set_user_commands(bot, i18n, target.telegram_id, grant.role, target.language)
    await message.answer(
        _("Done: {user}").format(user=await describe(repo, target, i18n.current_locale))
    )


def _usage_invite() -> str:
    return _(
        "Usage: <code>/invite coordinator &lt;municipality codes&gt;</code> (several, or "
        "<code>region</code>) or <code>/invite school_methodist &lt;school id or code&gt;</code>. "
        "The link works once, for {days} days."
    ).format(days=staff_service.INVITE_TTL.days)


async def cmd_invite(
    message: Message,
    command: CommandObject,
    repo: Repo,
    staff: User,
    bot: Bot,
    tz: tzinfo,
    clock: Clock,
) -> None:
    """A one-time, expiring link that makes whoever opens it first a coordinator or a school
    methodist with the scope named here."""
    args = (command.args or "").split()
    staff_roles = {Role.COORDINATOR.value, Role.SCHOOL_METHODIST.value}
    if not args or args[0] not in staff_roles:
        await message.answer(_usage_invite())
        return
    grant = await staff_service.resolve_grant(repo, Role(args[0]), args[1:])
    if isinstance(grant, staff_service.ScopeProblem):
        await message.answer(
            scope_problem_text(grant, await _municipality_codes(repo)) + "\n" + _usage_invite()
        )
        return
    invite = await staff_service.create_invite(repo, staff, grant, clock.now())
    me = await bot.me()
    link = make_link(me.username or "", f"{staff_service.INVITE_KIND}_{invite.code}")
    await message.answer(
        _(
            "🔗 A one-time invitation: {grant}.\n{link}\n"
            "It works once, until {until}. Send it to the person privately: whoever opens it "
            "first gets the role after registering."
        ).format(
            grant=grant_text(grant),
            link=h(link),
            until=f"{invite.expires_at.astimezone(tz):%d.%m.%Y %H:%M}",
        )
    )


async def cmd_staff(message: Message, repo: Repo, i18n: I18n) -> None:
    staff = await repo.users.with_roles([Role.SCHOOL_METHODIST, Role.COORDINATOR, Role.ADMIN])
    if not staff:
        await message.answer(
            _("No coordinators or administrators yet (ADMIN_IDS are always admins).")
        )
        return
    lines = [_("<b>Staff</b>")]
    lines += [await describe(repo, user, i18n.current_locale) for user in staff]
    for chunk in split_html(lines):
        await message.answer(chunk)


def _audit_scope(details: dict[str, Any]) -> str:
    """The scope a role_set entry recorded, by name (older entries: one municipality)."""
    if details.get("region"):
        return _("the whole region")
    if details.get("school"):
        return h(str(details["school"]))
    codes = details.get("municipalities") or (
        [details["municipality"]] if details.get("municipality") else []
    )
    return ", ".join(h(str(c)) for c in codes)


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
        scope = _audit_scope(details)
        if scope:
            line += f" ({scope})"
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
    from handlers import admin_panel  # it uses this module's texts

    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="admin")
    router.message.filter(RoleFilter(Role.ADMIN))
    router.callback_query.filter(RoleFilter(Role.ADMIN))
    router.message.register(cmd_grant, Command("grant"))
    router.message.register(cmd_revoke, Command("revoke"))
    router.message.register(cmd_staff, Command("staff"))
    router.message.register(cmd_invite, Command("invite"))
    admin_panel.register(router)
    router.message.register(cmd_audit, Command("audit"))
    return router
