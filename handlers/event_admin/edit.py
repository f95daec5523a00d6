"""Editing an event from its card: title, description, start and end, place, deadline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    CallbackQuery,
    Message,
)
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from db.models import Event, User
from db.repo import Repo
from domain.event_forms import SKIP, local_text
from domain.events import EventStatus
from domain.roles import Role
from domain.typography import quoted
from handlers.common import show
from handlers.event_admin.card import _card
from handlers.event_admin.common import (
    _description_problem,
    _edit_cancel,
    _end_question,
    _form_event,
    _in_scope,
    _place_question,
    _read_end,
    _read_place,
    _read_start,
    _start_question,
    _title_problem,
    _typed,
    _where_text,
    notified_text,
)
from handlers.event_admin.states import EventEditForm
from services import events as services
from ui.callbacks.event_admin import EventEditCb, EventEditField
from ui.formatting import h, when_text

# ------------------------------------------------------------------ editing an event


def _edit_question(field: EventEditField, event: Event, tz: tzinfo) -> tuple[State, str] | None:
    """The form state and the question that starts editing `field`; None for an unknown one."""
    if field == EventEditField.TITLE:
        return EventEditForm.title, _(
            "✏️ Now: {title}.\nSend the new title (3 to 200 characters)."
        ).format(title=h(quoted(event.title)))
    if field == EventEditField.DESCRIPTION:
        return EventEditForm.description, _(
            "✏️ Now: {description}\n\nSend the new description (up to 2000 characters), "
            "or «-» to remove it."
        ).format(description=h(event.description[:1000]) or "—")
    if field == EventEditField.WHEN:
        now = _("🗓 Now: {when}.").format(when=when_text(event.starts_at, event.ends_at, tz))
        return EventEditForm.starts, now + "\n" + _start_question()
    if field == EventEditField.PLACE:
        now = _("📍 Now: {place}.").format(place=_where_text(event))
        return EventEditForm.place, now + "\n" + _place_question()
    if field == EventEditField.DEADLINE:
        now = (
            _("⏳ Now registration is open until {deadline}.").format(
                deadline=local_text(event.registration_deadline, tz)
            )
            if event.registration_deadline
            else _("⏳ Now registration is open until the start.")
        )
        ask = _(
            "Send the new deadline as DD.MM.YYYY HH:MM (not later than the start, {start}), "
            "or «-» to keep registration open until the start."
        ).format(start=local_text(event.starts_at, tz))
        return EventEditForm.deadline, now + "\n" + ask
    return None


async def on_event_edit(
    query: CallbackQuery,
    callback_data: EventEditCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    event = await repo.events.get(callback_data.event)
    if event is None or not await _in_scope(repo, event, staff, role):
        await query.answer(_("You cannot manage this event."), show_alert=True)
        return
    if callback_data.field == EventEditField.CANCEL:
        await state.clear()
        await _card(query, event, repo, tz)
        return
    if event.status != EventStatus.SCHEDULED.value:
        await query.answer(_("The event is cancelled or over."), show_alert=True)
        return
    question = _edit_question(callback_data.field, event, tz)
    if question is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    target, text = question
    await state.clear()
    await state.set_state(target)
    await state.update_data(event=event.id)
    await show(query, text, _edit_cancel(event.id))


async def _edited_event(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> tuple[Event, str] | None:
    """The event being edited (re-checked: in scope and still scheduled) and the typed answer;
    None when there is nothing to do (a re-ask or a refusal has been sent)."""
    event_id = int((await state.get_data()).get("event", 0))
    text = await _typed(message, _edit_cancel(event_id))
    if text is None:
        return None
    event = await _form_event(state, repo, staff, role)
    if event is None or event.status != EventStatus.SCHEDULED.value:
        await state.clear()
        await message.answer(_("You cannot manage this event."))
        return None
    return event, text


async def _save_event(
    message: Message,
    state: FSMContext,
    event: Event,
    repo: Repo,
    staff: User,
    tz: tzinfo,
    now: datetime,
    changes: dict[str, object],
) -> None:
    done = await services.change_event(repo, event.id, changes, now)
    await state.clear()
    if isinstance(done, services.Refused):
        await message.answer(_("You cannot manage this event."))
        return
    changed = list(done.changed)
    if not changed:
        await _card(message, event, repo, tz, note=_("Nothing changed."))
        return
    note = _("✅ Saved.")
    notified: int | None = None
    if services.NOTIFIED_FIELDS & set(changed):
        notified = len(done.notices)
        note += " " + notified_text(notified)
    await repo.audit.record(
        "event_edited", actor=staff, event_id=event.id, fields=changed, notified=notified
    )
    await _card(message, event, repo, tz, note=note)


# ------------------------------------------------------------------ one-answer fields
#: a typed answer read into the event's changed columns, or the polite problem with it
FieldReader = Callable[[str, Event, tzinfo, datetime], dict[str, object] | str]


def _read_title(text: str, event: Event, tz: tzinfo, now: datetime) -> dict[str, object] | str:
    problem = _title_problem(text)
    return problem if problem is not None else {"title": text}


def _read_description(
    text: str, event: Event, tz: tzinfo, now: datetime
) -> dict[str, object] | str:
    problem = _description_problem(text)
    return problem if problem is not None else {"description": "" if text == SKIP else text}


def _read_new_place(text: str, event: Event, tz: tzinfo, now: datetime) -> dict[str, object] | str:
    read = _read_place(text)
    if isinstance(read, str):
        return read
    place, url = read
    return {"place": place, "online_url": url}


def _read_deadline(text: str, event: Event, tz: tzinfo, now: datetime) -> dict[str, object] | str:
    if text == SKIP:
        return {"registration_deadline": None}
    read = _read_start(text, tz, now)  # in the future, like a start
    if isinstance(read, str):
        return read
    if read > event.starts_at:
        return _(
            "The deadline must not be later than the start ({start}). Please send it again."
        ).format(start=local_text(event.starts_at, tz))
    return {"registration_deadline": read}


def _field_editor(read: FieldReader) -> Callable[..., Awaitable[None]]:
    """The handler of a one-answer edit form: re-check the event, read the answer, save."""

    async def edit_field(
        message: Message,
        state: FSMContext,
        repo: Repo,
        staff: User,
        role: Role,
        tz: tzinfo,
        clock: Clock,
    ) -> None:
        got = await _edited_event(message, state, repo, staff, role)
        if got is None:
            return
        event, text = got
        now = clock.now()
        changes = read(text, event, tz, now)
        if isinstance(changes, str):
            await message.answer(changes, reply_markup=_edit_cancel(event.id))
            return
        await _save_event(message, state, event, repo, staff, tz, now, changes)

    return edit_field


edit_title = _field_editor(_read_title)
edit_description = _field_editor(_read_description)
edit_place = _field_editor(_read_new_place)
edit_deadline = _field_editor(_read_deadline)


# ------------------------------------------------------------------ the time: start, then end


async def edit_starts(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    clock: Clock,
) -> None:
    got = await _edited_event(message, state, repo, staff, role)
    if got is None:
        return
    event, text = got
    starts_at = _read_start(text, tz, clock.now())
    if isinstance(starts_at, str):
        await message.answer(starts_at, reply_markup=_edit_cancel(event.id))
        return
    await state.update_data(starts=starts_at.isoformat())
    await state.set_state(EventEditForm.ends)
    await message.answer(_end_question(), reply_markup=_edit_cancel(event.id))


async def edit_ends(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    clock: Clock,
) -> None:
    got = await _edited_event(message, state, repo, staff, role)
    if got is None:
        return
    event, text = got
    starts_at = datetime.fromisoformat(str((await state.get_data())["starts"]))
    ends_at = _read_end(text, starts_at, tz)
    if isinstance(ends_at, str):
        await message.answer(ends_at, reply_markup=_edit_cancel(event.id))
        return
    now = clock.now()
    if starts_at <= now:
        await state.set_state(EventEditForm.starts)
        await message.answer(
            _(
                "The start time has passed while the form was open. Please send a new start as DD.MM.YYYY HH:MM."
            ),
            reply_markup=_edit_cancel(event.id),
        )
        return
    changes: dict[str, object] = {"starts_at": starts_at, "ends_at": ends_at}
    deadline = event.registration_deadline
    if deadline is not None and deadline > starts_at:  # a deadline after the start means nothing
        changes["registration_deadline"] = None
    await _save_event(message, state, event, repo, staff, tz, now, changes)
