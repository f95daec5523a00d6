"""The participants of an event: the list, attendance, the CSV export and the message to them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, tzinfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core.clock import Clock
from db.models import Event, Registration, User
from db.repo import Repo
from domain.event_forms import ATTENDANCE_BUTTONS, MESSAGE_MAX, local_text
from domain.events import EventStatus, RegStatus, waitlist_numbers
from domain.roles import Role
from domain.typography import quoted, shorten
from handlers.common import show
from handlers.event_admin.common import _form_cancel, _form_event, _markup, _typed
from handlers.event_admin.states import EventAdminForm
from outbox.render import participants_text
from services import attendance
from services import events as services
from ui.callbacks.event_admin import AdminFormAction, AdminFormCb, EventAdminAction, EventAdminCb
from ui.files.tables import csv_writer
from ui.formatting import h
from ui.keyboards.common import button, rows
from ui.texts import reg_status_label


async def _school_names(repo: Repo, regs: Sequence[Registration]) -> dict[int, str]:
    names: dict[int, str] = {}
    for school_id in {r.user.school_id for r in regs if r.user.school_id is not None}:
        school = await repo.reference.school(school_id)
        if school is not None:
            names[school_id] = school.name
    return names


def _person(reg: Registration, schools: dict[int, str]) -> str:
    name = h(reg.user.full_name or "—")
    school = schools.get(reg.user.school_id or 0)
    return f"{name} — {h(school)}" if school else name


async def _participants(query: CallbackQuery, event: Event, repo: Repo, now: datetime) -> None:
    regs = await repo.events.participants(event.id)
    schools = await _school_names(repo, regs)
    ended = event.ends_at <= now
    groups = (
        (RegStatus.CONFIRMED, _("🚷 No-show") if ended else _("✅ Confirmed")),
        (RegStatus.OFFERED, _("⏳ Seat offered")),
        (RegStatus.WAITLISTED, _("🕒 Waitlist")),
        (RegStatus.ATTENDED, _("🎓 Attended")),
        (RegStatus.CANCELLED, _("✖️ Cancelled")),
    )
    lines = [_("👥 <b>Participants</b> · {title}").format(title=h(event.title))]
    if not regs:
        lines.append(_("Nobody has signed up yet."))
    for status, heading in groups:
        members = [r for r in regs if r.status == status.value]
        if not members:
            continue
        lines += ["", f"<b>{heading}</b> ({len(members)})"]
        lines += [f"{n}. {_person(r, schools)}" for n, r in enumerate(members, start=1)]
    text = "\n".join(lines)
    if len(text) > 3800:
        text = text[:3800].rsplit("\n", 1)[0] + "\n" + _("… the full list is in the CSV export.")
    present = [r for r in regs if r.status in (RegStatus.CONFIRMED, RegStatus.ATTENDED)][
        :ATTENDANCE_BUTTONS
    ]
    toggles = [
        button(
            ("✅ " if r.status == RegStatus.ATTENDED.value else "⬜ ")
            + shorten(r.user.full_name or "—", 30),
            EventAdminCb(action=EventAdminAction.ATT, event=event.id, reg=r.id),
        )
        for r in present
    ]
    if toggles:
        text += "\n\n" + _("Tap a name to mark attendance.")
    buttons = rows(toggles, 2)
    buttons.append(
        [button(_("⬅️ Back"), EventAdminCb(action=EventAdminAction.CARD, event=event.id))]
    )
    await show(query, text, _markup(buttons))


async def _toggle_attendance(
    query: CallbackQuery, event: Event, reg_id: int, repo: Repo, staff: User, now: datetime
) -> None:
    """Tick: attended, and the matching route step is done (as a check-in does). Untick: the
    step that attendance completed is reopened (services.attendance)."""
    reg = await repo.events.registration_by_id(reg_id)
    if (
        reg is None
        or reg.event_id != event.id
        or reg.status
        not in (
            RegStatus.CONFIRMED.value,
            RegStatus.ATTENDED.value,
        )
    ):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    attended = reg.status != RegStatus.ATTENDED.value
    if attended:
        step = await attendance.attend(repo, reg, event, now)
    else:
        step = await attendance.unattend(repo, reg, now)
    await repo.audit.record(
        "attendance_marked" if attended else "attendance_unmarked",
        actor=staff,
        target=reg.user,
        event_id=event.id,
        step_id=step.id if step is not None else None,
    )
    await _participants(query, event, repo, now)


def participants_csv(
    regs: Sequence[Registration], schools: dict[int, str], tz: tzinfo, *, ended: bool = False
) -> bytes:
    """UTF-8 with a BOM (Excel opens it right), ";" between columns."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(
        [
            _("Full name"),
            _("School"),
            _("Status"),
            _("Queue number"),
            _("Attended at"),
            _("Feedback rating"),
            _("Feedback comment"),
        ]
    )
    waitlist = waitlist_numbers((reg.status, reg.queue_no) for reg in regs)
    for reg in regs:
        writer.writerow(
            [
                reg.user.full_name or "",
                schools.get(reg.user.school_id or 0, ""),
                reg_status_label(reg.status, ended=ended),
                waitlist.get(reg.queue_no, ""),
                local_text(reg.attended_at, tz) if reg.attended_at else "",
                reg.feedback_rating if reg.feedback_rating is not None else "",
                reg.feedback_comment or "",
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def _export(
    query: CallbackQuery, event: Event, repo: Repo, bot: Bot, tz: tzinfo, now: datetime
) -> None:
    regs = await repo.events.participants(event.id)
    ended = event.ends_at <= now
    data = participants_csv(regs, await _school_names(repo, regs), tz, ended=ended)
    await query.answer()
    assert query.message is not None
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(data, filename=f"participants-{event.id}.csv"),
        caption=_("📤 Participants of {title}").format(title=h(quoted(event.title))),
    )


def participants_message(title: str, text: str) -> str:
    """The preview: exactly what the participants will get (`outbox.render`)."""
    return participants_text(title, text)


async def _recipients(repo: Repo, event: Event) -> list[Registration]:
    """Everyone still signed up (confirmed, offered, waitlisted, attended), with their users."""
    return [r for r in await repo.events.participants(event.id) if RegStatus(r.status).active]


async def got_participants_message(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    """The text typed: a preview of exactly what participants will get, to confirm."""
    text = await _typed(message, _form_cancel())
    if text is None:
        return
    if len(text) > MESSAGE_MAX:
        await message.answer(
            _("Please send a text of up to 1000 characters."), reply_markup=_form_cancel()
        )
        return
    event = await _form_event(state, repo, staff, role)
    if event is None or event.status != EventStatus.SCHEDULED.value:
        await state.clear()
        await message.answer(_("You cannot manage this event."))
        return
    count = len(await _recipients(repo, event))
    if not count:  # everyone left while the text was typed
        await state.clear()
        await message.answer(_("No one is signed up yet: there is no one to message."))
        return
    await state.update_data(text=text)
    await state.set_state(EventAdminForm.preview)
    await message.answer(participants_message(event.title, text))
    await message.answer(
        ngettext(
            "👆 This is exactly what participants will receive. Send it to {n} participant?",
            "👆 This is exactly what participants will receive. Send it to {n} participants?",
            count,
        ).format(n=count),
        reply_markup=_markup(
            [
                [
                    button(_("✅ Send"), AdminFormCb(action=AdminFormAction.SEND)),
                    button(_("✏️ Edit"), AdminFormCb(action=AdminFormAction.EDIT)),
                    button(_("✖️ Cancel"), AdminFormCb(action=AdminFormAction.CANCEL)),
                ]
            ]
        ),
    )


async def edit_participants_message(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(EventAdminForm.message)
    await show(
        query,
        _("✏️ Send the new text of the message (up to 1000 characters):"),
        _form_cancel(),
    )


async def send_participants_message(
    query: CallbackQuery,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    clock: Clock,
) -> None:
    data = await state.get_data()
    event = await _form_event(state, repo, staff, role)
    await state.clear()  # a second tap finds nothing to send
    text = str(data.get("text") or "")
    if event is None or not text:
        await show(query, _("You cannot manage this event."))
        return
    if event.status != EventStatus.SCHEDULED.value:
        await show(query, _("The event is cancelled or over."))
        return
    queued = await services.message_participants(repo, event, text, clock.now())
    await repo.audit.record("event_message", actor=staff, event_id=event.id, recipients=queued)
    await show(
        query,
        ngettext(
            "✉️ The message is on its way to {n} participant.",
            "✉️ The message is on its way to {n} participants.",
            queued,
        ).format(n=queued),
        _markup(
            [
                [
                    button(
                        _("⬅️ Back to the event"),
                        EventAdminCb(action=EventAdminAction.CARD, event=event.id),
                    )
                ]
            ]
        ),
    )
