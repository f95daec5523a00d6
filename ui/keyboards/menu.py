"""The main menu: the reply keyboard under the input field, and the labels its buttons send
(the feature routers match the labels)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from domain.roles import Role
from ui.callbacks.broadcasts import BcMenu, BcMenuAction
from ui.keyboards.common import button

# Main menu (reply keyboard). Later features append their entries here, in order.
MENU_ASSESS = __("📝 Self-assessment")
MENU_ROUTE = __("🧭 My route")
MENU_EVENTS = __("📅 Events")
MENU_MY = __("🎟 My registrations")
MENU_PROFILE = __("👤 My profile")
MENU_SETTINGS = __("⚙️ Settings")
MENU_HELP = __("❓ Help")
MENU_STAFF = __("🗂 Coordinator tools")
MENU_STATS = __("📊 Statistics")


def current_locale() -> str | None:
    """The locale of the update being handled (None outside one)."""
    try:
        return get_i18n().current_locale
    except LookupError:
        return None


#: the main menu per (locale, staff): its labels never change while the bot runs
_MENUS: dict[tuple[str, bool], ReplyKeyboardMarkup] = {}


def main_menu(role: Role) -> ReplyKeyboardMarkup:
    """The reply keyboard for `role`, built once per language (do not modify the result)."""
    staff = role.at_least(Role.SCHOOL_METHODIST)
    locale = current_locale()
    menu = _MENUS.get((locale, staff)) if locale is not None else None
    if menu is None:
        menu = _build_menu(staff)
        if locale is not None:
            _MENUS[(locale, staff)] = menu
    return menu


def _build_menu(staff: bool) -> ReplyKeyboardMarkup:
    keyboard = [
        [KeyboardButton(text=str(MENU_ASSESS)), KeyboardButton(text=str(MENU_ROUTE))],
        [KeyboardButton(text=str(MENU_EVENTS)), KeyboardButton(text=str(MENU_MY))],
        [KeyboardButton(text=str(MENU_PROFILE)), KeyboardButton(text=str(MENU_SETTINGS))],
        [KeyboardButton(text=str(MENU_HELP))],
    ]
    if staff:
        keyboard[3].append(KeyboardButton(text=str(MENU_STAFF)))
        keyboard[3].append(KeyboardButton(text=str(MENU_STATS)))
    return ReplyKeyboardMarkup(
        keyboard=keyboard,
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=_("Choose a section below"),
    )


def staff_tools_markup() -> InlineKeyboardMarkup:
    """The inline buttons under the coordinator's tools (the "🗂 Coordinator tools" answer):
    a new broadcast (the `/broadcast` wizard) and the history (`/broadcasts`)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(_("📣 Broadcast"), BcMenu(action=BcMenuAction.NEW)),
                button(_("📜 Broadcasts"), BcMenu(action=BcMenuAction.HISTORY)),
            ]
        ]
    )
