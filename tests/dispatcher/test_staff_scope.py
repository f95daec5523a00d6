"""A coordinator's scope is a staff assignment made by an administrator (audited), never their
own profile; the admin commands parse ids strictly and speak the reader's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import load_i18n
from db.models import AuditEntry, Municipality, User
from db.repo import Repo
from domain.roles import Role
from domain.scope import Assignment
from handlers.admin import action_names
from tests.conftest import make_settings
from tests.dispatcher.conftest import Harness
from tests.mocked_bot import Request

ADMIN = 900
ROOT = Path(__file__).resolve().parents[2]


def _texts(requests: list[Request]) -> str:
    return "\n".join(str(r.params.get("text") or "") for r in requests)


async def _munis(h: Harness) -> dict[str, Municipality]:
    async with h.sessionmaker() as session:
        return {m.code: m for m in await Repo(session).reference.municipalities()}


async def _registered(h: Harness, telegram_id: int, muni: Municipality, name: str) -> None:
    await h.message(telegram_id, "/start")
    async with h.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(telegram_id)
        assert user is not None
        await repo.users.set_consent(user, "given", "1", h.clock.now())
        await repo.users.set_fields(
            user, full_name=name, municipality_id=muni.id, position_code="teacher"
        )
        user.profile_completed_at = user.created_at
        await session.commit()


async def _user(h: Harness, telegram_id: int) -> User:
    async with h.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(telegram_id)
        assert user is not None
        return user


async def _assigned(h: Harness, user: User) -> list[Assignment]:
    async with h.sessionmaker() as session:
        return await Repo(session).staff.assignments(user.id)


async def test_editing_the_profile_never_moves_a_coordinators_scope(harness: Harness) -> None:
    munis = await _munis(harness)
    vdn, tim = munis["volgodonsk"], munis["timashevsky"]
    await harness.message(ADMIN, "/start")
    await _registered(harness, 30, vdn, "Петрова Мария Ивановна")
    await _registered(harness, 31, tim, "Сидоров Олег Павлович")

    refused = await harness.message(ADMIN, "/grant 30 coordinator")
    assert "volgodonsk" in _texts(refused)  # the codes are listed
    assert (await _user(harness, 30)).role == "teacher"

    granted = await harness.message(ADMIN, "/grant 30 coordinator volgodonsk")
    assert "координатор" in _texts(granted)
    coordinator = await _user(harness, 30)
    assert coordinator.role == "coordinator"
    assert await _assigned(harness, coordinator) == [Assignment(municipality_id=vdn.id)]
    async with harness.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "role_set").order_by(AuditEntry.id)
        )
        assert entry is not None and entry.details["municipalities"] == ["volgodonsk"]

    foreign = await harness.message(30, "/teacher 31")
    assert "Сидоров" not in _texts(foreign)

    # the coordinator moves their own profile to the other municipality (the profile editor's
    # own call): their powers stay where the administrator put them
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        row = await repo.users.by_telegram_id(30)
        assert row is not None
        await repo.users.set_fields(row, municipality_id=tim.id, school_id=None)
        with pytest.raises(AttributeError):
            await repo.users.set_fields(row, staff_municipality_id=tim.id)
        with pytest.raises(AttributeError):
            await repo.users.set_fields(row, role="admin")
        await session.commit()
    harness.dp["user_cache"].invalidate(30)
    still_foreign = await harness.message(30, "/teacher 31")
    assert "Сидоров" not in _texts(still_foreign)
    moved = await _user(harness, 30)
    assert moved.municipality_id == tim.id
    assert await _assigned(harness, moved) == [Assignment(municipality_id=vdn.id)]


async def test_a_coordinator_without_an_assignment_has_no_staff_powers(harness: Harness) -> None:
    munis = await _munis(harness)
    await _registered(harness, 32, munis["timashevsky"], "Орлова Анна Сергеевна")
    await _registered(harness, 33, munis["timashevsky"], "Волков Иван Ильич")
    async with harness.sessionmaker() as session:  # e.g. a row from before staff assignments
        row = await Repo(session).users.by_telegram_id(32)
        assert row is not None
        row.role = Role.COORDINATOR.value
        await session.commit()
    harness.dp["user_cache"].invalidate(32)
    sent = await harness.message(32, "/teacher 33")
    assert "Волков" not in _texts(sent)
    staff = await harness.message(ADMIN, "/staff")
    assert "не назначен" in _texts(staff)


@pytest.mark.parametrize(
    "command",
    [
        "/grant ² admin",
        "/grant --5 admin",
        "/grant -5 admin",
        "/grant 99999999999999999999 admin",
        "/grant ٣ coordinator volgodonsk",
        "/revoke ²",
        "/revoke --5",
    ],
)
async def test_admin_commands_refuse_odd_ids_politely(harness: Harness, command: str) -> None:
    await harness.message(ADMIN, "/start")
    sent = await harness.message(ADMIN, command)
    text = _texts(sent)
    assert "/grant" in text or "/revoke" in text
    assert "пошло не так" not in text


async def test_staff_and_audit_read_in_russian(harness: Harness) -> None:
    munis = await _munis(harness)
    await harness.message(ADMIN, "/start")
    await _registered(harness, 34, munis["volgodonsk"], "Кузнецова Ольга Петровна")
    await harness.message(ADMIN, "/grant 34 coordinator volgodonsk")
    staff = _texts(await harness.message(ADMIN, "/staff"))
    assert "Кузнецова Ольга Петровна" in staff and "координатор" in staff
    assert "coordinator" not in staff
    audit = _texts(await harness.message(ADMIN, "/audit"))
    assert "назначил" in audit.lower() and "Кузнецова Ольга Петровна" in audit
    assert "role_set" not in audit and "target" not in audit


def test_every_audited_action_has_a_readable_name() -> None:
    pattern = re.compile(r"audit\.record\(\s*\"([a-z_]+)\"")
    recorded: set[str] = set()
    for folder in ("bot", "handlers", "db", "scheduler", "services", "domain"):
        for path in (ROOT / folder).rglob("*.py"):
            recorded |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert recorded, "no audit calls found: the pattern is stale"
    i18n = load_i18n(make_settings("sqlite+aiosqlite://"))
    with i18n.context(), i18n.use_locale("ru"):
        names = action_names()
    assert recorded <= set(names), recorded - set(names)
    assert all(re.search("[а-я]", names[action]) for action in recorded)
