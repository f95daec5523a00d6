"""/events: the list with its filters (for me, all, mine, competency, kind, dates) and pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, tzinfo

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from db.repositories.event_views import TeacherFacts
from db.repositories.teacher_events import TeacherEvents
from domain.events import EventKind, RegStatus, interest_weights
from domain.typography import shorten
from handlers.common import show
from handlers.events.common import interests
from ui.callbacks.events import EvAct, EvAction, EvList, EvListMode, EvListWhen
from ui.formatting import day_label, h, seats_text, start_text
from ui.keyboards.common import button, pager_row
from ui.texts import kind_label

EVENTS_PER_PAGE = 6
WHEN_DAYS = {EvListWhen.WEEK: 7, EvListWhen.MONTH: 31}


async def _list(
    event: Message | CallbackQuery,
    repo: Repo,
    facts: TeacherFacts,
    query: EvList,
    tz: tzinfo,
    now: datetime,
) -> None:
    lang = facts.language
    if query.mode == EvListMode.COMP and not query.value:
        framework = repo.frameworks.parsed(facts.framework_version) or (
            await repo.frameworks.active()
        )
        comps = framework.competencies if framework else ()
        rows = [
            [
                button(
                    c.title.text(lang), EvList(mode=EvListMode.COMP, value=c.code, when=query.when)
                )
            ]
            for c in comps
        ]
        rows.append([button(_("⬅️ Back"), EvList(mode=EvListMode.ALL, when=query.when))])
        await show(
            event,
            _("Events by competency: choose one."),
            InlineKeyboardMarkup(inline_keyboard=rows),
        )
        return
    if query.mode == EvListMode.KIND and not query.value:
        rows = [
            [
                button(
                    kind_label(k.value),
                    EvList(mode=EvListMode.KIND, value=k.value, when=query.when),
                )
            ]
            for k in EventKind
        ]
        rows.append([button(_("⬅️ Back"), EvList(mode=EvListMode.ALL, when=query.when))])
        await show(
            event, _("Events by kind: choose one."), InlineKeyboardMarkup(inline_keyboard=rows)
        )
        return
    # the audience, the filters and the page are all applied by the database
    base = TeacherEvents(
        now=now,
        municipality_id=facts.municipality_id,
        position=facts.position_code,
        subjects=facts.subjects,
        until=now + timedelta(days=WHEN_DAYS[query.when]) if query.when in WHEN_DAYS else None,
    )
    if query.mode == EvListMode.REC:
        deficits, in_route = interests(facts)
        spec = replace(base, weights=interest_weights(deficits, in_route), relevant_only=True)
        title = _("⭐ <b>Recommended for you</b>: events on your deficits and your route")
    elif query.mode == EvListMode.MINE:
        spec = replace(base, organised_by=facts.municipality_id)
        title = _("🏙 <b>Events of your municipality</b>")
    elif query.mode == EvListMode.COMP:
        spec = replace(base, competency=query.value)
        framework = repo.frameworks.parsed(facts.framework_version) or (
            await repo.frameworks.active()
        )
        name = (
            framework.competency(query.value).title.text(lang)
            if framework and any(c.code == query.value for c in framework.competencies)
            else query.value
        )
        title = _("🎯 <b>Events on: {name}</b>").format(name=h(name))
    elif query.mode == EvListMode.KIND:
        spec = replace(base, kinds=(query.value,))
        title = _("📌 <b>{kind}</b>").format(kind=h(kind_label(query.value)))
    else:
        spec = base
        title = _("📅 <b>All upcoming events</b>")
    page, _total = await repo.events.teacher_page(spec, query.page, EVENTS_PER_PAGE, facts.user_id)
    lines = [title, ""]
    rows = []
    for item in page.items:
        e = item.event
        mark = {RegStatus.CONFIRMED: "✅", RegStatus.WAITLISTED: "🕒", RegStatus.OFFERED: "🎟"}.get(
            item.mine or RegStatus.CANCELLED, ""
        )
        lines.append(
            f"{mark}<b>{start_text(e.starts_at, tz, now)}</b> · {h(kind_label(e.kind))} · {h(e.title)} — {seats_text(e.capacity, item.taken)}"
        )
        rows.append(
            [
                button(
                    shorten(f"{mark}{day_label(e.starts_at, tz, now)} · {e.title}", 60),
                    EvAct(action=EvAction.CARD, event=e.id),
                )
            ]
        )
    if not page.items:
        lines.append(
            _(
                "Nothing here yet. Try «All» or another filter; new events appear as methodists publish them."
            )
            if query.mode != EvListMode.REC
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
            button(_("⭐ For me"), EvList(mode=EvListMode.REC, when=query.when)),
            button(_("All"), EvList(mode=EvListMode.ALL, when=query.when)),
            button(_("🏙 Mine"), EvList(mode=EvListMode.MINE, when=query.when)),
        ]
    )
    next_when = {
        EvListWhen.ALL: EvListWhen.WEEK,
        EvListWhen.WEEK: EvListWhen.MONTH,
        EvListWhen.MONTH: EvListWhen.ALL,
    }[query.when]
    when_label = {
        EvListWhen.WEEK: _("🗓 Next 7 days"),
        EvListWhen.MONTH: _("🗓 Next 31 days"),
        EvListWhen.ALL: _("🗓 Any date"),
    }[next_when]
    rows.append(
        [
            button(_("🎯 Competency"), EvList(mode=EvListMode.COMP, when=query.when)),
            button(_("📌 Kind"), EvList(mode=EvListMode.KIND, when=query.when)),
            button(when_label, EvList(mode=query.mode, value=query.value, when=next_when)),
        ]
    )
    await show(event, "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


async def _facts(repo: Repo, user: UserContext) -> TeacherFacts:
    facts = await repo.events.teacher_facts(user.id)
    if facts is None:
        raise LookupError(f"user {user.id} vanished during the update")
    return facts


async def cmd_events(
    message: Message, repo: Repo, user: UserContext, tz: tzinfo, clock: Clock
) -> None:
    facts = await _facts(repo, user)
    deficits, in_route = interests(facts)
    mode = EvListMode.REC if deficits or in_route else EvListMode.ALL
    await _list(message, repo, facts, EvList(mode=mode), tz, clock.now())


async def on_list(
    query: CallbackQuery,
    callback_data: EvList,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    await _list(query, repo, await _facts(repo, user), callback_data, tz, clock.now())
