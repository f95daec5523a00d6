"""Event reminders through the real bot and the outbox, on the bot's injected clock, for two
teachers in different time zones (Moscow, UTC+3 and Yekaterinburg, UTC+5) with the default
quiet hours 21:00–08:00: each reminder comes at its lead time, shows the teacher's local time,
waits out the quiet hours (collapsed into one message) unless its event starts within two
hours, and follows every change: a cancelled registration, a moved or cancelled event, a
muted category, a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.app import BotApp
from core.clock import ManualClock
from db.models import Event, OutboxMessage, School, User
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, SpecValidator
from domain.notices import NoticeKind
from domain.reminders import Category
from services import events as event_services
from services import reminders
from tests.conftest import TEST_TOKEN, make_settings
from tests.e2e.conftest import ADMIN_ID, Chat, Running
from tests.e2e.flows import register
from tests.sample import load_sample_events

MSK = ZoneInfo("Europe/Moscow")
YEKT = ZoneInfo("Asia/Yekaterinburg")


@pytest.fixture
async def reminding(db_url: str, spec: SpecValidator | None) -> AsyncIterator[Running]:
    """The e2e rig with the production defaults of quiet hours and lead times, on SQLite and
    PostgreSQL."""
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec, bot_username="metodbot_test_bot") as emu:
        settings = make_settings(
            db_url,
            telegram_api_base=emu.base_url,
            admin_ids=[ADMIN_ID],
            quiet_hours="21:00-08:00",
            reminder_lead_minutes=[24 * 60, 60],
        )
        app = BotApp(settings, clock=ManualClock())
        try:
            await app.setup()
            await app.start_polling()
            assert isinstance(app.clock, ManualClock)
            yield Running(app, emu, app.dp["update_counter"], app.clock)
        finally:
            await app.stop()
        emu.assert_no_violations()


def msk(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), MSK).astimezone(UTC)


async def _retime(running: Running, code: str, starts: datetime, minutes: int) -> int:
    """Move a sample event (before anyone signs up) the way a coordinator's edit does: its
    feedback job moves with it."""
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        event = await session.scalar(select(Event).where(Event.code == code))
        assert event is not None
        done = await event_services.change_event(
            repo,
            event.id,
            {
                "starts_at": starts,
                "ends_at": starts + timedelta(minutes=minutes),
                "registration_deadline": None,
            },
            running.clock.now(),
        )
        assert isinstance(done, event_services.Done), done
        await session.commit()
        return event.id


async def _teacher(running: Running, tg_id: int, name: str, zone: str, muni: int) -> Chat:
    chat = running.chat(tg_id, lang="en", first_name=name)
    async with running.app.sessionmaker() as session:
        school = await session.scalar(select(School).where(School.municipality_id == muni))
    assert school is not None
    await register(chat, running.emu, municipality_id=muni, school_id=school.id)
    async with running.app.sessionmaker() as session:
        await session.execute(update(User).where(User.telegram_id == tg_id).values(timezone=zone))
        await session.commit()
    running.app.dp["user_cache"].invalidate(tg_id)
    return chat


async def _sign_up(chat: Chat, event_id: int) -> None:
    await chat.send(f"/start event_{event_id}")
    await chat.tap("✅ Sign up")
    await chat.tap("✅ Yes, sign me up")
    assert any("You are registered!" in p for p in chat.popups()), chat.emu.dump_chat(chat.user.id)


async def _at(running: Running, moment: datetime) -> None:
    """Move the bot's clock and let it do what is due (jobs, then the outbox)."""
    running.clock.set(moment)
    await running.app.tick(moment)


def reminders_to(running: Running, chat: Chat) -> list[str]:
    return [m.plain_text for m in running.emu.sent_to(chat.user.id, "⏰ Reminder")]


async def _pending(running: Running, tg_id: int) -> list[OutboxMessage]:
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(tg_id)
        assert user is not None
        return await repo.outbox.pending_of(user.id, [NoticeKind.EVENT_REMINDER])


async def test_reminders_come_in_each_teachers_own_time_and_respect_quiet_hours(
    reminding: Running,
) -> None:
    running = reminding
    events = await load_sample_events(running.app.sessionmaker)
    muni = events[SAMPLE_EVENT_CODES[0]].municipality_id
    day = datetime.now(MSK).date() + timedelta(days=3)
    running.clock.set(msk(day - timedelta(days=2), 12))
    # the tricky title at 22:00, the webinar (a link, no place) at 22:30, the long-titled
    # internship session (a site, a place) at 08:30 the next morning — all Moscow time
    late = await _retime(running, SAMPLE_EVENT_CODES[0], msk(day, 22), 90)
    webinar = await _retime(running, SAMPLE_EVENT_CODES[4], msk(day, 22, 30), 60)
    early = await _retime(running, SAMPLE_EVENT_CODES[1], msk(day + timedelta(days=1), 8, 30), 90)

    anna = await _teacher(running, 8801, "Anna", "Europe/Moscow", muni)
    ivan = await _teacher(running, 8802, "Ivan", "Asia/Yekaterinburg", muni)
    for chat in (anna, ivan):
        for event_id in (late, webinar, early):
            await _sign_up(chat, event_id)
    # two reminders per seat: a day and an hour before
    assert len(await _pending(running, 8801)) == 6
    assert reminders_to(running, anna) == reminders_to(running, ivan) == []

    # the eve, 22:00 Moscow: quiet for both (Ivan's clock says midnight): nothing is sent
    await _at(running, msk(day - timedelta(days=1), 22))
    await _at(running, msk(day - timedelta(days=1), 22, 30))
    assert reminders_to(running, anna) == reminders_to(running, ivan) == []

    # 08:00 in Yekaterinburg (06:00 Moscow): Ivan gets both evening reminders in one message
    await _at(running, msk(day, 5, 59))
    assert reminders_to(running, ivan) == []
    await _at(running, msk(day, 6))
    [both] = reminders_to(running, ivan)
    assert TRICKY_TITLE in both and "ФГИС" in both
    assert "tomorrow at 00:00–01:30" in both  # 22:00 Moscow is midnight in Yekaterinburg
    assert reminders_to(running, anna) == []

    # 08:00 Moscow: Anna's, in her time
    await _at(running, msk(day, 8))
    [anna_both] = reminders_to(running, anna)
    assert TRICKY_TITLE in anna_both and "today at 22:00–23:30" in anna_both
    message = running.emu.sent_to(anna.user.id, "⏰ Reminder")[0]
    labels = [b["text"] for b in message.all_inline_buttons]
    assert labels.count("Open the event") == 2 and "🔗 The link" in labels
    assert "📍 How to get there" in labels and labels[-1] == "🔕 No more event reminders"

    # 08:30 Moscow: the next morning's session a day ahead — outside quiet hours, sent at once
    await _at(running, msk(day, 8, 30))
    assert (
        len(reminders_to(running, anna)) == 2
        and "tomorrow at 08:30" in reminders_to(running, anna)[-1]
    )
    assert "tomorrow at 10:30" in reminders_to(running, ivan)[-1]

    # 21:00 Moscow, an hour before: quiet hours, but the event starts within two hours
    await _at(running, msk(day, 21))
    assert "/checkin" in reminders_to(running, anna)[-1]  # the hour-before one: how to check in
    assert TRICKY_TITLE in reminders_to(running, ivan)[-1]
    assert len(reminders_to(running, anna)) == len(reminders_to(running, ivan)) == 3

    # 07:30 Moscow the next morning: the 1-hour reminder of the 08:30 session (urgent too)
    await _at(running, msk(day, 21, 30))
    await _at(running, msk(day + timedelta(days=1), 7, 30))
    assert len(reminders_to(running, anna)) == len(reminders_to(running, ivan)) == 5
    assert "today at 08:30" in reminders_to(running, anna)[-1]
    assert "today at 10:30" in reminders_to(running, ivan)[-1]
    assert await _pending(running, 8801) == []


async def test_changes_withdraw_or_move_reminders_and_a_restart_loses_none(
    reminding: Running,
) -> None:
    running = reminding
    events = await load_sample_events(running.app.sessionmaker)
    muni = events[SAMPLE_EVENT_CODES[0]].municipality_id
    day = datetime.now(MSK).date() + timedelta(days=4)
    running.clock.set(msk(day - timedelta(days=3), 12))
    first = await _retime(running, SAMPLE_EVENT_CODES[0], msk(day, 15), 90)
    second = await _retime(running, SAMPLE_EVENT_CODES[4], msk(day, 17), 60)
    anna = await _teacher(running, 8811, "Anna", "Europe/Moscow", muni)
    ivan = await _teacher(running, 8812, "Ivan", "Asia/Yekaterinburg", muni)
    for chat in (anna, ivan):
        await _sign_up(chat, first)
        await _sign_up(chat, second)

    # Anna cancels the first: her two reminders of it are withdrawn, Ivan's stay
    await anna.send(f"/start event_{first}")
    await anna.tap("❌ Cancel my registration")
    await anna.tap("✅ Yes, cancel")
    assert {r.payload["event_id"] for r in await _pending(running, 8811)} == {second}
    assert len(await _pending(running, 8812)) == 4

    # the second event moves a day later: the reminders move with it
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        moved = msk(day + timedelta(days=1), 17)
        done = await event_services.change_event(
            repo,
            second,
            {"starts_at": moved, "ends_at": moved + timedelta(hours=1)},
            running.clock.now(),
        )
        assert isinstance(done, event_services.Done)
        await session.commit()
    for tg_id in (8811, 8812):
        due = [r.due_at for r in await _pending(running, tg_id) if r.payload["event_id"] == second]
        assert due == [moved - timedelta(hours=24), moved - timedelta(hours=1)]

    # Ivan mutes event reminders: all his pending ones go
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        ivan_row = await repo.users.by_telegram_id(8812)
        assert ivan_row is not None
        assert await reminders.mute(repo, ivan_row.id, Category.EVENTS)
        await session.commit()
    assert await _pending(running, 8812) == []

    # a restart before anything is due: a new process on the same database and clock
    await running.app.stop()
    app = BotApp(running.app.settings, clock=running.clock)
    await app.setup()
    await app.start_polling()
    running.app = app
    try:
        # the first event is cancelled by its organiser: nobody is reminded of it
        async with app.sessionmaker() as session:
            assert isinstance(
                await event_services.cancel_event(Repo(session), first, running.clock.now()),
                event_services.Done,
            )
            await session.commit()
        for moment in (
            msk(day - timedelta(days=1), 15),
            msk(day, 14),
            msk(day, 16),
            moved - timedelta(hours=24),
            moved - timedelta(hours=1),
        ):
            await _at(running, moment)
        # Anna: exactly the two reminders of the moved event, at its new time; Ivan: none
        texts = reminders_to(running, anna)
        assert len(texts) == 2 and all("17:00" in t for t in texts), texts
        assert "tomorrow at 17:00" in texts[0] and "today at 17:00" in texts[1]
        assert reminders_to(running, ivan) == []
        assert all(TRICKY_TITLE not in t for t in texts)
    finally:
        await app.stop()
