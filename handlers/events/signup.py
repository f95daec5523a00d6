"""Sign up or join the waitlist, cancel, take or decline an offered seat."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.settings import Settings
from core.usercache import UserContext
from db.event_repo import SignUp, facts_of
from db.repo import Repo
from domain.events import Decision, EventStatus, Refusal, RegStatus, can_cancel, cancel_too_late
from domain.typography import quoted
from handlers.common import button, h, show
from handlers.events.callbacks import EvAct, OfferCb
from handlers.events.card import card
from handlers.events.common import cancel_rule_text, own_event, when_text
from handlers.events.notify import notify_offer


async def on_signup(
    query: CallbackQuery,
    callback_data: EvAct,
    repo: Repo,
    user: UserContext,
    settings: Settings,
    clock: Clock,
) -> None:
    """First a confirmation, then the sign-up itself (double taps are harmless)."""
    now = clock.now()
    db_user = await repo.users.require(user.id)
    event = await own_event(query, repo, db_user, callback_data.event)
    if event is None:
        return
    if callback_data.action == "signup":
        await show(
            query,
            _("Sign up for {title} on {when}?").format(
                title=h(quoted(event.title)), when=when_text(event, settings.tz, now)
            ),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        button(_("✅ Yes, sign me up"), EvAct(action="join", event=event.id)),
                        button(_("⬅️ No"), EvAct(action="card", event=event.id)),
                    ]
                ]
            ),
        )
        return
    result = await repo.events.sign_up(event.id, db_user.id, now, eligible=True)
    await card(query, repo, db_user, event, settings, now, answer=False)
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
    settings: Settings,
    bot: Bot,
    i18n: I18n,
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
        await query.answer(
            (cancel_rule_text() + " " + _("Please contact the organiser."))
            if late
            else _(
                "This registration can no longer be cancelled here. Please contact the organiser."
            ),
            show_alert=True,
        )
        return
    if callback_data.action == "cancel":
        await show(
            query,
            _(
                "Cancel your registration for {title}? Your seat will go to the next person in line."
            ).format(title=h(quoted(event.title))),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        button(_("✅ Yes, cancel"), EvAct(action="cancelok", event=event.id)),
                        button(_("⬅️ No"), EvAct(action="card", event=event.id)),
                    ]
                ]
            ),
        )
        return
    held_seat = RegStatus(reg.status).holds_seat
    await repo.events.cancel(reg)
    await repo.audit.record("registration_cancelled", actor=db_user, event_id=event.id)
    if held_seat:
        for offered in await repo.events.promote(event.id, now):
            await notify_offer(bot, i18n, offered, repo, tz=settings.tz)
    await card(query, repo, db_user, event, settings, now, answer=False)
    await query.answer(_("Your registration is cancelled."), show_alert=True)


async def on_offer(
    query: CallbackQuery,
    callback_data: OfferCb,
    repo: Repo,
    user: UserContext,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
    clock: Clock,
) -> None:
    reg = await repo.events.registration_by_id(callback_data.reg)
    if reg is None or reg.user_id != user.id:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    now = clock.now()
    event = await repo.events.get(reg.event_id)
    assert event is not None
    if event.status != EventStatus.SCHEDULED.value or event.starts_at <= now:
        await query.answer(
            _("Sorry, this event has been cancelled.")
            if event.status == EventStatus.CANCELLED.value
            else _("Sorry, this event has already started or taken place."),
            show_alert=True,
        )
        return
    if callback_data.take:
        # the lock re-checks the event and the offer: a cancellation may land meanwhile
        taken = await repo.events.claim(reg, now)
        if taken:
            popup = _("✅ The seat is yours! See you at the event.")
        elif event.status == EventStatus.CANCELLED.value:
            popup = _("Sorry, this event has been cancelled.")
        else:
            popup = _("Sorry, this offer has expired.")
    else:
        if reg.status == RegStatus.OFFERED.value:
            await repo.events.cancel(reg)
            for offered in await repo.events.promote(reg.event_id, now):
                await notify_offer(bot, i18n, offered, repo, tz=settings.tz)
        popup = _("Understood. The seat goes to the next person in line.")
    db_user = await repo.users.require(user.id)
    await card(query, repo, db_user, event, settings, now, answer=False)
    await query.answer(popup, show_alert=True)
