"""Keyboards of the teacher's event messages that more than one sender builds: the seat offer,
the feedback stars and the way back to an event's card (notices and reminders use them too)."""

from __future__ import annotations

from urllib.parse import quote_plus

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from ui.callbacks.events import EvAct, EvAction, FeedbackCb, OfferCb
from ui.keyboards.common import button


def offer_row(reg_id: int) -> list[InlineKeyboardButton]:
    """✅ Take the seat / ✖️ Decline: a freed seat offered to registration `reg_id`."""
    return [
        button(_("✅ Take the seat"), OfferCb(reg=reg_id, take=True)),
        button(_("✖️ Decline"), OfferCb(reg=reg_id, take=False)),
    ]


def offer_keyboard(reg_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[offer_row(reg_id)])


def feedback_keyboard(reg_id: int) -> InlineKeyboardMarkup:
    """Ratings 1 to 5 after the event."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button("⭐" * n if n < 3 else f"{n} ⭐", FeedbackCb(reg=reg_id, rating=n))
                for n in range(1, 6)
            ]
        ]
    )


def reminder_rows(
    event_id: int, place: str, online_url: str, *, can_cancel: bool
) -> list[list[InlineKeyboardButton]]:
    """Under a reminder: the card, the way there (the link, or the place on a map), cancel the
    registration, add to the calendar."""
    rows: list[list[InlineKeyboardButton]] = [
        [button(_("Open the event"), EvAct(action=EvAction.CARD, event=event_id))]
    ]
    if online_url.startswith(("https://", "http://")):
        rows[0].append(InlineKeyboardButton(text=_("🔗 The link"), url=online_url))
    elif place:
        rows[0].append(
            InlineKeyboardButton(
                text=_("📍 How to get there"),
                url="https://yandex.ru/maps/?text=" + quote_plus(place),
            )
        )
    second = [button(_("📅 Add to calendar"), EvAct(action=EvAction.ICS, event=event_id))]
    if can_cancel:
        second.insert(
            0, button(_("❌ Cancel my registration"), EvAct(action=EvAction.CANCEL, event=event_id))
        )
    rows.append(second)
    return rows
