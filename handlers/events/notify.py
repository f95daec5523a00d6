"""Messages to other teachers: a freed seat offered to the first in line."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from core.clock import utcnow
from db.models import Registration
from db.repo import Repo
from domain.typography import quoted
from handlers.common import button, h, notify_user
from handlers.events.callbacks import OfferCb
from handlers.events.common import when_text


async def notify_offer(
    bot: Bot,
    i18n: I18n,
    reg: Registration,
    repo: Repo,
    *,
    tz: ZoneInfo,
    schedule_expiry: bool = True,
    errors: list[TelegramAPIError] | None = None,
) -> bool:
    """Tell the first in line that a seat is theirs to claim; schedule the offer's expiry
    (unless the caller already did: `services.events` and `services.privacy.erase_user`
    schedule it in their own transaction). False when the message could not be delivered
    (the failure goes into `errors`)."""
    assert reg.offer_expires_at is not None
    if schedule_expiry:
        await repo.jobs.schedule("offer_expire", reg.offer_expires_at, reg_id=reg.id)
    full = await repo.events.registration_by_id(reg.id)
    assert full is not None

    def render() -> tuple[str, InlineKeyboardMarkup]:
        expires = (
            reg.offer_expires_at.astimezone(tz).strftime("%d.%m %H:%M")
            if reg.offer_expires_at
            else ""
        )
        text = _(
            "🎟 A seat has freed up for {title} ({when})! It is yours if you confirm by {time}."
        ).format(
            title=h(quoted(full.event.title)),
            when=when_text(full.event, tz, utcnow()),
            time=expires,
        )
        return text, InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    button(_("✅ Take the seat"), OfferCb(reg=reg.id, take=True)),
                    button(_("✖️ Decline"), OfferCb(reg=reg.id, take=False)),
                ]
            ]
        )

    return await notify_user(bot, i18n, full.user, render, errors=errors)
