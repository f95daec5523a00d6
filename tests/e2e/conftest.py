"""End-to-end rig: the real bot (aiogram's HTTP client, long polling) against the emulator."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from bot.app import BotApp
from bot.middlewares import UpdateCounter
from core.clock import ManualClock
from db.models import User
from devtools.emulator import (
    BotAPIEmulator,
    BotMessage,
    EmuUser,
    RecordedCall,
    SpecValidator,
    strip_formatting,
)
from outbox.sender import OutboxSender
from tests.conftest import TEST_TOKEN, make_settings

ADMIN_ID = 900001
RU_CATALOG = Path(__file__).resolve().parents[2] / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
#: an English source string is looked for only if its fixed text has this many Latin letters
MIN_LATIN_LETTERS = 3
_PLACEHOLDER_OR_TAG = re.compile(r"\{\w*\}|<[^>]+>")
#: four English-looking words in a row: a literal that never went through gettext
_WORD = r"(?:[A-Za-z][a-z']+|a|I)"
_RAW_ENGLISH = re.compile(rf"(?<![\w/.@:=-])(?:{_WORD}[ ,]+){{3,}}{_WORD}\b")
_URL = re.compile(r"\S+://\S+|\S+\.(?:csv|xlsx|ics|pdf|png|json)\b|@\w+|/\w+")


# ------------------------------------------------------------------ the language check


@cache
def english_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One line-anchored pattern per English source string that Russian translates differently
    (placeholders match anything, HTML tags are dropped: the patterns run on plain text)."""
    with RU_CATALOG.open("rb") as fp:
        catalog = read_po(fp, locale="ru")
    patterns = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for source in map(str, ids):
            if source in strings:
                continue
            plain = strip_formatting(_PLACEHOLDER_OR_TAG.sub(_keep_placeholder, source), "HTML")
            parts = re.split(r"\{\w*\}", plain)
            if sum(c.isascii() and c.isalpha() for c in "".join(parts)) < MIN_LATIN_LETTERS:
                continue
            body = ".*?".join(re.escape(part) for part in parts)
            patterns.append((source, re.compile(rf"(?m)^[^\S\n]*{body}[^\S\n]*$")))
    return tuple(patterns)


def _keep_placeholder(match: re.Match[str]) -> str:
    return match.group(0) if match.group(0).startswith("{") else ""


def english_in(text: str) -> list[str]:
    """What in this plain text is English: whole lines that are English source strings, and
    runs of four English words that are in no catalog at all."""
    found = [source for source, pattern in english_patterns() if pattern.search(text)]
    for line in text.splitlines():
        found += [m.group(0) for m in _RAW_ENGLISH.finditer(_URL.sub(" ", line))]
    return found


def _button_texts(markup: Any) -> Iterator[str]:
    if not isinstance(markup, dict):
        return
    for key in ("inline_keyboard", "keyboard"):
        for row in markup.get(key) or []:
            for button in row:
                yield button if isinstance(button, str) else str(button.get("text", ""))
    if markup.get("input_field_placeholder"):
        yield str(markup["input_field_placeholder"])


def outgoing_texts(emu: BotAPIEmulator, call: RecordedCall) -> Iterator[tuple[int | None, str]]:
    """(chat id, plain text) of every text a user sees in this call: message texts, captions,
    button labels and callback popups."""
    params = call.params
    chat_id: int | None = None
    if call.method.lower() == "answercallbackquery":
        query = next(
            (
                u["callback_query"]
                for u in emu.updates
                if u.get("callback_query", {}).get("id") == params.get("callback_query_id")
            ),
            None,
        )
        chat_id = query["from"]["id"] if query else None
        if params.get("text"):
            yield chat_id, str(params["text"])
        return
    if "chat_id" in params:
        try:
            chat_id = int(params["chat_id"])
        except (TypeError, ValueError):
            chat_id = None
    for key in ("text", "caption"):
        if params.get(key):
            yield chat_id, strip_formatting(str(params[key]), params.get("parse_mode"))
    for item in params.get("media") or []:
        if isinstance(item, dict) and item.get("caption"):
            yield chat_id, strip_formatting(str(item["caption"]), item.get("parse_mode"))
    for label in _button_texts(params.get("reply_markup")):
        yield chat_id, label


def english_sent_to(emu: BotAPIEmulator, chat_ids: Iterable[int]) -> list[tuple[str, str]]:
    """(text, what is English in it) for every text sent to these chats."""
    wanted = set(chat_ids)
    leaks: list[tuple[str, str]] = []
    for call in emu.calls:
        for chat_id, text in outgoing_texts(emu, call):
            if chat_id in wanted:
                leaks += [(text, found) for found in english_in(text)]
    for (_scope, language), commands in emu.commands.items():
        if language == "ru":
            for command in commands:
                text = str(command.get("description", ""))
                leaks += [(text, found) for found in english_in(text)]
    return leaks


async def russian_chats(app: BotApp, emu: BotAPIEmulator) -> list[int]:
    """Chats of users whose Telegram client and stored language are both Russian."""
    async with app.sessionmaker() as session:
        rows = await session.execute(select(User.telegram_id, User.language))
        stored = {telegram_id: language for telegram_id, language in rows}
    return [
        chat_id
        for chat_id, language in stored.items()
        if chat_id is not None
        and language == "ru"
        and (user := emu.user(chat_id)) is not None
        and user.language_code == "ru"
    ]


def assert_nothing_english(leaks: list[tuple[str, str]]) -> None:
    assert leaks == [], "English reached a Russian user:\n" + "\n".join(
        f"  {found!r}  in  {text!r}" for text, found in leaks
    )


@dataclass
class Chat:
    """One user's private chat with the bot."""

    emu: BotAPIEmulator
    user: EmuUser
    counter: UpdateCounter
    #: when given, `run` also waits until the messages the update queued for others are sent
    sender: OutboxSender | None = None

    async def run(self, inject: Callable[[], object]) -> None:
        """Inject one update and wait until the bot has completely handled it (and sent what
        it queued in the outbox)."""
        target = self.counter.count + 1
        inject()
        await self.counter.wait_for(target)
        if self.sender is not None:
            await self.sender.settle()

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
    #: the bot's one clock: it stands still (at the real time the bot started) until moved
    clock: ManualClock

    def chat(self, user_id: int, lang: str = "ru", first_name: str = "Анна") -> Chat:
        user = EmuUser(id=user_id, first_name=first_name, language_code=lang)
        return Chat(self.emu, user, self.counter, self.app.sender)


@pytest.fixture
async def running(db_url: str, spec: SpecValidator | None) -> AsyncIterator[Running]:
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec, bot_username="metodbot_test_bot") as emu:
        settings = make_settings(db_url, telegram_api_base=emu.base_url, admin_ids=[ADMIN_ID])
        clock = ManualClock()
        app = BotApp(settings, clock=clock)
        try:
            await app.setup()
            await app.start_polling()
            yield Running(app, emu, app.dp["update_counter"], clock)
            ru_chats = await russian_chats(app, emu)
        finally:
            await app.stop()
        emu.assert_no_violations()
        # every scenario run by a Russian user doubles as a language check
        assert_nothing_english(english_sent_to(emu, ru_chats))
