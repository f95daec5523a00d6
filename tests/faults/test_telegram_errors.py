"""Telegram says no: a 429 flood wait is waited out and the same message sent again (never
dropped), a 403 "blocked by the user" is remembered and that user is not messaged again
until they write to the bot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import text

from db.types import utcnow
from devtools.emulator import BotAPIEmulator
from domain.schedule import JobKind
from tests.faults.rig import (
    REMINDER,
    SHORT_SETTLE,
    Bots,
    Maker,
    add_event,
    add_teachers,
    counts,
    describe_counts,
    hard_timeout,
    municipality_id,
    register,
    schedule,
    settle,
    wait_until,
)

OpenDb = Callable[[str], Awaitable[Maker]]
RETRY_AFTER = 1


async def _blocked(maker: Maker) -> set[int]:
    """Telegram ids of the users marked as having blocked the bot (`users.blocked_at`)."""
    async with maker() as session:
        rows = await session.execute(
            text("SELECT telegram_id FROM users WHERE blocked_at IS NOT NULL")
        )
        return {int(tg) for (tg,) in rows}


async def _remind(maker: Maker, event_id: int) -> None:
    await schedule(
        maker, JobKind.EVENT_REMINDER, utcnow() - timedelta(minutes=1), event_id=event_id
    )


@hard_timeout(60)
async def test_a_flood_wait_delays_one_reminder_and_drops_nothing(
    db_url: str, emu: BotAPIEmulator, bots: Bots, open_db: OpenDb
) -> None:
    """One recipient of a 5-reminder fan-out gets 429 (retry after 1 s) once: the others get
    theirs, and theirs arrives once, after the wait, within a few seconds."""
    maker = await open_db(db_url)
    muni = await municipality_id(maker)
    chats = list(range(86_001, 86_006))
    flooded = chats[2]
    users = await add_teachers(maker, emu, chats, muni)
    event = await add_event(maker, muni, title="Семинар «Финансовая грамотность»", capacity=5)
    await register(maker, event, users)
    await _remind(maker, event)
    emu.fail_chat(flooded, "flood", retry_after=RETRY_AFTER, times=1)

    bot = bots.new(db_url)
    await bot.start(wait_polling=False)
    await wait_until(
        lambda: any(c.status == 429 for c in emu.calls_to(flooded, "sendMessage")),
        30,
        lambda: f"the flooded chat was never tried\n{bot.log_tail()}",
    )
    await wait_until(
        lambda: all(n >= 1 for n in counts(emu, chats, REMINDER).values()),
        RETRY_AFTER + 6,
        lambda: (
            "the reminder held back by 429 arrives after the wait: "
            + describe_counts(counts(emu, chats, REMINDER))
        ),
    )
    await settle(lambda: sum(counts(emu, chats, REMINDER).values()), SHORT_SETTLE)
    found = counts(emu, chats, REMINDER)
    assert set(found.values()) == {1}, describe_counts(found)
    tries = emu.calls_to(flooded, "sendMessage")
    assert [c.status for c in tries] == [429, 200], [c.status for c in tries]
    waited = tries[1].at - tries[0].at
    assert waited >= RETRY_AFTER - 0.05, f"retried {waited:.2f} s after a 429 asking for 1 s"


@hard_timeout(75)
async def test_a_user_who_blocked_the_bot_is_not_messaged_again(
    db_url: str, emu: BotAPIEmulator, bots: Bots, open_db: OpenDb
) -> None:
    """A reminder to a teacher who blocked the bot is refused (403): the others get theirs,
    and a later reminder (after a restart: it is remembered in the database) is not even
    attempted for them. Once they write to the bot again, notices reach them again."""
    maker = await open_db(db_url)
    muni = await municipality_id(maker)
    chats = list(range(87_001, 87_006))
    blocked = chats[1]
    others = [c for c in chats if c != blocked]
    users = await add_teachers(maker, emu, chats, muni)
    first = await add_event(maker, muni, title="Вебинар «Наставничество»", capacity=5)
    later = await add_event(maker, muni, title="Практикум «Открытый урок»", capacity=5)
    last = await add_event(maker, muni, title="Круглый стол «Итоги года»", capacity=5)
    await register(maker, first, users)
    await register(maker, later, users)
    await register(maker, last, [users[1]])
    await _remind(maker, first)
    emu.fail_chat(blocked, "blocked")

    bot = bots.new(db_url)
    await bot.start(wait_polling=False)
    await wait_until(
        lambda: (
            all(emu.count_sent(c, "Наставничество") == 1 for c in others)
            and len(emu.calls_to(blocked, "sendMessage")) == 1
        ),
        30,
        lambda: describe_counts(counts(emu, chats, REMINDER)) + "\n" + bot.log_tail(),
    )
    await bot.stop()

    await _remind(maker, later)
    await bot.start()
    await wait_until(
        lambda: all(emu.count_sent(c, "Открытый урок") == 1 for c in others),
        20,
        lambda: describe_counts(counts(emu, chats, "Открытый урок")) + "\n" + bot.log_tail(),
    )
    await settle(lambda: len(emu.calls_of("sendMessage")), SHORT_SETTLE)
    tries = [c.status for c in emu.calls_to(blocked, "sendMessage")]
    assert tries == [403], f"sendMessage to the user who blocked the bot: {tries}"
    assert await _blocked(maker) == {blocked}, "users.blocked_at marks exactly the one who blocked"

    # they come back: writing to the bot makes them reachable again
    emu.fail_chat(blocked, None)
    user = emu.user(blocked)
    assert user is not None
    emu.send_message(user, "/help")
    await emu.wait_for_message(blocked, timeout=15)
    await _remind(maker, last)
    await wait_until(
        lambda: emu.count_sent(blocked, "Итоги года") == 1,
        15,
        lambda: "a notice after the user wrote again\n" + emu.dump_chat(blocked),
    )
    assert await _blocked(maker) == set()
