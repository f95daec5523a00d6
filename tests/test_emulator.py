"""Tests of the local Bot API emulator (devtools.emulator), driven by aiogram's real client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from devtools.emulator import (
    ApiViolation,
    BotAPIEmulator,
    BotMessage,
    EmulatorTimeout,
    EmuUser,
    RecordedCall,
    SpecValidator,
    check_limits,
    load_spec,
)
from devtools.emulator.formatting import parse_html, parse_markdown_v2, utf16_len

SPEC_PATH = Path(__file__).resolve().parents[2] / "shared" / "botapi" / "flat-10.2.json"
TOKEN = "123456:TEST-TOKEN-abcdef"
ANNA = EmuUser(id=1001, first_name="Анна", last_name="Иванова", username=None, language_code="ru")
BORIS = EmuUser(id=1002, first_name="Борис", username="boris", language_code="en")


def _keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data)] for text, data in buttons
        ]
    )


@pytest.fixture(scope="session")
def spec() -> SpecValidator | None:
    return load_spec(SPEC_PATH)


@pytest.fixture
def require_spec(spec: SpecValidator | None) -> SpecValidator:
    if spec is None:
        pytest.skip(f"Bot API spec not found at {SPEC_PATH}")
    return spec


@pytest_asyncio.fixture
async def emu(spec: SpecValidator | None) -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(
        token=TOKEN,
        spec=spec,
        bot_username="metodbot_test_bot",
        bot_id=123456,
        first_name="Metodbot",
    ) as emulator:
        emulator.add_user(ANNA)
        yield emulator


@pytest_asyncio.fixture
async def bot(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    client = Bot(TOKEN, session=session)
    try:
        yield client
    finally:
        await session.close()


async def _raw_post(
    emu: BotAPIEmulator, method: str, data: dict[str, str], token: str = TOKEN
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.base_url}/bot{token}/{method}", data=data) as response,
    ):
        return response.status, await response.json()


# --------------------------------------------------------------------------- basics


async def test_get_me_and_lifecycle(emu: BotAPIEmulator, bot: Bot) -> None:
    assert emu.base_url.startswith("http://127.0.0.1:")
    assert not emu.base_url.endswith(":0")
    me = await bot.get_me()
    assert (me.id, me.username, me.first_name, me.is_bot) == (
        123456,
        "metodbot_test_bot",
        "Metodbot",
        True,
    )
    assert [c.method for c in emu.calls] == ["getMe"]
    assert emu.calls[0].response["ok"] is True
    emu.assert_no_violations()


async def test_wrong_token_is_unauthorized(emu: BotAPIEmulator) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    intruder = Bot("999:WRONG-TOKEN-xxxxxxxx", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await session.close()
    status, body = await _raw_post(emu, "getMe", {}, token="999:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_send_message_html_round_trip(
    emu: BotAPIEmulator, bot: Bot, spec: SpecValidator | None
) -> None:
    markup = _keyboard(("Далее", "next:1"), ("Отмена", "cancel"))
    sent = await bot.send_message(
        ANNA.id, "<b>Привет</b>, &lt;коллега&gt; 👋", parse_mode="HTML", reply_markup=markup
    )
    assert sent.text == "Привет, <коллега> 👋"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.entities[0].length == len("Привет")
    assert sent.from_user is not None and sent.from_user.id == 123456
    assert sent.chat.id == ANNA.id and sent.chat.type == "private"
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == markup.model_dump()

    (call,) = emu.calls_of("sendMessage")
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == ANNA.id  # JSON-decoded to int
    assert call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "next:1"

    (message,) = emu.chat(ANNA.id)
    assert message.message_id == sent.message_id
    assert message.text == "<b>Привет</b>, &lt;коллега&gt; 👋"
    assert message.plain_text == "Привет, <коллега> 👋"
    assert message.kind == "text" and not message.edited
    assert [b["text"] for b in message.all_inline_buttons] == ["Далее", "Отмена"]
    assert message.button("Отм")["callback_data"] == "cancel"
    assert emu.last_message(ANNA.id) is message
    if spec is not None:
        assert spec.validate_value("Message", call.result, "result") == []
    emu.assert_no_violations()


async def test_text_limit_counts_utf16_after_entity_parsing(emu: BotAPIEmulator, bot: Bot) -> None:
    await bot.send_message(ANNA.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(ANNA.id, "😀" * 2048)  # 4096 UTF-16 code units
    emu.assert_no_violations()

    with pytest.raises(TelegramBadRequest):
        await bot.send_message(ANNA.id, "x" * 4097)
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(ANNA.id, "😀" * 2049)
    assert emu.violations == [
        "sendMessage: text: 4097 chars, limit 1-4096",
        "sendMessage: text: 4098 chars, limit 1-4096",
    ]
    assert len(emu.chat(ANNA.id)) == 2  # rejected messages were not delivered
    with pytest.raises(ApiViolation, match="4097 chars"):
        emu.assert_no_violations()


@pytest.mark.parametrize(
    "text", ["<b>x", "a < b", "x &nbsp; y", "<div>x</div>", "<b>x<i>y</b></i>"]
)
async def test_bad_html_is_a_violation(emu: BotAPIEmulator, bot: Bot, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(ANNA.id, text, parse_mode="HTML")
    assert emu.violations and all("can't parse entities" in v for v in emu.violations)
    assert emu.chat(ANNA.id) == []


async def test_escaped_html_is_fine(emu: BotAPIEmulator, bot: Bot) -> None:
    await bot.send_message(
        ANNA.id,
        'a &lt; b &amp;&amp; <a href="https://example.org/?a=1&amp;b=2">c</a> &#8470;',
        parse_mode="HTML",
    )
    emu.assert_no_violations()
    assert emu.chat(ANNA.id)[0].plain_text == "a < b && c №"


async def test_callback_data_over_64_bytes(emu: BotAPIEmulator, bot: Bot) -> None:
    await bot.send_message(ANNA.id, "ok", reply_markup=_keyboard(("b", "я" * 32)))  # 64 bytes
    emu.assert_no_violations()
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(ANNA.id, "too long", reply_markup=_keyboard(("b", "я" * 32 + "x")))
    assert emu.violations == [
        "sendMessage: reply_markup.inline_keyboard[0][0].callback_data: 65 bytes, limit 1-64"
    ]


async def test_message_ids_shared_by_user_and_bot(emu: BotAPIEmulator, bot: Bot) -> None:
    first = emu.send_message(ANNA, "привет")
    sent = await bot.send_message(ANNA.id, "ответ")
    second = emu.send_message(ANNA, "/start event_5")
    assert [first["message"]["message_id"], sent.message_id, second["message"]["message_id"]] == [
        1,
        2,
        3,
    ]
    assert second["update_id"] == first["update_id"] + 1
    assert second["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert "entities" not in first["message"]
    assert second["message"]["from"]["first_name"] == "Анна"
    assert second["message"]["chat"] == {
        "id": 1001,
        "type": "private",
        "first_name": "Анна",
        "last_name": "Иванова",
    }


# --------------------------------------------------------------------------- updates


async def test_long_polling_returns_injected_update_and_respects_offset(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    assert not poll.done()  # long polling is waiting
    injected = emu.send_message(ANNA, "/start")
    updates = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - started < 3
    assert [u.update_id for u in updates] == [injected["update_id"]]
    assert updates[0].message is not None and updates[0].message.text == "/start"

    # not confirmed yet: delivered again
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [injected["update_id"]]
    # confirmed by offset: gone
    assert await bot.get_updates(offset=injected["update_id"] + 1, timeout=0) == []
    later = emu.send_message(ANNA, "second")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [later["update_id"]]
    assert [u.update_id for u in await bot.get_updates(limit=1, timeout=0)] == [later["update_id"]]


async def test_long_poll_times_out_empty(emu: BotAPIEmulator, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 3


async def test_stop_answers_pending_long_poll(spec: SpecValidator | None) -> None:
    emulator = BotAPIEmulator(token=TOKEN, spec=spec)
    await emulator.start()
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
    client = Bot(TOKEN, session=session)
    try:
        poll = asyncio.create_task(client.get_updates(timeout=30))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await emulator.stop()
        assert await asyncio.wait_for(poll, 5) == []
        assert time.monotonic() - started < 3
    finally:
        await session.close()


async def test_dispatcher_end_to_end(emu: BotAPIEmulator, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer(
            "<b>Меню</b>",
            parse_mode="HTML",
            reply_markup=_keyboard(("Далее", "step:2"), ("Помощь", "help")),
        )

    @dp.callback_query(F.data == "step:2")
    async def step(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Шаг 2", reply_markup=_keyboard(("Готово", "done")))
        await query.answer("Переходим")

    @dp.callback_query(F.data == "done")
    async def done(query: CallbackQuery) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.delete()

    @dp.message(F.document)
    async def document(message: Message) -> None:
        assert message.document is not None and message.bot is not None
        data = await message.bot.download(message.document.file_id)
        assert data is not None
        await message.answer(f"got {message.document.file_name}: {len(data.read())} bytes")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        emu.send_message(ANNA, "/start")
        menu = await emu.wait_for_message(ANNA.id)
        assert menu.plain_text == "Меню"
        assert menu.inline_buttons[0][0] == {"text": "Далее", "callback_data": "step:2"}

        pressed = emu.press_button_by_text(ANNA, "Далее")
        answer = await emu.wait_for_callback_answer(pressed["callback_query"]["id"])
        assert answer.params["text"] == "Переходим" and answer.ok
        await emu.wait_idle()
        assert menu.edited and menu.text == "Шаг 2"
        assert [b["callback_data"] for b in menu.all_inline_buttons] == ["done"]

        with pytest.raises(AssertionError, match="step:2"):
            emu.press_button(ANNA, menu.message_id, "step:2")  # no longer shown

        emu.press_button(ANNA, menu.message_id, "done")
        await emu.wait_idle()
        assert emu.chat(ANNA.id) == [] and menu.deleted

        emu.send_document(ANNA, filename="list.csv", content=b"a,b\n1,2\n", mime_type="text/csv")
        reply = await emu.wait_for_message(ANNA.id)
        assert reply.text == "got list.csv: 8 bytes"
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)
    emu.assert_no_violations()


async def test_allowed_updates_filter(emu: BotAPIEmulator, bot: Bot) -> None:
    await bot.send_message(ANNA.id, "m", reply_markup=_keyboard(("x", "x")))
    emu.press_button_by_text(ANNA, "x")
    kept = emu.send_message(ANNA, "hi")
    updates = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.update_id for u in updates] == [kept["update_id"]]
    assert len(emu.dropped_updates) == 1 and "callback_query" in emu.dropped_updates[0]


async def test_second_long_poll_terminates_the_first(emu: BotAPIEmulator, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 3)
    injected = emu.send_message(ANNA, "hi")
    assert [u.update_id for u in await asyncio.wait_for(second, 3)] == [injected["update_id"]]


async def test_raw_wire_variants(emu: BotAPIEmulator) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(ANNA.id))
    form.add_field("caption", "прямая загрузка")
    form.add_field("document", b"raw-bytes", filename="direct.bin", content_type="application/pdf")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.base_url}/bot{TOKEN}/sendDocument", data=form) as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert body["result"]["document"]["file_name"] == "direct.bin"
    assert body["result"]["document"]["mime_type"] == "application/pdf"
    (call,) = emu.calls_of("sendDocument")
    assert call.params["document"] == "attach://document"
    assert call.files == {"document": ("direct.bin", b"raw-bytes")}

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{emu.base_url}/bot{TOKEN}/sendMessage", json={"chat_id": ANNA.id, "text": "json body"}
        ) as response,
    ):
        assert response.status == 200
    assert emu.last_message(ANNA.id) is not None
    assert emu.chat(ANNA.id)[-1].text == "json body"

    status, body = await _raw_post(
        emu, "sendDocument", {"chat_id": "1001", "document": "attach://nothing"}
    )
    assert status == 400
    assert (
        "sendDocument: attach://nothing refers to a file part that was not sent" in emu.violations
    )


async def test_reply_target_must_exist(emu: BotAPIEmulator, bot: Bot) -> None:
    user_message = emu.send_message(ANNA, "вопрос")["message"]["message_id"]
    await bot.send_message(
        ANNA.id, "ответ", reply_parameters=ReplyParameters(message_id=user_message)
    )
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ANNA.id, "x", reply_parameters=ReplyParameters(message_id=999))
    await bot.send_message(
        ANNA.id,
        "ok",
        reply_parameters=ReplyParameters(message_id=999, allow_sending_without_reply=True),
    )
    emu.assert_no_violations()


# --------------------------------------------------------------------------- buttons


async def test_press_button_requires_shown_button(emu: BotAPIEmulator, bot: Bot) -> None:
    sent = await bot.send_message(ANNA.id, "choose", reply_markup=_keyboard(("Да", "yes")))
    with pytest.raises(AssertionError, match="no inline button"):
        emu.press_button(ANNA, sent.message_id, "no")
    with pytest.raises(AssertionError, match="no bot message #999"):
        emu.press_button(ANNA, 999, "yes")
    with pytest.raises(AssertionError):
        emu.press_button_by_text(ANNA, "Нет")
    assert emu.pending_updates == []

    update = emu.press_button(ANNA, sent.message_id, "yes")
    query = update["callback_query"]
    assert query["data"] == "yes" and query["from"]["id"] == ANNA.id
    assert query["message"]["message_id"] == sent.message_id
    assert query["message"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Да"

    assert await bot.answer_callback_query(query["id"], text="ok") is True
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query(query["id"])  # answered twice
    with pytest.raises(TelegramBadRequest):
        await bot.answer_callback_query("424242")  # never existed


async def test_press_button_by_text_prefers_exact_then_newest(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    await bot.send_message(ANNA.id, "old", reply_markup=_keyboard(("Далее", "old")))
    await bot.send_message(
        ANNA.id, "new", reply_markup=_keyboard(("Далее »", "new"), ("Назад", "b"))
    )
    assert emu.press_button_by_text(ANNA, "Далее")["callback_query"]["data"] == "old"  # exact wins
    assert emu.press_button_by_text(ANNA, "Наз")["callback_query"]["data"] == "b"
    await bot.send_message(ANNA.id, "newest", reply_markup=_keyboard(("Далее", "newest")))
    assert emu.press_button_by_text(ANNA, "Далее")["callback_query"]["data"] == "newest"


async def test_reply_keyboard_texts(emu: BotAPIEmulator, bot: Bot) -> None:
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Мои события"), KeyboardButton(text="Профиль")]],
        resize_keyboard=True,
    )
    sent = await bot.send_message(ANNA.id, "menu", reply_markup=keyboard)
    assert sent.reply_markup is None  # Telegram returns only inline keyboards
    message = emu.chat(ANNA.id)[0]
    assert message.reply_keyboard_texts == ["Мои события", "Профиль"]
    assert message.inline_buttons == []
    emu.assert_no_violations()


# --------------------------------------------------------------------------- editing


async def test_edit_and_delete_semantics(emu: BotAPIEmulator, bot: Bot) -> None:
    sent = await bot.send_message(
        ANNA.id, "<i>v1</i>", parse_mode="HTML", reply_markup=_keyboard(("a", "a"))
    )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<i>v1</i>",
            chat_id=ANNA.id,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=_keyboard(("a", "a")),
        )
    edited = await bot.edit_message_text("v2", chat_id=ANNA.id, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "v2" and edited.reply_markup is None
    message = emu.chat(ANNA.id)[0]
    assert message.edited and message.text == "v2" and message.reply_markup is None

    await bot.edit_message_reply_markup(
        chat_id=ANNA.id, message_id=sent.message_id, reply_markup=_keyboard(("b", "b"))
    )
    assert message.all_inline_buttons == [{"text": "b", "callback_data": "b"}]

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=ANNA.id, message_id=777)
    with pytest.raises(TelegramBadRequest, match="no caption"):
        await bot.edit_message_caption(chat_id=ANNA.id, message_id=sent.message_id, caption="c")

    assert await bot.delete_message(ANNA.id, sent.message_id) is True
    assert emu.chat(ANNA.id) == [] and emu.last_message(ANNA.id) is None
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ANNA.id, sent.message_id)

    user_message = emu.send_message(ANNA, "удали меня")["message"]["message_id"]
    second = await bot.send_message(ANNA.id, "и меня")
    assert await bot.delete_messages(ANNA.id, [user_message, second.message_id, 999]) is True
    assert emu.chat(ANNA.id) == []
    emu.assert_no_violations()


# --------------------------------------------------------------------------- failures


async def test_fail_chat_blocked_and_flood(emu: BotAPIEmulator, bot: Bot) -> None:
    sent = await bot.send_message(ANNA.id, "before")
    emu.fail_chat(ANNA.id, "blocked")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ANNA.id, "x")
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text("y", chat_id=ANNA.id, message_id=sent.message_id)

    emu.fail_chat(ANNA.id, "flood", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(ANNA.id, "x")
    assert caught.value.retry_after == 7
    assert emu.calls[-1].status == 429
    assert emu.calls[-1].response["parameters"] == {"retry_after": 7}

    emu.fail_chat(ANNA.id, None)
    await bot.send_message(ANNA.id, "after")
    assert [m.text for m in emu.chat(ANNA.id)] == ["before", "after"]
    assert emu.violations == []  # failures are not violations


async def test_fail_chat_flood_for_the_next_calls_only(emu: BotAPIEmulator, bot: Bot) -> None:
    """``times=N``: a flood wait that passes; the N+1st call is delivered."""
    emu.fail_chat(ANNA.id, "flood", retry_after=1, times=2)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(ANNA.id, "x")
        assert caught.value.retry_after == 1
    await bot.send_message(ANNA.id, "through")
    await bot.send_message(ANNA.id, "again")
    assert [m.text for m in emu.chat(ANNA.id)] == ["through", "again"]
    assert [c.status for c in emu.calls_to(ANNA.id, "sendMessage")] == [429, 429, 200, 200]
    with pytest.raises(ValueError, match="times"):
        emu.fail_chat(ANNA.id, "flood", times=0)


async def test_latency_applies_to_every_method_but_get_updates(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    emu.latency = 0.2
    started = time.monotonic()
    await bot.send_message(ANNA.id, "slow")
    await bot.get_me()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    await bot.get_updates(timeout=0)  # long polling is not slowed down
    assert time.monotonic() - started < 0.15
    emu.latency = 0
    started = time.monotonic()
    await bot.send_message(ANNA.id, "fast")
    assert time.monotonic() - started < 0.15


async def test_latency_set_at_construction(spec: SpecValidator | None) -> None:
    async with BotAPIEmulator(token=TOKEN, spec=spec, latency=0.15) as emu:
        session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
        try:
            started = time.monotonic()
            await Bot(TOKEN, session=session).get_me()
            assert time.monotonic() - started >= 0.15
        finally:
            await session.close()


async def test_on_call_hook_runs_before_the_bot_gets_the_answer(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    """The hook sees the call handled (the message is in the chat) while the bot is still
    waiting for the answer: the moment a fault test kills the bot."""
    answered = False
    seen: list[tuple[str, int, bool, int]] = []

    def hook(call: RecordedCall) -> None:
        seen.append((call.method, call.status, answered, emu.count_sent(ANNA.id)))

    remove = emu.on_call(hook)
    await bot.send_message(ANNA.id, "first")
    answered = True
    await bot.get_updates(timeout=0)
    assert seen == [("sendMessage", 200, False, 1), ("getUpdates", 200, True, 1)]
    remove()
    remove()  # removing twice is harmless
    await bot.send_message(ANNA.id, "unseen")
    assert len(seen) == 2

    def broken(call: RecordedCall) -> None:
        raise RuntimeError("boom")

    emu.on_call(broken)
    await bot.send_message(ANNA.id, "still delivered")
    assert emu.violations == ["sendMessage: on_call hook failed: RuntimeError('boom')"]
    emu.violations.clear()


async def test_delivery_counters(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.add_user(BORIS)
    first = await bot.send_message(ANNA.id, "⏰ <b>Reminder</b>: one", parse_mode="HTML")
    await bot.send_message(ANNA.id, "other")
    await bot.send_message(BORIS.id, "⏰ Reminder: two")
    await bot.delete_message(ANNA.id, first.message_id)
    assert emu.count_sent(ANNA.id) == 2  # a deleted message was still delivered
    assert emu.count_sent(ANNA.id, "Reminder: one") == 1
    assert [m.text for m in emu.sent_to(BORIS.id, "Reminder")] == ["⏰ Reminder: two"]
    assert emu.count_sent(555) == 0
    emu.fail_chat(BORIS.id, "blocked")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(BORIS.id, "blocked")
    assert [c.status for c in emu.calls_to(BORIS.id, "sendMessage")] == [200, 403]
    assert [c.method for c in emu.calls_to(ANNA.id)] == [
        "sendMessage",
        "sendMessage",
        "deleteMessage",
    ]
    polls = emu.poll_count
    await bot.get_updates(timeout=0)
    assert emu.poll_count == polls + 1


async def test_unknown_chat_is_not_found(emu: BotAPIEmulator, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(555, "hello")
    emu.add_user(BORIS)
    chat = await bot.get_chat(BORIS.id)
    assert (chat.id, chat.type, chat.first_name, chat.username) == (
        1002,
        "private",
        "Борис",
        "boris",
    )
    await bot.send_message("@boris", "by username")
    assert emu.chat(BORIS.id)[0].text == "by username"


# --------------------------------------------------------------------------- files


async def test_send_document_multipart_and_download(emu: BotAPIEmulator, bot: Bot) -> None:
    content = "ФИО;Баллы\nИванова;10\n".encode()
    sent = await bot.send_document(
        ANNA.id,
        BufferedInputFile(content, filename="report.csv"),
        caption="<b>Отчёт</b>",
        parse_mode="HTML",
    )
    assert sent.document is not None
    assert sent.document.file_name == "report.csv" and sent.document.file_size == len(content)
    assert sent.document.mime_type == "text/csv"
    assert sent.caption == "Отчёт"

    (call,) = emu.calls_of("sendDocument")
    assert call.params["document"].startswith("attach://")
    (part,) = call.files.values()
    assert part == ("report.csv", content)

    message = emu.last_message(ANNA.id)
    assert message is not None and message.kind == "document"
    assert message.document == ("report.csv", content)
    assert message.plain_text == "Отчёт"

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path and file.file_size == len(content)
    downloaded = await bot.download(sent.document.file_id)
    assert downloaded is not None and downloaded.read() == content

    again = await bot.send_document(ANNA.id, sent.document.file_id)  # resend by file_id
    assert again.document is not None and again.document.file_id == sent.document.file_id
    emu.assert_no_violations()


async def test_send_photo_and_user_document(emu: BotAPIEmulator, bot: Bot) -> None:
    png = (
        b"\x89PNG\r\n\x1a\n"
        + b"\x00\x00\x00\rIHDR"
        + (64).to_bytes(4, "big")
        + (32).to_bytes(4, "big")
    )
    sent = await bot.send_photo(ANNA.id, BufferedInputFile(png, "chart.png"), caption="график")
    assert sent.photo is not None and (sent.photo[-1].width, sent.photo[-1].height) == (64, 32)
    message = emu.last_message(ANNA.id)
    assert message is not None and message.kind == "photo" and message.photo == png

    update = emu.send_document(ANNA, filename="plan.txt", content=b"plan", caption="мой план")
    document = update["message"]["document"]
    assert document["file_name"] == "plan.txt" and document["mime_type"] == "text/plain"
    assert update["message"]["caption"] == "мой план"
    downloaded = await bot.download(document["file_id"])
    assert downloaded is not None and downloaded.read() == b"plan"
    with pytest.raises(TelegramBadRequest):
        await bot.get_file("no-such-file")
    emu.assert_no_violations()


# --------------------------------------------------------------------------- commands and settings


async def test_set_my_commands_with_chat_scope(emu: BotAPIEmulator, bot: Bot) -> None:
    commands = [
        BotCommand(command="start", description="Начать"),
        BotCommand(command="help", description="Помощь"),
    ]
    scope = BotCommandScopeChat(chat_id=ANNA.id)
    assert await bot.set_my_commands(commands, scope=scope, language_code="ru") is True
    await bot.set_my_commands([BotCommand(command="start", description="Start")])

    key = (BotAPIEmulator.scope_key({"type": "chat", "chat_id": ANNA.id}), "ru")
    assert key == ('{"chat_id":1001,"type":"chat"}', "ru")
    assert emu.commands[key] == [
        {"command": "start", "description": "Начать"},
        {"command": "help", "description": "Помощь"},
    ]
    assert emu.commands[('{"type":"default"}', None)] == [
        {"command": "start", "description": "Start"}
    ]
    fetched = await bot.get_my_commands(scope=scope, language_code="ru")
    assert [c.command for c in fetched] == ["start", "help"]
    assert await bot.delete_my_commands(scope=scope, language_code="ru") is True
    assert emu.commands_for({"type": "chat", "chat_id": ANNA.id}, "ru") is None

    with pytest.raises(TelegramBadRequest):
        await bot.set_my_commands([BotCommand(command="Start-Now", description="x")])
    assert emu.violations == [
        "setMyCommands: commands[0].command: 'Start-Now' must be 1-32 chars of a-z 0-9 _"
    ]


async def test_scope_without_chat_id_is_flagged(
    emu: BotAPIEmulator, require_spec: SpecValidator
) -> None:
    status, body = await _raw_post(
        emu,
        "setMyCommands",
        {"commands": '[{"command":"start","description":"go"}]', "scope": '{"type":"chat"}'},
    )
    assert status == 400 and body["ok"] is False and body["description"].startswith("Bad Request: ")
    assert emu.violations == [
        "setMyCommands: scope.chat_id: required field of BotCommandScopeChat is missing"
    ]
    assert emu.commands == {}


async def test_bot_settings_methods(emu: BotAPIEmulator, bot: Bot) -> None:
    assert await bot.set_chat_menu_button(chat_id=ANNA.id, menu_button=MenuButtonCommands()) is True
    assert emu.menu_buttons[ANNA.id] == {"type": "commands"}
    assert await bot.send_chat_action(ANNA.id, "typing") is True
    assert await bot.set_my_description("Бот методиста", language_code="ru") is True
    assert await bot.set_my_short_description("Методист") is True
    assert emu.descriptions == {"ru": "Бот методиста"}
    assert (await bot.get_my_description(language_code="ru")).description == "Бот методиста"
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
    with pytest.raises(TelegramBadRequest):
        await bot.set_my_short_description("x" * 121)
    assert emu.violations == ["setMyShortDescription: short_description: 121 chars, limit 0-120"]


# --------------------------------------------------------------------------- spec violations


async def test_unknown_params_and_methods_flagged(
    emu: BotAPIEmulator, require_spec: SpecValidator
) -> None:
    status, body = await _raw_post(
        emu, "sendMessage", {"chat_id": "1001", "text": "hi", "colour": "red"}
    )
    assert status == 400 and "colour: unknown parameter" in body["description"]
    assert emu.violations == ["sendMessage: colour: unknown parameter"]
    assert emu.chat(ANNA.id) == []

    status, body = await _raw_post(
        emu, "sendMessage", {"chat_id": "1001", "text": "hi", "disable_notification": "5"}
    )
    assert status == 400
    assert emu.violations[-1] == "sendMessage: disable_notification: expected Boolean, got integer"

    status, body = await _raw_post(
        emu, "sendmessage", {"chat_id": "1001", "text": "lower-case method"}
    )
    assert status == 200 and body["ok"] is True

    status, body = await _raw_post(emu, "frobnicate", {})
    assert (status, body) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
    )
    assert emu.violations[-1] == "frobnicate: unknown method"

    status, body = await _raw_post(emu, "sendGame", {"chat_id": "1001", "game_short_name": "g"})
    assert (status, body) == (200, {"ok": True, "result": True})  # known, not emulated
    assert len(emu.violations) == 3


async def test_numeric_text_stays_a_string(emu: BotAPIEmulator, bot: Bot) -> None:
    sent = await bot.send_message(ANNA.id, "12345")
    assert sent.text == "12345"
    assert emu.calls_of("sendMessage")[0].params["text"] == "12345"
    emu.assert_no_violations()


async def test_emulator_without_spec_still_checks_limits() -> None:
    async with BotAPIEmulator(token=TOKEN) as emulator:
        emulator.add_user(ANNA)
        session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
        client = Bot(TOKEN, session=session)
        try:
            await client.send_message(ANNA.id, "ok", reply_markup=_keyboard(("a", "a")))
            with pytest.raises(TelegramBadRequest):
                await client.send_message(ANNA.id, "<b>x", parse_mode="HTML")
            with pytest.raises(TelegramNotFound):
                await client.send_game(ANNA.id, "game")  # not emulated and no spec: unknown
        finally:
            await session.close()
        assert emulator.violations == [
            "sendMessage: text: can't parse entities: can't find end tag corresponding to start tag \"b\"",
            "sendGame: unknown method",
        ]
        assert (
            emulator.calls_of("sendMessage")[0].params["reply_markup"]["inline_keyboard"][0][0][
                "text"
            ]
            == "a"
        )


# --------------------------------------------------------------------------- waiting helpers


async def test_wait_for_message_consumes_and_times_out(emu: BotAPIEmulator, bot: Bot) -> None:
    await bot.send_message(ANNA.id, "one")
    await bot.send_message(ANNA.id, "two")
    await bot.send_message(ANNA.id, "three")
    assert (await emu.wait_for_message(ANNA.id)).text == "one"
    found = await emu.wait_for_message(ANNA.id, predicate=lambda m: m.text == "three")
    assert found.text == "three"  # "two" was skipped and consumed

    waiter = asyncio.create_task(emu.wait_for_message(ANNA.id, timeout=3))
    await asyncio.sleep(0.05)
    await bot.send_message(ANNA.id, "four")
    assert (await waiter).text == "four"

    with pytest.raises(EmulatorTimeout) as caught:
        await emu.wait_for_message(ANNA.id, timeout=0.2)
    assert isinstance(caught.value, AssertionError) and isinstance(
        caught.value, asyncio.TimeoutError
    )
    assert "four" in str(caught.value) and "chat 1001" in str(caught.value)


async def test_wait_idle_needs_updates_fetched(emu: BotAPIEmulator, bot: Bot) -> None:
    await emu.wait_idle(timeout=1)
    emu.send_message(ANNA, "unfetched")
    with pytest.raises(EmulatorTimeout, match="1 update"):
        await emu.wait_idle(timeout=0.3)
    await bot.get_updates(timeout=0)
    await emu.wait_idle(timeout=1)


async def test_listeners_see_sent_edited_deleted(emu: BotAPIEmulator, bot: Bot) -> None:
    events: list[tuple[str, str | None]] = []

    def listener(event: str, message: BotMessage) -> None:
        events.append((event, message.text))

    emu.add_listener(listener)
    sent = await bot.send_message(ANNA.id, "a")
    await bot.edit_message_text("b", chat_id=ANNA.id, message_id=sent.message_id)
    await bot.delete_message(ANNA.id, sent.message_id)
    assert events == [("sent", "a"), ("edited", "b"), ("deleted", "b")]


# --------------------------------------------------------------------------- validator unit tests


def test_load_spec_missing_file_returns_none(tmp_path: Path) -> None:
    assert load_spec(tmp_path / "absent.json") is None


def test_validator_methods_and_params(require_spec: SpecValidator) -> None:
    spec = require_spec
    assert spec.canonical_method("SENDMESSAGE") == "sendMessage"
    assert spec.validate_call("sendMessage", {"chat_id": 1, "text": "x"}) == []
    assert spec.validate_call("sendMessage", {"chat_id": "@channel", "text": "x"}) == []
    assert spec.validate_call("sendMessage", {"text": "x"}) == [
        "sendMessage: chat_id: required parameter is missing"
    ]
    assert spec.validate_call("sendMessage", {"chat_id": 1.5, "text": "x"}) == [
        "sendMessage: chat_id: expected Integer or String, got float"
    ]
    assert spec.validate_call("sendMessage", {"chat_id": 1, "text": "x", "bogus": 1}) == [
        "sendMessage: bogus: unknown parameter"
    ]
    assert spec.validate_call("noSuchMethod", {}) == ["noSuchMethod: unknown method"]
    assert spec.validate_call("getUpdates", {"offset": "7"}) == [
        "getUpdates: offset: expected Integer, got string"
    ]
    assert spec.validate_call("getUpdates", {"offset": True}) == [
        "getUpdates: offset: expected Integer, got boolean"
    ]


def test_validator_nested_objects_and_unions(require_spec: SpecValidator) -> None:
    spec = require_spec
    good_inline = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    assert (
        spec.validate_call("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": good_inline})
        == []
    )
    reply = {"keyboard": [[{"text": "a"}]], "resize_keyboard": True}
    assert (
        spec.validate_call("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": reply}) == []
    )
    assert (
        spec.validate_call(
            "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": {"remove_keyboard": True}}
        )
        == []
    )

    bad_button = {"inline_keyboard": [[{"text": "a", "callback_data": 5, "colour": "red"}]]}
    assert spec.validate_call(
        "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": bad_button}
    ) == [
        "sendMessage: reply_markup.inline_keyboard[0][0].callback_data: expected String, got integer",
        "sendMessage: reply_markup.inline_keyboard[0][0].colour: unknown field of InlineKeyboardButton",
    ]
    flat_row = {"inline_keyboard": [{"text": "a", "callback_data": "b"}]}
    assert spec.validate_call(
        "sendMessage", {"chat_id": 1, "text": "x", "reply_markup": flat_row}
    ) == [
        "sendMessage: reply_markup.inline_keyboard[0]: expected Array of InlineKeyboardButton, got object"
    ]
    assert spec.validate_call("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": "[]"}) == [
        "sendMessage: reply_markup: expected InlineKeyboardMarkup or ReplyKeyboardMarkup or "
        "ReplyKeyboardRemove or ForceReply, got string"
    ]
    assert spec.validate_call(
        "sendMessage", {"chat_id": 1, "text": "x", "link_preview_options": "no"}
    ) == ["sendMessage: link_preview_options: expected LinkPreviewOptions, got string"]
    assert spec.validate_call("setMyCommands", {"commands": [], "scope": ["chat"]}) == [
        "setMyCommands: scope: expected BotCommandScope, got array"
    ]
    assert spec.validate_value("True", False, "v") == ["v: expected True, got false"]
    assert spec.validate_value("Float", 3) == []
    assert spec.validate_value("Array of Array of Integer", [[1, 2], [3]]) == []
    assert spec.validate_value("Array of Array of Integer", [[1, "2"]], "ids") == [
        "ids[0][1]: expected Integer, got string"
    ]
    assert spec.validate_value("InputFile or String", "attach://abc") == []
    assert spec.validate_value("InputFile", "https://x", "f")[0].startswith("f: expected InputFile")
    entity = [{"type": "bold", "offset": 0}]
    assert spec.validate_call("sendMessage", {"chat_id": 1, "text": "x", "entities": entity}) == [
        "sendMessage: entities[0].length: required field of MessageEntity is missing"
    ]


def test_validator_abstract_types_match_subtypes(require_spec: SpecValidator) -> None:
    spec = require_spec
    commands = [{"command": "start", "description": "go"}]
    for scope in (
        {"type": "default"},
        {"type": "all_private_chats"},
        {"type": "chat", "chat_id": 5},
    ):
        assert spec.validate_call("setMyCommands", {"commands": commands, "scope": scope}) == [], (
            scope
        )
    assert spec.validate_call(
        "setMyCommands", {"commands": commands, "scope": {"type": "chat"}}
    ) == ["setMyCommands: scope.chat_id: required field of BotCommandScopeChat is missing"]
    assert spec.validate_call(
        "setMyCommands", {"commands": commands, "scope": {"type": "chat_member", "chat_id": 1}}
    ) == ["setMyCommands: scope.user_id: required field of BotCommandScopeChatMember is missing"]
    (problem,) = spec.validate_call(
        "setMyCommands", {"commands": commands, "scope": {"type": "galaxy"}}
    )
    assert problem.startswith("setMyCommands: scope.type: unknown BotCommandScope type 'galaxy'")
    assert spec.validate_call("setMyCommands", {"commands": commands, "scope": {}}) == [
        "setMyCommands: scope.type: required field of BotCommandScope is missing"
    ]
    assert spec.validate_call(
        "setChatMenuButton", {"menu_button": {"type": "web_app", "text": "x"}}
    ) == ["setChatMenuButton: menu_button.web_app: required field of MenuButtonWebApp is missing"]
    media = [{"type": "photo", "media": "attach://a"}, {"type": "video"}]
    assert spec.validate_call("sendMediaGroup", {"chat_id": 1, "media": media}) == [
        "sendMediaGroup: media[1].media: required field of InputMediaVideo is missing"
    ]


# --------------------------------------------------------------------------- limit unit tests (no spec)


def test_check_limits_text_and_caption() -> None:
    assert check_limits("sendMessage", {"chat_id": 1, "text": "x" * 4096}) == []
    assert check_limits("sendMessage", {"chat_id": 1, "text": "x" * 5000}) == [
        "sendMessage: text: 5000 chars, limit 1-4096"
    ]
    assert check_limits("sendMessage", {"chat_id": 1}) == [
        "sendMessage: text: 0 chars, limit 1-4096"
    ]
    assert check_limits(
        "sendMessage", {"chat_id": 1, "text": "<b> </b>", "parse_mode": "HTML"}
    ) == ["sendMessage: text: text is empty after entities parsing"]
    assert check_limits("editMessageText", {"text": "&lt;" * 4096, "parse_mode": "HTML"}) == []
    assert check_limits("editMessageText", {"text": "&lt;" * 4097, "parse_mode": "html"}) == [
        "editMessageText: text: 4097 chars, limit 1-4096"
    ]
    assert check_limits("sendDocument", {"caption": "я" * 1024}) == []
    assert check_limits("sendPhoto", {"caption": "я" * 1025}) == [
        "sendPhoto: caption: 1025 chars, limit 0-1024"
    ]
    assert check_limits("sendMessage", {"text": "x", "parse_mode": "html5"}) == [
        "sendMessage: parse_mode: unsupported parse mode 'html5' (HTML, MarkdownV2 or Markdown)"
    ]
    assert check_limits("sendMessage", {"text": "1.5", "parse_mode": "MarkdownV2"}) == [
        "sendMessage: text: can't parse entities: character '.' is reserved and must be escaped "
        "with the preceding '\\'"
    ]
    assert check_limits("sendMessage", {"text": "1\\.5 *ok*", "parse_mode": "MarkdownV2"}) == []


def test_check_limits_keyboards() -> None:
    def markup(*buttons: dict[str, Any]) -> dict[str, Any]:
        return {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [list(buttons)]}}

    assert check_limits("sendMessage", markup({"text": "a", "callback_data": "x" * 64})) == []
    assert (
        check_limits(
            "sendMessage",
            markup({"text": "a", "url": "https://t.me/metodbot_test_bot?start=event_5"}),
        )
        == []
    )
    assert check_limits("sendMessage", markup({"text": "a", "callback_data": "x" * 65})) == [
        "sendMessage: reply_markup.inline_keyboard[0][0].callback_data: 65 bytes, limit 1-64"
    ]
    assert check_limits("sendMessage", markup({"text": "a", "callback_data": ""})) == [
        "sendMessage: reply_markup.inline_keyboard[0][0].callback_data: 0 bytes, limit 1-64"
    ]
    assert check_limits("sendMessage", markup({"text": "a"})) == [
        "sendMessage: reply_markup.inline_keyboard[0][0]: exactly one action field required, found none"
    ]
    assert check_limits(
        "sendMessage", markup({"text": "a", "callback_data": "x", "url": "https://a.b"})
    ) == [
        "sendMessage: reply_markup.inline_keyboard[0][0]: exactly one action field required, found callback_data, url"
    ]
    assert check_limits("sendMessage", markup({"text": " ", "callback_data": "x"})) == [
        "sendMessage: reply_markup.inline_keyboard[0][0].text: must be a non-empty string"
    ]
    bad_link = check_limits(
        "sendMessage", markup({"text": "a", "url": "https://t.me/bot?start=bad payload!"})
    )
    assert bad_link == []  # space ends the payload: "bad" is valid
    (problem,) = check_limits(
        "sendMessage", markup({"text": "a", "url": "https://t.me/bot?start=" + "p" * 65})
    )
    assert "deep-link start payload" in problem
    reply = {
        "chat_id": 1,
        "text": "x",
        "reply_markup": {"keyboard": [[{"text": ""}, {"text": "ok"}]]},
    }
    assert check_limits("sendMessage", reply) == [
        "sendMessage: reply_markup.keyboard[0][0].text: must be a non-empty string"
    ]


def test_check_limits_other_methods() -> None:
    assert check_limits("answerCallbackQuery", {"callback_query_id": "1", "text": "я" * 200}) == []
    assert check_limits("answerCallbackQuery", {"callback_query_id": "1", "text": "я" * 201}) == [
        "answerCallbackQuery: text: 201 chars, limit 0-200"
    ]
    commands = [{"command": f"c{i}", "description": "d"} for i in range(100)]
    assert check_limits("setMyCommands", {"commands": commands}) == []
    assert check_limits(
        "setMyCommands", {"commands": [*commands, {"command": "x", "description": "d"}]}
    ) == ["setMyCommands: commands: 101 commands, limit 100"]
    assert check_limits(
        "setMyCommands", {"commands": [{"command": "a" * 33, "description": "d" * 257}]}
    ) == [
        f"setMyCommands: commands[0].command: {'a' * 33!r} must be 1-32 chars of a-z 0-9 _",
        "setMyCommands: commands[0].description: 257 chars, limit 1-256",
    ]
    assert check_limits("sendChatAction", {"chat_id": 1, "action": "dancing"}) == [
        "sendChatAction: action: unsupported chat action 'dancing'"
    ]


def test_formatting_parsers() -> None:
    parsed = parse_html(
        '<b>Жирный <i>курсив</i></b> <a href="https://x.org">ссылка</a> <tg-spoiler>s</tg-spoiler>'
    )
    assert parsed.ok and parsed.text == "Жирный курсив ссылка s"
    assert [(e["type"], e["offset"], e["length"]) for e in parsed.entities] == [
        ("bold", 0, 13),
        ("italic", 7, 6),
        ("text_link", 14, 6),
        ("spoiler", 21, 1),
    ]
    assert parse_html("<code><b>x</b></code>").errors == ['tag "b" can\'t be nested inside "code"']
    assert parse_html('<span class="tg-spoiler">x</span>').ok
    assert not parse_html("<span>x</span>").ok
    assert not parse_html("&amp b").ok
    assert parse_html("&#x1F600;").text == "😀"
    assert utf16_len("😀я") == 3
    v2 = parse_markdown_v2("*bold* _it_ [link](https://x.org/a\\)b) `c\\`d`")
    assert v2.ok and v2.text == "bold it link c`d"
    assert v2.entities[2] == {
        "type": "text_link",
        "offset": 8,
        "length": 4,
        "url": "https://x.org/a)b",
    }
    assert not parse_markdown_v2("*open").ok


# --------------------------------------------------------------------------- robustness


async def test_broken_text_never_wedges_polling(emu: BotAPIEmulator, bot: Bot) -> None:
    """A lone surrogate (a character cut in half) arrives as U+FFFD, like Telegram carries
    only valid UTF-8; the next normal message is answered too."""
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"got {message.text}")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        emu.send_message(ANNA, "Иван\udcd0")
        assert (await emu.wait_for_message(ANNA.id)).text == "got Иван\ufffd"
        emu.send_message(ANNA, "дальше")
        assert (await emu.wait_for_message(ANNA.id)).text == "got дальше"
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)
    assert all(call.status != 500 for call in emu.calls)
    emu.assert_no_violations()


async def test_an_update_that_cannot_be_sent_is_dropped_not_retried_forever(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    bad = emu.send_message(ANNA, "first")
    bad["message"]["unserializable"] = {1, 2}  # a test bug: a set is not JSON (queued as is)
    good = emu.send_message(ANNA, "second")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [good["update_id"]]
    assert emu.dropped_updates == [bad] and emu.pending_updates == [good]
    assert any("cannot be encoded" in v for v in emu.violations)


async def test_file_ids_stay_valid_across_a_restart_on_the_same_store(
    tmp_path: Path, spec: SpecValidator | None
) -> None:
    """A file id kept in the bot's database still names the same file in the next emulator
    on the same store, even after other files were stored first; without the store it is
    refused, never resolved to another file."""
    store = tmp_path / "files"
    evidence = "Конспект урока 📘".encode()

    async def run(file_store: Path | None, work: Any) -> Any:
        async with BotAPIEmulator(token=TOKEN, spec=spec, file_store=file_store) as emulator:
            emulator.add_user(ANNA)
            session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url))
            client = Bot(TOKEN, session=session)
            try:
                return await work(emulator, client)
            finally:
                await session.close()

    async def first(emulator: BotAPIEmulator, client: Bot) -> tuple[str, str]:
        update = emulator.send_document(ANNA, "evidence.txt", evidence)  # a teacher's evidence
        odd = emulator.send_document(ANNA, "cut\udcd0.txt", b"x")  # a name cut mid-character
        assert odd["message"]["document"]["file_name"] == "cut\ufffd.txt"
        chart = await client.send_photo(ANNA.id, BufferedInputFile(b"\x89PNG-1", "chart.png"))
        assert chart.photo is not None
        return update["message"]["document"]["file_id"], chart.photo[-1].file_id

    async def second(emulator: BotAPIEmulator, client: Bot) -> None:
        # other files first: with per-run counters they would take the old ids
        await client.send_document(ANNA.id, BufferedInputFile(b"other", "other.txt"))
        emulator.send_document(ANNA, "other2.txt", b"other 2")
        sent = await client.send_document(ANNA.id, evidence_id, caption="evidence")
        assert sent.document is not None and sent.document.file_name == "evidence.txt"
        downloaded = await client.download(evidence_id)
        assert downloaded is not None and downloaded.read() == evidence
        resent = await client.send_photo(ANNA.id, chart_id)
        assert resent.photo is not None and resent.photo[-1].file_id == chart_id
        message = emulator.last_message(ANNA.id)
        assert message is not None and message.photo == b"\x89PNG-1"
        emulator.assert_no_violations()

    async def without_store(emulator: BotAPIEmulator, client: Bot) -> None:
        await client.send_document(ANNA.id, BufferedInputFile(b"other", "other.txt"))
        with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
            await client.send_document(ANNA.id, evidence_id)
        with pytest.raises(TelegramBadRequest, match="invalid file_id"):
            await client.get_file(evidence_id)

    evidence_id, chart_id = await run(store, first)
    await run(store, second)
    await run(None, without_store)
    await run(tmp_path / "empty", without_store)
