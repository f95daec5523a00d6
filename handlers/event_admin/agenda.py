"""The event card opened from the coordinator's morning agenda (`outbox.render_staff`)."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from db.models import User
from db.repo import Repo
from domain.roles import Role
from handlers.event_admin.card import _card
from handlers.event_admin.common import _in_scope
from ui.callbacks.event_admin import EventAdminCb


async def open_card(
    query: CallbackQuery,
    callback_data: EventAdminCb,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    """The card as a new message below the agenda, which stays as it is (its other events'
    buttons remain at hand). Scope is checked as on every card."""
    event = await repo.events.get(callback_data.event)
    if event is None or not await _in_scope(repo, event, staff, role):
        await query.answer(_("You cannot manage this event."), show_alert=True)
        return
    if not isinstance(query.message, Message):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await query.answer()
    await _card(query.message, event, repo, tz)
