"""/my (my registrations) and /journal (attended events with hours, also as a table)."""

from __future__ import annotations

import io
from datetime import tzinfo

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from domain.events import EventStatus, RegStatus, hours
from domain.typography import format_number, shorten
from handlers.formatting import show_long
from ui.callbacks.events import EvAct, EvAction
from ui.files.tables import csv_writer
from ui.formatting import date_text, day_label, h, moment_text, split_html, start_text
from ui.keyboards.common import button
from ui.texts import kind_label


async def cmd_my(message: Message, repo: Repo, user: UserContext, tz: tzinfo, clock: Clock) -> None:
    regs = await repo.events.of_user(user.id)
    if not regs:
        await message.answer(_("You have no registrations yet. Find an event: /events"))
        return
    now = clock.now()
    cancelled = [r for r in regs if r.event.status == EventStatus.CANCELLED.value]
    live = [r for r in regs if r.event.status != EventStatus.CANCELLED.value]
    upcoming = [r for r in live if r.event.ends_at > now]
    past = [r for r in live if r.event.ends_at <= now]
    labels = {
        RegStatus.CONFIRMED.value: _("registered"),
        RegStatus.WAITLISTED.value: _("waitlist"),
        RegStatus.OFFERED.value: _("seat offered"),
        RegStatus.ATTENDED.value: _("attended"),
    }
    lines = [_("🎟 <b>My registrations</b>")]
    rows = []
    if upcoming:
        lines += ["", "<b>" + _("Upcoming") + "</b>"]
        for r in upcoming:
            lines.append(
                f"{start_text(r.event.starts_at, tz, now)} · {h(r.event.title)} — {labels.get(r.status, r.status)}"
            )
            rows.append(
                [
                    button(
                        shorten(f"{day_label(r.event.starts_at, tz, now)} · {r.event.title}", 60),
                        EvAct(action=EvAction.CARD, event=r.event_id),
                    )
                ]
            )
    if cancelled:
        lines += ["", "<b>" + _("Cancelled by the organisers") + "</b>"]
        lines += [
            f"🚫 {moment_text(r.event.starts_at, tz)} · {h(r.event.title)}" for r in cancelled[-10:]
        ]
    if past:
        lines += ["", "<b>" + _("Past") + "</b>"]
        lines += [
            f"{moment_text(r.event.starts_at, tz)} · {h(r.event.title)} — {labels.get(r.status, r.status)}"
            for r in past[-10:]
        ]
    await show_long(message, lines, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


async def cmd_journal(
    message: Message, repo: Repo, user: UserContext, tz: tzinfo, bot: Bot
) -> None:
    """The journal of continuous professional growth: attended events with hours."""
    attended = await repo.events.attended(user.id)
    if not attended:
        await message.answer(
            _("Your journal is empty for now: attended events appear here after check-in.")
        )
        return
    total = sum(hours(r.event.starts_at, r.event.ends_at) for r in attended)
    locale = get_i18n().current_locale
    lines = [
        _("📒 <b>Journal of professional growth</b>: {n} h in all").format(
            n=format_number(total, locale)
        )
    ]
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow([_("Date"), _("Event"), _("Kind"), _("Hours")])
    for r in attended:
        e = r.event
        when = date_text(e.starts_at, tz)
        lines.append(
            f"{when} · {h(e.title)} · {h(kind_label(e.kind))} · "
            + f"{format_number(hours(e.starts_at, e.ends_at), locale)} "
            + _("h")
        )
        writer.writerow(
            [
                when,
                e.title,
                kind_label(e.kind),
                format_number(hours(e.starts_at, e.ends_at), locale),
            ]
        )
    for chunk in split_html(lines):
        await message.answer(chunk)
    await bot.send_document(
        message.chat.id,
        BufferedInputFile(("\ufeff" + buffer.getvalue()).encode("utf-8"), filename="journal.csv"),
        caption=_("📒 The journal as a table (opens in Excel)."),
    )
