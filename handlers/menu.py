"""Main menu entries: /help, /cancel, the settings buttons of personal data (/settings
itself is `handlers.settings`), /mydata and /deleteme."""

from __future__ import annotations

import json
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.commands import set_user_commands
from core.clock import Clock
from core.settings import Settings
from core.usercache import UserContext
from db.repo import Repo
from domain.roles import Role
from handlers.common import show
from handlers.onboarding import language_keyboard
from services.privacy import erase_user
from ui import texts
from ui.callbacks.menu import DeleteCb, SettingsAction, SettingsCb
from ui.keyboards.common import button
from ui.keyboards.menu import MENU_HELP, current_locale, main_menu


def help_text(role: Role, onboarded: bool = True) -> str:
    parts = [
        _(
            "❓ <b>What I can do</b>\n\n"
            "/assess — self-assessment of professional competencies\n"
            "/results — your competency profile, deficits and strengths\n"
            "/route — your individual educational route: steps, deadlines, evidence, PDF\n"
            "/events — internship sessions, master-classes, seminars: sign up, waitlist, calendar\n"
            "/my — your registrations · /journal — attended events and hours\n"
            "/checkin CODE — check in at an event (or scan its QR code)\n"
            "/profile — your profile: view and correct it\n"
            "/settings — time zone, quiet hours, which reminders you get\n"
            "/language — switch between Русский and English\n"
            "/privacy — how your personal data is handled\n"
            "/mydata — download everything stored about you\n"
            "/deleteme — erase your personal data\n"
            "/cancel — stop the current action"
        )
    ]
    if not onboarded:  # a deep link is kept only until the profile is complete
        parts.append(
            _("Came from a link to an event or a site? Finish registration and I will open it.")
        )
    if role.at_least(Role.COORDINATOR):
        parts.append(
            _(
                "<b>Coordinator</b>\n"
                "/teachers — teachers of your municipality: diagnosis and route progress\n"
                "/teacher &lt;telegram id&gt; — a teacher's results and route; comment, add a step\n"
                "/schools — schools typed in by teachers of your municipality, to check\n"
                "/myevents — events of your municipality: participants, export, messages, QR check-in\n"
                "/newevent, /newsite — create an event or an internship site\n"
                "/mysites — internship sites of your municipality: programme, contacts\n"
                "/template — forms for importing sites and events; then send me the filled file"
            )
            + "\n"
            + _(
                "/broadcast — a broadcast to the teachers you choose, now or at a set time\n"
                "/broadcasts — past and scheduled broadcasts with their reports"
            )
            + "\n"
            + _(
                "/stats — statistics: indicators against targets, activity, deficits; "
                "charts and an Excel workbook; a digest every Monday at 09:00"
            )
            + "\n"
            + _(
                "/diagnosis_template — forms for importing a diagnosis made elsewhere "
                "(e.g. at the ЦНППМ); then send me the filled file"
            )
        )
    if role is Role.SCHOOL_METHODIST:
        parts.append(
            _(
                "<b>School methodist</b>\n"
                "/teachers — teachers of your school: diagnosis and route progress\n"
                "/teacher &lt;telegram id&gt; — a teacher's results and route; comment, add a step\n"
                "/myevents — your school's events: participants, export, messages, QR check-in\n"
                "/newevent, /newsite — create an event at your school's site, or the site\n"
                "/mysites — your school's internship sites\n"
                "/broadcast — a message to your school's teachers\n"
                "/stats — your school's statistics and its Monday digest"
            )
        )
    if role.at_least(Role.ADMIN):
        parts.append(
            _(
                "<b>Administrator</b>\n"
                "/admin — users by role, find a user, grant or change a scope, system health\n"
                "/invite coordinator &lt;municipality codes | region&gt; or "
                "/invite school_methodist &lt;school&gt; — a one-time link that gives the role\n"
                "/grant &lt;telegram id or @username&gt; coordinator &lt;codes | region&gt; — make a coordinator\n"
                "/grant &lt;telegram id&gt; school_methodist &lt;school&gt; — make a school methodist\n"
                "/grant &lt;telegram id&gt; admin — make an administrator\n"
                "/revoke &lt;telegram id or @username&gt; — make the user a teacher again\n"
                "/staff — staff members and their scopes\n"
                "/audit — recent privileged actions"
            )
        )
    return "\n\n".join(parts)


#: /help's text per (locale, role, onboarded): it never changes while the bot runs
_HELP: dict[tuple[str, Role, bool], str] = {}


def cached_help_text(role: Role, onboarded: bool) -> str:
    locale = current_locale()
    if locale is None:
        return help_text(role, onboarded)
    text = _HELP.get((locale, role, onboarded))
    if text is None:
        text = _HELP[(locale, role, onboarded)] = help_text(role, onboarded)
    return text


async def cmd_help(message: Message, user: UserContext) -> None:
    markup = main_menu(user.role) if user.profile_complete else None
    await message.answer(cached_help_text(user.role, user.profile_complete), reply_markup=markup)


async def cmd_cancel(message: Message, state: FSMContext, user: UserContext) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    text = _("Cancelled.") if had_state else _("There is nothing to cancel.")
    markup = main_menu(user.role) if user.profile_complete else None
    await message.answer(text, reply_markup=markup)


async def settings_action(
    query: CallbackQuery,
    callback_data: SettingsCb,
    repo: Repo,
    user: UserContext,
    bot: Bot,
    clock: Clock,
) -> None:
    assert query.message is not None
    chat_id = query.message.chat.id
    await query.answer()
    if callback_data.action == SettingsAction.LANGUAGE:
        await bot.send_message(
            chat_id, _("Choose the language of the bot:"), reply_markup=language_keyboard()
        )
    elif callback_data.action == SettingsAction.PRIVACY:
        await bot.send_message(chat_id, texts.privacy_policy())
    elif callback_data.action == SettingsAction.MYDATA and user.consented:
        await send_my_data(bot, chat_id, repo, user, clock.now())
    elif callback_data.action == SettingsAction.DELETE and user.consented:
        await bot.send_message(chat_id, delete_question(), reply_markup=delete_keyboard())


async def send_my_data(
    bot: Bot, chat_id: int, repo: Repo, user: UserContext, now: datetime
) -> None:
    data = await repo.users.export(user.id, now)
    payload = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    await bot.send_document(
        chat_id,
        BufferedInputFile(payload, filename="metodbot-my-data.json"),
        caption=_("📦 Everything I store about you, as a JSON file."),
    )


async def cmd_mydata(
    message: Message, repo: Repo, user: UserContext, bot: Bot, clock: Clock
) -> None:
    if not user.consented:
        await message.answer(
            _("I store only your Telegram id and language ({language}); nothing else.").format(
                language=user.language
            )
        )
        return
    await send_my_data(bot, message.chat.id, repo, user, clock.now())


def delete_question() -> str:
    return _(
        "🗑 <b>Erase your personal data?</b>\n\n"
        "Your name, school, subjects, experience, Telegram id, self-assessment answers, "
        "evidence and files, reflections, methodists' comments and feedback will be deleted, "
        "your consent withdrawn and your upcoming registrations cancelled (the seats go to "
        "the next in line). Only anonymous numbers stay for statistics: municipality, "
        "position, age band, competency scores, route step statuses and event attendance. "
        "This cannot be undone."
    )


def delete_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("🗑 Yes, erase my data"), DeleteCb(confirm=True))],
            [button(_("Keep my data"), DeleteCb(confirm=False))],
        ]
    )


async def cmd_deleteme(message: Message, user: UserContext) -> None:
    if not user.consented:
        await message.answer(_("I keep no personal data about you: there is nothing to erase."))
        return
    await message.answer(delete_question(), reply_markup=delete_keyboard())


async def delete_confirmed(
    query: CallbackQuery,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    clock: Clock,
) -> None:
    db_user = await repo.users.get(user.id)
    if db_user is None or db_user.telegram_id is None:
        await query.answer()
        return
    # the seats it frees are offered to the next in line: queued with the erasure
    await erase_user(repo, db_user, clock.now())
    await state.clear()
    if user.role is not Role.TEACHER:
        await set_user_commands(bot, i18n, user.telegram_id, Role.TEACHER, user.language)
    await show(query, _("Your personal data has been erased."))
    assert query.message is not None
    await bot.send_message(
        query.message.chat.id,
        _("Goodbye! If you come back, /start begins anew."),
        reply_markup=ReplyKeyboardRemove(),
    )


async def delete_cancelled(query: CallbackQuery) -> None:
    await show(query, _("Good, your data stays as it is."))


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="menu")
    router.message.register(cmd_help, F.text == MENU_HELP)
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_cancel, Command("cancel"))
    router.callback_query.register(settings_action, SettingsCb.filter())
    router.message.register(cmd_mydata, Command("mydata"), flags={"cost": 3})
    router.message.register(cmd_deleteme, Command("deleteme"))
    router.callback_query.register(delete_confirmed, DeleteCb.filter(F.confirm))
    router.callback_query.register(delete_cancelled, DeleteCb.filter(~F.confirm))
    return router
