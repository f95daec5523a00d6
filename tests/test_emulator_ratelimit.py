"""The emulator's opt-in Telegram flood limits (devtools/emulator/ratelimit.py): 30 messages a
second overall with a burst of one second's worth, 1000 with `allow_paid_broadcast`, one a
second per chat; 429 with `retry_after` beyond; refused calls counted. Off by default."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter

from devtools.emulator import BotAPIEmulator, EmuUser, RateLimits

TOKEN = "123456:TEST-TOKEN-abcdef"
FIRST = 5000


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_under_the_limits_nothing_is_refused() -> None:
    clock = Clock()
    limits = RateLimits(clock=clock)
    # 30 a second to 30 different chats, for 10 seconds, each chat once a second
    for second in range(10):
        for n in range(30):
            clock.now = 100.0 + second + n / 30
            assert limits.check("sendMessage", FIRST + n, {}) is None
    assert limits.refused == 0


def test_over_the_overall_limit_is_429_with_retry_after() -> None:
    clock = Clock()
    limits = RateLimits(clock=clock)
    # a burst of one second's worth goes, the 31st call within it does not
    for n in range(30):
        assert limits.check("copyMessage", FIRST + n, {}) is None
    assert limits.check("sendMessage", FIRST + 30, {}) == 1
    assert (limits.refused, limits.refused_chat) == (1, 0)
    clock.now += 1 / 30  # one token back
    assert limits.check("sendMessage", FIRST + 30, {}) is None
    # 60 a second for a while: about half refused
    refused = 0
    for n in range(600):
        clock.now += 1 / 60
        if limits.check("sendMessage", FIRST + 100 + n, {}) is not None:
            refused += 1
    assert 290 <= refused <= 310


def test_one_message_a_second_per_chat() -> None:
    clock = Clock()
    limits = RateLimits(clock=clock)
    assert limits.check("sendMessage", FIRST, {}) is None
    clock.now += 0.5
    assert limits.check("sendPhoto", FIRST, {}) == 1
    assert limits.check("sendMessage", FIRST + 1, {}) is None  # another chat is free
    assert (limits.refused, limits.refused_chat) == (1, 1)
    clock.now += 0.5
    assert limits.check("sendMessage", FIRST, {}) is None


def test_what_does_not_count() -> None:
    limits = RateLimits(clock=Clock())
    for _ in range(100):
        for method in ("editMessageText", "sendChatAction", "answerCallbackQuery", "getMe"):
            assert limits.check(method, FIRST, {}) is None
    assert limits.refused == 0


def test_paid_broadcast_allows_1000_a_second() -> None:
    clock = Clock()
    limits = RateLimits(clock=clock)
    paid = {"allow_paid_broadcast": True}
    for second in range(3):
        for n in range(1000):
            clock.now = 100.0 + second + n / 1000
            assert limits.check("copyMessage", FIRST + n, paid) is None, (second, n)
    assert limits.refused == 0
    # at a steady 1000/s the bucket stays (about) full: a burst of about 1000 more at one
    # instant goes, and then no more
    burst = [limits.check("copyMessage", FIRST + 5000 + n, paid) for n in range(1001)]
    assert 999 <= burst.count(None) <= 1000 and burst[-1] == 1
    assert limits.check("copyMessage", FIRST + 9000, {}) is None  # the free bucket is apart
    assert limits.refused == burst.count(1)


@pytest_asyncio.fixture
async def limited() -> AsyncIterator[tuple[BotAPIEmulator, Bot]]:
    # a stopped clock: the test does not depend on how fast this machine sends
    async with BotAPIEmulator(token=TOKEN, rate_limits=RateLimits(clock=Clock())) as emu:
        for n in range(60):
            emu.add_user(EmuUser(id=FIRST + n, first_name="U", language_code="ru"))
        session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
        bot = Bot(TOKEN, session=session)
        try:
            yield emu, bot
        finally:
            await session.close()


async def test_the_emulator_answers_429_beyond_the_limit(
    limited: tuple[BotAPIEmulator, Bot],
) -> None:
    emu, bot = limited
    for n in range(30):
        await bot.send_message(FIRST + n, "hi")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(FIRST + 30, "hi")
    assert caught.value.retry_after == 1
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(FIRST, "again")  # the same chat within a second
    (refused, *_) = [c for c in emu.calls if c.status == 429]
    assert refused.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert emu.rate_limits is not None and emu.rate_limits.refused == 2
    # with allow_paid_broadcast the other 30 chats go at once
    for n in range(30, 60):
        await bot.send_message(FIRST + n, "paid", allow_paid_broadcast=True)
    assert emu.rate_limits.refused == 2
    assert sum(emu.count_sent(FIRST + n) for n in range(60)) == 60


async def test_off_by_default() -> None:
    async with BotAPIEmulator(token=TOKEN) as emu:
        emu.add_user(EmuUser(id=FIRST, first_name="U", language_code="ru"))
        session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
        bot = Bot(TOKEN, session=session)
        try:
            for _ in range(50):
                await bot.send_message(FIRST, "hi")
        finally:
            await session.close()
        assert emu.rate_limits is None and emu.count_sent(FIRST) == 50
