"""The database under contention: locked by another writer during a tick, shared by two bot
processes, and 50 teachers tapping "sign me up" at once while Telegram is slow."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from db.types import utcnow
from devtools.emulator import BotAPIEmulator, BotMessage, RecordedCall
from domain.schedule import JobKind
from tests.faults.rig import (
    REMINDER,
    SHORT_SETTLE,
    Bots,
    Maker,
    SqliteWriteLock,
    add_event,
    add_teachers,
    counts,
    describe_counts,
    gather_limited,
    hard_timeout,
    municipality_id,
    register,
    schedule,
    settle,
    statuses,
    wait_until,
)

OpenDb = Callable[[str], Awaitable[Maker]]
LOCK_SECONDS = 10


async def _reminder_due(maker: Maker, emu: BotAPIEmulator, chats: list[int], title: str) -> None:
    """The chats' teachers are registered for an event whose reminder is due."""
    muni = await municipality_id(maker)
    users = await add_teachers(maker, emu, chats, muni)
    event = await add_event(maker, muni, title=title, capacity=len(chats))
    await register(maker, event, users)
    await schedule(maker, JobKind.EVENT_REMINDER, utcnow() - timedelta(minutes=1), event_id=event)


def _exactly_once(emu: BotAPIEmulator, chats: list[int], when: str) -> None:
    found = counts(emu, chats, REMINDER)
    assert set(found.values()) == {1}, f"every reminder exactly once ({when}): " + describe_counts(
        found
    )


@pytest.mark.sqlite_only(reason="holds SQLite's file write lock")
@hard_timeout(75)
async def test_a_database_locked_for_10_s_during_the_tick_sends_each_reminder_once(
    sqlite_url: str, emu: BotAPIEmulator, bots: Bots, open_db: OpenDb
) -> None:
    """Another connection holds SQLite's write lock for 10 s from the bot's first Bot API call
    on, while 20 reminders are due: each arrives once, and a restart after the lock is gone
    sends none again (what was sent was recorded as sent)."""
    maker = await open_db(sqlite_url)
    chats = list(range(83_001, 83_021))
    await _reminder_due(maker, emu, chats, "Вебинар «Цифровая образовательная среда»")

    lock = SqliteWriteLock(sqlite_url)
    released: list[asyncio.Future[None]] = []
    loop = asyncio.get_running_loop()

    def lock_at_the_first_call(call: RecordedCall) -> None:
        if not released:  # the bot has migrated and is starting its work
            released.append(lock.hold_for(LOCK_SECONDS, loop))

    remove = emu.on_call(lock_at_the_first_call)
    bot = bots.new(sqlite_url)
    try:
        await bot.start()
        remove()
        await wait_until(
            lambda: all(n >= 1 for n in counts(emu, chats, REMINDER).values()),
            LOCK_SECONDS + 15,
            lambda: describe_counts(counts(emu, chats, REMINDER)) + "\n" + bot.log_tail(),
        )
        await released[0]
    finally:
        lock.release()
    await settle(lambda: sum(counts(emu, chats, REMINDER).values()))
    _exactly_once(emu, chats, "once the lock was gone")

    await bot.stop()  # what the bot did under the lock is in the database: nothing is resent
    await bot.start()
    await settle(lambda: sum(counts(emu, chats, REMINDER).values()))
    _exactly_once(emu, chats, "after a restart")


@pytest.mark.postgres
@hard_timeout(75)
async def test_two_bot_processes_on_one_postgres_send_each_reminder_once(
    pg_url: str, emu: BotAPIEmulator, bots: Bots, open_db: OpenDb
) -> None:
    """Two instances of the bot on one PostgreSQL database, both ticking while 20 reminders
    are due (Telegram answers in 0.2 s, so their work overlaps): each is sent once."""
    maker = await open_db(pg_url)
    chats = list(range(84_001, 84_021))
    await _reminder_due(maker, emu, chats, "Практикум «Проектная деятельность»")
    emu.latency = 0.2
    first, second = bots.new(pg_url), bots.new(pg_url)
    await asyncio.gather(first.start(wait_polling=False), second.start(wait_polling=False))
    await wait_until(
        lambda: all(n >= 1 for n in counts(emu, chats, REMINDER).values()),
        30,
        lambda: describe_counts(counts(emu, chats, REMINDER)) + "\n" + bots.logs(),
    )
    await settle(lambda: sum(counts(emu, chats, REMINDER).values()), SHORT_SETTLE)
    _exactly_once(emu, chats, "two processes")
    assert first.running and second.running, bots.logs()


# ------------------------------------------------------------------ 50 taps at once

SIGNUP = "✅ Записаться"
YES = "✅ Да, записаться"
REGISTERED = "Вы записаны"
WAITLISTED = "Свободных мест нет"


def _button(message: BotMessage, text: str) -> str | None:
    for button in message.all_inline_buttons:
        if button.get("text") == text and isinstance(button.get("callback_data"), str):
            return str(button["callback_data"])
    return None


@hard_timeout(80)
async def test_fifty_simultaneous_sign_ups_with_slow_telegram_lose_no_tap(
    db_url: str, emu: BotAPIEmulator, bots: Bots, open_db: OpenDb
) -> None:
    """50 teachers press "Yes, sign me up" for a 10-seat event at the same moment while every
    Bot API call takes 0.15 s (SQLite): every tap is answered with its sign-up result, the
    database holds 10 confirmed and 40 waitlisted, and each teacher was told their own."""
    maker = await open_db(db_url)
    muni = await municipality_id(maker)
    chats = list(range(85_001, 85_051))
    await add_teachers(maker, emu, chats, muni)
    event = await add_event(
        maker, muni, title="Мастер-класс «Читательская грамотность»", capacity=10
    )
    bot = bots.new(db_url)
    await bot.start()

    async def open_confirmation(chat_id: int) -> None:
        """The teacher opens the card from the shared link and taps "Sign up"."""
        user = emu.user(chat_id)
        assert user is not None
        emu.send_message(user, f"/start event_{event}")
        card = await emu.wait_for_message(
            chat_id, lambda m: _button(m, SIGNUP) is not None, timeout=30
        )
        data = _button(card, SIGNUP)
        assert data is not None
        emu.press_button(user, card.message_id, data)
        await wait_until(lambda: _button(card, YES) is not None, 30, lambda: emu.dump_chat(chat_id))

    await gather_limited((open_confirmation(chat_id) for chat_id in chats), 10)

    emu.latency = 0.15
    queries: dict[int, str] = {}
    for chat_id in chats:  # all queued before the bot's next poll: one batch of 50 taps
        user = emu.user(chat_id)
        assert user is not None
        queries[chat_id] = emu.press_button_by_text(user, YES)["callback_query"]["id"]

    async def answer(chat_id: int) -> str:
        try:
            call = await emu.wait_for_callback_answer(queries[chat_id], timeout=45)
        except AssertionError:
            return "(no answer)"
        return str(call.params.get("text"))

    popups = dict(zip(chats, await asyncio.gather(*(answer(c) for c in chats)), strict=True))
    in_db = await statuses(maker, event)
    problems = []
    for chat_id, popup in popups.items():
        told = "confirmed" if REGISTERED in popup else "waitlisted" if WAITLISTED in popup else None
        if told is None:
            problems.append(f"{chat_id}: answered {popup!r}")
        elif in_db.get(chat_id) != told:
            problems.append(f"{chat_id}: told {told}, the database says {in_db.get(chat_id)!r}")
    tally = sorted(in_db.values())
    summary = {s: tally.count(s) for s in set(tally)}
    assert not problems and summary == {"confirmed": 10, "waitlisted": 40}, (
        f"{len(problems)} lost tap(s); registrations {summary}\n"
        + "\n".join(problems[:12])
        + "\n"
        + bot.log_tail(10)
    )
