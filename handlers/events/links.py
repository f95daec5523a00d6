"""Deep links into the teacher's side: an event, an internship site, a check-in code."""

from __future__ import annotations

from datetime import datetime, tzinfo

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.checkin import parse_checkin_payload
from domain.deeplinks import DeepLink
from domain.ids import parse_id
from handlers import deeplinks
from handlers.events.card import card
from handlers.events.checkin import check_in
from handlers.events.common import user_eligible
from handlers.events.site import show_site


async def open_event_link(
    message: Message, repo: Repo, user: User, link: DeepLink, tz: tzinfo, now: datetime
) -> None:
    event_id = parse_id(link.arg)
    event = await repo.events.get(event_id) if event_id else None
    if event is None or not await user_eligible(repo, user, event):
        await message.answer(_("This event is not available to you."))
        return
    await card(message, repo, user, event, tz, now)


async def open_site_link(
    message: Message, repo: Repo, user: User, link: DeepLink, tz: tzinfo, now: datetime
) -> None:
    site_id = parse_id(link.arg)
    if site_id is None:
        await message.answer(_("This internship site is no longer listed."))
        return
    await show_site(message, repo, user, site_id, tz, now)


async def open_checkin_link(
    message: Message, repo: Repo, user: User, link: DeepLink, tz: tzinfo, now: datetime
) -> None:
    parsed = parse_checkin_payload(f"checkin_{link.arg}")
    event = await repo.events.get(parsed[0]) if parsed else None
    if parsed is None or event is None:
        await message.answer(_("This check-in code is not valid."))
        return
    await check_in(message, repo, user, event, parsed[1], now)


deeplinks.register("event", open_event_link)
deeplinks.register("site", open_site_link)
deeplinks.register("checkin", open_checkin_link)
