"""Staff invite links end to end (the real bot polling the Bot API emulator): an
administrator's one-time link makes a new user a coordinator with the scope it names once they
have registered; a used or expired link is refused politely; a teacher cannot make one."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from db.models import AuditEntry, Municipality, StaffInvite
from db.repo import Repo
from devtools.emulator.models import EmuUser
from domain.roles import Role
from domain.scope import Scope
from tests.e2e.conftest import ADMIN_ID, Chat, Running
from tests.e2e.flows import register

LINK = re.compile(r"https://t\.me/metodbot_test_bot\?start=(staff_[0-9a-f]{32})")


async def _munis(running: Running) -> dict[str, Municipality]:
    async with running.app.sessionmaker() as session:
        return {m.code: m for m in await Repo(session).reference.municipalities()}


async def _school(running: Running, municipality_id: int) -> int:
    async with running.app.sessionmaker() as session:
        return (await Repo(session).reference.schools(municipality_id))[0].id


async def _invite(running: Running, command: str) -> str:
    admin = running.chat(ADMIN_ID)
    await admin.send("/start")
    reply = await admin.send(command)
    found = LINK.search(reply.plain_text)
    assert found, reply.plain_text
    return found.group(1)


async def _role_and_scope(running: Running, telegram_id: int) -> tuple[str, Scope | None]:
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(telegram_id)
        assert user is not None
        role = Role(user.role)
        return user.role, await repo.staff.scope(user, role)


def _user_chat(running: Running, user_id: int, username: str | None = None) -> Chat:
    chat = running.chat(user_id)
    chat.user = EmuUser(id=user_id, first_name="Ольга", language_code="ru", username=username)
    return chat


async def test_an_invite_makes_a_new_user_a_coordinator_once(running: Running) -> None:
    munis = await _munis(running)
    vdn, tim = munis["volgodonsk"], munis["timashevsky"]
    payload = await _invite(running, "/invite coordinator volgodonsk timashevsky")

    newcomer = _user_chat(running, 700001)
    await register(
        newcomer,
        running.emu,
        municipality_id=vdn.id,
        school_id=await _school(running, vdn.id),
        start=f"/start {payload}",
    )
    said = "\n".join(newcomer.texts())
    assert "Вас пригласили" in said  # told at /start, before the registration
    assert "Теперь ваша роль: координатор" in said, said
    assert await _role_and_scope(running, 700001) == (
        "coordinator",
        Scope(frozenset({vdn.id, tim.id})),
    )
    teachers = await newcomer.send("/teachers")
    assert "Педагоги" in teachers.plain_text, teachers.plain_text

    # the same link again, by someone else: refused at /start and after registering
    second = _user_chat(running, 700002)
    await register(
        second,
        running.emu,
        municipality_id=tim.id,
        school_id=await _school(running, tim.id),
        start=f"/start {payload}",
        menu_last=False,
    )
    assert sum("уже использована" in t for t in second.texts()) == 2
    assert (await _role_and_scope(running, 700002)) == ("teacher", None)

    async with running.app.sessionmaker() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert {"invite_created", "role_set", "invite_used"} <= set(actions)
    audit = await running.chat(ADMIN_ID).send("/audit")
    assert "приглашение" in audit.plain_text and "координатор" in audit.plain_text


async def test_an_expired_invite_gives_nothing(running: Running) -> None:
    munis = await _munis(running)
    school = await _school(running, munis["volgodonsk"].id)
    payload = await _invite(running, f"/invite school_methodist {school}")
    running.clock.advance(timedelta(days=8))
    late = _user_chat(running, 700003)
    await register(
        late,
        running.emu,
        municipality_id=munis["volgodonsk"].id,
        school_id=school,
        start=f"/start {payload}",
        menu_last=False,
    )
    assert any("истёк" in t for t in late.texts()), late.texts()
    assert await _role_and_scope(running, 700003) == ("teacher", None)


async def test_a_teacher_cannot_make_invites_or_grant(running: Running) -> None:
    munis = await _munis(running)
    teacher = _user_chat(running, 700004)
    await register(
        teacher,
        running.emu,
        municipality_id=munis["volgodonsk"].id,
        school_id=await _school(running, munis["volgodonsk"].id),
    )
    for command in (
        "/invite coordinator region",
        "/invite school_methodist 1",
        "/grant 700004 admin",
        "/grant @someone coordinator region",
    ):
        reply = await teacher.send(command)
        assert "t.me/" not in reply.plain_text
    async with running.app.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(StaffInvite)) == 0
    assert await _role_and_scope(running, 700004) == ("teacher", None)


async def test_an_admin_grants_by_username(running: Running) -> None:
    munis = await _munis(running)
    known = _user_chat(running, 700005, username="Olga_Metod")
    await register(
        known,
        running.emu,
        municipality_id=munis["volgodonsk"].id,
        school_id=await _school(running, munis["volgodonsk"].id),
    )
    admin = running.chat(ADMIN_ID)
    await admin.send("/start")
    unknown = await admin.send("/grant @nobody_here coordinator region")
    assert "не найден" in unknown.plain_text
    done = await admin.send("/grant @olga_metod coordinator region")
    assert "Olga" not in done.plain_text or "координатор" in done.plain_text
    assert await _role_and_scope(running, 700005) == ("coordinator", Scope.whole_region())
