"""The `/broadcast` wizard's audience step: one message with the live count and the toggles,
and its pickers (schools, a competency deficit, an event's people, municipalities for an
administrator). Every change is re-checked on the server before it is kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.broadcasts import EventGroup, Filters
from domain.ids import parse_id
from domain.pagination import paginate
from domain.profile import AgeBand
from domain.roles import Role
from handlers.broadcasts.states import (
    BcForm,
    count_line,
    empty_text,
    home_municipality,
    picks_municipalities,
    read_filters,
    refusal_text,
    scope_of,
)
from handlers.common import show
from services import broadcasts as service
from ui.callbacks.broadcasts import BcWizAction
from ui.keyboards.broadcasts import audience_markup, events_markup, pick_markup

A = BcWizAction
PER_PAGE = 8
#: the people-of-an-event picker lists the events that ended this recently, and later ones
PAST_EVENTS = timedelta(days=60)
#: the actions this module handles
AUDIENCE_ACTIONS = frozenset(
    {
        A.AUDIENCE,
        A.POSITION,
        A.AGE,
        A.YOUNG,
        A.NO_ASSESSMENT,
        A.NO_ROUTE,
        A.RESET,
        A.SCHOOLS,
        A.SCHOOL,
        A.DEFICITS,
        A.DEFICIT,
        A.FILTER_EVENTS,
        A.FILTER_EVENT,
        A.GROUP,
        A.MUNICIPALITIES,
        A.MUNICIPALITY,
    }
)


async def show_audience(
    event: Message | CallbackQuery,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    filters: Filters,
    lang: str,
    *,
    answer: bool = True,
) -> bool:
    """Count and show the audience for `filters` and keep them; False (nothing changed) when
    the server refuses them."""
    size = await service.audience_size(repo, staff, role, filters)
    if isinstance(size, service.Refusal):
        if isinstance(event, CallbackQuery):
            await event.answer(refusal_text(size), show_alert=True)
        return False
    await state.update_data(filters=filters.to_json())
    await state.set_state(BcForm.audience)
    positions = [(p.code, p.name(lang)) for p in await repo.reference.positions()]
    deficit_label = None
    if filters.deficit is not None:
        framework = await repo.frameworks.active()
        codes = {c.code: c for c in framework.competencies} if framework else {}
        found = codes.get(filters.deficit)
        deficit_label = "🧩 " + (found.short.text(lang) if found else filters.deficit)
    lines = [_("Step 3. Who gets it? Tap the criteria; all of them must match."), ""]
    lines.append(count_line(*size))
    if size[0] == 0:
        lines.append(empty_text())
    text = "\n".join(lines)
    scope = await scope_of(repo, staff, role)
    markup = audience_markup(
        filters,
        positions,
        admin=picks_municipalities(scope),
        schools=home_municipality(scope, filters) is not None,
        deficit_label=deficit_label,
        anyone=size[0] > 0,
    )
    await show(event, text, markup, answer=answer)
    return True


async def _picker_items(
    action: BcWizAction, repo: Repo, staff: User, role: Role, filters: Filters, lang: str
) -> list[tuple[str, str, bool]] | None:
    scope = await scope_of(repo, staff, role)
    if action is A.SCHOOLS:
        muni = home_municipality(scope, filters)
        if muni is None:
            return None
        schools = await repo.reference.schools(muni)
        return [(str(s.id), s.short_name or s.name, s.id in filters.school_ids) for s in schools]
    if action is A.DEFICITS:
        framework = await repo.frameworks.active()
        comps = framework.competencies if framework else ()
        return [(c.code, c.short.text(lang), c.code == filters.deficit) for c in comps]
    if scope is None or not picks_municipalities(scope):
        return None
    munis = [m for m in await repo.reference.municipalities() if scope.allows(m.id)]
    return [(str(m.id), m.name(lang), m.id in filters.municipality_ids) for m in munis]


_LIST_OF = {A.SCHOOL: A.SCHOOLS, A.DEFICIT: A.DEFICITS, A.MUNICIPALITY: A.MUNICIPALITIES}
_PICK_OF = {v: k for k, v in _LIST_OF.items()}


async def _show_picker(
    query: CallbackQuery,
    action: BcWizAction,
    page: int,
    repo: Repo,
    staff: User,
    role: Role,
    filters: Filters,
    lang: str,
) -> None:
    items = await _picker_items(action, repo, staff, role, filters, lang)
    if items is None:
        await query.answer(refusal_text(service.Refusal.NOT_STAFF), show_alert=True)
        return
    title = {
        A.SCHOOLS: _("Choose the schools (several may be chosen):"),
        A.DEFICITS: _("Teachers whose latest self-assessment shows a deficit in:"),
        A.MUNICIPALITIES: _("Choose the municipalities (several may be chosen):"),
    }[action]
    if not items:
        title += "\n" + _("The list is empty.")
    await show(query, title, pick_markup(paginate(items, page, PER_PAGE), _PICK_OF[action], action))


async def _changed(
    action: BcWizAction, value: str, repo: Repo, role: Role, filters: Filters, lang: str
) -> Filters | None:
    """The filters after one toggle; None when the value is not a valid choice."""
    if action is A.RESET:
        return Filters()
    if action is A.YOUNG:
        return replace(filters, young=not filters.young)
    if action is A.NO_ASSESSMENT:
        return replace(filters, no_assessment=not filters.no_assessment)
    if action is A.NO_ROUTE:
        return replace(filters, no_route=not filters.no_route)
    if action is A.POSITION:
        ok = await repo.reference.position(value) is not None
        return filters.toggled("positions", value) if ok else None
    if action is A.AGE:
        ok = value in {b.value for b in AgeBand}
        return filters.toggled("age_bands", value) if ok else None
    if action is A.GROUP:
        if value not in {g.value for g in EventGroup} or filters.event_id is None:
            return None
        return replace(filters, event_group=EventGroup(value))
    if action is A.DEFICIT:
        framework = await repo.frameworks.active()
        if framework is None or value not in {c.code for c in framework.competencies}:
            return None
        return replace(filters, deficit=None if filters.deficit == value else value)
    number = parse_id(value)
    if number is None:
        return None
    if action is A.SCHOOL:
        return filters.toggled("school_ids", number)
    if action is A.FILTER_EVENT:
        same = filters.event_id == number
        return replace(filters, event_id=None if same else number)
    if action is A.MUNICIPALITY:  # the scope is checked when the audience is counted
        if await repo.reference.municipality(number) is None:
            return None
        changed = filters.toggled("municipality_ids", number)
        return replace(changed, school_ids=())  # schools belong to the previous choice
    return None


async def on_audience_action(
    query: CallbackQuery,
    action: BcWizAction,
    value: str,
    page: int,
    data: dict[str, Any],
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    lang: str,
    tz: tzinfo,
    now: datetime,
) -> None:
    filters = read_filters(data)
    if filters is None:
        if action is not A.RESET:
            await query.answer(_("This draft is damaged. Please tap ♻️ Reset."), show_alert=True)
            return
        filters = Filters()
    if action in (A.SCHOOLS, A.DEFICITS, A.MUNICIPALITIES):
        await _show_picker(query, action, page, repo, staff, role, filters, lang)
        return
    if action is A.FILTER_EVENTS:
        scope = await scope_of(repo, staff, role)
        muni = home_municipality(scope, filters)
        # past events too: their no-shows are only known once they are over
        events = await repo.events.in_scope(scope, now - PAST_EVENTS) if scope is not None else []
        if muni is not None:
            events = [e for e in events if e.municipality_id == muni]
        text = _("Teachers of which event?")
        if not events:
            text += "\n" + _("There are no recent or upcoming events.")
        picked = paginate(events, page, PER_PAGE)
        await show(query, text, events_markup(picked, tz, A.FILTER_EVENT, action, A.AUDIENCE))
        return
    if action is A.AUDIENCE:
        await show_audience(query, state, repo, staff, role, filters, lang)
        return
    changed = await _changed(action, value, repo, role, filters, lang)
    if changed is None:
        await query.answer(_("This choice is not available."), show_alert=True)
        return
    if action in _LIST_OF:
        # a picker stays open: check the choice, keep it, show the list again
        size = await service.audience_size(repo, staff, role, changed)
        if isinstance(size, service.Refusal):
            await query.answer(refusal_text(size), show_alert=True)
            return
        await state.update_data(filters=changed.to_json())
        await query.answer(count_line(*size) + ("" if size[0] else "\n" + empty_text()))
        lst = _LIST_OF[action]
        items = await _picker_items(lst, repo, staff, role, changed, lang) or []
        markup = pick_markup(paginate(items, page, PER_PAGE), action, lst)
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=markup)
        return
    await show_audience(query, state, repo, staff, role, changed, lang)
