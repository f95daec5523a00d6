"""Sign up or join the waitlist, cancel, take or decline an offered seat."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from db.repositories.events import facts_of
from db.repositories.registrations import SignUp
from domain.events import Decision, Refusal, RegStatus, can_cancel, cancel_too_late
from domain.typography import quoted
from handlers.common import show
from handlers.events.card import card
from handlers.events.common import own_event
from services import registrations
from services.registrations import CancelRefusal, OfferOutcome
from ui.callbacks.events import EvAct, EvAction, OfferCb
from ui.formatting import cancel_rule_text, h, when_text
from ui.keyboards.common import button


async def on_signup(
    query: CallbackQuery,
    callback_data: EvAct,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    """First a confirmation, then the sign-up itself (double taps are harmless)."""
    now = clock.now()
    db_user = await repo.users.require(user.id)
    event = await own_event(query, repo, db_user, callback_data.event)
    if event is None:
        return
    if callback_data.action == EvAction.SIGNUP:
        await show(
            query,
            _("Sign up for {title} on {when}?").format(
                title=h(quoted(event.title)),
                when=when_text(event.starts_at, event.ends_at, tz, now),
            ),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        button(
                            _("✅ Yes, sign me up"), EvAct(action=EvAction.JOIN, event=event.id)
                        ),
                        button(_("⬅️ No"), EvAct(action=EvAction.CARD, event=event.id)),
                    ]
                ]
            ),
        )
        return
    result = await registrations.sign_up(repo, event.id, db_user.id, now)
    await card(query, repo, db_user, event, tz, now, answer=False)
    await query.answer(_signup_message(result), show_alert=True)


def _signup_message(result: SignUp) -> str:
    if result.outcome is Decision.CONFIRM:
        return (
            _("You are already registered.")
            if result.repeated
            else _("✅ You are registered! Add the event to your calendar with the button below.")
        )
    if result.outcome is Decision.WAITLIST:
        return _(
            "🕒 No seats left: you are number {n} on the waitlist. I will write as soon as a seat frees up."
        ).format(n=result.position or "?")
    return {
        Refusal.CANCELLED: _("This event has been cancelled."),
        Refusal.STARTED: _("This event has already started."),
        Refusal.DEADLINE: _("Registration for this event is closed."),
        Refusal.NOT_ELIGIBLE: _("This event is not available to you."),
    }[Refusal(result.outcome)]


async def on_cancel(
    query: CallbackQuery,
    callback_data: EvAct,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    db_user = await repo.users.require(user.id)
    event = await repo.events.get(callback_data.event)
    reg = await repo.events.registration(callback_data.event, db_user.id) if event else None
    now = clock.now()
    if event is None or reg is None or not can_cancel(facts_of(event), RegStatus(reg.status), now):
        late = (
            event is not None
            and reg is not None
            and cancel_too_late(facts_of(event), RegStatus(reg.status), now)
        )
        await _cancel_refused(query, late=late)
        return
    if callback_data.action == EvAction.CANCEL:
        await show(
            query,
            _(
                "Cancel your registration for {title}? Your seat will go to the next person in line."
            ).format(title=h(quoted(event.title))),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        button(
                            _("✅ Yes, cancel"), EvAct(action=EvAction.CANCEL_OK, event=event.id)
                        ),
                        button(_("⬅️ No"), EvAct(action=EvAction.CARD, event=event.id)),
                    ]
                ]
            ),
        )
        return
    done = await registrations.cancel_registration(repo, event.id, db_user, now)
    if isinstance(done, CancelRefusal):  # changed meanwhile (a double tap, the organiser)
        await _cancel_refused(query, late=done is CancelRefusal.TOO_LATE)
        return
    await card(query, repo, db_user, event, tz, now, answer=False)
    await query.answer(_("Your registration is cancelled."), show_alert=True)


async def _cancel_refused(query: CallbackQuery, *, late: bool) -> None:
    await query.answer(
        (cancel_rule_text() + " " + _("Please contact the organiser."))
        if late
        else _("This registration can no longer be cancelled here. Please contact the organiser."),
        show_alert=True,
    )


async def on_offer(
    query: CallbackQuery,
    callback_data: OfferCb,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    now = clock.now()
    if callback_data.take:
        outcome = await registrations.take_offer(repo, callback_data.reg, user.id, now)
    else:
        outcome = await registrations.decline_offer(repo, callback_data.reg, user.id, now)
    popup = {
        OfferOutcome.TAKEN: _("✅ The seat is yours! See you at the event."),
        OfferOutcome.DECLINED: _("Understood. The seat goes to the next person in line."),
        OfferOutcome.EXPIRED: _("Sorry, this offer has expired."),
        OfferOutcome.EVENT_CANCELLED: _("Sorry, this event has been cancelled."),
        OfferOutcome.EVENT_OVER: _("Sorry, this event has already started or taken place."),
        OfferOutcome.NOT_YOURS: _("This button is out of date."),
    }[outcome]
    reg = await repo.events.registration_by_id(callback_data.reg)
    if reg is None or outcome in (
        OfferOutcome.NOT_YOURS,
        OfferOutcome.EVENT_OVER,
        OfferOutcome.EVENT_CANCELLED,
    ):
        await query.answer(popup, show_alert=True)
        return
    db_user = await repo.users.require(user.id)
    await card(query, repo, db_user, reg.event, tz, now, answer=False)
    await query.answer(popup, show_alert=True)
