"""A new teacher walks consent and the profile wizard, in Russian and in English, through the
real bot polling the emulator; every request is checked against the Bot API spec."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import select

from db.models import User
from db.repo import Repo
from domain.scope import Scope
from tests.e2e.conftest import Chat, Running
from ui.callbacks.onboarding import ConsentCb, LangCb
from ui.callbacks.profile import AgeCb, EditCb, MuniCb, Nav, SchoolCb, SubjectCb

RU = {
    "welcome": "Здравствуйте",
    "consent": "152-ФЗ",
    "step1": "Шаг 1 из 7",
    "step2": "Шаг 2 из 7",
    "step4": "Шаг 4 из 7",
    "muni": "г. Волгодонск",
    "school": "СОШ № 1",
    "position": "Учитель",
    "subjects": ("Математика", "Информатика"),
    "years": "12 лет",
    "age": "до 35",
    "done": "Всё верно",
    "menu": "👤 Мой профиль",
}
EN = {
    "welcome": "Hello",
    "consent": "152-FZ",
    "step1": "Step 1 of 7",
    "step2": "Step 2 of 7",
    "step4": "Step 4 of 7",
    "muni": "Volgodonsk",
    "school": "СОШ № 1",
    "position": "Teacher",
    "subjects": ("Mathematics", "Computer science"),
    "years": "12 years",
    "age": "under 35",
    "done": "Everything is correct",
    "menu": "👤 My profile",
}


async def _user(running: Running, telegram_id: int) -> User:
    async with running.app.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(telegram_id)
        assert user is not None
        await session.refresh(user)
        return user


async def walk_onboarding(running: Running, chat: Chat, t: Mapping[str, object]) -> None:
    await chat.send("/start")
    texts = chat.texts()
    assert str(t["welcome"]) in texts[-2] and str(t["consent"]) in texts[-1]
    user = await _user(running, chat.user.id)
    assert user.consent == "none" and user.full_name is None

    await chat.tap_data(ConsentCb(action="agree").pack())
    assert str(t["step1"]) in chat.last.plain_text

    # a one-word name is refused politely and asked again; nothing is stored
    before = len(chat.texts())
    await chat.send("Анна")
    assert (
        len(chat.texts()) == before + 1 and (await _user(running, chat.user.id)).full_name is None
    )
    await chat.send("Иванова Анна Петровна")
    assert str(t["step2"]) in chat.last.plain_text

    # municipalities are paginated; the page buttons work both ways
    await chat.tap_data(MuniCb(page=1).pack())
    assert "2/2" in json.dumps(chat.last.reply_markup, ensure_ascii=False)
    await chat.tap_data(MuniCb(page=0).pack())
    await chat.tap(str(t["muni"]))

    # a school that is missing from the list is typed and marked unverified
    await chat.tap_data(SchoolCb(other=True).pack())
    await chat.send("МБОУ СОШ № 99")
    assert str(t["step4"]) in chat.last.plain_text
    # Back returns to the school question; then a listed school is chosen
    await chat.tap_data(Nav(action="back", field="position").pack())
    await chat.tap(str(t["school"]))
    await chat.tap(str(t["position"]))

    # subjects: Done with nothing chosen is refused, then two are toggled on
    await chat.tap_data(SubjectCb(done=True).pack())
    subjects = t["subjects"]
    assert isinstance(subjects, tuple)
    for name in subjects:
        await chat.tap(name)
    assert "✅ " + subjects[0] in json.dumps(chat.last.reply_markup, ensure_ascii=False)
    await chat.tap_data(SubjectCb(done=True).pack())

    await chat.send("много")  # not a number: asked again
    await chat.send("7")
    await chat.tap_data(AgeCb(band="under_35").pack())

    card = chat.last.plain_text
    assert "Иванова Анна Петровна" in card and str(t["muni"]) in card and subjects[1] in card
    # edit one field from the card and come back to it
    await chat.tap_data(EditCb(field="experience").pack())
    await chat.send("12")
    assert str(t["years"]) in chat.last.plain_text

    await chat.tap(str(t["done"]))
    assert str(t["menu"]) in chat.last.reply_keyboard_texts
    user = await _user(running, chat.user.id)
    assert user.consent == "given" and user.profile_completed_at is not None
    assert user.experience_years == 12 and user.age_band == "under_35"


async def test_onboarding_in_russian(running: Running) -> None:
    chat = running.chat(5001, "ru")
    await walk_onboarding(running, chat, RU)
    assert any("Выберите хотя бы один" in p for p in chat.popups())
    async with running.app.sessionmaker() as session:
        typed = (await Repo(session).reference.unverified_schools(Scope.whole_region()))[0]
    assert typed.name == "МБОУ СОШ № 99"


async def test_onboarding_in_english(running: Running) -> None:
    chat = running.chat(5002, "en", first_name="Anna")
    await walk_onboarding(running, chat, EN)
    assert any("Choose at least one" in p for p in chat.popups())


async def test_every_request_matched_the_spec_and_commands_are_set(running: Running) -> None:
    chat = running.chat(5003, "ru")
    await chat.send("/start")
    emu = running.emu
    assert emu.calls, "the bot made no calls"
    emu.assert_no_violations()
    default_ru = emu.commands_for({"type": "default"}, "ru")
    default_en = emu.commands_for({"type": "default"}, "en")
    assert default_ru and default_en
    assert {c["command"] for c in default_ru} >= {
        "start",
        "profile",
        "help",
        "privacy",
        "mydata",
        "deleteme",
        "language",
    }
    assert default_ru[0]["description"] != default_en[0]["description"]
    admin = emu.commands_for({"type": "chat", "chat_id": 900001}, None)
    assert admin and {"grant", "revoke", "staff", "audit", "schools"} <= {
        c["command"] for c in admin
    }


async def test_decline_then_agree_later(running: Running) -> None:
    chat = running.chat(5004, "ru")
    await chat.send("/start")
    await chat.tap_data(ConsentCb(action="decline").pack())
    assert (await _user(running, 5004)).consent == "declined"
    await chat.send("/privacy")
    assert "152-ФЗ" in chat.texts()[-1] or "Политика" in chat.texts()[-1]
    await chat.tap_data(ConsentCb(action="agree").pack())
    assert "Шаг 1 из 7" in chat.last.plain_text


async def test_language_switch_on_the_consent_screen(running: Running) -> None:
    chat = running.chat(5005, "ru")
    await chat.send("/start")
    await chat.tap_data(LangCb(code="en").pack())
    assert "152-FZ" in chat.last.plain_text
    assert (await _user(running, 5005)).language == "en"
    await chat.tap_data(ConsentCb(action="agree").pack())
    assert "Step 1 of 7" in chat.last.plain_text


async def test_deep_link_is_kept_through_onboarding(running: Running) -> None:
    chat = running.chat(5006, "ru")
    await chat.send("/start event_42")
    assert (await _user(running, 5006)).pending_payload == "event_42"
    await chat.send("/start bad$payload!")
    assert any("ссылка" in t.lower() for t in chat.texts())


async def test_my_data_and_delete_me(running: Running) -> None:
    chat = running.chat(5007, "en", first_name="Anna")
    await walk_onboarding(running, chat, EN)
    await chat.send("/mydata")
    document = chat.last.document
    assert document is not None and document[0].endswith(".json")
    data = json.loads(document[1])
    assert data["profile"]["full_name"] == "Иванова Анна Петровна" and data["telegram_id"] == 5007
    assert [h["action"] for h in data["consent_history"]] == ["consent_given"]
    assert data["assessments"] == data["routes"] == data["registrations"] == []

    await chat.send("/deleteme")
    await chat.tap("Keep my data")
    assert (await _user(running, 5007)).full_name is not None
    await chat.send("/deleteme")
    await chat.tap("Yes, erase my data")
    async with running.app.sessionmaker() as session:
        assert await session.scalar(select(User).where(User.telegram_id == 5007)) is None
        anonymous = await session.scalar(
            select(User).where(User.full_name.is_(None), User.erased_at.is_not(None))
        )
        assert anonymous is not None and anonymous.municipality_id is not None
    await chat.send("/start")
    assert "152-FZ" in chat.texts()[-1]
