"""/settings through the real dispatcher: the time zone (every shown time follows it), quiet
hours, the reminder categories, and the 🔕 button under a reminder. Buttons are never
trusted: a forged zone, quiet-hours choice or category changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import prepare_database
from db.models import Event
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from db.repo import Repo
from devtools.emulator import SpecValidator
from domain.notices import Notice, NoticeKind
from domain.roles import Role
from services import profile, registrations
from tests.conftest import make_settings
from tests.dispatcher.conftest import Harness
from tests.mocked_bot import Request
from tests.sample import load_sample_events
from tests.sample_teacher import fill_profile, ids
from tests.staffing import make_staff
from ui.callbacks.event_admin import EventEditCb, EventEditField
from ui.callbacks.events import EvAct, EvAction
from ui.callbacks.settings import MuteCb, SetAction, SetCb
from ui.formatting import h

MOSCOW, YEKATERINBURG = "Europe/Moscow", "Asia/Yekaterinburg"
ANNA, BORIS, ADMIN = 7401, 7402, 900
TRICKY = SAMPLE_EVENT_CODES[0]  # the master-class with the tricky title, in two days


@pytest.fixture
async def harness(db_url: str, spec: SpecValidator | None) -> AsyncIterator[Harness]:
    """The dispatcher harness with the shipped default quiet hours (tests elsewhere turn
    them off)."""
    settings = make_settings(
        db_url,
        admin_ids=[ADMIN],
        throttle_rate=0.001,
        throttle_burst=60,
        quiet_hours="21:00-08:00",
        timezone=MOSCOW,
    )
    engine, sessionmaker = await prepare_database(settings)
    h = Harness(settings, sessionmaker, spec)
    yield h
    await h.dp.storage.close()
    await engine.dispose()
    assert h.session.violations == [], h.session.violations


async def _teacher(h: Harness, telegram_id: int) -> int:
    """A consented teacher of the sample municipality, profile complete, in English."""
    async with h.sessionmaker() as session:
        repo = Repo(session)
        user, _ = await repo.users.get_or_create(telegram_id, "en")
        await session.flush()
        await profile.give_consent(repo, user.id, "1.0", h.clock.now())
        muni_id, school_id = await ids(repo)
        await fill_profile(repo, user.id, muni_id, school_id, h.clock.now())
        await session.commit()
        return user.id


async def _events(h: Harness) -> dict[str, Event]:
    return await load_sample_events(h.sessionmaker)


async def _prefs(h: Harness, user_id: int) -> tuple[str | None, str | None, list[str]]:
    async with h.sessionmaker() as session:
        user = await Repo(session).users.require(user_id)
        return user.timezone, user.quiet_hours, list(user.muted or [])


async def _pending(h: Harness, user_id: int, kind: NoticeKind) -> list[datetime]:
    async with h.sessionmaker() as session:
        rows = await Repo(session).outbox.pending_of(user_id, [kind])
        return [r.due_at for r in rows if r.due_at is not None]


def _texts(requests: list[Request], *methods: str) -> list[str]:
    return [
        str(r.params.get("text", ""))
        for r in requests
        if r.method in (methods or ("sendMessage", "editMessageText"))
    ]


def _buttons(request: Request) -> list[str]:
    markup = request.params.get("reply_markup") or {}
    return [
        b.get("callback_data") or b.get("url", "")
        for row in markup.get("inline_keyboard", [])
        for b in row
    ]


def _alerts(requests: list[Request]) -> list[str]:
    return [
        str(r.params.get("text", ""))
        for r in requests
        if r.method == "answerCallbackQuery" and r.params.get("show_alert")
    ]


async def _press(h: Harness, user: int, data: SetCb | MuteCb) -> list[Request]:
    return await h.callback(user, data.pack(), lang="en")


async def test_settings_show_the_defaults_and_the_zone_moves_every_shown_time(
    harness: Harness,
) -> None:
    events = await _events(harness)
    anna, boris = await _teacher(harness, ANNA), await _teacher(harness, BORIS)
    event = events[TRICKY]
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        for user_id in (anna, boris):
            await registrations.sign_up(repo, event.id, user_id, harness.clock.now())
        await session.commit()

    (screen,) = _texts(await harness.message(ANNA, "/settings", lang="en"))
    assert "Time zone: Moscow (UTC+3)" in screen
    assert "Quiet hours: 21:00–08:00" in screen
    for name in ("Events", "Route", "Self-assessment", "News"):
        assert f"✅ {name} — " in screen
    assert "Agenda" not in screen  # staff only

    sent = await _press(harness, ANNA, SetCb(action=SetAction.ZONES))
    (zones,) = [r for r in sent if r.method == "editMessageText"]
    assert len([b for b in _buttons(zones) if b.startswith("st:zone:")]) == 11
    assert "✅ Moscow (UTC+3)" in json.dumps(zones.params["reply_markup"], ensure_ascii=False)

    sent = await _press(harness, ANNA, SetCb(action=SetAction.ZONE, value=YEKATERINBURG))
    (screen,) = _texts(sent, "editMessageText")
    assert "Time zone: Yekaterinburg (UTC+5)" in screen
    assert await _prefs(harness, anna) == (YEKATERINBURG, None, [])

    # the same event, the same moment: two hours later on Anna's clock than on Boris's
    moscow = event.starts_at.astimezone(ZoneInfo(MOSCOW))
    yekat = event.starts_at.astimezone(ZoneInfo(YEKATERINBURG))
    assert yekat.hour == (moscow.hour + 2) % 24
    span = "{:%H:%M}–{:%H:%M}"
    length = event.ends_at - event.starts_at
    card = EvAct(action=EvAction.CARD, event=event.id).pack()
    (anna_card,) = _texts(await harness.callback(ANNA, card, lang="en"))
    (boris_card,) = _texts(await harness.callback(BORIS, card, lang="en"))
    assert h(TRICKY_TITLE) in anna_card and h(TRICKY_TITLE) in boris_card
    assert span.format(yekat, yekat + length) in anna_card
    assert span.format(moscow, moscow + length) not in anna_card
    assert span.format(moscow, moscow + length) in boris_card

    (anna_my,) = _texts(await harness.message(ANNA, "/my", lang="en"))
    (boris_my,) = _texts(await harness.message(BORIS, "/my", lang="en"))
    assert f"{yekat:%d.%m %H:%M} · {h(TRICKY_TITLE)}" in anna_my
    assert f"{moscow:%d.%m %H:%M} · {h(TRICKY_TITLE)}" in boris_my

    # quiet hours: the choices, one picked, saved and shown
    sent = await _press(harness, ANNA, SetCb(action=SetAction.QUIETS))
    (choices,) = [r for r in sent if r.method == "editMessageText"]
    assert "st:quiet:2200-0700" in _buttons(choices) and "st:quiet:off" in _buttons(choices)
    (screen,) = _texts(
        await _press(harness, ANNA, SetCb(action=SetAction.QUIET, value="2200-0700"))
    )
    assert "Quiet hours: 22:00–07:00" in screen
    assert await _prefs(harness, anna) == (YEKATERINBURG, "22:00-07:00", [])
    (screen,) = _texts(await _press(harness, ANNA, SetCb(action=SetAction.QUIET, value="off")))
    assert "Quiet hours: off. Messages come at any hour." in screen
    assert await _prefs(harness, anna) == (YEKATERINBURG, "", [])


async def test_a_category_switched_off_withdraws_its_rows_and_on_plans_them_again(
    harness: Harness,
) -> None:
    event = (await _events(harness))[TRICKY]
    anna = await _teacher(harness, ANNA)
    now = harness.clock.now()
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        await registrations.sign_up(repo, event.id, anna, now)
        await repo.outbox.add(
            [
                Notice(
                    anna,
                    NoticeKind.EVENT_REMINDER,
                    {"event_id": event.id, "reg_id": 0, "lead": 30},
                    due_at=now + timedelta(hours=5),
                    ref=f"event:{event.id}",
                )
            ],
            now,
        )
        await session.commit()
    planned = await _pending(harness, anna, NoticeKind.EVENT_REMINDER)
    assert len(planned) == 3  # 24 h and 1 h before, and the row added by hand

    toggle = SetCb(action=SetAction.TOGGLE, value="events")
    sent = await _press(harness, ANNA, toggle)
    (screen,) = _texts(sent, "editMessageText")
    assert "🔕 Events — " in screen
    assert "st:toggle:events" in _buttons(next(r for r in sent if r.method == "editMessageText"))
    assert await _prefs(harness, anna) == (None, None, ["events"])
    assert await _pending(harness, anna, NoticeKind.EVENT_REMINDER) == []

    (screen,) = _texts(await _press(harness, ANNA, toggle), "editMessageText")
    assert "✅ Events — " in screen
    assert await _prefs(harness, anna) == (None, None, [])
    # the confirmed seat's reminders are planned again (the hand-made row is not)
    assert sorted(await _pending(harness, anna, NoticeKind.EVENT_REMINDER)) == sorted(
        [event.starts_at - timedelta(hours=24), event.starts_at - timedelta(hours=1)]
    )


def _reminder_update(h: Harness, user: int, message: dict[str, Any], data: str) -> dict[str, Any]:
    """A tap on a button of a message the bot sent (its keyboard included)."""
    return {
        "update_id": 10_000 + len(h.session.requests),
        "callback_query": {
            "id": f"mute{len(h.session.requests)}",
            "from": {"id": user, "is_bot": False, "first_name": "Anna", "language_code": "en"},
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": 77,
                "date": 1_700_000_000,
                "chat": {"id": user, "type": "private", "first_name": "Anna"},
                "from": {"id": 123456, "is_bot": True, "first_name": "Metodbot"},
                "text": message["text"],
                "reply_markup": message["reply_markup"],
            },
        },
    }


async def test_the_mute_button_under_a_reminder_switches_its_category_off(
    harness: Harness,
) -> None:
    event = (await _events(harness))[TRICKY]
    anna = await _teacher(harness, ANNA)
    async with harness.sessionmaker() as session:
        await registrations.sign_up(Repo(session), event.id, anna, harness.clock.now())
        await session.commit()

    # the day before, in the afternoon (outside quiet hours): the 24-hour reminder goes out
    harness.clock.set(event.starts_at - timedelta(hours=24) + timedelta(minutes=1))
    before = len(harness.session.requests)
    await harness.sender.drain()
    (reminder,) = [r for r in harness.session.requests[before:] if r.method == "sendMessage"]
    assert h(TRICKY_TITLE) in reminder.params["text"]
    buttons = _buttons(reminder)
    assert buttons[-1] == "mu:events" and len(buttons) > 1
    message = {"text": reminder.params["text"], "reply_markup": reminder.params["reply_markup"]}

    sent = await harness.feed(_reminder_update(harness, ANNA, message, "mu:events"))
    (edit,) = [r for r in sent if r.method == "editMessageReplyMarkup"]
    assert _buttons(edit) == buttons[:-1]  # the others stay
    (toast,) = [r for r in sent if r.method == "answerCallbackQuery"]
    assert toast.params.get("text") and not toast.params.get("show_alert")
    (note,) = [r for r in sent if r.method == "sendMessage"]
    assert note.params["text"] == (
        "🔕 Event reminders are off. You can turn them back on in /settings"
    )
    assert _buttons(note) == [SetCb(action=SetAction.HOME).pack()]
    assert await _prefs(harness, anna) == (None, None, ["events"])
    assert await _pending(harness, anna, NoticeKind.EVENT_REMINDER) == []  # the 1-hour one

    # a second tap (an older reminder still carries the button): already off, said so
    sent = await harness.feed(_reminder_update(harness, ANNA, message, "mu:events"))
    (note,) = [r for r in sent if r.method == "sendMessage"]
    assert note.params["text"].startswith("🔕 Event reminders are already off.")
    assert await _prefs(harness, anna) == (None, None, ["events"])

    # ⚙️ Settings under the note opens the screen with the category off
    (screen,) = _texts(await _press(harness, ANNA, SetCb(action=SetAction.HOME)))
    assert "🔕 Events — " in screen


@pytest.mark.parametrize(
    "data",
    [
        SetCb(action=SetAction.ZONE, value="Europe/London"),
        SetCb(action=SetAction.ZONE, value="Mars/Olympus"),
        SetCb(action=SetAction.QUIET, value="2100-0900"),
        SetCb(action=SetAction.QUIET, value="2100"),
        SetCb(action=SetAction.TOGGLE, value="bogus"),
        SetCb(action=SetAction.TOGGLE, value="agenda"),  # staff only
        MuteCb(category="bogus"),
    ],
    ids=lambda d: d.pack(),
)
async def test_forged_buttons_change_nothing(harness: Harness, data: SetCb | MuteCb) -> None:
    anna = await _teacher(harness, ANNA)
    sent = await _press(harness, ANNA, data)
    assert len(_alerts(sent)) == 1, sent
    assert not [r for r in sent if r.method in ("sendMessage", "editMessageText")]
    assert await _prefs(harness, anna) == (None, None, [])


async def test_staff_see_and_switch_the_agenda(harness: Harness) -> None:
    """An administrator from ADMIN_IDS is staff: the agenda is theirs to switch."""
    admin = await _teacher(harness, ADMIN)
    (screen,) = _texts(await harness.message(ADMIN, "/settings", lang="en"))
    assert "✅ Agenda — " in screen
    sent = await _press(harness, ADMIN, SetCb(action=SetAction.TOGGLE, value="agenda"))
    assert not _alerts(sent)
    assert await _prefs(harness, admin) == (None, None, ["agenda"])


async def test_settings_without_consent_offer_language_and_policy_only(harness: Harness) -> None:
    sent = await harness.message(7499, "/settings", lang="en")
    (screen,) = [r for r in sent if r.method == "sendMessage"]
    assert _buttons(screen) == ["set:language", "set:privacy"]
    sent = await _press(harness, 7499, SetCb(action=SetAction.ZONE, value=YEKATERINBURG))
    assert len(_alerts(sent)) == 1


async def _coordinator(h: Harness, telegram_id: int) -> int:
    """A coordinator of the sample municipality (where the tricky master-class is), English."""
    user_id = await _teacher(h, telegram_id)
    async with h.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.require(user_id)
        muni_id, _school = await ids(repo)
        await make_staff(repo, user, Role.COORDINATOR, muni_id)
        await session.commit()
    return user_id


async def test_a_coordinator_types_and_reads_event_times_in_their_own_zone(
    harness: Harness,
) -> None:
    """The event form reads a typed time in the coordinator's zone and shows it back in it;
    a teacher in Moscow sees the same moment two hours earlier."""
    event = (await _events(harness))[TRICKY]
    await _coordinator(harness, 7410)
    await _teacher(harness, BORIS)
    await _press(harness, 7410, SetCb(action=SetAction.ZONE, value=YEKATERINBURG))

    day = (event.starts_at + timedelta(days=1)).astimezone(ZoneInfo(YEKATERINBURG))
    when = EventEditCb(field=EventEditField.WHEN, event=event.id).pack()
    (question,) = _texts(await harness.callback(7410, when, lang="en"))
    shown = event.starts_at.astimezone(ZoneInfo(YEKATERINBURG))
    assert f"{shown:%H:%M}–" in question  # the current time, on the coordinator's clock
    await harness.message(7410, f"{day:%d.%m.%Y} 10:00", lang="en")
    (card,) = _texts(await harness.message(7410, "12:00", lang="en"))
    assert f"{day:%d.%m.%Y}, 10:00–12:00" in card

    async with harness.sessionmaker() as session:
        moved = await Repo(session).events.get(event.id)
        assert moved is not None
        assert moved.starts_at == datetime(
            day.year, day.month, day.day, 5, 0, tzinfo=UTC
        )  # 10:00 in Yekaterinburg (UTC+5)
        assert moved.ends_at - moved.starts_at == timedelta(hours=2)
    card_cb = EvAct(action=EvAction.CARD, event=event.id).pack()
    (boris_card,) = _texts(await harness.callback(BORIS, card_cb, lang="en"))
    assert f"{day:%d.%m.%Y}, 08:00–10:00" in boris_card
