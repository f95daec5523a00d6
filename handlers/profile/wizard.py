"""Entering the wizard or the card, and moving between questions: Back, Cancel, next."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from db.repo import Repo
from domain import profile as rules
from domain.profile import Field
from handlers.common import show
from handlers.profile.card import show_summary
from handlers.profile.common import EDIT, WIZARD, _mode
from handlers.profile.questions import ask
from services import profile as service
from services.profile import Next
from ui.callbacks.profile import EditCb, Nav


async def begin_profile(message: Message, state: FSMContext, repo: Repo, user_id: int) -> None:
    """Start (or resume) the first-time wizard at the first unanswered question."""
    await state.set_state(None)
    await state.set_data({"mode": WIZARD})
    await show_next(message, state, repo, await service.begin(repo, user_id))


async def show_next(
    event: Message | CallbackQuery, state: FSMContext, repo: Repo, found: Next
) -> None:
    """The question `found` names, or the profile card when there is none."""
    if found.field is None:
        await show_summary(event, state, repo, found.user)
    else:
        await ask(event, state, repo, found.user, found.field)


async def editing(state: FSMContext) -> bool:
    """A field opened from the card (it returns there), not the first-time wizard."""
    return await _mode(state) == EDIT


# ---------------------------------------------------------------- entry points


async def cmd_profile(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    db_user = await repo.users.require(user.id)
    if db_user.profile_completed_at is None:
        await begin_profile(message, state, repo, db_user.id)
        return
    await state.set_data({"mode": EDIT})
    await show_summary(message, state, repo, db_user)


async def edit_field(
    query: CallbackQuery,
    callback_data: EditCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    try:
        field = Field(callback_data.field)
    except ValueError:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    db_user = await repo.users.require(user.id)
    # a field opened from the card returns to the card when answered
    await state.set_data({"mode": EDIT})
    await ask(query, state, repo, db_user, field)


async def nav_back(
    query: CallbackQuery,
    callback_data: Nav,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
) -> None:
    db_user = await repo.users.require(user.id)
    if await _mode(state) == EDIT:
        await show_summary(query, state, repo, db_user)
        return
    try:
        prev = rules.previous_field(Field(callback_data.field))
    except ValueError:
        prev = None
    if prev is None:
        await query.answer()
        return
    await ask(query, state, repo, db_user, prev)


async def nav_cancel(
    query: CallbackQuery, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    db_user = await repo.users.require(user.id)
    if await _mode(state) == EDIT:
        await show_summary(query, state, repo, db_user)
        return
    await state.clear()
    await show(
        query,
        _("Paused. Your answers so far are saved: send /profile to continue where you stopped."),
    )
