"""The emulator delivers updates to the webhook as Telegram does: a POST per update with the
secret header, several chats at once but one chat's updates one at a time (the next after the
previous was answered 2xx), a failed delivery retried before anything later of that chat."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from devtools.emulator import BotAPIEmulator, EmuUser
from tests.conftest import TEST_TOKEN

SECRET = "emulator-webhook-secret-0123456789"


class Receiver:
    """A webhook endpoint: answers each delivery after `delay` seconds; the first delivery of
    each update id in `fail_once` is answered 500."""

    def __init__(self, delay: float = 0.05, fail_once: frozenset[int] = frozenset()) -> None:
        self.delay = delay
        self.fail_once = set(fail_once)
        self.got: list[tuple[int, int, str | None]] = []  # (update id, chat, secret header)
        self.answered: list[int] = []
        self.in_flight: dict[int, int] = {}
        self.most_in_flight = 0
        self.overlap_in_chat = False

    async def handle(self, request: web.Request) -> web.Response:
        update: dict[str, Any] = await request.json()
        chat = int(update["message"]["chat"]["id"])
        self.got.append(
            (update["update_id"], chat, request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        self.in_flight[chat] = self.in_flight.get(chat, 0) + 1
        self.overlap_in_chat |= self.in_flight[chat] > 1
        self.most_in_flight = max(self.most_in_flight, sum(self.in_flight.values()))
        try:
            await asyncio.sleep(self.delay)
            if update["update_id"] in self.fail_once:
                self.fail_once.discard(update["update_id"])
                return web.Response(status=500)
            self.answered.append(update["update_id"])
            return web.json_response({})
        finally:
            self.in_flight[chat] -= 1


@pytest.fixture
async def receiver_url() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver(fail_once=frozenset({2}))
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield receiver, f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


async def test_updates_are_posted_to_the_webhook_per_chat_in_order(
    receiver_url: tuple[Receiver, str],
) -> None:
    receiver, url = receiver_url
    async with BotAPIEmulator(token=TEST_TOKEN) as emu:
        emu.webhook_retry_seconds = 0.05
        users = [EmuUser(id=7001 + n, first_name=f"U{n}") for n in range(3)]
        for user in users:
            for i in range(4):
                emu.send_message(user, f"m{i}")
        bot = Bot(TEST_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))
        try:
            assert await bot.set_webhook(url, secret_token=SECRET)
            async with asyncio.timeout(10):
                while True:
                    if len(receiver.answered) >= 12:
                        break
                    await asyncio.sleep(0.02)
            info = await bot.get_webhook_info()
            assert info.url == url and info.pending_update_count == 0
        finally:
            await bot.session.close()
    assert {secret for _, _, secret in receiver.got} == {SECRET}
    # update 2 (the first user's second message) failed once and came again before the rest
    # of that chat; the other chats went on meanwhile
    first_chat = [u for u, chat, _ in receiver.got if chat == users[0].id]
    assert first_chat == [1, 2, 2, 3, 4]
    chat_of = {u: chat for u, chat, _ in receiver.got}
    for user in users:  # each chat's updates answered in their order
        answered = [u for u in receiver.answered if chat_of[u] == user.id]
        assert answered == sorted(answered) and len(answered) == 4
    assert not receiver.overlap_in_chat
    assert receiver.most_in_flight > 1  # several chats at once
    assert sorted(receiver.answered) == list(range(1, 13))
    assert sum(1 for _, status in emu.webhook_deliveries if status == 500) == 1
