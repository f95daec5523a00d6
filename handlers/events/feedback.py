"""Feedback after the event: a rating from 1 to 5, then an optional comment."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from db.repositories.events import facts_of
from domain.events import FeedbackRefusal, RegStatus, feedback_refusal
from handlers.common import show
from ui.callbacks.events import FeedbackCb


class FeedbackForm(StatesGroup):
    comment = State()


async def on_feedback(
    query: CallbackQuery,
    callback_data: FeedbackCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    clock: Clock,
) -> None:
    now = clock.now()
    reg = await repo.events.registration_by_id(callback_data.reg)
    if reg is None or reg.user_id != user.id or not 1 <= callback_data.rating <= 5:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    refusal = feedback_refusal(facts_of(reg.event), RegStatus(reg.status), now)
    if refusal is not None:
        await query.answer(
            {
                FeedbackRefusal.CANCELLED: _(
                    "This event was cancelled, so there is nothing to rate."
                ),
                FeedbackRefusal.NOT_YET: _("Feedback opens after the event ends."),
                FeedbackRefusal.NOT_PARTICIPANT: _(
                    "Feedback is for those who had a seat at the event."
                ),
            }[refusal],
            show_alert=True,
        )
        return
    if not await repo.events.set_feedback(reg, callback_data.rating, None, now):
        await query.answer(
            _("You have already left feedback for this event. Thank you!"), show_alert=True
        )
        return
    await state.set_state(FeedbackForm.comment)
    await state.set_data({"reg": reg.id})
    await show(query, _("Thank you! Anything to add? Write a comment, or send /skip."))


async def got_feedback_comment(
    message: Message, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    text = (message.text or "").strip()
    reg = await repo.events.registration_by_id(int((await state.get_data()).get("reg", 0)))
    await state.clear()
    if text and text != "/skip" and reg is not None and reg.user_id == user.id:
        reg.feedback_comment = text[:1000]
    await message.answer(
        _("Thank you, your feedback helps the methodists make the next events better.")
    )
