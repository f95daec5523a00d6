"""The event card, the calendar file and the share link."""

from __future__ import annotations

from datetime import datetime, tzinfo

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.models import Event, User
from db.repo import Repo
from db.repositories.event_views import CardView
from db.repositories.events import facts_of
from domain.deeplinks import make_link
from domain.events import EventStatus, RegStatus, can_cancel, cancel_too_late
from domain.typography import names_a_site, quoted
from handlers.common import show
from handlers.events.common import facts_eligible, not_available, own_event, status_text
from services import broadcasts
from ui.callbacks.broadcasts import BcOpen
from ui.callbacks.events import EvAct, EvAction, EvList, EvListMode
from ui.files.calendar import CalendarEvent, to_ics
from ui.formatting import cancel_rule_text, h, seats_text, when_text
from ui.keyboards.common import button
from ui.keyboards.events import offer_row
from ui.texts import kind_label


async def card(
    target: Message | CallbackQuery,
    repo: Repo,
    user: User,
    event: Event,
    tz: tzinfo,
    now: datetime,
    *,
    answer: bool = True,
) -> None:
    """The card of `event` (read again with what it shows: `EventRepo.card_view`)."""
    view = await repo.events.card_view(event.id, user.id)
    await card_of(
        target,
        repo,
        user.language,
        view or CardView(event, None, 0, None),
        tz,
        now,
        answer=answer,
    )


async def card_of(
    target: Message | CallbackQuery,
    repo: Repo,
    lang: str,
    view: CardView,
    tz: tzinfo,
    now: datetime,
    *,
    answer: bool = True,
    framework_version: str | None = None,
) -> None:
    """`framework_version`: the active framework's version, when the caller knows it (the
    framework is then not looked up, if this process has parsed that version)."""
    event, taken, reg = view.event, view.taken, view.registration
    position = (
        await repo.events.waitlist_position(reg)
        if reg and reg.status == RegStatus.WAITLISTED.value
        else None
    )
    # the site's title comes with the view: the event row may have been refreshed under the
    # seat lock, so its relationships are never read here
    site_title = view.site_title
    framework = repo.frameworks.parsed(framework_version) or await repo.frameworks.active()
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
    lines.append("🗓 " + when_text(event.starts_at, event.ends_at, tz, now))
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
            rows.append(offer_row(reg.id))
        elif not active:
            label = _("✅ Sign up") if taken < event.capacity else _("🕒 Join the waitlist")
            rows.append([button(label, EvAct(action=EvAction.SIGNUP, event=event.id))])
        if active and reg is not None and can_cancel(facts_of(event), RegStatus(reg.status), now):
            rows.append(
                [
                    button(
                        _("❌ Cancel my registration"),
                        EvAct(action=EvAction.CANCEL, event=event.id),
                    )
                ]
            )
    if not cancelled:
        rows.append(
            [
                button(_("📅 Add to calendar"), EvAct(action=EvAction.ICS, event=event.id)),
                button(_("🔗 Share"), EvAct(action=EvAction.SHARE, event=event.id)),
            ]
        )
    if site_title is not None:
        rows.append([button(_("🏫 About the site"), EvAct(action=EvAction.SITE, event=event.id))])
    rows.append([button(_("⬅️ Events"), EvList(mode=EvListMode.ALL))])
    await show(target, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows), answer=answer)


async def on_card(
    query: CallbackQuery,
    callback_data: EvAct,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    facts = await repo.events.teacher_facts(user.id)
    view = await repo.events.card_view(callback_data.event, user.id)
    if facts is None or view is None or not facts_eligible(facts, view.event):
        await query.answer(not_available(), show_alert=True)
        return
    await card_of(
        query,
        repo,
        facts.language,
        view,
        tz,
        clock.now(),
        framework_version=facts.framework_version,
    )


async def on_broadcast_event(
    query: CallbackQuery,
    callback_data: BcOpen,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    """ "📅 Open the event" under a methodist's broadcast: the card as a new message (the
    broadcast stays as it was written), and the click counted."""
    await broadcasts.opened(repo, user.id, callback_data.bc, callback_data.event, clock.now())
    db_user = await repo.users.require(user.id)
    event = await own_event(query, repo, db_user, callback_data.event)
    if event is None:
        return
    if isinstance(query.message, Message):
        await query.answer()
        await card(query.message, repo, db_user, event, tz, clock.now())
    else:
        await card(query, repo, db_user, event, tz, clock.now())


# ------------------------------------------------------------------ calendar, share


async def on_ics(
    query: CallbackQuery,
    callback_data: EvAct,
    repo: Repo,
    user: UserContext,
    bot: Bot,
    clock: Clock,
) -> None:
    db_user = await repo.users.require(user.id)
    event = await own_event(query, repo, db_user, callback_data.event)
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
        now=clock.now(),
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
    event = await own_event(query, repo, db_user, callback_data.event)
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
