"""/myevents: the list, the event card and its actions (capacity, messages, cancellation)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    CallbackQuery,
    Message,
)
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.settings import Settings
from db.models import Event, User
from db.repo import Repo
from domain.event_forms import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    SHOWN_SINCE,
    local_text,
    parse_whole,
)
from domain.events import EventStatus, RegStatus
from domain.roles import Role
from domain.typography import quoted, shorten
from handlers.common import show
from handlers.event_admin.common import (
    _form_cancel,
    _form_event,
    _in_scope,
    _markup,
    _scope,
    _typed,
)
from handlers.event_admin.participants import (
    _export,
    _participants,
    _recipients,
    _toggle_attendance,
)
from handlers.event_admin.qr import _qr
from handlers.event_admin.states import EventAdminForm
from services import events as services
from ui.callbacks.event_admin import EventAdminAction, EventAdminCb, EventEditCb, EventEditField
from ui.formatting import h, when_text
from ui.keyboards.common import button
from ui.texts import event_status_label, kind_label

# ------------------------------------------------------------------ /myevents and the card


async def _events_list(
    event: Message | CallbackQuery,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    now: datetime,
) -> None:
    events = await repo.events.in_scope(await _scope(repo, staff, role), now - SHOWN_SINCE)
    if not events:
        await show(event, _("No events yet. Create one with /newevent."))
        return
    buttons = []
    for item in events:
        mark = "🚫 " if item.status == EventStatus.CANCELLED.value else ""
        day = item.starts_at.astimezone(tz).strftime("%d.%m")
        buttons.append(
            [
                button(
                    f"{mark}{day} · {shorten(item.title, 50)}",
                    EventAdminCb(action=EventAdminAction.CARD, event=item.id),
                )
            ]
        )
    await show(
        event,
        _("🗓 <b>Events</b> ({n}): choose one to manage it.").format(n=len(events)),
        _markup(buttons),
    )


async def cmd_myevents(
    message: Message, repo: Repo, staff: User, role: Role, tz: tzinfo, clock: Clock
) -> None:
    await _events_list(message, repo, staff, role, tz, clock.now())


async def _card(
    target: Message | CallbackQuery, event: Event, repo: Repo, tz: tzinfo, note: str = ""
) -> None:
    """The event admin card: edits the button's message, or answers a typed one; `note` (say,
    "✅ Saved.") goes on top."""
    taken = await repo.events.seats_taken(event.id)
    regs = await repo.events.participants(event.id)
    waiting = sum(1 for r in regs if r.status == RegStatus.WAITLISTED.value)
    where = (
        "🔗 " + h(event.online_url)
        if event.online_url and not event.place
        else "📍 " + h(event.place or "—")
    )
    if event.online_url and event.place:
        where += "\n🔗 " + h(event.online_url)
    lines = [
        *([note, ""] if note else []),
        f"<b>{h(event.title)}</b>",
        kind_label(event.kind),
        "🗓 " + when_text(event.starts_at, event.ends_at, tz),
        where,
        _("Status: {status}").format(status=event_status_label(event.status)),
        _("🪑 Seats taken: {taken} of {capacity} · waitlist: {waiting}").format(
            taken=taken, capacity=event.capacity, waiting=waiting
        ),
        _("Check-in code: <code>{code}</code>").format(code=h(event.checkin_code)),
    ]
    if event.registration_deadline is not None:
        lines.insert(
            -1,
            _("⏳ Registration until {deadline}").format(
                deadline=local_text(event.registration_deadline, tz)
            ),
        )
    active = event.status == EventStatus.SCHEDULED.value

    def cb(action: EventAdminAction) -> EventAdminCb:
        return EventAdminCb(action=action, event=event.id)

    buttons = [
        [
            button(_("👥 Participants"), cb(EventAdminAction.PEOPLE)),
            button(_("📤 Export CSV"), cb(EventAdminAction.CSV)),
        ]
    ]
    if active:
        buttons += [
            [
                button(_("✉️ Message participants"), cb(EventAdminAction.MSG)),
                button(_("🔳 Check-in QR"), cb(EventAdminAction.QR)),
            ],
            [button(_("✏️ Edit"), cb(EventAdminAction.EDIT))],
            [
                button(_("🪑 Change capacity"), cb(EventAdminAction.CAP)),
                button(_("🚫 Cancel event"), cb(EventAdminAction.CANCEL)),
            ],
        ]
    buttons.append([button(_("⬅️ Back"), cb(EventAdminAction.LIST))])
    await show(target, "\n".join(lines), _markup(buttons))


async def _ask_text(
    query: CallbackQuery, state: FSMContext, event: Event, bot: Bot, target: State, text: str
) -> None:
    await state.clear()
    await state.set_state(target)
    await state.update_data(event=event.id)
    await query.answer()
    assert query.message is not None
    await bot.send_message(query.message.chat.id, text, reply_markup=_form_cancel())


async def _ask_cancel(query: CallbackQuery, event: Event) -> None:
    await show(
        query,
        _("🚫 Cancel {title}? Everyone who signed up will be notified.").format(
            title=h(quoted(event.title))
        ),
        _markup(
            [
                [
                    button(
                        _("✅ Yes, cancel"),
                        EventAdminCb(action=EventAdminAction.CANCEL_YES, event=event.id),
                    ),
                    button(_("⬅️ No"), EventAdminCb(action=EventAdminAction.CARD, event=event.id)),
                ]
            ]
        ),
    )


async def _cancel_event(
    query: CallbackQuery,
    event: Event,
    repo: Repo,
    staff: User,
    settings: Settings,
    now: datetime,
) -> None:
    done = await services.cancel_event(repo, event.id, now)
    if isinstance(done, services.Refused):
        await query.answer(_("The event is cancelled or over."), show_alert=True)
        return
    notified = len(done.notices)
    await repo.audit.record("event_cancelled", actor=staff, event_id=event.id, notified=notified)
    await show(
        query,
        ngettext(
            "🚫 {title} is cancelled. {n} participant will be notified.",
            "🚫 {title} is cancelled. {n} participants will be notified.",
            notified,
        ).format(title=h(quoted(event.title)), n=notified),
        _markup([[button(_("⬅️ Back"), EventAdminCb(action=EventAdminAction.LIST))]]),
    )


async def on_event_admin(
    query: CallbackQuery,
    callback_data: EventAdminCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    tz: tzinfo,
    clock: Clock,
) -> None:
    now = clock.now()
    action = callback_data.action
    if action == EventAdminAction.LIST:
        await _events_list(query, repo, staff, role, tz, now)
        return
    event = await repo.events.get(callback_data.event)
    if event is None or not await _in_scope(repo, event, staff, role):
        await query.answer(_("You cannot manage this event."), show_alert=True)
        return
    scheduled = event.status == EventStatus.SCHEDULED.value
    if (
        action
        in {
            EventAdminAction.MSG,
            EventAdminAction.QR,
            EventAdminAction.CAP,
            EventAdminAction.EDIT,
            EventAdminAction.CANCEL,
            EventAdminAction.CANCEL_YES,
        }
        and not scheduled
    ):
        await query.answer(_("The event is cancelled or over."), show_alert=True)
        return
    if action == EventAdminAction.CARD:
        await _card(query, event, repo, tz)
    elif action == EventAdminAction.PEOPLE:
        await _participants(query, event, repo, now)
    elif action == EventAdminAction.ATT:
        await _toggle_attendance(query, event, callback_data.reg, repo, staff, now)
    elif action == EventAdminAction.CSV:
        await _export(query, event, repo, bot, tz, now)
    elif action == EventAdminAction.QR:
        await _qr(query, event, bot, tz)
    elif action == EventAdminAction.MSG:
        if not await _recipients(repo, event):
            await query.answer(
                _("No one is signed up yet: there is no one to message."), show_alert=True
            )
            return
        await _ask_text(
            query,
            state,
            event,
            bot,
            EventAdminForm.message,
            _("✉️ Type the message for the participants of {title} (up to 1000 characters):").format(
                title=h(quoted(event.title))
            ),
        )
    elif action == EventAdminAction.CAP:
        await _ask_text(
            query,
            state,
            event,
            bot,
            EventAdminForm.capacity,
            _("🪑 Now {capacity} seats, {taken} taken. Send the new number of seats:").format(
                capacity=event.capacity, taken=await repo.events.seats_taken(event.id)
            ),
        )
    elif action == EventAdminAction.EDIT:
        await _edit_menu(query, event)
    elif action == EventAdminAction.CANCEL:
        await _ask_cancel(query, event)
    elif action == EventAdminAction.CANCEL_YES:
        await _cancel_event(query, event, repo, staff, settings, clock.now())
    else:
        await query.answer(_("This button is out of date."), show_alert=True)


async def form_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Cancelled."))


async def got_capacity(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    clock: Clock,
) -> None:
    text = await _typed(message, _form_cancel())
    if text is None:
        return
    capacity = parse_whole(text, CAPACITY_MIN, CAPACITY_MAX)
    if capacity is None:
        await message.answer(
            _("Please send a whole number from 1 to 10000."), reply_markup=_form_cancel()
        )
        return
    event = await _form_event(state, repo, staff, role)
    if event is None or event.status != EventStatus.SCHEDULED.value:
        await state.clear()
        await message.answer(_("You cannot manage this event."))
        return
    old = event.capacity
    done = await services.change_capacity(repo, event.id, capacity, clock.now())
    if isinstance(done, services.Refused):
        if done.reason is not services.Refusal.BELOW_TAKEN:
            await state.clear()
            await message.answer(_("You cannot manage this event."))
            return
        await message.answer(
            ngettext(
                "{n} seat is already taken, so the capacity cannot be lower. Please send {n} or more.",
                "{n} seats are already taken, so the capacity cannot be lower. Please send {n} or more.",
                done.seats_taken,
            ).format(n=done.seats_taken),
            reply_markup=_form_cancel(),
        )
        return
    await state.clear()
    offered = done.count(services.NoticeKind.SEAT_OFFERED)
    await repo.audit.record(
        "event_capacity",
        actor=staff,
        event_id=event.id,
        old=old,
        new=capacity,
        offered=offered,
    )
    text = _("🪑 Capacity is now {capacity}.").format(capacity=capacity)
    if offered:
        text += " " + ngettext(
            "A seat was offered to {n} person from the waitlist.",
            "Seats were offered to {n} people from the waitlist.",
            offered,
        ).format(n=offered)
    await message.answer(
        text,
        reply_markup=_markup(
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


async def _edit_menu(query: CallbackQuery, event: Event) -> None:
    def cb(field: EventEditField) -> EventEditCb:
        return EventEditCb(field=field, event=event.id)

    await show(
        query,
        _("✏️ <b>Edit</b> {title}: what would you like to change?").format(
            title=h(quoted(event.title))
        ),
        _markup(
            [
                [
                    button(_("Title"), cb(EventEditField.TITLE)),
                    button(_("Description"), cb(EventEditField.DESCRIPTION)),
                ],
                [
                    button(_("Start and end"), cb(EventEditField.WHEN)),
                    button(_("Place or link"), cb(EventEditField.PLACE)),
                ],
                [button(_("Registration deadline"), cb(EventEditField.DEADLINE))],
                [button(_("✖️ Cancel"), cb(EventEditField.CANCEL))],
            ]
        ),
    )
