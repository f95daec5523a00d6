"""Check-in at the event (a code or its QR link); completes the matching route step."""

from __future__ import annotations

from datetime import datetime

from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.models import Event, User
from db.repo import Repo
from db.repositories.events import facts_of
from domain.checkin import codes_match, normalize
from domain.events import RegStatus, checkin_open
from domain.typography import quoted
from services import attendance
from ui.formatting import h


async def check_in(
    message: Message, repo: Repo, user: User, event: Event, code: str, now: datetime
) -> None:
    """Record attendance; complete the matching practice step of the teacher's route."""
    if not codes_match(event.checkin_code, code):
        await message.answer(_("This check-in code is not valid."))
        return
    if not checkin_open(facts_of(event), now):
        await message.answer(
            _(
                "Check-in for {title} is open from an hour before the start until two hours after the end."
            ).format(title=h(quoted(event.title)))
        )
        return
    reg = await repo.events.registration(event.id, user.id)
    if reg is None or not RegStatus(reg.status).active:
        await message.answer(
            _("You are not registered for {title}. Please speak to the organiser.").format(
                title=h(quoted(event.title))
            )
        )
        return
    if reg.status == RegStatus.ATTENDED.value:
        await message.answer(_("You are already checked in. Welcome!"))
        return
    step = await attendance.attend(repo, reg, event, now)
    await repo.audit.record("checked_in", actor=user, event_id=event.id)
    text = _("✅ You are checked in at {title}. Welcome!").format(title=h(quoted(event.title)))
    if step is not None:
        title = step.content["title"]["en" if user.language == "en" else "ru"]
        text += "\n" + _("🧭 The route step {step} is marked done.").format(step=h(quoted(title)))
    await message.answer(text)


async def cmd_checkin(
    message: Message, command: CommandObject, repo: Repo, user: UserContext, clock: Clock
) -> None:
    code = normalize(command.args or "")
    if code is None:
        await message.answer(
            _(
                "Send the code shown at the event, e.g. <code>/checkin K7M2QX</code>, or scan its QR code."
            )
        )
        return
    db_user = await repo.users.require(user.id)
    now = clock.now()
    for reg in await repo.events.of_user(db_user.id):
        if codes_match(reg.event.checkin_code, code) and checkin_open(facts_of(reg.event), now):
            await check_in(message, repo, db_user, reg.event, code, now)
            return
    await message.answer(_("This check-in code is not valid."))
