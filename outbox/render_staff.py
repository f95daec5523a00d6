"""The coordinator's morning agenda and day-after summary, rendered when they are due.

Planned by `services.agenda` as one row per coordinator per local day (`payload["day"]`); the
day's events are read now, in the recipient's zone (`RenderContext.tz`): an event moved to
another day or cancelled since the row was planned is left out, and a day with nothing left
renders None (the row is cancelled unsent). Counts come from one aggregate query per message
(`RegistrationRepo.organiser_day`, `organiser_tally`).

These messages never break quiet hours (`Rendered.about` stays None): they are deferred to the
end of the recipient's quiet period like any reminder.

`outbox.render` imports this module for its `RENDERERS`; the `Rendered` type is imported
from it when a message is built (not at import time, which would be circular).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import Event
from domain.events import EventStatus
from outbox.rendered import RenderContext, Rendered
from services.agenda import day_bounds
from ui.callbacks.event_admin import EventAdminAction, EventAdminCb
from ui.formatting import date_text, h, hours_text
from ui.keyboards.common import button

__all__ = ["average_text", "staff_agenda", "staff_summary"]


def _rendered(text: str, rows: list[list[InlineKeyboardButton]]) -> Rendered:
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


def _day(payload: Mapping[str, Any]) -> date:
    return date.fromisoformat(str(payload["day"]))


def average_text(total: int, count: int, locale: str) -> str:
    """The average rating with one decimal, rounded half up (17/4 → "4.3"; "4,3" in
    Russian); "—" without ratings."""
    if count <= 0:
        return "—"
    value = (Decimal(total) / Decimal(count)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = str(value)
    return text.replace(".", ",") if locale == "ru" else text


def _where(event: Event) -> list[str]:
    lines = []
    if event.place:
        lines.append("📍 " + h(event.place))
    if event.online_url:
        lines.append("🔗 " + h(event.online_url))
    return lines


async def staff_agenda(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    """ "Your events today": each event of the recipient's day, its hours, place, seats and
    waitlist, with a button to its check-in QR and one to its card."""
    day = _day(payload)
    if ctx.user_id is None or ctx.now.astimezone(ctx.tz).date() > day:
        return None  # an agenda for a day that has passed tells nothing
    since, until = day_bounds(day, ctx.tz)
    events = await ctx.repo.events.organiser_day(ctx.user_id, since, until)
    if not events:
        return None  # moved to another day or cancelled since the row was planned
    blocks = [_("📋 <b>Your events today, {date}</b>").format(date=date_text(day))]
    rows: list[list[InlineKeyboardButton]] = []
    for n, item in enumerate(events, start=1):
        event = item.event
        lines = [
            f"{n}. {hours_text(event.starts_at, event.ends_at, ctx.tz)} · <b>{h(event.title)}</b>",
            *_where(event),
            _("🪑 Seats taken: {taken} of {capacity} · waitlist: {waiting}").format(
                taken=item.seats_taken, capacity=event.capacity, waiting=item.waitlist
            ),
        ]
        blocks.append("\n".join(lines))
        row = []
        if event.status == EventStatus.SCHEDULED.value:  # an event that is over has no check-in
            row.append(
                button(
                    f"{n}. " + _("🔳 Check-in QR"),
                    EventAdminCb(action=EventAdminAction.QR, event=event.id),
                )
            )
        row.append(
            button(
                f"{n}. " + _("🗂 Event card"),
                EventAdminCb(action=EventAdminAction.OPEN, event=event.id),
            )
        )
        rows.append(row)
    return _rendered("\n\n".join(blocks), rows)


async def staff_summary(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    """ "Yesterday": each event of the recipient's day that took place (not cancelled), who
    attended, the no-shows, the feedback and its average, and the day's total."""
    day = _day(payload)
    if ctx.user_id is None:
        return None
    since, until = day_bounds(day, ctx.tz)
    tallies = await ctx.repo.events.organiser_tally(ctx.user_id, since, until)
    if not tallies:
        return None  # every event of the day was cancelled or moved
    yesterday = (ctx.now.astimezone(ctx.tz).date() - day).days == 1
    header = _("📊 <b>Yesterday, {date}</b>") if yesterday else _("📊 <b>Your events of {date}</b>")
    blocks = [header.format(date=date_text(day))]
    for n, tally in enumerate(tallies, start=1):
        event = tally.event
        feedback = (
            _("⭐ Feedback: {n}, average {average}").format(
                n=tally.feedback, average=average_text(tally.rating_sum, tally.feedback, ctx.locale)
            )
            if tally.feedback
            else _("⭐ No feedback yet")
        )
        blocks.append(
            "\n".join(
                (
                    f"{n}. {hours_text(event.starts_at, event.ends_at, ctx.tz)} · "
                    f"<b>{h(event.title)}</b>",
                    _("✅ Attended: {attended} · no-shows: {no_shows}").format(
                        attended=tally.attended, no_shows=tally.no_shows
                    ),
                    feedback,
                )
            )
        )
    feedback_n = sum(t.feedback for t in tallies)
    blocks.append(
        _(
            "<b>In all:</b> attended {attended}, no-shows {no_shows}, "
            "feedback {feedback}, average {average}"
        ).format(
            attended=sum(t.attended for t in tallies),
            no_shows=sum(t.no_shows for t in tallies),
            feedback=feedback_n,
            average=average_text(sum(t.rating_sum for t in tallies), feedback_n, ctx.locale),
        )
    )
    return _rendered("\n\n".join(blocks), [])
