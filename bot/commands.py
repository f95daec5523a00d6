"""The command menu per language and per role (`setMyCommands` with scopes)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __

from core.settings import SUPPORTED_LOCALES
from domain.roles import Role

TEACHER_COMMANDS = [
    ("start", __("Start or continue registration")),
    ("assess", __("Self-assessment of competencies")),
    ("results", __("My self-assessment results")),
    ("route", __("My individual educational route")),
    ("events", __("Internship sessions and master-classes")),
    ("my", __("My registrations")),
    ("journal", __("Journal of professional growth")),
    ("checkin", __("Check in at an event: /checkin CODE")),
    ("profile", __("My profile")),
    ("settings", __("Time zone, quiet hours, reminders")),
    ("language", __("Change language")),
    ("privacy", __("Personal data policy")),
    ("mydata", __("Download my data")),
    ("deleteme", __("Delete my data")),
    ("help", __("What this bot can do")),
    ("cancel", __("Cancel the current action")),
]
COORDINATOR_COMMANDS = [
    ("schools", __("Schools awaiting verification")),
    ("teachers", __("Teachers of my municipality")),
    ("myevents", __("Events of my municipality")),
    ("newevent", __("Create an event")),
    ("newsite", __("Create an internship site")),
    ("mysites", __("Internship sites of my municipality")),
    ("template", __("Templates for importing sites and events")),
    ("diagnosis_template", __("Template for importing external diagnoses")),
    ("broadcast", __("A broadcast to teachers")),
    ("broadcasts", __("Past and scheduled broadcasts")),
    ("stats", __("Statistics: indicators, activity, deficits")),
]
ADMIN_COMMANDS = [
    ("grant", __("Grant a role: /grant id role")),
    ("revoke", __("Revoke a role: /revoke id")),
    ("staff", __("Coordinators and admins")),
    ("audit", __("Recent privileged actions")),
    ("invite", __("A one-time link for a new coordinator or school methodist")),
    ("admin", __("Users, roles and system health")),
]


#: a school methodist's: their school's teachers, events, sites and broadcasts (no typed-in
#: schools to check, no imports)
SCHOOL_METHODIST_COMMANDS = [
    ("teachers", __("Teachers of my school")),
    ("myevents", __("Events of my school")),
    ("newevent", __("Create an event")),
    ("newsite", __("Create an internship site")),
    ("mysites", __("Internship sites of my school")),
    ("broadcast", __("A broadcast to teachers")),
]


def commands_for(role: Role, locale: str, i18n: I18n) -> list[BotCommand]:
    entries = list(TEACHER_COMMANDS)
    if role.at_least(Role.COORDINATOR):
        entries += COORDINATOR_COMMANDS
    elif role is Role.SCHOOL_METHODIST:
        entries += SCHOOL_METHODIST_COMMANDS
    if role.at_least(Role.ADMIN):
        entries += ADMIN_COMMANDS
    with i18n.context(), i18n.use_locale(locale):
        return [BotCommand(command=c, description=str(d)) for c, d in entries]


async def set_default_commands(bot: Bot, i18n: I18n, default_locale: str) -> None:
    """Teacher commands for everyone: one list per language, and the default locale's for the rest."""
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(
            commands_for(Role.TEACHER, locale, i18n),
            scope=BotCommandScopeDefault(),
            language_code=locale,
        )
    await bot.set_my_commands(
        commands_for(Role.TEACHER, default_locale, i18n), scope=BotCommandScopeDefault()
    )


async def set_user_commands(bot: Bot, i18n: I18n, chat_id: int, role: Role, locale: str) -> bool:
    """The command list of one privileged user's chat; teachers fall back to the default list."""
    scope = BotCommandScopeChat(chat_id=chat_id)
    try:
        if role is Role.TEACHER:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(commands_for(role, locale, i18n), scope=scope)
    except TelegramAPIError:  # the user never opened the chat or blocked the bot
        return False
    return True
