"""Teachers and events: find (filters, recommendations), sign up or join the waitlist, cancel,
claim a freed seat, add to the calendar, share, check in, leave feedback, /my and /journal.

Capacity and waitlist rules live in `domain.events`, seats change under the per-event lock in
`db.event_repo`; this module only talks to Telegram.
"""

from __future__ import annotations

import io
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, get_i18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.tables import csv_writer
from bot.usercache import UserContext
from db.event_repo import SignUp, TeacherEvents, facts_of
from db.models import Event, Registration, User
from db.repo import Repo
from db.types import utcnow
from domain.assessment import AssessmentResult
from domain.calendar import CalendarEvent, to_ics
from domain.checkin import codes_match, normalize, parse_checkin_payload
from domain.deeplinks import DeepLink, make_link
from domain.events import (
    CANCEL_BEFORE,
    Audience,
    Decision,
    EventKind,
    EventStatus,
    FeedbackRefusal,
    Refusal,
    RegStatus,
    can_cancel,
    cancel_too_late,
    checkin_open,
    days_ahead,
    eligible,
    feedback_refusal,
    free_seats,
    hours,
    interest_weights,
)
from domain.ids import parse_id
from domain.typography import format_number, names_a_site, quoted, shorten
from handlers import deeplinks
from handlers.common import MENU_EVENTS, MENU_MY, button, h, notify_user, pager_row, show
from handlers.formatting import show_long, split_html
from handlers.freetext import TypedAnswer
from services import attendance

log = logging.getLogger(__name__)
EVENTS_PER_PAGE = 6
WHEN_DAYS = {"week": 7, "month": 31}


class EvList(CallbackData, prefix="el"):
    mode: str = "rec"  # rec | all | mine | comp | kind
    value: str = ""
    when: str = "all"  # all | week | month
    page: int = 0


class EvAct(CallbackData, prefix="ea"):
    action: str  # card | signup | join | cancel | cancelok | ics | share | site
    event: int


class OfferCb(CallbackData, prefix="of"):
    reg: int
    take: bool


class FeedbackCb(CallbackData, prefix="fb"):
    reg: int
    rating: int


class FeedbackForm(StatesGroup):
    comment = State()


def kind_label(kind: str) -> str:
    return {
        "internship": _("Internship session"),
        "masterclass": _("Master-class"),
        "seminar": _("Seminar"),
        "webinar": _("Webinar"),
        "open_lesson": _("Open lesson"),
        "workshop": _("Pedagogical workshop"),
    }.get(kind, kind)


def _relative(starts_at: datetime, tz: ZoneInfo, now: datetime | None) -> str | None:
    """ "today at 18:00" / "tomorrow at 10:00" in the service zone, else None."""
    if now is None:
        return None
    time = starts_at.astimezone(tz).strftime("%H:%M")
    days = days_ahead(starts_at, now, tz)
    if days == 0:
        return _("today at {time}").format(time=time)
    if days == 1:
        return _("tomorrow at {time}").format(time=time)
    return None


def when_text(event: Event, tz: ZoneInfo, now: datetime | None = None) -> str:
    """ "05.12.2026, 15:00–17:00"; with `now`, today's and tomorrow's events say so first:
    "today at 18:00–20:00 (29.11.2026)"."""
    start, end = event.starts_at.astimezone(tz), event.ends_at.astimezone(tz)
    relative = _relative(event.starts_at, tz, now)
    if relative is not None:
        if start.date() == end.date():
            return f"{relative}–{end:%H:%M} ({start:%d.%m.%Y})"
        return f"{relative} – {end:%d.%m.%Y %H:%M}"
    if start.date() == end.date():
        return f"{start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}"
    return f"{start:%d.%m.%Y %H:%M} – {end:%d.%m.%Y %H:%M}"


def start_text(starts_at: datetime, tz: ZoneInfo, now: datetime) -> str:
    """A list line's start: "today at 18:00", "tomorrow at 10:00" or "05.12 15:00"."""
    return _relative(starts_at, tz, now) or starts_at.astimezone(tz).strftime("%d.%m %H:%M")


def day_label(starts_at: datetime, tz: ZoneInfo, now: datetime) -> str:
    """A button's day: "today", "tomorrow" or "05.12"."""
    days = days_ahead(starts_at, now, tz)
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    return starts_at.astimezone(tz).strftime("%d.%m")


def cancel_rule_text() -> str:
    n = int(CANCEL_BEFORE.total_seconds() // 3600)
    return ngettext(
        "A registration can be cancelled no later than {n} hour before the start.",
        "A registration can be cancelled no later than {n} hours before the start.",
        n,
    ).format(n=n)


def seats_text(capacity: int, taken: int) -> str:
    left = free_seats(capacity, taken)
    if left == 0:
        return _("no seats left: the waitlist is open")
    return ngettext("{n} seat left of {total}", "{n} seats left of {total}", left).format(
        n=left, total=capacity
    )


def status_text(reg: Registration | None, position: int | None, tz: ZoneInfo) -> str:
    if reg is None or reg.status == RegStatus.CANCELLED.value:
        return ""
    status = RegStatus(reg.status)
    if status is RegStatus.WAITLISTED:
        return _("🕒 You are number {n} on the waitlist").format(n=position or "?")
    if status is RegStatus.OFFERED and reg.offer_expires_at:
        return _("🎟 A seat is offered to you until {time}").format(
            time=reg.offer_expires_at.astimezone(tz).strftime("%d.%m %H:%M")
        )
    if status is RegStatus.ATTENDED:
        return _("✅ You attended")
    return _("✅ You are registered")


def audience_of(event: Event) -> Audience:
    return Audience(
        municipality_id=None if event.region_wide else event.municipality_id,
        positions=tuple(event.positions or ()),
        subjects=tuple(event.subjects or ()),
    )


async def _eligible(repo: Repo, user: User, event: Event) -> bool:
    subjects = await repo.users.subject_codes(user.id)
    return eligible(audience_of(event), user.municipality_id, user.position_code, subjects)


async def _interests(repo: Repo, user_id: int) -> tuple[set[str], set[str]]:
    """The teacher's deficits (latest self-assessment) and active route competencies."""
    finished = [a for a in await repo.assessments.finished(user_id) if a.result]
    deficits = (
        set(AssessmentResult.from_json(finished[-1].result).deficits)
        if finished and finished[-1].result
        else set()
    )
    route = await repo.routes.active(user_id)
    in_route = {s.competency for s in route.steps} if route else set()
    return deficits, in_route


# ------------------------------------------------------------------ the list


async def _list(
    event: Message | CallbackQuery, repo: Repo, user: User, query: EvList, settings: Settings
) -> None:
    now = utcnow()
    framework = await repo.frameworks.active()
    lang = user.language
    if query.mode == "comp" and not query.value:
        comps = framework.competencies if framework else ()
        rows = [
            [button(c.title.text(lang), EvList(mode="comp", value=c.code, when=query.when))]
            for c in comps
        ]
        rows.append([button(_("⬅️ Back"), EvList(mode="all", when=query.when))])
        await show(
            event,
            _("Events by competency: choose one."),
            InlineKeyboardMarkup(inline_keyboard=rows),
        )
        return
    if query.mode == "kind" and not query.value:
        rows = [
            [button(kind_label(k.value), EvList(mode="kind", value=k.value, when=query.when))]
            for k in EventKind
        ]
        rows.append([button(_("⬅️ Back"), EvList(mode="all", when=query.when))])
        await show(
            event, _("Events by kind: choose one."), InlineKeyboardMarkup(inline_keyboard=rows)
        )
        return
    # the audience, the filters and the page are all applied by the database
    base = TeacherEvents(
        now=now,
        municipality_id=user.municipality_id,
        position=user.position_code,
        subjects=tuple(await repo.users.subject_codes(user.id)),
        until=now + timedelta(days=WHEN_DAYS[query.when]) if query.when in WHEN_DAYS else None,
    )
    if query.mode == "rec":
        deficits, in_route = await _interests(repo, user.id)
        spec = replace(base, weights=interest_weights(deficits, in_route), relevant_only=True)
        title = _("⭐ <b>Recommended for you</b>: events on your deficits and your route")
    elif query.mode == "mine":
        spec = replace(base, organised_by=user.municipality_id)
        title = _("🏙 <b>Events of your municipality</b>")
    elif query.mode == "comp":
        spec = replace(base, competency=query.value)
        name = (
            framework.competency(query.value).title.text(lang)
            if framework and any(c.code == query.value for c in framework.competencies)
            else query.value
        )
        title = _("🎯 <b>Events on: {name}</b>").format(name=h(name))
    elif query.mode == "kind":
        spec = replace(base, kinds=(query.value,))
        title = _("📌 <b>{kind}</b>").format(kind=h(kind_label(query.value)))
    else:
        spec = base
        title = _("📅 <b>All upcoming events</b>")
    page, _total = await repo.events.for_teacher(spec, query.page, EVENTS_PER_PAGE)
    taken = await repo.events.seats_taken_many([e.id for e in page.items])
    mine = await repo.events.statuses_of(user.id, [e.id for e in page.items])
    tz = settings.tz
    lines = [title, ""]
    rows = []
    for e in page.items:
        mark = {RegStatus.CONFIRMED: "✅", RegStatus.WAITLISTED: "🕒", RegStatus.OFFERED: "🎟"}.get(
            mine.get(e.id, RegStatus.CANCELLED), ""
        )
        lines.append(
            f"{mark}<b>{start_text(e.starts_at, tz, now)}</b> · {h(kind_label(e.kind))} · {h(e.title)} — {seats_text(e.capacity, taken.get(e.id, 0))}"
        )
        rows.append(
            [
                button(
                    shorten(f"{mark}{day_label(e.starts_at, tz, now)} · {e.title}", 60),
                    EvAct(action="card", event=e.id),
                )
            ]
        )
    if not page.items:
        lines.append(
            _(
                "Nothing here yet. Try «All» or another filter; new events appear as methodists publish them."
            )
            if query.mode != "rec"
            else _(
                "No events match your deficits yet. Take the self-assessment (/assess) or look at «All»."
            )
        )
    pager = pager_row(
        page, lambda p: EvList(mode=query.mode, value=query.value, when=query.when, page=p)
    )
    if pager:
        rows.append(pager)
    rows.append(
        [
            button(_("⭐ For me"), EvList(mode="rec", when=query.when)),
            button(_("All"), EvList(mode="all", when=query.when)),
            button(_("🏙 Mine"), EvList(mode="mine", when=query.when)),
        ]
    )
    next_when = {"all": "week", "week": "month", "month": "all"}[
        query.when if query.when in ("week", "month") else "all"
    ]
    when_label = {"week": _("🗓 Next 7 days"), "month": _("🗓 Next 31 days"), "all": _("🗓 Any date")}[
        next_when
    ]
    rows.append(
        [
            button(_("🎯 Competency"), EvList(mode="comp", when=query.when)),
            button(_("📌 Kind"), EvList(mode="kind", when=query.when)),
            button(when_label, EvList(mode=query.mode, value=query.value, when=next_when)),
        ]
    )
    await show(event, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


async def cmd_events(message: Message, repo: Repo, user: UserContext, settings: Settings) -> None:
    db_user = await repo.users.require(user.id)
    deficits, in_route = await _interests(repo, user.id)
    mode = "rec" if deficits or in_route else "all"
    await _list(message, repo, db_user, EvList(mode=mode), settings)


async def on_list(
    query: CallbackQuery, callback_data: EvList, repo: Repo, user: UserContext, settings: Settings
) -> None:
    if callback_data.mode not in {"rec", "all", "mine", "comp", "kind"}:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await _list(query, repo, await repo.users.require(user.id), callback_data, settings)


# ------------------------------------------------------------------ the card


async def card(
    target: Message | CallbackQuery,
    repo: Repo,
    user: User,
    event: Event,
    settings: Settings,
    *,
    answer: bool = True,
) -> None:
    tz = settings.tz
    now = utcnow()
    taken = await repo.events.seats_taken(event.id)
    reg = await repo.events.registration(event.id, user.id)
    position = (
        await repo.events.waitlist_position(reg)
        if reg and reg.status == RegStatus.WAITLISTED.value
        else None
    )
    # the site by its id: the event row may have been refreshed under the seat lock, so its
    # relationships are never read here
    site_title = await repo.events.site_title(event.site_id)
    framework = await repo.frameworks.active()
    lang = user.language
    comps = []
    for code in event.competencies or ():
        title = (
            next((c.title.text(lang) for c in framework.competencies if c.code == code), code)
            if framework
            else code
        )
        comps.append(h(title))
    lines = [f"🎓 <b>{h(event.title)}</b>", h(kind_label(event.kind))]
    if site_title is not None:
        lines[-1] += " · " + (
            h(site_title)
            if names_a_site(site_title)
            else _("internship site {site}").format(site=h(quoted(site_title)))
        )
    lines.append("🗓 " + when_text(event, tz, now))
    if event.place:
        lines.append("📍 " + h(event.place))
    if event.online_url:
        lines.append(f'💻 <a href="{h(event.online_url)}">{h(event.online_url)}</a>')
    if comps:
        lines.append(_("🎯 Competencies: {names}").format(names=", ".join(comps)))
    if event.description:
        lines += ["", h(event.description)]
    lines.append("")
    active = reg is not None and RegStatus(reg.status).active
    cancelled = event.status == EventStatus.CANCELLED.value
    if cancelled:
        lines.append(
            _("🚫 This event has been cancelled, so your registration no longer stands.")
            if active
            else _("🚫 This event has been cancelled.")
        )
    else:
        lines.append("🪑 " + seats_text(event.capacity, taken))
        mine = status_text(reg, position, tz)
        if mine:
            lines.append(mine)
        if reg is not None and cancel_too_late(facts_of(event), RegStatus(reg.status), now):
            lines.append("ℹ️ " + cancel_rule_text())
    rows = []
    if event.status == EventStatus.SCHEDULED.value and event.starts_at > now:
        if reg is not None and reg.status == RegStatus.OFFERED.value:
            rows.append(
                [
                    button(_("✅ Take the seat"), OfferCb(reg=reg.id, take=True)),
                    button(_("✖️ Decline"), OfferCb(reg=reg.id, take=False)),
                ]
            )
        elif not active:
            label = _("✅ Sign up") if taken < event.capacity else _("🕒 Join the waitlist")
            rows.append([button(label, EvAct(action="signup", event=event.id))])
        if active and reg is not None and can_cancel(facts_of(event), RegStatus(reg.status), now):
            rows.append(
                [button(_("❌ Cancel my registration"), EvAct(action="cancel", event=event.id))]
            )
    if not cancelled:
        rows.append(
            [
                button(_("📅 Add to calendar"), EvAct(action="ics", event=event.id)),
                button(_("🔗 Share"), EvAct(action="share", event=event.id)),
            ]
        )
    if site_title is not None:
        rows.append([button(_("🏫 About the site"), EvAct(action="site", event=event.id))])
    rows.append([button(_("⬅️ Events"), EvList(mode="all"))])
    await show(target, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows), answer=answer)


async def _own_event(query: CallbackQuery, repo: Repo, user: User, event_id: int) -> Event | None:
    event = await repo.events.get(event_id)
    if event is None or not await _eligible(repo, user, event):
        await query.answer(_("This event is not available to you."), show_alert=True)
        return None
    return event


async def on_card(
    query: CallbackQuery, callback_data: EvAct, repo: Repo, user: UserContext, settings: Settings
) -> None:
    db_user = await repo.users.require(user.id)
    event = await _own_event(query, repo, db_user, callback_data.event)
    if event is not None:
        await card(query, repo, db_user, event, settings)


async def on_signup(
    query: CallbackQuery, callback_data: EvAct, repo: Repo, user: UserContext, settings: Settings
) -> None:
    """First a confirmation, then the sign-up itself (double taps are harmless)."""
    db_user = await repo.users.require(user.id)
    event = await _own_event(query, repo, db_user, callback_data.event)
    if event is None:
        return
    if callback_data.action == "signup":
        await show(
            query,
            _("Sign up for {title} on {when}?").format(
                title=h(quoted(event.title)), when=when_text(event, settings.tz, utcnow())
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
    result = await repo.events.sign_up(event.id, db_user.id, utcnow(), eligible=True)
    await card(query, repo, db_user, event, settings, answer=False)
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
) -> None:
    db_user = await repo.users.require(user.id)
    event = await repo.events.get(callback_data.event)
    reg = await repo.events.registration(callback_data.event, db_user.id) if event else None
    now = utcnow()
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
    await card(query, repo, db_user, event, settings, answer=False)
    await query.answer(_("Your registration is cancelled."), show_alert=True)


# ------------------------------------------------------------------ offers of freed seats


async def notify_offer(
    bot: Bot,
    i18n: I18n,
    reg: Registration,
    repo: Repo,
    *,
    tz: ZoneInfo,
    schedule_expiry: bool = True,
    errors: list[TelegramAPIError] | None = None,
) -> bool:
    """Tell the first in line that a seat is theirs to claim; schedule the offer's expiry
    (unless the caller already did: `services.events` and `services.privacy.erase_user`
    schedule it in their own transaction). False when the message could not be delivered
    (the failure goes into `errors`)."""
    assert reg.offer_expires_at is not None
    if schedule_expiry:
        await repo.jobs.schedule("offer_expire", reg.offer_expires_at, reg_id=reg.id)
    full = await repo.events.registration_by_id(reg.id)
    assert full is not None

    def render() -> tuple[str, InlineKeyboardMarkup]:
        expires = (
            reg.offer_expires_at.astimezone(tz).strftime("%d.%m %H:%M")
            if reg.offer_expires_at
            else ""
        )
        text = _(
            "🎟 A seat has freed up for {title} ({when})! It is yours if you confirm by {time}."
        ).format(
            title=h(quoted(full.event.title)),
            when=when_text(full.event, tz, utcnow()),
            time=expires,
        )
        return text, InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    button(_("✅ Take the seat"), OfferCb(reg=reg.id, take=True)),
                    button(_("✖️ Decline"), OfferCb(reg=reg.id, take=False)),
                ]
            ]
        )

    return await notify_user(bot, i18n, full.user, render, errors=errors)


async def on_offer(
    query: CallbackQuery,
    callback_data: OfferCb,
    repo: Repo,
    user: UserContext,
    settings: Settings,
    bot: Bot,
    i18n: I18n,
) -> None:
    reg = await repo.events.registration_by_id(callback_data.reg)
    if reg is None or reg.user_id != user.id:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    now = utcnow()
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
    await card(query, repo, db_user, event, settings, answer=False)
    await query.answer(popup, show_alert=True)


# ------------------------------------------------------------------ calendar, share, site


async def on_ics(
    query: CallbackQuery, callback_data: EvAct, repo: Repo, user: UserContext, bot: Bot
) -> None:
    db_user = await repo.users.require(user.id)
    event = await _own_event(query, repo, db_user, callback_data.event)
    if event is None:
        return
    assert query.message is not None
    await query.answer()
    data = to_ics(
        CalendarEvent(
            uid=f"event-{event.id}@metodbot",
            title=event.title,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            description=event.description,
            location=event.place,
            url=event.online_url,
            status="CANCELLED" if event.status == EventStatus.CANCELLED.value else "CONFIRMED",
        ),
        now=utcnow(),
    )
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(data, filename=f"event-{event.id}.ics"),
        caption=_("📅 Open the file to add {title} to your calendar.").format(
            title=h(quoted(event.title))
        ),
    )


async def on_share(
    query: CallbackQuery, callback_data: EvAct, repo: Repo, user: UserContext, bot: Bot
) -> None:
    db_user = await repo.users.require(user.id)
    event = await _own_event(query, repo, db_user, callback_data.event)
    if event is None:
        return
    assert query.message is not None
    await query.answer()
    me = await bot.me()
    link = make_link(me.username or "", f"event_{event.id}")
    await bot.send_message(
        query.message.chat.id,
        _("🔗 Forward this to colleagues: {title}\n{link}").format(
            title=h(quoted(event.title)), link=link
        ),
    )


async def on_site(
    query: CallbackQuery, callback_data: EvAct, repo: Repo, user: UserContext, settings: Settings
) -> None:
    db_user = await repo.users.require(user.id)
    event = await _own_event(query, repo, db_user, callback_data.event)
    if event is None or event.site_id is None:
        await query.answer()
        return
    await show_site(query, repo, db_user, event.site_id, settings)


async def show_site(
    target: Message | CallbackQuery, repo: Repo, user: User, site_id: int, settings: Settings
) -> None:
    site = await repo.events.site(site_id)
    if site is None:
        await show(target, _("This internship site is no longer listed."))
        return
    school = await repo.reference.school(site.school_id) if site.school_id else None
    lines = [f"🏫 <b>{h(site.title)}</b>", h(site.topic)]
    if school is not None:
        lines.append(h(school.name))
    if site.description:
        lines += ["", h(site.description)]
    if site.modules:
        total = sum(int(m.get("hours", 0)) for m in site.modules)
        lines += ["", _("<b>Modular programme</b> ({n} h):").format(n=total)]
        lines += [
            f"• {h(m.get('title', ''))} — {int(m.get('hours', 0))} " + _("h") for m in site.modules
        ]
    if site.contact:
        lines += ["", _("Contact: {contact}").format(contact=h(site.contact))]
    now = utcnow()
    page, total = await repo.events.for_teacher(
        TeacherEvents(
            now=now,
            municipality_id=user.municipality_id,
            position=user.position_code,
            subjects=tuple(await repo.users.subject_codes(user.id)),
            site_id=site.id,
        ),
        0,
        10,
    )
    rows = [
        [
            button(
                shorten(f"{day_label(e.starts_at, settings.tz, now)} · {e.title}", 60),
                EvAct(action="card", event=e.id),
            )
        ]
        for e in page.items
    ]
    lines += ["", _("Upcoming sessions: {n}").format(n=total)]
    rows.append([button(_("⬅️ Events"), EvList(mode="all"))])
    await show(target, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


# ------------------------------------------------------------------ deep links


async def open_event_link(
    message: Message, repo: Repo, user: User, link: DeepLink, settings: Settings
) -> None:
    event_id = parse_id(link.arg)
    event = await repo.events.get(event_id) if event_id else None
    if event is None or not await _eligible(repo, user, event):
        await message.answer(_("This event is not available to you."))
        return
    await card(message, repo, user, event, settings)


async def open_site_link(
    message: Message, repo: Repo, user: User, link: DeepLink, settings: Settings
) -> None:
    site_id = parse_id(link.arg)
    if site_id is None:
        await message.answer(_("This internship site is no longer listed."))
        return
    await show_site(message, repo, user, site_id, settings)


async def open_checkin_link(
    message: Message, repo: Repo, user: User, link: DeepLink, settings: Settings
) -> None:
    parsed = parse_checkin_payload(f"checkin_{link.arg}")
    event = await repo.events.get(parsed[0]) if parsed else None
    if parsed is None or event is None:
        await message.answer(_("This check-in code is not valid."))
        return
    await check_in(message, repo, user, event, parsed[1])


deeplinks.register("event", open_event_link)
deeplinks.register("site", open_site_link)
deeplinks.register("checkin", open_checkin_link)


# ------------------------------------------------------------------ check-in and the route


async def check_in(message: Message, repo: Repo, user: User, event: Event, code: str) -> None:
    """Record attendance; complete the matching practice step of the teacher's route."""
    now = utcnow()
    if not codes_match(event.checkin_code, code):
        await message.answer(_("This check-in code is not valid."))
        return
    if not checkin_open(facts_of(event), now):
        await message.answer(
            _(
                "Check-in for {title} is open from an hour before the start until two hours after the end."
            ).format(title=h(quoted(event.title)))
        )
        return
    reg = await repo.events.registration(event.id, user.id)
    if reg is None or not RegStatus(reg.status).active:
        await message.answer(
            _("You are not registered for {title}. Please speak to the organiser.").format(
                title=h(quoted(event.title))
            )
        )
        return
    if reg.status == RegStatus.ATTENDED.value:
        await message.answer(_("You are already checked in. Welcome!"))
        return
    step = await attendance.attend(repo, reg, event, now)
    await repo.audit.record("checked_in", actor=user, event_id=event.id)
    text = _("✅ You are checked in at {title}. Welcome!").format(title=h(quoted(event.title)))
    if step is not None:
        title = step.content["title"]["en" if user.language == "en" else "ru"]
        text += "\n" + _("🧭 The route step {step} is marked done.").format(step=h(quoted(title)))
    await message.answer(text)


async def cmd_checkin(
    message: Message, command: CommandObject, repo: Repo, user: UserContext
) -> None:
    code = normalize(command.args or "")
    if code is None:
        await message.answer(
            _(
                "Send the code shown at the event, e.g. <code>/checkin K7M2QX</code>, or scan its QR code."
            )
        )
        return
    db_user = await repo.users.require(user.id)
    now = utcnow()
    for reg in await repo.events.of_user(db_user.id):
        if codes_match(reg.event.checkin_code, code) and checkin_open(facts_of(reg.event), now):
            await check_in(message, repo, db_user, reg.event, code)
            return
    await message.answer(_("This check-in code is not valid."))


# ------------------------------------------------------------------ feedback


def feedback_keyboard(reg_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button("⭐" * n if n < 3 else f"{n} ⭐", FeedbackCb(reg=reg_id, rating=n))
                for n in range(1, 6)
            ]
        ]
    )


async def on_feedback(
    query: CallbackQuery,
    callback_data: FeedbackCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    reg = await repo.events.registration_by_id(callback_data.reg)
    if reg is None or reg.user_id != user.id or not 1 <= callback_data.rating <= 5:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    refusal = feedback_refusal(facts_of(reg.event), RegStatus(reg.status), utcnow())
    if refusal is not None:
        await query.answer(
            {
                FeedbackRefusal.CANCELLED: _(
                    "This event was cancelled, so there is nothing to rate."
                ),
                FeedbackRefusal.NOT_YET: _("Feedback opens after the event ends."),
                FeedbackRefusal.NOT_PARTICIPANT: _(
                    "Feedback is for those who had a seat at the event."
                ),
            }[refusal],
            show_alert=True,
        )
        return
    if not await repo.events.set_feedback(reg, callback_data.rating, None, utcnow()):
        await query.answer(
            _("You have already left feedback for this event. Thank you!"), show_alert=True
        )
        return
    await state.set_state(FeedbackForm.comment)
    await state.set_data({"reg": reg.id})
    await show(query, _("Thank you! Anything to add? Write a comment, or send /skip."))


async def got_feedback_comment(
    message: Message, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    text = (message.text or "").strip()
    reg = await repo.events.registration_by_id(int((await state.get_data()).get("reg", 0)))
    await state.clear()
    if text and text != "/skip" and reg is not None and reg.user_id == user.id:
        reg.feedback_comment = text[:1000]
    await message.answer(
        _("Thank you, your feedback helps the methodists make the next events better.")
    )


# ------------------------------------------------------------------ my registrations and the journal


async def cmd_my(message: Message, repo: Repo, user: UserContext, settings: Settings) -> None:
    regs = await repo.events.of_user(user.id)
    if not regs:
        await message.answer(_("You have no registrations yet. Find an event: /events"))
        return
    now = utcnow()
    cancelled = [r for r in regs if r.event.status == EventStatus.CANCELLED.value]
    live = [r for r in regs if r.event.status != EventStatus.CANCELLED.value]
    upcoming = [r for r in live if r.event.ends_at > now]
    past = [r for r in live if r.event.ends_at <= now]
    tz = settings.tz
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
                        EvAct(action="card", event=r.event_id),
                    )
                ]
            )
    if cancelled:
        lines += ["", "<b>" + _("Cancelled by the organisers") + "</b>"]
        lines += [
            f"🚫 {r.event.starts_at.astimezone(tz):%d.%m %H:%M} · {h(r.event.title)}"
            for r in cancelled[-10:]
        ]
    if past:
        lines += ["", "<b>" + _("Past") + "</b>"]
        lines += [
            f"{r.event.starts_at.astimezone(tz):%d.%m %H:%M} · {h(r.event.title)} — {labels.get(r.status, r.status)}"
            for r in past[-10:]
        ]
    await show_long(message, lines, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


async def cmd_journal(
    message: Message, repo: Repo, user: UserContext, settings: Settings, bot: Bot
) -> None:
    """The journal of continuous professional growth: attended events with hours."""
    attended = await repo.events.attended(user.id)
    if not attended:
        await message.answer(
            _("Your journal is empty for now: attended events appear here after check-in.")
        )
        return
    tz = settings.tz
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
        when = e.starts_at.astimezone(tz).strftime("%d.%m.%Y")
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
