"""Marking a step done: the evidence (a text, a link, a photo or a document), then one line of
reflection."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.repo import Repo
from domain.route import EVIDENCE_MAX, REFLECTION_MAX
from handlers.route.common import Evidence
from handlers.route.steps import route_complete_text, step_keyboard, step_text
from services import route as service
from services.route import Refusal


async def got_proof(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    data = await state.get_data()
    if await service.evidence_step(repo, user.id, int(data.get("step", 0))) is Refusal.STEP_GONE:
        await state.clear()
        await message.answer(_("This step is no longer available."))
        return
    if message.document is not None:
        await state.update_data(
            file_id=message.document.file_id, file_name=message.document.file_name or "document"
        )
    elif message.photo:
        await state.update_data(file_id=message.photo[-1].file_id, file_name="photo.jpg")
    elif message.text and message.text.strip():
        text = message.text.strip()
        if len(text) > EVIDENCE_MAX:
            await message.answer(_("Please keep it within {n} characters.").format(n=EVIDENCE_MAX))
            return
        await state.update_data(text=text)
    else:
        await message.answer(_("Please send a text, a link, a photo or a document."))
        return
    await state.set_state(Evidence.reflection)
    await message.answer(
        _("Thank you! And one line of reflection: what has changed in your practice?")
    )


async def got_reflection(
    message: Message, state: FSMContext, repo: Repo, user: UserContext, clock: Clock
) -> None:
    text = (message.text or "").strip()
    if not text:
        await message.answer(_("Please answer with a line of text."))
        return
    if len(text) > REFLECTION_MAX:
        await message.answer(_("Please keep it within {n} characters.").format(n=REFLECTION_MAX))
        return
    data = await state.get_data()
    await state.clear()
    changed = await service.record_evidence(
        repo,
        user.id,
        int(data.get("step", 0)),
        clock.now(),
        text=data.get("text"),
        file_id=data.get("file_id"),
        file_name=data.get("file_name"),
        reflection=text,
    )
    if isinstance(changed, Refusal):
        await message.answer(_("This step is no longer available."))
        return
    await message.answer(
        step_text(changed.step, user.language), reply_markup=step_keyboard(changed.step)
    )
    if changed.route_completed:
        await message.answer(route_complete_text())
