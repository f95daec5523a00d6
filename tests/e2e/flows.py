"""Reusable end-to-end flows (registration by callback data, language-neutral)."""

from __future__ import annotations

from bot.emulator import BotAPIEmulator
from handlers.onboarding import ConsentCb
from handlers.profile import AgeCb, MuniCb, Nav, PositionCb, SchoolCb, SubjectCb
from tests.e2e.conftest import Chat


async def register(
    chat: Chat,
    emu: BotAPIEmulator,
    *,
    municipality_id: int,
    school_id: int,
    position: str = "teacher",
    age: str = "under_35",
    years: str = "2",
) -> None:
    """Consent and a complete profile through the real handlers."""
    await chat.send("/start")
    await chat.tap_data(ConsentCb(action="agree").pack())
    await chat.send("Иванова Анна Петровна")
    await chat.tap_data(MuniCb(id=municipality_id).pack())
    await chat.tap_data(SchoolCb(id=school_id).pack())
    await chat.tap_data(PositionCb(code=position).pack())
    await chat.tap_data(SubjectCb(code="math", page=0).pack())
    await chat.tap_data(SubjectCb(done=True).pack())
    await chat.send(years)
    await chat.tap_data(AgeCb(band=age).pack())
    await chat.tap_data(Nav(action="save").pack())
    assert chat.last.reply_keyboard_texts, emu.dump_chat(chat.user.id)
