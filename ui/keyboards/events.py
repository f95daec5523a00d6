"""Keyboards of the teacher's event messages that more than one sender builds: the seat offer,
the feedback stars and the way back to an event's card (notices and reminders use them too)."""

from __future__ import annotations

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


def open_event_keyboard(event_id: int) -> InlineKeyboardMarkup:
    """One button to the event's card (the reminder before an event)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("Open the event"), EvAct(action=EvAction.CARD, event=event_id))]]
    )
