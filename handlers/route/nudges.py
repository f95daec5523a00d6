"""The buttons under a route nudge (`outbox.render_nudges`): "✅ Done" marks a step done the
way the step card does (evidence first), "🔄 +1 week" moves its target date a week on."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from domain.route import StepStatus
from domain.typography import shorten
from handlers.route.common import Evidence, stale, step_title
from services import nudges
from services import route as service
from services.nudges import PostponeRefusal
from services.route import EvidenceNeeded, Refusal
from ui.callbacks.route import NudgeAction, NudgeCb, RouteAction, RouteCb
from ui.formatting import date_text, h
from ui.keyboards.common import button

#: a popup holds 200 characters: the step's title is cut to fit with the rest
POPUP_TITLE = 120


async def _drop_step_row(query: CallbackQuery, step_id: int) -> None:
    """The nudge keeps its other steps' buttons; this step's row goes."""
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    kept = [
        row
        for row in message.reply_markup.inline_keyboard
        if not any(
            (b.callback_data or "").startswith(f"{NudgeCb.__prefix__}:")
            and NudgeCb.unpack(b.callback_data or "").step == step_id
            for b in row
        )
    ]
    try:
        await message.edit_reply_markup(reply_markup=InlineKeyboardMarkup(inline_keyboard=kept))
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            raise


async def on_nudge(
    query: CallbackQuery,
    callback_data: NudgeCb,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    bot: Bot,
    clock: Clock,
) -> None:
    if callback_data.action == NudgeAction.POSTPONE:
        moved = await nudges.postpone_step(repo, user.id, callback_data.step, clock.now())
        if moved is PostponeRefusal.CLOSED:
            await query.answer(_("This step is already closed."), show_alert=True)
        elif isinstance(moved, PostponeRefusal):
            await stale(query)
        else:
            await query.answer(
                _("🔄 Moved: {title} — now by {date}.").format(
                    title=shorten(step_title(moved.step, user.language), POPUP_TITLE),
                    date=date_text(moved.step.target_date),
                ),
                show_alert=True,
            )
            await _drop_step_row(query, moved.step.id)
        return
    step = await service.evidence_step(repo, user.id, callback_data.step)
    if not isinstance(step, Refusal) and StepStatus(step.status).closed:
        await query.answer(_("This step is already closed."), show_alert=True)
        return
    # the step card's rule: ✅ Done asks for evidence first (and checks the step is the user's)
    changed = await service.change_status(repo, user.id, callback_data.step, "done", clock.now())
    if isinstance(step, Refusal) or isinstance(changed, Refusal):
        await stale(query)
        return
    if not isinstance(changed, EvidenceNeeded):
        await query.answer()
        return
    title = step_title(step, user.language)
    await state.set_state(Evidence.proof)
    await state.set_data({"step": changed.step_id})
    await query.answer()
    assert query.message is not None
    await bot.send_message(
        query.message.chat.id,
        f"<b>{h(title)}</b>\n\n"
        + _(
            "✅ Great! Send evidence of this step: a short text, a link or a file (a photo, a document)."
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [button(_("✖️ Cancel"), RouteCb(action=RouteAction.STEP, step=changed.step_id))]
            ]
        ),
    )
