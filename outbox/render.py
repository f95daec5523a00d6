"""Notices rendered at send time, in the recipient's language, from what the database holds
then: a reminder shows the event's current place, an offer that was taken meanwhile is not
sent at all (a renderer returns None: the row is cancelled as stale).

Every title, place and typed text is escaped here: payloads and the database hold plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from db.models import Event
from db.repositories.events import facts_of
from db.repositories.outbox import payload_items
from domain.events import EventStatus, RegStatus, can_cancel
from domain.notices import NoticeKind
from domain.profile import Field
from domain.reminders import Category, category_of
from domain.roles import Role
from domain.typography import quoted
from outbox import render_staff, render_stats
from outbox.render_broadcasts import BROADCAST_RENDERERS
from outbox.render_nudges import (
    assessment_unfinished,
    retake_available,
    route_nudge,
    route_stalled,
)
from outbox.rendered import RenderContext, Rendered, Renderer
from ui.callbacks.profile import EditCb
from ui.callbacks.settings import MuteCb
from ui.formatting import h, moment_text, when_text
from ui.keyboards.common import button
from ui.keyboards.events import feedback_keyboard, offer_keyboard, reminder_rows

#: a reminder this close to the start carries the check-in hint
CHECKIN_HINT_WITHIN = timedelta(hours=2)


def _title(event: Event) -> str:
    return h(quoted(event.title))


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
    event = reg.event
    text = _(
        "🎟 A seat has freed up for {title} ({when})! It is yours if you confirm by {time}."
    ).format(
        title=_title(event),
        when=when_text(event.starts_at, event.ends_at, ctx.tz, ctx.now),
        time=moment_text(reg.offer_expires_at, ctx.tz),
    )
    return Rendered(text, offer_keyboard(reg.id), about=event.starts_at)


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
    when = when_text(event.starts_at, event.ends_at, ctx.tz)
    lines = [_("✏️ The event {title} has changed.").format(title=_title(event))]
    was_starts, was_ends = payload.get("was_starts_at"), payload.get("was_ends_at")
    moved = was_starts is not None and was_ends is not None
    if moved:
        old = when_text(
            datetime.fromisoformat(str(was_starts)), datetime.fromisoformat(str(was_ends)), ctx.tz
        )
        lines.append(_("🗓 New time: {when} (was {old}).").format(when=when, old=old))
    if {"place", "online_url"} & changed:
        lines.append(_("📍 New place: {place}").format(place=_where(event)))
    if not moved:
        lines.append("🗓 " + when)
    return Rendered("\n".join(lines), about=event.starts_at)


async def event_cancelled(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    event = await _event(ctx, payload)
    if event is None:
        return None
    return Rendered(
        _(
            "🚫 The event {title} ({when}) has been cancelled. We are sorry; "
            "look for other events in the bot."
        ).format(title=_title(event), when=when_text(event.starts_at, event.ends_at, ctx.tz)),
        about=event.starts_at,
    )


async def event_reminder(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    event = await _event(ctx, payload)
    if event is None or event.status != EventStatus.SCHEDULED.value or event.starts_at <= ctx.now:
        return None
    reg = await ctx.repo.events.registration_by_id(int(payload["reg_id"]))
    if reg is None or reg.status != RegStatus.CONFIRMED.value or reg.event_id != event.id:
        return None  # cancelled since the reminder was queued
    lead = timedelta(minutes=int(payload.get("lead", 24 * 60)))
    text = _("⏰ Reminder: {title}, {when}.").format(
        title=_title(event), when=when_text(event.starts_at, event.ends_at, ctx.tz, ctx.now)
    )
    if event.place:
        text += "\n📍 " + h(event.place)
    if event.online_url:
        text += "\n🔗 " + h(event.online_url)
    if lead <= CHECKIN_HINT_WITHIN:
        text += "\n\n" + _(
            "✅ On arrival, scan the organiser's QR code (or send /checkin with their code): "
            "your participation is then recorded in your journal."
        )
    rows = reminder_rows(
        event.id,
        event.place,
        event.online_url,
        can_cancel=can_cancel(facts_of(event), RegStatus(reg.status), ctx.now),
    )
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=rows), about=event.starts_at)


async def feedback_request(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    event = await _event(ctx, payload)
    reg_id = int(payload["reg_id"])
    reg = await ctx.repo.events.registration_by_id(reg_id)
    if event is None or reg is None or reg.feedback_at is not None:
        return None
    text = _("How was {title}? Rate it from 1 to 5: your answer helps the methodists.")
    return Rendered(text.format(title=_title(event)), feedback_keyboard(reg_id))


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
        InlineKeyboardMarkup(
            inline_keyboard=[[button(_("🏫 Choose my school"), EditCb(field=Field.SCHOOL.value))]]
        ),
    )


async def role_changed(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    role = Role(payload["role"])
    if role is Role.COORDINATOR:
        if payload.get("region"):
            where = _("the whole region")
        else:
            ids = payload.get("municipality_ids") or [payload.get("municipality_id")]
            names = []
            for municipality_id in ids:
                found = await ctx.repo.reference.municipality(int(municipality_id or 0))
                if found is not None:
                    names.append(h(found.name(ctx.locale)))
            if not names:
                return None
            where = ", ".join(names)
        return Rendered(
            _(
                "You are now a coordinator for {municipality}. Send /help to see your commands."
            ).format(municipality=where)
        )
    if role is Role.SCHOOL_METHODIST:
        school = await ctx.repo.reference.school(int(payload.get("school_id") or 0))
        if school is None:
            return None
        return Rendered(
            _(
                "You are now the methodist of {school}: you see its teachers and run its events. "
                "Send /help to see your commands."
            ).format(school=h(school.short_name or school.name))
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
    NoticeKind.ROUTE_NUDGE: route_nudge,
    NoticeKind.ROUTE_STALLED: route_stalled,
    NoticeKind.ASSESSMENT_UNFINISHED: assessment_unfinished,
    NoticeKind.RETAKE_AVAILABLE: retake_available,
    NoticeKind.STAFF_AGENDA: render_staff.staff_agenda,
    NoticeKind.STAFF_SUMMARY: render_staff.staff_summary,
    NoticeKind.STATS_DIGEST: render_stats.stats_digest,
    **BROADCAST_RENDERERS,
}


def mute_label(category: Category) -> str:
    return {
        Category.EVENTS: _("🔕 No more event reminders"),
        Category.ROUTE: _("🔕 No more route reminders"),
        Category.ASSESSMENT: _("🔕 No more self-assessment reminders"),
        Category.NEWS: _("🔕 No more news from methodists"),
        Category.AGENDA: _("🔕 No more agendas and summaries"),
    }[category]


async def render(
    kind: NoticeKind, ctx: RenderContext, payload: Mapping[str, Any]
) -> Rendered | None:
    """The row's message: one notice, or several collapsed into one after quiet hours (each
    checked again; the stale ones are left out), with the 🔕 button of its category. None:
    nothing is left to tell."""
    renderer = RENDERERS[kind]
    parts = []
    for item in payload_items(dict(payload)):
        part = await renderer(ctx, item)
        if part is not None:
            parts.append(part)
    if not parts:
        return None
    rows = [row for part in parts if part.markup for row in part.markup.inline_keyboard]
    category = category_of(kind)
    if category is not None:
        rows.append([button(mute_label(category), MuteCb(category=category.value))])
    abouts = [part.about for part in parts if part.about is not None]
    return Rendered(
        "\n\n".join(part.text for part in parts),
        InlineKeyboardMarkup(inline_keyboard=rows) if rows else None,
        about=min(abouts) if abouts else None,
        copy_of=parts[0].copy_of,
        edit_of=parts[0].edit_of,
    )
