"""The methodist's /teacher view of a long route with markup-like evidence, through the real
bot and the Bot API emulator (which parses every text as Telegram does and rejects bad HTML)."""

from __future__ import annotations

import re

from core.clock import utcnow
from db.models import User
from db.repo import Repo
from domain.roles import Role
from tests.dispatcher.test_coordinator_routes import _evidence, _step
from tests.e2e.conftest import Running
from tests.staffing import make_staff

COORD, TEACHER = 8201, 8202


async def _user(running: Running, telegram_id: int, role: str, municipality_id: int) -> int:
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        position = (await repo.reference.positions())[0]
        user = User(
            telegram_id=telegram_id,
            language="ru",
            role=role,
            consent="given",
            consent_version="1.0",
            consent_at=utcnow(),
            full_name="Петрова <Анна> & Co",
            municipality_id=municipality_id,
            position_code=position.code,
            experience_years=3,
            age_band="under_35",
            profile_completed_at=utcnow(),
        )
        session.add(user)
        await session.flush()
        if role == "coordinator":
            await make_staff(repo, user, Role.COORDINATOR, municipality_id)
        await session.commit()
        return user.id


async def test_teacher_view_of_a_long_route_is_accepted_whole(running: Running) -> None:
    async with running.app.sessionmaker() as session:
        muni = (await Repo(session).reference.municipalities())[0].id
    await _user(running, COORD, "coordinator", muni)
    teacher_id = await _user(running, TEACHER, "teacher", muni)
    steps = [
        _step(
            i,
            f"c{i % 3}",
            status="done",
            evidence_text=_evidence(i)[:1000],
            reflection=(f"Рефлексия {i}: " + "<i>&amp;</i> & < > " * 30)[:500],
        )
        for i in range(1, 19)
    ]
    async with running.app.sessionmaker() as session:
        await Repo(session).routes.create(teacher_id, None, "normal", steps)
        await session.commit()

    chat = running.chat(COORD)
    await chat.send(f"/teacher {TEACHER}")

    shown = re.sub(r"\s+", "", "".join(chat.texts()))
    assert "Профильпедагога" in shown and "Маршрутпедагога" in shown
    assert "что-топошлонетак" not in shown
    for step in steps:
        assert re.sub(r"\s+", "", str(step.evidence_text)) in shown
        assert re.sub(r"\s+", "", str(step.reflection)) in shown
    running.emu.assert_no_violations()
