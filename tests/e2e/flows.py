"""Reusable end-to-end flows (registration by callback data, language-neutral)."""

from __future__ import annotations

from db.repo import Repo
from devtools.emulator import BotAPIEmulator
from domain.roles import Role
from tests.e2e.conftest import Chat, Running
from tests.staffing import make_staff
from ui.callbacks.onboarding import ConsentCb
from ui.callbacks.profile import AgeCb, MuniCb, Nav, PositionCb, SchoolCb, SubjectCb


async def register(
    chat: Chat,
    emu: BotAPIEmulator,
    *,
    municipality_id: int,
    school_id: int,
    position: str = "teacher",
    age: str = "under_35",
    years: str = "2",
    start: str = "/start",
    menu_last: bool = True,
) -> None:
    """Consent and a complete profile through the real handlers (`start`: the first message,
    e.g. a deep link; `menu_last`: the main menu is the last message)."""
    await chat.send(start)
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
    if menu_last:  # else the deep link's answer follows the menu
        assert chat.last.reply_keyboard_texts, emu.dump_chat(chat.user.id)


async def coordinator(
    running: Running,
    tg_id: int,
    municipality_id: int,
    school_id: int,
    *,
    lang: str = "en",
    first_name: str = "Olga",
) -> Chat:
    """A registered methodist (an English client unless `lang` says otherwise) whom an
    administrator made the coordinator of their municipality."""
    chat = running.chat(tg_id, lang=lang, first_name=first_name)
    await register(
        chat,
        running.emu,
        municipality_id=municipality_id,
        school_id=school_id,
        position="methodist",
        age="35_plus",
        years="20",
    )
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        row = await repo.users.by_telegram_id(tg_id)
        assert row is not None
        await make_staff(repo, row, Role.COORDINATOR, row.municipality_id)
        await session.commit()
    running.app.dp["user_cache"].invalidate(tg_id)
    return chat
