"""Teachers and events: find (filters, recommendations), sign up or join the waitlist, cancel,
claim a freed seat, add to the calendar, share, check in, leave feedback, /my and /journal.

Capacity and waitlist rules live in `domain.events`, seats change under the per-event lock in
`db.repositories.registrations`; this package only talks to Telegram.

One module per screen: `listing` (/events), `card` (the card, calendar file, share), `signup`
(sign up, cancel, offered seats), `site`, `checkin`, `feedback`, `mine` (/my, /journal), `links`
(deep links), `notify` (messages to other teachers); `callbacks` and `common` are shared.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from handlers.common import MENU_EVENTS, MENU_MY
from handlers.events import links as links  # registers the deep links (event, site, checkin)
from handlers.events.callbacks import EvAct, EvList, FeedbackCb, OfferCb
from handlers.events.card import on_card, on_ics, on_share
from handlers.events.checkin import cmd_checkin
from handlers.events.common import audience_of, day_label, kind_label, when_text
from handlers.events.feedback import (
    FeedbackForm,
    feedback_keyboard,
    got_feedback_comment,
    on_feedback,
)
from handlers.events.listing import cmd_events, on_list
from handlers.events.mine import cmd_journal, cmd_my
from handlers.events.signup import on_cancel, on_offer, on_signup
from handlers.events.site import on_site
from handlers.freetext import TypedAnswer

__all__ = [
    "EvAct",
    "EvList",
    "FeedbackCb",
    "FeedbackForm",
    "OfferCb",
    "audience_of",
    "day_label",
    "feedback_keyboard",
    "kind_label",
    "make_router",
    "when_text",
]


def make_router() -> Router:
    router = Router(name="events")
    needs = {"needs": "profile"}
    router.message.register(cmd_events, Command("events"), flags=needs)
    router.message.register(cmd_events, F.text == MENU_EVENTS, flags=needs)
    router.message.register(cmd_my, Command("my"), flags=needs)
    router.message.register(cmd_my, F.text == MENU_MY, flags=needs)
    router.message.register(cmd_journal, Command("journal"), flags={**needs, "cost": 3})
    router.message.register(cmd_checkin, Command("checkin"), flags=needs)
    router.callback_query.register(on_list, EvList.filter(), flags=needs)
    router.callback_query.register(on_card, EvAct.filter(F.action == "card"), flags=needs)
    router.callback_query.register(
        on_signup, EvAct.filter(F.action.in_({"signup", "join"})), flags=needs
    )
    router.callback_query.register(
        on_cancel, EvAct.filter(F.action.in_({"cancel", "cancelok"})), flags=needs
    )
    router.callback_query.register(on_ics, EvAct.filter(F.action == "ics"), flags=needs)
    router.callback_query.register(on_share, EvAct.filter(F.action == "share"), flags=needs)
    router.callback_query.register(on_site, EvAct.filter(F.action == "site"), flags=needs)
    router.callback_query.register(on_offer, OfferCb.filter(), flags=needs)
    router.callback_query.register(on_feedback, FeedbackCb.filter(), flags=needs)
    router.message.register(got_feedback_comment, FeedbackForm.comment, TypedAnswer(allow={"skip"}))
    return router
