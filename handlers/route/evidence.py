"""Marking a step done: the evidence (a text, a link, a photo or a document), then one line of
reflection."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from db.repo import Repo
from handlers.route.common import Evidence
from handlers.route.steps import route_complete_text, step_keyboard, step_text

EVIDENCE_MAX = 1000
REFLECTION_MAX = 500


async def got_proof(message: Message, state: FSMContext, repo: Repo, user: UserContext) -> None:
    data = await state.get_data()
    step = await repo.routes.step(int(data.get("step", 0)))
    if step is None or step.route.user_id != user.id:
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
    message: Message, state: FSMContext, repo: Repo, user: UserContext
) -> None:
    text = (message.text or "").strip()
    if not text:
        await message.answer(_("Please answer with a line of text."))
        return
    if len(text) > REFLECTION_MAX:
        await message.answer(_("Please keep it within {n} characters.").format(n=REFLECTION_MAX))
        return
    data = await state.get_data()
    step = await repo.routes.step(int(data.get("step", 0)))
    await state.clear()
    if step is None or step.route.user_id != user.id:
        await message.answer(_("This step is no longer available."))
        return
    await repo.routes.record_evidence(
        step,
        text=data.get("text"),
        file_id=data.get("file_id"),
        file_name=data.get("file_name"),
        reflection=text,
    )
    route = step.route
    await message.answer(step_text(step, user.language), reply_markup=step_keyboard(step))
    if route.status == "completed":
        await message.answer(route_complete_text())
