"""What a renderer gets and gives (`outbox.render` and its companions import it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from db.repo import Repo


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None
    #: the start of the event the message is about: one starting soon breaks quiet hours
    about: datetime | None = None
    #: (chat id, message id): send a copy of that message (a broadcast) instead of `text`
    copy_of: tuple[int, int] | None = None
    #: (chat id, message id): edit that message to `text` instead of sending a new one
    edit_of: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class RenderContext:
    repo: Repo
    tz: tzinfo
    now: datetime
    #: the recipient's language (`gettext` is already switched to it)
    locale: str
    #: the recipient (`users.id`): whose agenda, whose summary
    user_id: int | None = None


Renderer = Callable[[RenderContext, Mapping[str, Any]], Awaitable[Rendered | None]]


__all__ = ["RenderContext", "Rendered", "Renderer"]
