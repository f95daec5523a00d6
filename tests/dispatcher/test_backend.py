"""The suite's backend switch reaches the dispatcher harness: on METODBOT_TEST_BACKEND=postgres
the harness runs on a PostgreSQL database and keeps FSM state in Redis (emptied before each
test); on sqlite, a SQLite file and memory storage."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import text

from tests.conftest import BACKEND
from tests.dispatcher.conftest import Harness

WIZARD_USER = 8_700_001


async def _dialect(h: Harness) -> str:
    async with h.sessionmaker() as session:
        return str(session.get_bind().dialect.name)


async def test_the_harness_follows_the_backend(harness: Harness) -> None:
    storage = harness.dp.fsm.storage
    if BACKEND == "postgres":
        assert await _dialect(harness) == "postgresql"
        assert isinstance(storage, RedisStorage)
        assert harness.settings.redis_url
    else:
        assert await _dialect(harness) == "sqlite"
        assert isinstance(storage, MemoryStorage)


async def test_an_open_wizard_lives_in_the_backends_storage(harness: Harness) -> None:
    """/start opens the consent screen; the profile wizard's state after consent is in the
    storage of this backend (in Redis: a key the bot wrote, not one this test wrote)."""
    await harness.message(WIZARD_USER, "/start")
    await harness.callback(WIZARD_USER, "consent:agree")
    key = StorageKey(bot_id=harness.bot.id, chat_id=WIZARD_USER, user_id=WIZARD_USER)
    state = await harness.dp.fsm.storage.get_state(key)
    assert state is not None and state.startswith("Form:")
    storage = harness.dp.fsm.storage
    if isinstance(storage, RedisStorage):
        keys = [k.decode() if isinstance(k, bytes) else k for k in await storage.redis.keys("*")]
        assert any(str(WIZARD_USER) in k for k in keys), keys


async def test_each_test_starts_with_empty_storage_and_database(harness: Harness) -> None:
    """Nothing of the test above is left: not the wizard's state, not the user row."""
    key = StorageKey(bot_id=harness.bot.id, chat_id=WIZARD_USER, user_id=WIZARD_USER)
    assert await harness.dp.fsm.storage.get_state(key) is None
    storage = harness.dp.fsm.storage
    if isinstance(storage, RedisStorage):
        assert await storage.redis.keys("*") == []
    async with harness.sessionmaker() as session:
        users = (await session.execute(text("SELECT count(*) FROM users"))).scalar_one()
    assert users == 0
