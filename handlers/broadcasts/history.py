"""`/broadcasts`: a methodist's scheduled and past broadcasts with their reports; a scheduled
one gets another time or another message, or is cancelled, until it starts.

Every action re-reads the broadcast and checks it is the staff member's own (an
administrator's: any) in `services.broadcasts`; the ids in callback data are never trusted.
"""

from __future__ import annotations

from datetime import tzinfo

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from db.models import User
from db.repo import Repo
from domain.broadcasts import BroadcastState, Filters
from domain.event_forms import DATE_FORMAT, parse_local
from domain.pagination import Page
from domain.roles import Role
from handlers.broadcasts.states import (
    content_of,
    content_prompt,
    count_line,
    refusal_text,
    when_prompt,
)
from handlers.common import show
from services import broadcasts as service
from ui.broadcast_history import (
    back_markup,
    card_markup,
    confirm_cancel_markup,
    history_markup,
    history_text,
)
from ui.broadcasts import report_text
from ui.callbacks.broadcast_history import BcHist, BcHistAction

H = BcHistAction

__all__ = [
    "BcHistForm",
    "cmd_broadcasts",
    "got_new_message",
    "got_new_time",
    "on_history",
    "on_menu_history",
]


class BcHistForm(StatesGroup):
    """Waiting for a scheduled broadcast's new time or new message (`bc`, `page` in data)."""

    when = State()
    message = State()


def _refused(refusal: service.Refusal) -> str:
    if refusal is service.Refusal.NOT_NOW:
        return _("This broadcast has already started or ended; it cannot be changed.")
    if refusal is service.Refusal.PAST:
        return refusal_text(refusal)
    return _("This broadcast is not available to you.")


async def _list(
    event: Message | CallbackQuery, repo: Repo, staff: User, role: Role, tz: tzinfo, page: int
) -> None:
    found = await service.history(repo, staff, role, page)
    if isinstance(found, service.Refusal):
        await show(event, _refused(found))
        return
    text = history_text(
        found.scheduled, found.past, found.delivered, tz, everyone=role is Role.ADMIN
    )
    pages = Page(items=found.past, page=found.page, pages=found.pages)
    await show(event, text, history_markup(found.scheduled, found.past, pages, tz))


async def cmd_broadcasts(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    await state.clear()
    await _list(message, repo, staff, role, tz, 0)


async def on_menu_history(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    """ "📜 Broadcasts" under the coordinator's tools: the list, as a new message (the tools
    stay on screen)."""
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await _list(query.message, repo, staff, role, tz, 0)


async def _card(
    event: Message | CallbackQuery,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    broadcast_id: int,
    page: int,
    *,
    reasons: bool = False,
    answered: bool = False,
) -> None:
    found = await service.report(repo, staff, role, broadcast_id)
    if isinstance(found, service.Refusal):
        if isinstance(event, CallbackQuery):
            await event.answer(_refused(found), show_alert=True)
        else:
            await event.answer(_refused(found))
        return
    broadcast = found.broadcast
    text = report_text(
        broadcast,
        found.progress,
        tz,
        failures=found.failures if reasons else None,
        reach=found.reach,
    )
    if broadcast.state == BroadcastState.SCHEDULED.value:
        size = await service.audience_size(repo, staff, role, Filters.from_json(broadcast.filters))
        if not isinstance(size, service.Refusal):
            text += "\n" + _("If it started now:") + " " + count_line(*size)
    can_show = broadcast.author_user_id == staff.id and broadcast.source_chat_id != 0
    markup = card_markup(broadcast, found.progress.failed, page, can_show=can_show)
    await show(event, text, markup, answer=not answered)


async def on_history(
    query: CallbackQuery,
    callback_data: BcHist,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    tz: tzinfo,
    clock: Clock,
) -> None:
    action, bc, page = callback_data.action, callback_data.bc, callback_data.page
    if await state.get_state() in (BcHistForm.when.state, BcHistForm.message.state):
        await state.clear()  # any button of the history ends a pending prompt
    if action is H.LIST:
        await _list(query, repo, staff, role, tz, page)
    elif action in (H.OPEN, H.REASONS):
        await _card(query, repo, staff, role, tz, bc, page, reasons=action is H.REASONS)
    elif action is H.SHOW:
        await _show_message(query, repo, staff, role, bot, bc)
    elif action is H.CANCEL:
        found = await service.report(repo, staff, role, bc)
        if isinstance(found, service.Refusal):
            await query.answer(_refused(found), show_alert=True)
            return
        if found.broadcast.state != BroadcastState.SCHEDULED.value:
            await query.answer(_refused(service.Refusal.NOT_NOW), show_alert=True)
            return
        await show(
            query,
            _("Cancel broadcast #{id}? Nobody will receive it.").format(id=bc),
            confirm_cancel_markup(found.broadcast, page),
        )
    elif action is H.CANCEL_OK:
        cancelled = await service.cancel(repo, staff, role, bc, clock.now())
        if isinstance(cancelled, service.Refusal):
            await query.answer(_refused(cancelled), show_alert=True)
            return
        await query.answer(_("🚫 Cancelled: nobody will receive it."))
        await _card(query, repo, staff, role, tz, bc, page, answered=True)
    elif action in (H.TIME, H.EDIT):
        await _ask(query, state, repo, staff, role, tz, bc, page, action)


async def _show_message(
    query: CallbackQuery, repo: Repo, staff: User, role: Role, bot: Bot, broadcast_id: int
) -> None:
    found = await service.report(repo, staff, role, broadcast_id)
    if isinstance(found, service.Refusal) or found.broadcast.author_user_id != staff.id:
        await query.answer(_refused(service.Refusal.NOT_FOUND), show_alert=True)
        return
    broadcast = found.broadcast
    await query.answer()
    try:
        await bot.copy_message(
            query.from_user.id, broadcast.source_chat_id, broadcast.source_message_id
        )
    except TelegramBadRequest:
        await bot.send_message(
            query.from_user.id, _("This message was deleted from the chat; it cannot be shown.")
        )


async def _ask(
    query: CallbackQuery,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    bc: int,
    page: int,
    action: BcHistAction,
) -> None:
    found = await service.report(repo, staff, role, bc)
    if isinstance(found, service.Refusal):
        await query.answer(_refused(found), show_alert=True)
        return
    if found.broadcast.state != BroadcastState.SCHEDULED.value:
        await query.answer(_refused(service.Refusal.NOT_NOW), show_alert=True)
        return
    if action is H.TIME:
        await state.set_state(BcHistForm.when)
        text = when_prompt(tz)
    else:
        await state.set_state(BcHistForm.message)
        text = _(
            "Send the new message for broadcast #{id}: text with formatting, or a photo or a "
            "document with a caption. Its buttons, audience and time stay."
        ).format(id=bc)
    await state.update_data(bc=bc, page=page)
    await show(query, text, back_markup(bc, page))


async def _pending(state: FSMContext) -> tuple[int, int] | None:
    data = await state.get_data()
    bc, page = data.get("bc"), data.get("page", 0)
    if not isinstance(bc, int) or not isinstance(page, int):
        return None
    return bc, page


async def got_new_time(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    clock: Clock,
) -> None:
    pending = await _pending(state)
    if pending is None:  # the prompt's data is damaged: nothing to change
        await state.clear()
        await message.answer(_refused(service.Refusal.NOT_FOUND))
        return
    bc, page = pending
    at = parse_local(message.text or "", tz)
    if at is None:
        await message.answer(when_prompt(tz), reply_markup=back_markup(bc, page))
        return
    moved = await service.reschedule(repo, staff, role, bc, at, clock.now())
    if isinstance(moved, service.Refusal):
        markup = back_markup(bc, page) if moved is service.Refusal.PAST else None
        await message.answer(_refused(moved), reply_markup=markup)
        if moved is not service.Refusal.PAST:
            await state.clear()
        return
    await state.clear()
    await message.answer(
        _("🗓 Broadcast #{id} will start at {at} (your time).").format(
            id=bc, at=at.astimezone(tz).strftime(DATE_FORMAT)
        )
    )
    await _card(message, repo, staff, role, tz, bc, page)


async def got_new_message(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    pending = await _pending(state)
    if pending is None:  # the prompt's data is damaged: nothing to change
        await state.clear()
        await message.answer(_refused(service.Refusal.NOT_FOUND))
        return
    bc, page = pending
    content = content_of(message)
    if content is None:
        await message.answer(content_prompt(), reply_markup=back_markup(bc, page))
        return
    kind, plain = content
    replaced = await service.replace_message(
        repo, staff, role, bc, (message.chat.id, message.message_id), kind, plain
    )
    await state.clear()
    if isinstance(replaced, service.Refusal):
        await message.answer(_refused(replaced))
        return
    await message.answer(_("✏️ Broadcast #{id} will send this message instead.").format(id=bc))
    await _card(message, repo, staff, role, tz, bc, page)
