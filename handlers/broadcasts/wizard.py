"""The coordinator's `/broadcast` wizard: the message as teachers should see it, its buttons,
the audience (`handlers.broadcasts.audience`), a preview of exactly what teachers get, then
send now or at a chosen time. The draft lives in FSM data: where the message is (it is
copied later), never its content; every callback is checked again on the server."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from db.models import User
from db.repo import Repo
from domain.broadcast_links import parse_link
from domain.broadcasts import Filters
from domain.event_forms import DATE_FORMAT, parse_local
from domain.ids import parse_id
from domain.pagination import paginate
from domain.reminders import Category
from domain.roles import Role
from handlers.broadcasts.audience import (
    AUDIENCE_ACTIONS,
    PER_PAGE,
    on_audience_action,
    show_audience,
)
from handlers.broadcasts.states import (
    WIZARD_STATES,
    BcForm,
    content_of,
    content_prompt,
    count_line,
    empty_text,
    expired_text,
    has_anyone,
    read_filters,
    refusal_text,
    scope_of,
    when_prompt,
)
from handlers.common import show
from outbox.render import mute_label
from services import broadcasts as service
from ui.broadcasts import copy_rows
from ui.callbacks.broadcasts import BcWiz, BcWizAction
from ui.callbacks.settings import MuteCb
from ui.formatting import h
from ui.keyboards.broadcasts import buttons_markup, events_markup, nav_markup, preview_markup
from ui.keyboards.common import button

A = BcWizAction
PREVIEW_MAX = 200


def _prompt() -> str:
    return _(
        "📣 <b>New broadcast.</b> Step 1. Send the message as teachers should see it: text "
        "with formatting, or a photo or a document with a caption."
    )


async def cmd_broadcast(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(BcForm.message)
    await message.answer(_prompt(), reply_markup=nav_markup())


async def on_menu_new(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    """ "📣 Broadcast" under the coordinator's tools: the same wizard as `/broadcast`."""
    await state.clear()
    await state.set_state(BcForm.message)
    await query.answer()
    await bot.send_message(query.from_user.id, _prompt(), reply_markup=nav_markup())


async def got_message(message: Message, state: FSMContext, repo: Repo) -> None:
    """The coordinator's message: remembered by where it is, its kind and a short preview
    (sent again after "⬅️ Back", it replaces the first; the buttons and filters stay)."""
    content = content_of(message)
    if content is None:
        await message.answer(content_prompt(), reply_markup=nav_markup())
        return
    kind, plain = content
    await state.update_data(
        src_chat=message.chat.id,
        src_msg=message.message_id,
        kind=kind,
        preview=plain[:PREVIEW_MAX],
        filters=(read_filters(await state.get_data()) or Filters()).to_json(),
    )
    await _show_buttons(message, state, repo)


async def _show_buttons(event: Message | CallbackQuery, state: FSMContext, repo: Repo) -> None:
    await state.set_state(BcForm.buttons)
    data = await state.get_data()
    lines = [_("Step 2. Buttons under the message (optional).")]
    event_id = data.get("event_id")
    if isinstance(event_id, int):
        found = await repo.events.get(event_id)
        if found is not None:
            lines.append(_("📅 Event: {title}").format(title=h(found.title)))
    if data.get("url"):
        lines.append(_("🔗 Link: {url}").format(url=h(data["url"])))
    await show(event, "\n".join(lines), buttons_markup(event_id is not None, bool(data.get("url"))))


async def got_link(message: Message, state: FSMContext, repo: Repo) -> None:
    link = parse_link(message.text or "")
    if link is None:
        await message.answer(
            _(
                "Please send an address starting with https:// and, after a space, the "
                "button's label (up to 64 characters), e.g. <i>https://example.org Sign up</i>."
            ),
            reply_markup=nav_markup(),
        )
        return
    await state.update_data(url=link.url, url_label=link.label)
    await _show_buttons(message, state, repo)


def _copy_markup(data: dict[str, Any]) -> InlineKeyboardMarkup:
    """What teachers get under the copy: the same rows the outbox renders, then 🔕."""
    rows = copy_rows(0, {k: data.get(k) for k in ("event_id", "url", "url_label")})
    rows.append([button(mute_label(Category.NEWS), MuteCb(category=Category.NEWS.value))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _preview(
    query: CallbackQuery,
    data: dict[str, Any],
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    lang: str,
) -> None:
    filters = read_filters(data)
    if filters is None:
        await query.answer(_("This draft is damaged. Please tap ♻️ Reset."), show_alert=True)
        return
    size = await service.audience_size(repo, staff, role, filters)
    if isinstance(size, service.Refusal):
        await query.answer(refusal_text(size), show_alert=True)
        return
    if size[0] == 0:  # nobody to preview for: back to the filters, which say so
        await query.answer(empty_text(), show_alert=True)
        await show_audience(query, state, repo, staff, role, filters, lang, answer=False)
        return
    await query.answer()
    chat_id = query.from_user.id
    try:
        await bot.copy_message(
            chat_id, int(data["src_chat"]), int(data["src_msg"]), reply_markup=_copy_markup(data)
        )
    except TelegramBadRequest:
        await state.clear()
        await bot.send_message(chat_id, _("Your message was deleted. Send /broadcast again."))
        return
    await state.set_state(BcForm.preview)
    text = _("Step 4. ☝️ This is how teachers will see it.") + "\n" + count_line(*size)
    await bot.send_message(chat_id, text, reply_markup=preview_markup(size[0]))


def _draft(data: dict[str, Any], scheduled_at: datetime | None) -> service.Draft | None:
    filters = read_filters(data)
    chat, msg = data.get("src_chat"), data.get("src_msg")
    if filters is None or not isinstance(chat, int) or not isinstance(msg, int):
        return None
    event_id, url, label = data.get("event_id"), data.get("url"), data.get("url_label")
    return service.Draft(
        source_chat_id=chat,
        source_message_id=msg,
        content_kind=str(data.get("kind", "text")),
        preview=str(data.get("preview", "")),
        filters=filters,
        event_id=event_id if isinstance(event_id, int) else None,
        url=url if isinstance(url, str) else None,
        url_label=label if isinstance(label, str) else None,
        scheduled_at=scheduled_at,
    )


async def _send_now(
    query: CallbackQuery,
    data: dict[str, Any],
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    now: datetime,
) -> None:
    draft = _draft(data, None)
    if draft is None:
        await query.answer(_("This draft is damaged. Please tap ♻️ Reset."), show_alert=True)
        return
    created = await service.create(repo, staff, role, draft, now)
    if isinstance(created, service.Refusal):
        await query.answer(refusal_text(created), show_alert=True)
        return
    await state.clear()
    await query.answer()
    started = await bot.send_message(query.from_user.id, _("📣 Starting…"))
    await service.show_progress(repo, staff, role, created.id, started.message_id, now)


async def got_when(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    clock: Clock,
) -> None:
    at = parse_local(message.text or "", tz)
    if at is None:
        await message.answer(when_prompt(tz), reply_markup=nav_markup())
        return
    now = clock.now()
    draft = _draft(await state.get_data(), at)
    if draft is None:
        await state.clear()
        await message.answer(expired_text())
        return
    created = await service.create(repo, staff, role, draft, now)
    if isinstance(created, service.Refusal):
        await message.answer(refusal_text(created), reply_markup=nav_markup())
        return
    await state.clear()
    local = at.astimezone(tz).strftime(DATE_FORMAT)
    await message.answer(
        _("🗓 Broadcast #{id} is scheduled for {at} (your time).").format(id=created.id, at=local)
    )


async def _pick_event(
    query: CallbackQuery,
    action: BcWizAction,
    value: str,
    page: int,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    now: datetime,
) -> None:
    scope = await scope_of(repo, staff, role)
    if scope is None:
        await query.answer(refusal_text(service.Refusal.NOT_STAFF), show_alert=True)
        return
    if action is A.EVENT:
        event_id = parse_id(value)
        found = await repo.events.get(event_id) if event_id is not None else None
        if found is None or not await repo.staff.event_allowed(scope, found):
            await query.answer(refusal_text(service.Refusal.OUT_OF_SCOPE), show_alert=True)
            return
        await state.update_data(event_id=found.id)
        await _show_buttons(query, state, repo)
        return
    events = await repo.events.in_scope(scope, now)
    text = _("Which event should the button open?")
    if not events:
        text += "\n" + _("There are no upcoming events.")
    markup = events_markup(paginate(events, page, PER_PAGE), tz, A.EVENT, A.EVENTS, A.BUTTONS)
    await show(query, text, markup)


async def on_wizard(
    query: CallbackQuery,
    callback_data: BcWiz,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    i18n: I18n,
    tz: tzinfo,
    clock: Clock,
) -> None:
    current = await state.get_state()
    data = await state.get_data()
    if current not in WIZARD_STATES or (current != BcForm.message.state and "src_msg" not in data):
        await query.answer(expired_text(), show_alert=True)
        return
    action, now, lang = callback_data.action, clock.now(), i18n.current_locale
    if action is A.CANCEL or (action is A.BACK and current == BcForm.message.state):
        await state.clear()
        await show(query, _("✖️ The broadcast is cancelled. Nothing was sent."))
        return
    if action is A.BACK:
        if current == BcForm.buttons.state:
            await state.set_state(BcForm.message)
            await show(query, _prompt(), nav_markup())
        elif current in (BcForm.link.state, BcForm.audience.state):
            await _show_buttons(query, state, repo)
        elif current == BcForm.preview.state:
            await show_audience(
                query, state, repo, staff, role, read_filters(data) or Filters(), lang
            )
        else:  # the time prompt
            await _preview(query, data, state, repo, staff, role, bot, lang)
        return
    if current == BcForm.message.state:
        await query.answer(expired_text(), show_alert=True)
        return
    if action in (A.EVENTS, A.EVENT):
        await _pick_event(
            query,
            action,
            callback_data.value,
            callback_data.page,
            state,
            repo,
            staff,
            role,
            tz,
            now,
        )
    elif action is A.BUTTONS or action in (A.NO_EVENT, A.NO_LINK):
        if action is A.NO_EVENT:
            await state.update_data(event_id=None)
        if action is A.NO_LINK:
            await state.update_data(url=None, url_label=None)
        await _show_buttons(query, state, repo)
    elif action is A.LINK:
        await state.set_state(BcForm.link)
        await show(
            query,
            _(
                "Send the address and, after a space, the button's label, e.g. "
                "<i>https://example.org Sign up</i>."
            ),
            nav_markup(),
        )
    elif action is A.NEXT and current in (BcForm.buttons.state, BcForm.link.state):
        await show_audience(query, state, repo, staff, role, read_filters(data) or Filters(), lang)
    elif action is A.NEXT and current == BcForm.audience.state:
        await _preview(query, data, state, repo, staff, role, bot, lang)
    elif action in AUDIENCE_ACTIONS:
        await on_audience_action(
            query,
            action,
            callback_data.value,
            callback_data.page,
            data,
            state,
            repo,
            staff,
            role,
            lang,
            tz,
            now,
        )
    elif action is A.SEND and current == BcForm.preview.state:
        await _send_now(query, data, state, repo, staff, role, bot, now)
    elif action is A.SCHEDULE and current == BcForm.preview.state:
        if not await has_anyone(query, data, repo, staff, role):
            return
        await state.set_state(BcForm.when)
        await query.answer()
        await bot.send_message(query.from_user.id, when_prompt(tz), reply_markup=nav_markup())
    else:
        await query.answer(_("This button belongs to another step."), show_alert=True)
