"""The main menu: the reply keyboard under the input field, and the labels its buttons send
(the feature routers match the labels)."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from domain.roles import Role

# Main menu (reply keyboard). Later features append their entries here, in order.
MENU_ASSESS = __("📝 Self-assessment")
MENU_ROUTE = __("🧭 My route")
MENU_EVENTS = __("📅 Events")
MENU_MY = __("🎟 My registrations")
MENU_PROFILE = __("👤 My profile")
MENU_SETTINGS = __("⚙️ Settings")
MENU_HELP = __("❓ Help")
MENU_STAFF = __("🗂 Coordinator tools")


def main_menu(role: Role) -> ReplyKeyboardMarkup:
    keyboard = [
        [KeyboardButton(text=str(MENU_ASSESS)), KeyboardButton(text=str(MENU_ROUTE))],
        [KeyboardButton(text=str(MENU_EVENTS)), KeyboardButton(text=str(MENU_MY))],
        [KeyboardButton(text=str(MENU_PROFILE)), KeyboardButton(text=str(MENU_SETTINGS))],
        [KeyboardButton(text=str(MENU_HELP))],
    ]
    if role.at_least(Role.SCHOOL_METHODIST):
        keyboard[3].append(KeyboardButton(text=str(MENU_STAFF)))
    return ReplyKeyboardMarkup(
        keyboard=keyboard,
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=_("Choose a section below"),
    )
