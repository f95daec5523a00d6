"""/admin: users by role and recent activity, finding a user, a user's card with grant, revoke
and scope buttons, and the system's health (database size, the outbox queue, the scheduler,
the last errors, uptime, version). Administrators only (the router's role filter); every
button re-checks its user on the server."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.commands import set_user_commands
from bot.middlewares.offload import OFFLOAD
from core.clock import Clock
from core.health import ErrorLog, app_version
from db.models import User
from db.repo import Repo
from domain.roles import Role
from handlers.admin import describe, role_name
from handlers.common import show
from services import staff as staff_service
from ui.callbacks.admin import AdminAction, AdminCb
from ui.formatting import h
from ui.keyboards.common import button, rows

#: "recently active": changed something within this window
ACTIVE_WINDOW = timedelta(days=7)
FOUND_SHOWN = 10


class AdminForm(StatesGroup):
    find = State()


def _markup(buttons: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=buttons)


def _home_buttons() -> InlineKeyboardMarkup:
    return _markup(
        [
            [
                button(_("🩺 System health"), AdminCb(action=AdminAction.HEALTH)),
                button(_("🔎 Find a user"), AdminCb(action=AdminAction.FIND)),
            ]
        ]
    )


def _back() -> list[InlineKeyboardButton]:
    return [button(_("⬅️ Back"), AdminCb(action=AdminAction.HOME))]


def size_text(size: int | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def span_text(delta: timedelta) -> str:
    """A duration as «2 d 3 h», «5 h 7 min» or «42 s»."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("{d} d {h} h").format(d=days, h=hours)
    if hours:
        return _("{h} h {m} min").format(h=hours, m=minutes)
    if minutes:
        return _("{m} min").format(m=minutes)
    return _("{s} s").format(s=secs)


async def _home_text(repo: Repo, now: datetime) -> str:
    lines = [_("🛠 <b>Administration</b>"), "", _("<b>Users by role</b> (active in 7 days)")]
    counts = await repo.health.roles(now - ACTIVE_WINDOW)
    for count in counts:
        lines.append(f"• {h(role_name(count.role))}: {count.users} ({count.active})")
    if not counts:
        lines.append("—")
    lines += [
        "",
        _(
            "Commands: /staff, /grant, /revoke, /invite, /audit, "
            "/find &lt;name, @username or id&gt;"
        ),
    ]
    return "\n".join(lines)


async def cmd_admin(message: Message, state: FSMContext, repo: Repo, clock: Clock) -> None:
    await state.clear()
    await message.answer(await _home_text(repo, clock.now()), reply_markup=_home_buttons())


async def health_text(
    repo: Repo,
    now: datetime,
    tz: tzinfo,
    scheduler: AsyncIOScheduler | None,
    error_log: ErrorLog | None,
    started_at: datetime | None,
) -> str:
    """The system's health, every logged or stored string escaped."""
    lines = [_("🩺 <b>System health</b>"), ""]
    lines.append(_("Version: {v}").format(v=h(app_version())))
    if started_at is not None:
        lines.append(_("Uptime: {span}").format(span=span_text(now - started_at)))
    lines.append(_("Database: {size}").format(size=size_text(await repo.health.database_size())))
    pending, oldest = await repo.health.outbox_pending()
    line = _("Outbox: {n} pending").format(n=pending)
    if oldest is not None:
        line += " · " + _("the oldest waits {span}").format(span=span_text(now - oldest))
    lines.append(line)
    if scheduler is None:
        lines.append(_("Scheduler: not running"))
    else:
        state = _("running") if scheduler.running else _("stopped")
        lines.append(_("Scheduler: {state}").format(state=state))
        for job in scheduler.get_jobs():
            when = job.next_run_time
            at = f"{when.astimezone(tz):%d.%m %H:%M:%S}" if when else "—"
            lines.append(f"  · {h(job.id)}: {at}")
    failed = await repo.health.failed_jobs()
    if failed:
        lines += ["", _("<b>Failing jobs</b> (still due)")]
        for job in failed:
            lines.append(
                f"• #{job.id} {h(job.kind)} × {job.attempts}: <code>{h(job.last_error[:200])}</code>"
            )
    errors = error_log.latest() if error_log is not None else []
    lines += ["", _("<b>Last errors</b>")]
    if not errors:
        lines.append(_("none since the start"))
    for error in errors:
        lines.append(
            f"• {error.at.astimezone(tz):%d.%m %H:%M:%S} {h(error.logger)}: "
            f"<code>{h(error.message)}</code>"
        )
    return "\n".join(lines)


async def _show_health(
    target: Message | CallbackQuery,
    repo: Repo,
    tz: tzinfo,
    clock: Clock,
    scheduler: AsyncIOScheduler | None,
    error_log: ErrorLog | None,
    started_at: datetime | None,
) -> None:
    text = await health_text(repo, clock.now(), tz, scheduler, error_log, started_at)
    await show(target, text, _markup([_back()]))


async def cmd_health(
    message: Message,
    repo: Repo,
    tz: tzinfo,
    clock: Clock,
    scheduler: AsyncIOScheduler | None = None,
    error_log: ErrorLog | None = None,
    started_at: datetime | None = None,
) -> None:
    await _show_health(message, repo, tz, clock, scheduler, error_log, started_at)


# ------------------------------------------------------------------ finding a user, their card


async def _found(target: Message | CallbackQuery, repo: Repo, query: str) -> None:
    users = await repo.health.find_users(query, FOUND_SHOWN)
    if not users:
        await show(target, _("Nobody found for «{q}».").format(q=h(query)), _markup([_back()]))
        return
    buttons = [
        [
            button(
                f"{u.full_name or '—'} · {role_name(u.role)}"[:60],
                AdminCb(action=AdminAction.USER, user_id=u.id),
            )
        ]
        for u in users
    ]
    buttons.append(_back())
    await show(target, _("Found: {n}. Choose a user:").format(n=len(users)), _markup(buttons))


async def cmd_find(message: Message, command: CommandObject, state: FSMContext, repo: Repo) -> None:
    query = (command.args or "").strip()
    if not query:
        await state.set_state(AdminForm.find)
        await message.answer(_("Send a name, an @username or an id."))
        return
    await _found(message, repo, query)


async def got_find(message: Message, state: FSMContext, repo: Repo) -> None:
    await state.clear()
    await _found(message, repo, (message.text or "").strip()[:100])


def _card_buttons(user: User) -> InlineKeyboardMarkup:
    def cb(action: AdminAction) -> AdminCb:
        return AdminCb(action=action, user_id=user.id)

    buttons = [
        [
            button(_("🏙 Coordinator: municipalities"), cb(AdminAction.MUNIS)),
            button(_("🌐 Coordinator: region"), cb(AdminAction.REGION)),
        ],
        [
            button(_("👑 Administrator"), cb(AdminAction.ADMIN)),
            button(_("↩️ Teacher (revoke)"), cb(AdminAction.REVOKE)),
        ],
        _back(),
    ]
    return _markup(buttons)


async def _card(target: Message | CallbackQuery, repo: Repo, user: User, locale: str) -> None:
    text = "\n".join(
        [
            _("👤 <b>User</b>"),
            await describe(repo, user, locale),
            _("Username: {u}").format(u=h("@" + user.username) if user.username else "—"),
            _(
                "A school methodist is appointed by command: "
                "<code>/grant {id} school_methodist &lt;school id&gt;</code>"
            ).format(id=user.telegram_id),
        ]
    )
    await show(target, text, _card_buttons(user))


async def _munis_picker(query: CallbackQuery, repo: Repo, user: User, locale: str) -> None:
    chosen = {a.municipality_id for a in await repo.staff.assignments(user.id)}
    if user.role != Role.COORDINATOR.value:
        chosen = set()
    buttons = rows(
        [
            button(
                ("✅ " if m.id in chosen else "") + m.name(locale)[:40],
                AdminCb(action=AdminAction.MUNI, user_id=user.id, value=m.id),
            )
            for m in await repo.reference.municipalities()
        ],
        2,
    )
    buttons.append([button(_("⬅️ Back"), AdminCb(action=AdminAction.USER, user_id=user.id))])
    await show(
        query,
        _("Municipalities of the coordinator (each tap changes the scope at once, audited):"),
        _markup(buttons),
    )


async def on_admin(
    query: CallbackQuery,
    callback_data: AdminCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    bot: Bot,
    i18n: I18n,
    tz: tzinfo,
    clock: Clock,
    scheduler: AsyncIOScheduler | None = None,
    error_log: ErrorLog | None = None,
    started_at: datetime | None = None,
) -> None:
    action = callback_data.action
    locale = i18n.current_locale
    if action is AdminAction.HOME:
        await state.clear()
        await show(query, await _home_text(repo, clock.now()), _home_buttons())
        return
    if action is AdminAction.HEALTH:
        await _show_health(query, repo, tz, clock, scheduler, error_log, started_at)
        return
    if action is AdminAction.FIND:
        await state.set_state(AdminForm.find)
        await show(query, _("Send a name, an @username or an id."), _markup([_back()]))
        return
    user = await repo.users.get(callback_data.user_id)
    if user is None or user.telegram_id is None:
        await query.answer(_("This user is no longer here."), show_alert=True)
        return
    if action is AdminAction.USER:
        await _card(query, repo, user, locale)
        return
    if action is AdminAction.MUNIS:
        await _munis_picker(query, repo, user, locale)
        return
    grant = await _grant_of(repo, user, callback_data)
    if grant is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    if user.id == staff.id and grant.role is not Role.ADMIN:
        await query.answer(_("You cannot take the admin role from yourself."), show_alert=True)
        return
    await staff_service.set_role(repo, user, grant, clock.now(), actor=staff)
    await set_user_commands(bot, i18n, user.telegram_id, grant.role, user.language)
    if action is AdminAction.MUNI:
        await _munis_picker(query, repo, user, locale)
    else:
        await _card(query, repo, user, locale)


async def _grant_of(repo: Repo, user: User, data: AdminCb) -> staff_service.Grant | None:
    """The role and scope a card button means (None: a stale or forged value)."""
    if data.action is AdminAction.REVOKE:
        return staff_service.Grant(Role.TEACHER)
    if data.action is AdminAction.ADMIN:
        return staff_service.Grant(Role.ADMIN)
    if data.action is AdminAction.REGION:
        return staff_service.Grant(Role.COORDINATOR, region=True)
    if data.action is not AdminAction.MUNI:
        return None
    toggled = await repo.reference.municipality(data.value)
    if toggled is None:
        return None
    current = {
        a.municipality_id
        for a in await repo.staff.assignments(user.id)
        if a.municipality_id is not None and user.role == Role.COORDINATOR.value
    }
    wanted = current ^ {toggled.id}
    if not wanted:  # the last one: a coordinator needs a scope (↩️ revokes)
        return None
    found = [await repo.reference.municipality(m) for m in sorted(wanted)]
    return staff_service.Grant(
        Role.COORDINATOR, municipalities=tuple(m for m in found if m is not None)
    )


def register(router: Router) -> None:
    """On the admin router (its role filter covers messages and taps)."""
    router.message.register(cmd_admin, Command("admin"), flags=OFFLOAD)
    router.message.register(cmd_health, Command("health"), flags=OFFLOAD)
    router.message.register(cmd_find, Command("find"), flags=OFFLOAD)
    router.message.register(got_find, AdminForm.find, flags=OFFLOAD)
    router.callback_query.register(on_admin, AdminCb.filter(), flags=OFFLOAD)
