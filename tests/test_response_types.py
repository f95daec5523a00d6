"""The bot keeps the parsed-answer model of each Bot API method it calls alive
(`bot.middlewares.response_types`): pydantic caches `Response[T]` weakly, and rebuilding it
after a garbage collection cost 4–7 ms on about half of the calls of the teacher mix."""

from __future__ import annotations

import gc
import weakref

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from aiogram.methods.base import Response

from bot.app import build_bot
from bot.middlewares.response_types import KeepResponseTypes
from tests.conftest import make_settings
from tests.mocked_bot import RecordingSession


async def test_the_bot_keeps_the_answer_models_of_the_methods_it_called() -> None:
    session = RecordingSession(spec=None)
    bot = build_bot(make_settings("sqlite+aiosqlite:///unused.db"), session=session)
    keeper = next(m for m in session.middleware if isinstance(m, KeepResponseTypes))
    await bot.send_message(chat_id=1, text="hello")
    await bot.edit_message_text(chat_id=1, message_id=1, text="hello again")
    await bot.answer_callback_query("cb1")
    refs = [
        weakref.ref(Response[m.__returning__])  # type: ignore[name-defined]
        for m in (SendMessage, EditMessageText, AnswerCallbackQuery)
    ]
    assert set(keeper.kept) == {SendMessage, EditMessageText, AnswerCallbackQuery}
    gc.collect()
    assert all(r() is not None for r in refs)
    # the same class each time: nothing is rebuilt
    assert keeper.kept[EditMessageText] is Response[EditMessageText.__returning__]
