"""The internship site's card with its upcoming sessions."""

from __future__ import annotations

from datetime import datetime, tzinfo

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.models import User
from db.repo import Repo
from db.repositories.teacher_events import TeacherEvents
from domain.typography import shorten
from handlers.common import show
from handlers.events.common import own_event
from ui.callbacks.events import EvAct, EvAction, EvList, EvListMode
from ui.formatting import day_label, h
from ui.keyboards.common import button


async def on_site(
    query: CallbackQuery,
    callback_data: EvAct,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    db_user = await repo.users.require(user.id)
    event = await own_event(query, repo, db_user, callback_data.event)
    if event is None or event.site_id is None:
        await query.answer()
        return
    await show_site(query, repo, db_user, event.site_id, tz, clock.now())


async def show_site(
    target: Message | CallbackQuery,
    repo: Repo,
    user: User,
    site_id: int,
    tz: tzinfo,
    now: datetime,
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
                shorten(f"{day_label(e.starts_at, tz, now)} · {e.title}", 60),
                EvAct(action=EvAction.CARD, event=e.id),
            )
        ]
        for e in page.items
    ]
    lines += ["", _("Upcoming sessions: {n}").format(n=total)]
    rows.append([button(_("⬅️ Events"), EvList(mode=EvListMode.ALL))])
    await show(target, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))
