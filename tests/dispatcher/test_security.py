"""Server-side checks: consent gates, forged callback data, roles, anti-flood, errors."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from db.models import School, User
from db.repo import Repo
from tests.dispatcher.conftest import Harness
from tests.mocked_bot import Request
from ui.callbacks.coordinator import VerifySchoolCb
from ui.callbacks.profile import MuniCb, SchoolCb


async def _user(h: Harness, telegram_id: int) -> User:
    async with h.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(telegram_id)
        assert user is not None
        return user


def _texts(requests: list[Request]) -> str:
    return "\n".join(str(r.params.get("text") or "") for r in requests)


async def test_before_consent_only_id_and_language_are_stored(harness: Harness) -> None:
    sent = await harness.message(10, "/start")
    assert "152-ФЗ" in _texts(sent)
    typed = await harness.message(10, "Иванова Анна Петровна")  # no wizard before consent
    assert "/start" in _texts(typed)
    declined = await harness.callback(10, "consent:decline")
    assert "персональных данных я не сохраняю" in _texts(declined)
    user = await _user(harness, 10)
    assert (user.telegram_id, user.language, user.consent) == (10, "ru", "declined")
    assert user.full_name is None and user.municipality_id is None and user.consent_at is None


async def test_profile_needs_consent(harness: Harness) -> None:
    await harness.message(11, "/start")
    sent = await harness.message(11, "/profile")
    assert "согласи" in _texts(sent).lower()


async def _consent_and_name(h: Harness, telegram_id: int) -> None:
    await h.message(telegram_id, "/start")
    await h.callback(telegram_id, "consent:agree")
    await h.message(telegram_id, "Иванова Анна Петровна")


async def test_forged_municipality_and_foreign_school_are_refused(harness: Harness) -> None:
    await _consent_and_name(harness, 12)
    answers = await harness.callback(12, MuniCb(id=99999).pack())
    assert answers[-1].method == "answerCallbackQuery" and answers[-1].params.get("show_alert")
    async with harness.sessionmaker() as session:
        munis = await Repo(session).reference.municipalities()
        foreign = (await Repo(session).reference.schools(munis[1].id))[0]
    await harness.callback(12, MuniCb(id=munis[0].id).pack())
    refused = await harness.callback(12, SchoolCb(id=foreign.id).pack())
    assert refused[-1].method == "answerCallbackQuery" and refused[-1].params.get("show_alert")
    user = await _user(harness, 12)
    assert user.municipality_id == munis[0].id and user.school_id is None


async def test_teacher_cannot_use_admin_or_coordinator_actions(harness: Harness) -> None:
    await _consent_and_name(harness, 13)
    async with harness.sessionmaker() as session:
        muni = (await Repo(session).reference.municipalities())[0]
        school = await Repo(session).reference.find_or_add_school(muni.id, "Школа Тестовая")
        await session.commit()
    await harness.message(13, "/grant 13 admin")
    assert (await _user(harness, 13)).role == "teacher"
    forged = await harness.callback(13, VerifySchoolCb(school_id=school.id).pack())
    assert forged[-1].method == "answerCallbackQuery"
    async with harness.sessionmaker() as session:
        assert (await session.get(School, school.id)).verified is False  # type: ignore[union-attr]


async def test_admin_from_settings_can_grant(harness: Harness) -> None:
    await harness.message(14, "/start")
    await harness.message(900, "/start")
    sent = await harness.message(900, "/grant 14 coordinator volgodonsk")
    assert (await _user(harness, 14)).role == "coordinator"
    assert any(r.method == "setMyCommands" and r.params["scope"]["chat_id"] == 14 for r in sent)
    bad = await harness.message(900, "/grant x coordinator")
    assert "/grant" in _texts(bad)
    missing = await harness.message(900, "/grant 777 coordinator volgodonsk")
    assert "777" in _texts(missing)


async def test_flood_is_warned_once_then_dropped(harness: Harness) -> None:
    harness.dp.message.middleware  # noqa: B018 - the limiter lives in the dispatcher
    replies = [await harness.message(15, "/help") for _ in range(33)]
    warned = [r for r in replies if "Слишком много" in _texts(r)]
    silent = [r for r in replies if not r]
    assert len(warned) == 1 and len(silent) == 2


async def test_errors_are_answered_politely(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.message(16, "/start")

    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database is on fire")

    monkeypatch.setattr("db.repositories.users.UserRepo.set_consent", boom)
    sent = await harness.callback(16, "consent:agree")
    answer = [r for r in sent if r.method == "answerCallbackQuery"]
    assert answer and "что-то пошло не так" in answer[-1].params["text"].lower()
    assert (await _user(harness, 16)).consent == "none"  # rolled back, nothing half-written


async def test_stale_buttons_are_answered(harness: Harness) -> None:
    await harness.message(17, "/start")
    sent = await harness.callback(17, "pfm:5:-1")  # a municipality button outside the wizard
    assert sent[-1].method == "answerCallbackQuery" and "устарела" in sent[-1].params["text"]
    async with harness.sessionmaker() as session:
        assert (
            await session.scalar(select(User).where(User.telegram_id == 17))
        ).municipality_id is None  # type: ignore[union-attr]


async def test_a_double_tap_is_handled_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two taps of "agree" arriving together: one consent, one first question."""
    from db.repositories.users import UserRepo

    original = UserRepo.set_consent

    async def slow(self: UserRepo, *args: object) -> None:
        await asyncio.sleep(0.05)  # widen the window in which two handlers would overlap
        await original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(UserRepo, "set_consent", slow)
    await harness.message(18, "/start")
    before = len(harness.session.requests)
    await asyncio.gather(
        harness.callback(18, "consent:agree"), harness.callback(18, "consent:agree")
    )
    questions = [
        r
        for r in harness.session.requests[before:]
        if r.method == "sendMessage" and "Шаг 1 из 7" in str(r.params.get("text"))
    ]
    assert len(questions) == 1
    assert harness.dp["serial"].active_users == 0
