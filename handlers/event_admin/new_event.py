"""/newevent: the answers to the wizard's steps and publishing the event."""

from __future__ import annotations

from datetime import datetime, tzinfo

from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    Message,
)
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from db.models import Event, User
from db.repo import Repo
from domain.checkin import new_code
from domain.event_forms import CAPACITY_MAX, CAPACITY_MIN, SKIP, parse_whole
from domain.events import EventKind, EventStatus
from domain.ids import parse_id
from domain.roles import Role
from handlers.common import show
from handlers.event_admin.common import (
    Ctx,
    _description_problem,
    _home,
    _in_scope,
    _markup,
    _no_municipality,
    _read_end,
    _read_place,
    _read_start,
    _scope,
    _title_problem,
    _toggle,
    _typed_step,
    _wizard_nav,
    _wizard_text,
)
from handlers.event_admin.new_event_steps import EVENT_WIZARD
from handlers.event_admin.states import EventForm
from services import events as services
from ui.callbacks.event_admin import EventAdminAction, EventAdminCb, NewEventCb
from ui.formatting import h
from ui.keyboards.common import button

# ------------------------------------------------------------------ /newevent: the answers


async def cmd_newevent(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    if await _home(repo, staff, role) is None:
        await message.answer(_no_municipality())
        return
    scope = await _scope(repo, staff, role)
    if scope.school_ids is not None and not await repo.events.sites(scope):
        await message.answer(
            _(
                "Your school's events are held at its internship site: create it first with /newsite."
            )
        )
        return
    await EVENT_WIZARD.start(message, state, Ctx(repo, staff, role, tz))


async def event_nav(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    """⬅️ Back and ➡️ Keep."""
    ctx = Ctx(repo, staff, role, tz)
    await _wizard_nav(query, state, ctx, EVENT_WIZARD, callback_data.action, callback_data.value)


async def event_kind(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    if callback_data.value not in set(EventKind):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await state.update_data(kind=callback_data.value)
    await EVENT_WIZARD.advance(query, state, Ctx(repo, staff, role, tz))


async def event_title(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    ctx = Ctx(repo, staff, role, tz)
    await _typed_step(message, state, ctx, EVENT_WIZARD, "title", _title_problem)


async def event_description(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    ctx = Ctx(repo, staff, role, tz)
    await _typed_step(
        message,
        state,
        ctx,
        EVENT_WIZARD,
        "description",
        _description_problem,
        lambda text: "" if text == SKIP else text,
    )


async def event_starts(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    clock: Clock,
) -> None:
    ctx = Ctx(repo, staff, role, tz)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    starts_at = _read_start(text, tz, clock.now())
    if isinstance(starts_at, str):
        await EVENT_WIZARD.retry(message, state, ctx, starts_at)
        return
    data = await state.get_data()
    if data.get("starts") != starts_at.isoformat():
        # the end may be "HH:MM" on the start's day: a new start asks for the end again
        await state.set_data(
            {**{k: v for k, v in data.items() if k != "ends"}, "starts": starts_at.isoformat()}
        )
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_ends(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    ctx = Ctx(repo, staff, role, tz)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    starts_at = datetime.fromisoformat(str((await state.get_data())["starts"]))
    ends_at = _read_end(text, starts_at, tz)
    if isinstance(ends_at, str):
        await EVENT_WIZARD.retry(message, state, ctx, ends_at)
        return
    await state.update_data(ends=ends_at.isoformat())
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_place(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    ctx = Ctx(repo, staff, role, tz)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    read = _read_place(text)
    if isinstance(read, str):
        await EVENT_WIZARD.retry(message, state, ctx, read)
        return
    place, url = read
    await state.update_data(place=place, url=url)
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_capacity(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    ctx = Ctx(repo, staff, role, tz)
    text = await _wizard_text(message, state, ctx, EVENT_WIZARD)
    if text is None:
        return
    capacity = parse_whole(text, CAPACITY_MIN, CAPACITY_MAX)
    if capacity is None:
        await EVENT_WIZARD.retry(
            message, state, ctx, _("Please send a whole number from 1 to 10000.")
        )
        return
    await state.update_data(capacity=capacity)
    await EVENT_WIZARD.advance(message, state, ctx)


async def event_comp(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    framework = await repo.frameworks.active()
    codes = {c.code for c in framework.competencies} if framework else set()
    if callback_data.value not in codes:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    chosen = _toggle(list((await state.get_data()).get("comps", [])), callback_data.value)
    await state.update_data(comps=chosen)
    await EVENT_WIZARD.ask(query, state, Ctx(repo, staff, role, tz), EventForm.competencies)


async def event_comp_done(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    await EVENT_WIZARD.advance(query, state, Ctx(repo, staff, role, tz))


async def event_site(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    site_id = 0 if callback_data.value == "0" else (parse_id(callback_data.value) or -1)
    if site_id != 0:
        site = await repo.events.site(site_id) if site_id > 0 else None
        if site is None or not await _in_scope(repo, site, staff, role):
            await query.answer(_("This button is out of date."), show_alert=True)
            return
    elif (await _scope(repo, staff, role)).school_ids is not None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await state.update_data(site=site_id or None)
    if role is not Role.ADMIN:  # only admins choose the audience (the step is left out)
        await state.update_data(region=False)
    await EVENT_WIZARD.advance(query, state, Ctx(repo, staff, role, tz))


async def event_audience(
    query: CallbackQuery,
    callback_data: NewEventCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    if callback_data.value not in ("muni", "region") or (
        callback_data.value == "region" and role is not Role.ADMIN
    ):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await state.update_data(region=callback_data.value == "region")
    await EVENT_WIZARD.advance(query, state, Ctx(repo, staff, role, tz))


async def event_publish(
    query: CallbackQuery,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    clock: Clock,
) -> None:
    ctx = Ctx(repo, staff, role, tz)
    data = await state.get_data()
    # the site (re-checked: the scope may have changed since it was chosen) places the event;
    # without one, the staff member's home municipality
    site = await repo.events.site(int(data["site"])) if data.get("site") else None
    if site is not None and not await _in_scope(repo, site, staff, role):
        site = None
    municipality = site.municipality_id if site is not None else await _home(repo, staff, role)
    if municipality is None or (
        site is None and (await _scope(repo, staff, role)).school_ids is not None
    ):
        await state.clear()
        await show(query, _no_municipality())
        return
    starts_at = datetime.fromisoformat(str(data["starts"]))
    now = clock.now()
    if starts_at <= now:
        await EVENT_WIZARD.ask(
            query,
            state,
            ctx,
            EventForm.starts,
            note=_(
                "The start time has passed while the form was open. Please send a new start as DD.MM.YYYY HH:MM."
            ),
        )
        return
    ends_at = datetime.fromisoformat(str(data["ends"]))
    created = await services.create_event(
        repo,
        Event(
            kind=str(data["kind"]),
            title=str(data["title"]),
            description=str(data.get("description", "")),
            competencies=list(data.get("comps", [])),
            site_id=site.id if site is not None else None,
            municipality_id=municipality,
            region_wide=bool(data.get("region")) and role is Role.ADMIN,
            starts_at=starts_at,
            ends_at=ends_at,
            place=str(data.get("place", "")),
            online_url=str(data.get("url", "")),
            capacity=int(data["capacity"]),
            status=EventStatus.SCHEDULED.value,
            organiser_id=staff.id,
            checkin_code=new_code(),
        ),
        now,
    )
    event = created.event
    await repo.audit.record("event_created", actor=staff, event_id=event.id)
    await state.clear()
    await show(
        query,
        _("✅ Published: <b>{title}</b>. Teachers can sign up now.").format(title=h(event.title)),
        _markup(
            [
                [
                    button(
                        _("Open the event card"),
                        EventAdminCb(action=EventAdminAction.CARD, event=event.id),
                    )
                ]
            ]
        ),
    )
