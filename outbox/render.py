"""Notices rendered at send time, in the recipient's language, from what the database holds
then: a reminder shows the event's current place, an offer that was taken meanwhile is not
sent at all (a renderer returns None: the row is cancelled as stale).

Every title, place and typed text is escaped here: payloads and the database hold plain text.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import Event
from db.repo import Repo
from domain.events import EventStatus, RegStatus
from domain.notices import NoticeKind
from domain.profile import Field
from domain.roles import Role
from domain.typography import quoted

# TEMPORARY until ui/ holds them: imported at call time (handlers import this module)


def span_text(starts_at: datetime, ends_at: datetime, tz: ZoneInfo) -> str:
    from handlers.event_admin.rules import when_text as span

    return span(starts_at, ends_at, tz)


def when_text(event: Event, tz: ZoneInfo, now: datetime) -> str:
    from handlers.events.common import when_text as when

    return when(event, tz, now)


def _ev_act(event_id: int) -> CallbackData:
    from handlers.events.callbacks import EvAct

    return EvAct(action="card", event=event_id)


def _offer(reg_id: int, take: bool) -> CallbackData:
    from handlers.events.callbacks import OfferCb

    return OfferCb(reg=reg_id, take=take)


def _feedback(reg_id: int, rating: int) -> CallbackData:
    from handlers.events.callbacks import FeedbackCb

    return FeedbackCb(reg=reg_id, rating=rating)


def _edit_school() -> CallbackData:
    from handlers.profile.callbacks import EditCb

    return EditCb(field=Field.SCHOOL.value)


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class RenderContext:
    repo: Repo
    tz: ZoneInfo
    now: datetime
    #: the recipient's language (`gettext` is already switched to it)
    locale: str


Renderer = Callable[[RenderContext, Mapping[str, Any]], Awaitable[Rendered | None]]


def h(value: object) -> str:
    return html.escape(str(value), quote=False)


def _title(event: Event) -> str:
    return h(quoted(event.title))


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _where(event: Event) -> str:
    return h(" · ".join(part for part in (event.place, event.online_url) if part) or "—")


async def _event(ctx: RenderContext, payload: Mapping[str, Any]) -> Event | None:
    return await ctx.repo.events.get(int(payload["event_id"]))


async def seat_offered(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    reg = await ctx.repo.events.registration_by_id(int(payload["reg_id"]))
    if reg is None or reg.status != RegStatus.OFFERED.value or reg.offer_expires_at is None:
        return None  # taken, declined or lapsed before it could be sent
    if reg.offer_expires_at <= ctx.now:
        return None
    expires = reg.offer_expires_at.astimezone(ctx.tz).strftime("%d.%m %H:%M")
    text = _(
        "🎟 A seat has freed up for {title} ({when})! It is yours if you confirm by {time}."
    ).format(title=_title(reg.event), when=when_text(reg.event, ctx.tz, ctx.now), time=expires)
    return Rendered(
        text,
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(_("✅ Take the seat"), _offer(reg.id, True)),
                    _button(_("✖️ Decline"), _offer(reg.id, False)),
                ]
            ]
        ),
    )


async def offer_expired(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    event = await _event(ctx, payload)
    if event is None:
        return None
    return Rendered(
        _(
            "⌛ The offered seat for {title} was not confirmed in time and went to the next person."
        ).format(title=_title(event))
    )


async def event_changed(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    event = await _event(ctx, payload)
    if event is None or event.status == EventStatus.CANCELLED.value:
        return None  # the cancellation notice says all
    changed = set(payload.get("changed", ()))
    when = span_text(event.starts_at, event.ends_at, ctx.tz)
    lines = [_("✏️ The event {title} has changed.").format(title=_title(event))]
    was_starts, was_ends = payload.get("was_starts_at"), payload.get("was_ends_at")
    moved = was_starts is not None and was_ends is not None
    if moved:
        old = span_text(
            datetime.fromisoformat(str(was_starts)), datetime.fromisoformat(str(was_ends)), ctx.tz
        )
        lines.append(_("🗓 New time: {when} (was {old}).").format(when=when, old=old))
    if {"place", "online_url"} & changed:
        lines.append(_("📍 New place: {place}").format(place=_where(event)))
    if not moved:
        lines.append("🗓 " + when)
    return Rendered("\n".join(lines))


async def event_cancelled(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    event = await _event(ctx, payload)
    if event is None:
        return None
    return Rendered(
        _(
            "🚫 The event {title} ({when}) has been cancelled. We are sorry; "
            "look for other events in the bot."
        ).format(title=_title(event), when=span_text(event.starts_at, event.ends_at, ctx.tz))
    )


async def event_reminder(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    event = await _event(ctx, payload)
    if event is None or event.status != EventStatus.SCHEDULED.value:
        return None
    reg = await ctx.repo.events.registration_by_id(int(payload["reg_id"]))
    if reg is None or reg.status not in (RegStatus.CONFIRMED.value, RegStatus.OFFERED.value):
        return None  # cancelled since the reminder was queued
    text = _("⏰ Reminder: {title}, {when}.").format(
        title=_title(event), when=when_text(event, ctx.tz, ctx.now)
    )
    if event.place:
        text += "\n📍 " + h(event.place)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[_button(_("Open the event"), _ev_act(event.id))]]
    )
    return Rendered(text, markup)


async def feedback_request(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    event = await _event(ctx, payload)
    reg_id = int(payload["reg_id"])
    reg = await ctx.repo.events.registration_by_id(reg_id)
    if event is None or reg is None or reg.feedback_at is not None:
        return None
    text = _("How was {title}? Rate it from 1 to 5: your answer helps the methodists.")
    stars = [_button("⭐" * n if n < 3 else f"{n} ⭐", _feedback(reg_id, n)) for n in range(1, 6)]
    return Rendered(text.format(title=_title(event)), InlineKeyboardMarkup(inline_keyboard=[stars]))


def participants_text(title: str, text: str) -> str:
    """An organiser's text to an event's participants under the event's title, both escaped:
    it arrives exactly as typed (no markup is interpreted)."""
    return f"✉️ <b>{h(title)}</b>:\n\n{h(text)}"


async def participants_message(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    return Rendered(participants_text(str(payload["title"]), str(payload["text"])))


async def route_comment(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    return Rendered(
        _("💬 A methodist commented on your route:\n\n{text}").format(text=h(payload["text"]))
    )


async def route_step_added(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    return Rendered(
        _("➕ A methodist added a step to your route: {title}. See /route").format(
            title=h(payload["title"])
        )
    )


async def school_rejected(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    return Rendered(
        _(
            "🏫 A methodist could not confirm the school {name} you typed in. "
            "Please choose your school again: from the list, or type its full official name."
        ).format(name=h(quoted(str(payload["name"])))),
        InlineKeyboardMarkup(inline_keyboard=[[_button(_("🏫 Choose my school"), _edit_school())]]),
    )


async def role_changed(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    role = Role(payload["role"])
    if role is Role.COORDINATOR:
        municipality = await ctx.repo.reference.municipality(int(payload["municipality_id"]))
        if municipality is None:
            return None
        return Rendered(
            _(
                "You are now a coordinator for {municipality}. Send /help to see your commands."
            ).format(municipality=h(municipality.name(ctx.locale)))
        )
    if role is Role.ADMIN:
        return Rendered(_("You are now an administrator. Send /help to see your commands."))
    return Rendered(_("Your staff role was removed; you keep your teacher profile."))


RENDERERS: dict[NoticeKind, Renderer] = {
    NoticeKind.SEAT_OFFERED: seat_offered,
    NoticeKind.OFFER_EXPIRED: offer_expired,
    NoticeKind.EVENT_CHANGED: event_changed,
    NoticeKind.EVENT_CANCELLED: event_cancelled,
    NoticeKind.EVENT_REMINDER: event_reminder,
    NoticeKind.FEEDBACK_REQUEST: feedback_request,
    NoticeKind.PARTICIPANTS_MESSAGE: participants_message,
    NoticeKind.ROUTE_COMMENT: route_comment,
    NoticeKind.ROUTE_STEP_ADDED: route_step_added,
    NoticeKind.SCHOOL_REJECTED: school_rejected,
    NoticeKind.ROLE_CHANGED: role_changed,
}
