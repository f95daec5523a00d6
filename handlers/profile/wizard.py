"""Entering the wizard or the card, and moving between questions: Back, Cancel, next."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from db.models import User
from db.repo import Repo
from domain import profile as rules
from domain.profile import Field
from handlers.common import show
from handlers.profile.callbacks import EditCb, Nav
from handlers.profile.card import show_summary
from handlers.profile.common import EDIT, WIZARD, _mode
from handlers.profile.questions import ask


async def begin_profile(message: Message, state: FSMContext, repo: Repo, user: User) -> None:
    """Start (or resume) the first-time wizard at the first unanswered question."""
    await state.set_state(None)
    await state.set_data({"mode": WIZARD})
    missing = rules.next_missing(await repo.users.snapshot(user))
    if missing is None:
        await show_summary(message, state, repo, user)
    else:
        await ask(message, state, repo, user, missing)


async def advance(
    event: Message | CallbackQuery,
    state: FSMContext,
    repo: Repo,
    user: User,
    answered: Field,
) -> None:
    """After an answer: the next unanswered question (wizard) or back to the card (edit)."""
    mode = await _mode(state)
    if mode == EDIT:
        if answered is Field.MUNICIPALITY and user.school_id is None:
            await ask(event, state, repo, user, Field.SCHOOL)
            return
        await show_summary(event, state, repo, user)
        return
    missing = rules.next_missing(await repo.users.snapshot(user))
    if missing is None:
        await show_summary(event, state, repo, user)
    else:
        await ask(event, state, repo, user, missing)


# ---------------------------------------------------------------- entry points


async def cmd_profile(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    db_user = await repo.users.require(user.id)
    if db_user.profile_completed_at is None:
        await begin_profile(message, state, repo, db_user)
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
