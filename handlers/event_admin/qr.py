"""The check-in QR code and poster of an event."""

from __future__ import annotations

import asyncio
from datetime import tzinfo

from aiogram import Bot
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
)
from aiogram.utils.i18n import gettext as _

from db.models import Event
from domain.checkin import checkin_payload
from ui.files.qr import checkin_poster, checkin_poster_pdf, qr_png
from ui.formatting import h, when_text


async def _qr(query: CallbackQuery, event: Event, bot: Bot, tz: tzinfo) -> None:
    username = (await bot.me()).username or ""
    link = f"https://t.me/{username}?start=" + checkin_payload(event.id, event.checkin_code)
    png = qr_png(link)
    await query.answer()
    assert query.message is not None
    when = when_text(event.starts_at, event.ends_at, tz)
    poster = checkin_poster(
        event.title, when, event.place or event.online_url, event.checkin_code, link
    )
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(
            await asyncio.to_thread(checkin_poster_pdf, poster), f"checkin-{event.id}.pdf"
        ),
        caption=_("🖨 The check-in poster to print (A4)."),
    )
    spaced = " ".join(event.checkin_code)
    await bot.send_photo(
        query.message.chat.id,
        BufferedInputFile(png, filename=f"checkin-{event.id}.png"),
        caption=_(
            "🔳 Check-in · <b>{title}</b>\n\n"
            "Participants scan this code with the phone camera, or send\n"
            "<code>/checkin {code}</code>\n\nCode: <b>{spaced}</b>"
        ).format(title=h(event.title), code=h(event.checkin_code), spaced=h(spaced)),
    )
