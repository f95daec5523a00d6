"""The suite's backend switch reaches the running bot: on METODBOT_TEST_BACKEND=postgres the bot
polling the emulator uses a PostgreSQL database and keeps its FSM state in Redis; on sqlite, a
SQLite file and memory storage."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage

from tests.conftest import BACKEND
from tests.e2e.conftest import Running


async def test_the_running_bot_follows_the_backend(running: Running) -> None:
    app = running.app
    chat = running.chat(8_700_101, lang="en")
    await chat.send("/start")
    await chat.tap("I agree")
    key = StorageKey(bot_id=app.bot.id, chat_id=chat.user.id, user_id=chat.user.id)
    state = await app.dp.fsm.storage.get_state(key)
    assert state is not None and state.startswith("Form:")
    async with app.sessionmaker() as session:
        dialect = session.get_bind().dialect.name
    storage = app.dp.fsm.storage
    if BACKEND == "postgres":
        assert dialect == "postgresql"
        assert isinstance(storage, RedisStorage)
        keys = [k.decode() if isinstance(k, bytes) else k for k in await storage.redis.keys("*")]
        assert any(str(chat.user.id) in k for k in keys), keys
    else:
        assert dialect == "sqlite"
        assert isinstance(storage, MemoryStorage)
