"""Routing of `/start <payload>` deep links once onboarding is over.

Feature modules register a handler for their payload kind (`event_12` → kind "event");
payloads nobody handles are ignored politely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.deeplinks import DeepLink, parse_payload

LinkHandler = Callable[[Message, Repo, User, DeepLink, tzinfo, datetime], Awaitable[None]]
HANDLERS: dict[str, LinkHandler] = {}


def register(kind: str, handler: LinkHandler) -> None:
    HANDLERS[kind] = handler


async def route_payload(
    message: Message, repo: Repo, user: User, tz: tzinfo, now: datetime
) -> None:
    """Open what the pending deep link points at (once), then forget it; `now` is the
    moment the link is opened at (the handler's clock), `tz` the user's zone."""
    raw = user.pending_payload
    if not raw:
        return
    await repo.users.set_fields(user, pending_payload=None)
    link = parse_payload(raw)
    handler = HANDLERS.get(link.kind) if link else None
    if link is None or handler is None:
        await message.answer(
            _("I do not recognise the link you came with, so I opened the main menu instead.")
        )
        return
    await handler(message, repo, user, link, tz, now)
