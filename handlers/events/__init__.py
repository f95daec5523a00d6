"""Teachers and events: find (filters, recommendations), sign up or join the waitlist, cancel,
claim a freed seat, add to the calendar, share, check in, leave feedback, /my and /journal.

Capacity and waitlist rules live in `domain.events`, seats change under the per-event lock in
`db.repositories.registrations`; this package only talks to Telegram.

One module per screen: `listing` (/events), `card` (the card, calendar file, share), `signup`
(sign up, cancel, offered seats), `site`, `checkin`, `feedback`, `mine` (/my, /journal), `links`
(deep links); `common` is shared. Callback data is in `ui.callbacks.events`, keyboards in
`ui.keyboards.events`; notices to other teachers go through the outbox (`outbox.render`).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from handlers.events import links as links  # registers the deep links (event, site, checkin)
from handlers.events.card import on_broadcast_event, on_card, on_ics, on_share
from handlers.events.checkin import cmd_checkin
from handlers.events.common import audience_of
from handlers.events.feedback import FeedbackForm, got_feedback_comment, on_feedback
from handlers.events.listing import cmd_events, on_list
from handlers.events.mine import cmd_journal, cmd_my
from handlers.events.signup import on_cancel, on_offer, on_signup
from handlers.events.site import on_site
from handlers.freetext import TypedAnswer
from ui.callbacks.broadcasts import BcOpen
from ui.callbacks.events import EvAct, EvAction, EvList, FeedbackCb, OfferCb
from ui.keyboards.menu import MENU_EVENTS, MENU_MY

__all__ = [
    "FeedbackForm",
    "audience_of",
    "make_router",
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
    router.callback_query.register(on_card, EvAct.filter(F.action == EvAction.CARD), flags=needs)
    router.callback_query.register(on_broadcast_event, BcOpen.filter(), flags=needs)
    router.callback_query.register(
        on_signup, EvAct.filter(F.action.in_({EvAction.SIGNUP, EvAction.JOIN})), flags=needs
    )
    router.callback_query.register(
        on_cancel, EvAct.filter(F.action.in_({EvAction.CANCEL, EvAction.CANCEL_OK})), flags=needs
    )
    router.callback_query.register(on_ics, EvAct.filter(F.action == EvAction.ICS), flags=needs)
    router.callback_query.register(on_share, EvAct.filter(F.action == EvAction.SHARE), flags=needs)
    router.callback_query.register(on_site, EvAct.filter(F.action == EvAction.SITE), flags=needs)
    router.callback_query.register(on_offer, OfferCb.filter(), flags=needs)
    router.callback_query.register(on_feedback, FeedbackCb.filter(), flags=needs)
    router.message.register(got_feedback_comment, FeedbackForm.comment, TypedAnswer(allow={"skip"}))
    return router
