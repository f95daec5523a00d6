"""End-to-end rig: the real bot (aiogram's HTTP client, long polling) against the emulator."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from bot.app import BotApp
from bot.emulator import BotAPIEmulator, BotMessage, EmuUser, SpecValidator
from bot.middlewares import UpdateCounter
from tests.conftest import TEST_TOKEN, make_settings

ADMIN_ID = 900001


@dataclass
class Chat:
    """One user's private chat with the bot."""

    emu: BotAPIEmulator
    user: EmuUser
    counter: UpdateCounter

    async def run(self, inject: Callable[[], object]) -> None:
        """Inject one update and wait until the bot has completely handled it."""
        target = self.counter.count + 1
        inject()
        await self.counter.wait_for(target)

    async def send(self, text: str) -> BotMessage:
        await self.run(lambda: self.emu.send_message(self.user, text))
        return self.last

    async def tap(self, text: str) -> BotMessage:
        """Press the inline button with this text in the newest message that has it."""
        await self.run(lambda: self.emu.press_button_by_text(self.user, text))
        return self.last

    async def tap_data(self, data: str) -> BotMessage:
        """Press the button carrying this callback data (it must be on screen)."""
        for message in reversed(self.emu.chat(self.user.id)):
            if any(b.get("callback_data") == data for b in message.all_inline_buttons):
                press = functools.partial(
                    self.emu.press_button, self.user, message.message_id, data
                )
                await self.run(press)
                return self.last
        raise AssertionError(f"no button with data {data!r}\n{self.emu.dump_chat(self.user.id)}")

    @property
    def last(self) -> BotMessage:
        message = self.emu.last_message(self.user.id)
        assert message is not None, "the bot has not written to this chat"
        return message

    def texts(self) -> list[str]:
        return [m.plain_text for m in self.emu.chat(self.user.id)]

    def popups(self) -> list[str]:
        return [
            str(c.params.get("text"))
            for c in self.emu.calls_of("answerCallbackQuery")
            if c.params.get("text")
        ]


@dataclass
class Running:
    app: BotApp
    emu: BotAPIEmulator
    counter: UpdateCounter

    def chat(self, user_id: int, lang: str = "ru", first_name: str = "Анна") -> Chat:
        user = EmuUser(id=user_id, first_name=first_name, language_code=lang)
        return Chat(self.emu, user, self.counter)


@pytest.fixture
async def running(sqlite_url: str, spec: SpecValidator | None) -> AsyncIterator[Running]:
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec, bot_username="metodbot_test_bot") as emu:
        settings = make_settings(sqlite_url, telegram_api_base=emu.base_url, admin_ids=[ADMIN_ID])
        app = BotApp(settings)
        try:
            await app.setup()
            await app.start_polling()
            yield Running(app, emu, app.dp["update_counter"])
        finally:
            await app.stop()
        emu.assert_no_violations()
