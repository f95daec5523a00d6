"""Keyboards of /settings: the screen, the time zones, the quiet-hour choices, and the way to
/settings under the "reminders are off" message."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from domain.reminders import QUIET_CHOICES, ZONES, Category, parse_quiet
from ui.callbacks.menu import SettingsAction, SettingsCb
from ui.callbacks.settings import SetAction, SetCb
from ui.keyboards.common import button, rows

#: what a quiet-hours choice of "" (none) is called in callback data
QUIET_OFF = "off"


def category_name(category: Category) -> str:
    return {
        Category.EVENTS: _("Events"),
        Category.ROUTE: _("Route"),
        Category.ASSESSMENT: _("Self-assessment"),
        Category.NEWS: _("News"),
        Category.AGENDA: _("Agenda"),
    }[category]


def quiet_value(code: str) -> str:
    """A quiet-hours choice in callback data (":" separates its fields): "2100-0800", "off"."""
    return code.replace(":", "") if code else QUIET_OFF


def quiet_code(value: str) -> str | None:
    """The offered choice a callback value stands for; None for anything else."""
    return next((code for code in QUIET_CHOICES if quiet_value(code) == value), None)


def quiet_label(code: str) -> str:
    quiet = parse_quiet(code)
    return quiet.text() if quiet is not None else _("Off")


def _mark(on: bool) -> str:
    return "✅ " if on else ""


def settings_keyboard(
    categories: Sequence[Category], muted: Collection[Category], *, consented: bool = True
) -> InlineKeyboardMarkup:
    """A switch per category (✅ on, 🔕 off), time zone and quiet hours, then the general rows."""
    toggles = [
        button(
            ("🔕 " if category in muted else "✅ ") + category_name(category),
            SetCb(action=SetAction.TOGGLE, value=category.value),
        )
        for category in categories
    ]
    keyboard: list[list[InlineKeyboardButton]] = [
        *rows(toggles, 2),
        [
            button(_("🕐 Change time zone"), SetCb(action=SetAction.ZONES)),
            button(_("🌙 Quiet hours"), SetCb(action=SetAction.QUIETS)),
        ],
    ]
    keyboard += general_rows(consented=consented)
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


def general_rows(*, consented: bool) -> list[list[InlineKeyboardButton]]:
    """Language, the policy, and (with consent) the personal data."""
    keyboard = [
        [
            button(_("🌐 Language"), SettingsCb(action=SettingsAction.LANGUAGE)),
            button(_("📄 Personal data policy"), SettingsCb(action=SettingsAction.PRIVACY)),
        ]
    ]
    if consented:
        keyboard.append(
            [
                button(_("📦 Download my data"), SettingsCb(action=SettingsAction.MYDATA)),
                button(_("🗑 Delete my data"), SettingsCb(action=SettingsAction.DELETE)),
            ]
        )
    return keyboard


def _back() -> list[InlineKeyboardButton]:
    return [button(_("⬅️ Back"), SetCb(action=SetAction.HOME))]


def zones_keyboard(current: str, locale: str) -> InlineKeyboardMarkup:
    """Russia's eleven zones by city, two per row, the current one marked."""
    zones = [
        button(_mark(z.key == current) + z.label(locale), SetCb(action=SetAction.ZONE, value=z.key))
        for z in ZONES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*rows(zones, 2), _back()])


def quiets_keyboard(current: str) -> InlineKeyboardMarkup:
    """The quiet-hour choices ("Off" last), the current one marked."""
    choices = [
        button(
            _mark(code == current) + quiet_label(code),
            SetCb(action=SetAction.QUIET, value=quiet_value(code)),
        )
        for code in QUIET_CHOICES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*rows(choices, 2), _back()])


def to_settings_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("⚙️ Settings"), SetCb(action=SetAction.HOME))]]
    )
