"""/settings (and ⚙️ in the main menu): time zone, quiet hours, reminder categories, language
and personal data; and the 🔕 button under every reminder.

The rules are in `services.settings`; this module parses the buttons (never trusting them),
calls one use case and renders the screen again in place.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from domain.reminders import Category, zone
from domain.roles import Role
from handlers.common import show
from services import settings as use_cases
from services.settings import Overview, Refused
from ui.callbacks.settings import MuteCb, SetAction, SetCb
from ui.formatting import h
from ui.keyboards.menu import MENU_SETTINGS
from ui.keyboards.settings import (
    category_name,
    general_rows,
    quiet_code,
    quiets_keyboard,
    settings_keyboard,
    to_settings_keyboard,
    zones_keyboard,
)

# ---------------------------------------------------------------------------- texts


def category_hint(category: Category) -> str:
    return {
        Category.EVENTS: _("before the events you signed up for; the feedback request after them"),
        Category.ROUTE: _("when a step of your route is due soon or overdue, at most once a week"),
        Category.ASSESSMENT: _("an unfinished self-assessment; a retake that became available"),
        Category.NEWS: _("messages from methodists"),
        Category.AGENDA: _(
            "your events of the day each morning; the summary the day after; "
            "last week's statistics on Mondays"
        ),
    }[category]


def muted_text(category: Category, *, already: bool) -> str:
    if already:
        text = {
            Category.EVENTS: _("🔕 Event reminders are already off."),
            Category.ROUTE: _("🔕 Route reminders are already off."),
            Category.ASSESSMENT: _("🔕 Self-assessment reminders are already off."),
            Category.NEWS: _("🔕 News from methodists is already off."),
            Category.AGENDA: _("🔕 Agendas and summaries are already off."),
        }[category]
    else:
        text = {
            Category.EVENTS: _("🔕 Event reminders are off."),
            Category.ROUTE: _("🔕 Route reminders are off."),
            Category.ASSESSMENT: _("🔕 Self-assessment reminders are off."),
            Category.NEWS: _("🔕 News from methodists is off."),
            Category.AGENDA: _("🔕 Agendas and summaries are off."),
        }[category]
    return text + " " + _("You can turn them back on in /settings")


def zone_text(key: str, locale: str) -> str:
    known = zone(key)
    return known.label(locale) if known is not None else h(key)


def screen_text(view: Overview, locale: str) -> str:
    if view.quiet is not None:
        quiet = _(
            "🌙 Quiet hours: {quiet}. I send nothing then, except about an event starting soon."
        ).format(quiet=view.quiet.text())
    else:
        quiet = _("🌙 Quiet hours: off. Messages come at any hour.")
    lines = [
        _("⚙️ <b>Settings</b>"),
        "",
        _("🕐 Time zone: {zone}. Every time I show is in it.").format(
            zone=zone_text(view.zone_key, locale)
        ),
        quiet,
        "",
        _("<b>Reminders</b> (tap a button below to switch them on or off):"),
    ]
    for category in view.categories:
        mark = "✅" if view.is_on(category) else "🔕"
        lines.append(f"{mark} {category_name(category)} — {category_hint(category)}")
    return "\n".join(lines)


def zones_text() -> str:
    return _(
        "🕐 <b>Time zone</b>\n\nChoose the city whose time you live by: events, deadlines "
        "and reminders will be shown in its time."
    )


def quiets_text() -> str:
    return _(
        "🌙 <b>Quiet hours</b>\n\nAt these hours (your local time) I send nothing: what comes "
        "up waits until they end. Only news about an event starting soon comes at once."
    )


def refused_text() -> str:
    return _("This choice is not available. Please open /settings again.")


# ---------------------------------------------------------------------------- handlers


def _staff(user: UserContext) -> bool:
    return user.role.at_least(Role.SCHOOL_METHODIST)


async def _screen(repo: Repo, user: UserContext) -> tuple[str, InlineKeyboardMarkup]:
    view = await use_cases.overview(repo, user.id, staff=_staff(user))
    return screen_text(view, user.language), settings_keyboard(view.categories, view.muted)


async def cmd_settings(message: Message, repo: Repo, user: UserContext) -> None:
    if not user.consented:  # reminders reach onboarded users only: language and policy
        markup = InlineKeyboardMarkup(inline_keyboard=general_rows(consented=False))
        await message.answer(_("⚙️ <b>Settings</b>"), reply_markup=markup)
        return
    text, markup = await _screen(repo, user)
    await message.answer(text, reply_markup=markup)


async def on_settings(
    query: CallbackQuery, callback_data: SetCb, repo: Repo, user: UserContext, clock: Clock
) -> None:
    action, value = callback_data.action, callback_data.value
    if action is SetAction.ZONES:
        view = await use_cases.overview(repo, user.id, staff=_staff(user))
        await show(query, zones_text(), zones_keyboard(view.zone_key, user.language))
        return
    if action is SetAction.QUIETS:
        view = await use_cases.overview(repo, user.id, staff=_staff(user))
        current = view.quiet.code() if view.quiet is not None else ""
        await show(query, quiets_text(), quiets_keyboard(current))
        return
    toast: str | None = None
    now = clock.now()
    try:
        if action is SetAction.ZONE:
            await use_cases.set_timezone(repo, user.id, value, now)
            toast = _("Time zone: {zone}").format(zone=zone_text(value, user.language))
        elif action is SetAction.QUIET:
            code = quiet_code(value)
            if code is None:
                raise Refused(value)
            await use_cases.set_quiet(repo, user.id, code, now)
            toast = _("Quiet hours saved")
        elif action is SetAction.TOGGLE:
            on = await use_cases.toggle(repo, user.id, value, now, staff=_staff(user))
            name = category_name(Category(value))
            toast = (_("✅ {name}: on") if on else _("🔕 {name}: off")).format(name=name)
    except Refused:
        await query.answer(refused_text(), show_alert=True)
        return
    text, markup = await _screen(repo, user)
    await show(query, text, markup, answer=False)
    await query.answer(toast)


def _without_mute_row(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    if markup is None:
        return None
    prefix = MuteCb.__prefix__ + MuteCb.__separator__
    kept = [
        row
        for row in markup.inline_keyboard
        if not any((b.callback_data or "").startswith(prefix) for b in row)
    ]
    return InlineKeyboardMarkup(inline_keyboard=kept) if kept else None


async def on_mute(
    query: CallbackQuery, callback_data: MuteCb, repo: Repo, user: UserContext, bot: Bot
) -> None:
    """🔕 under a reminder: its category is off, the button leaves that message."""
    try:
        category, changed = await use_cases.mute(repo, user.id, callback_data.category)
    except Refused:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await query.answer(_("🔕 Done") if changed else _("It was off already"))
    message = query.message
    if isinstance(message, Message):
        try:
            await message.edit_reply_markup(reply_markup=_without_mute_row(message.reply_markup))
        except TelegramBadRequest as exc:  # too old to edit, or nothing to change
            if "not modified" not in exc.message and "can't be edited" not in exc.message:
                raise
    if query.message is not None:
        await bot.send_message(
            query.message.chat.id,
            muted_text(category, already=not changed),
            reply_markup=to_settings_keyboard(),
        )


def make_router() -> Router:
    router = Router(name="settings")
    router.message.register(cmd_settings, Command("settings"))
    router.message.register(cmd_settings, F.text == MENU_SETTINGS)
    consent = {"needs": "consent"}
    router.callback_query.register(on_settings, SetCb.filter(), flags=consent)
    router.callback_query.register(on_mute, MuteCb.filter(), flags=consent)
    return router
