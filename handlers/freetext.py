"""Free-text answers (evidence, reflection, comments, typed names) never swallow a command.

A handler that waits for typed text registers `TypedAnswer()` after its state filter. When
the user sends a command (`/route`) or taps a main-menu button instead of answering, the
filter ends the waiting state and fails, so the message goes on to the handler of that
command or button; the half-typed answer is dropped, nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from ui.keyboards.menu import (
    MENU_ASSESS,
    MENU_EVENTS,
    MENU_HELP,
    MENU_MY,
    MENU_PROFILE,
    MENU_ROUTE,
    MENU_SETTINGS,
    MENU_STAFF,
    MENU_STATS,
)

MENU_ENTRIES = (
    MENU_ASSESS,
    MENU_ROUTE,
    MENU_EVENTS,
    MENU_MY,
    MENU_PROFILE,
    MENU_SETTINGS,
    MENU_HELP,
    MENU_STAFF,
    MENU_STATS,
)
#: `/cmd`, `/cmd@bot`, `/cmd args`; "/home/user/file" is not a command
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?(\s|$)")


def command_name(text: str) -> str | None:
    """`/Route@bot 5` → "route"; None when the text is not a command."""
    match = _COMMAND.match(text.strip())
    return match.group(0).strip()[1:].split("@")[0].lower() if match else None


def menu_texts(i18n: I18n) -> frozenset[str]:
    """Main-menu button texts in every language (a keyboard can outlive a language switch)."""
    texts: set[str] = set()
    for locale in {*i18n.available_locales, i18n.default_locale}:
        with i18n.use_locale(locale):
            texts.update(str(entry) for entry in MENU_ENTRIES)
    return frozenset(texts)


def leaves_state(message: Message, i18n: I18n | None, allow: frozenset[str] = frozenset()) -> bool:
    """A command (other than those in `allow`) or a main-menu button: the user is going
    elsewhere, not answering."""
    text = (message.text or "").strip()
    if not text:
        return False
    command = command_name(text)
    if command is not None:
        return command not in allow
    return i18n is not None and text in menu_texts(i18n)


class TypedAnswer(Filter):
    """Passes typed answers (and photos, documents); a command or a menu button ends the
    waiting state instead and is left to its own handler. `allow` names commands that are
    answers of this prompt (e.g. "skip")."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allow = frozenset(a.lower() for a in allow)

    async def __call__(self, message: Message, **data: Any) -> bool:
        if not leaves_state(message, data.get("i18n"), self.allow):
            return True
        state: FSMContext | None = data.get("state")
        if state is not None:
            await state.clear()
        return False
