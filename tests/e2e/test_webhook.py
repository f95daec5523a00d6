"""RUN_MODE=webhook: the bot registers its webhook and answers updates POSTed to it; a wrong
secret token is refused."""

from __future__ import annotations

import asyncio
import socket

import aiohttp

from bot.app import BotApp
from core.settings import RunMode
from devtools.emulator import BotAPIEmulator, EmuUser, SpecValidator
from tests.conftest import TEST_TOKEN, make_settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode(db_url: str, spec: SpecValidator | None) -> None:
    port = _free_port()
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:
        settings = make_settings(
            db_url,
            telegram_api_base=emu.base_url,
            run_mode=RunMode.WEBHOOK,
            webhook_url="https://bot.example.org/tg/hook",
            webhook_secret="s3cret-token-0123456789-abcdef",
            webhook_port=port,
        )
        app = BotApp(settings)
        await app.setup()
        server = asyncio.create_task(app.run_webhook())
        try:
            for _ in range(100):
                if emu.calls_of("setWebhook"):
                    break
                await asyncio.sleep(0.05)
            call = emu.calls_of("setWebhook")[-1]
            assert call.params["url"] == "https://bot.example.org/tg/hook"
            assert call.params["secret_token"] == "s3cret-token-0123456789-abcdef"

            user = EmuUser(id=6001, first_name="Анна", language_code="en")
            emu.add_user(user)
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 1_700_000_000,
                    "chat": {"id": 6001, "type": "private", "first_name": "Анна"},
                    "from": {
                        "id": 6001,
                        "is_bot": False,
                        "first_name": "Анна",
                        "language_code": "en",
                    },
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
            url = f"http://127.0.0.1:{port}/tg/hook"
            async with aiohttp.ClientSession() as http:
                # setWebhook goes out at start-up, a moment before the listener binds (Telegram
                # itself retries): wait until the port answers
                for _ in range(100):
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/"):
                            break
                    except aiohttp.ClientConnectorError:
                        await asyncio.sleep(0.05)
                async with http.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
                ) as resp:
                    assert resp.status == 401
                async with http.post(
                    url,
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token-0123456789-abcdef"},
                ) as resp:
                    assert resp.status == 200
            message = await emu.wait_for_message(6001, lambda m: "152-FZ" in m.plain_text)
            assert message.inline_buttons
        finally:
            server.cancel()
            await asyncio.gather(server, return_exceptions=True)
            await app.stop()
        emu.assert_no_violations()
