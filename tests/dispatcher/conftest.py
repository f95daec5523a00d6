"""Dispatcher-level harness: real dispatcher, the run's database (SQLite or PostgreSQL) and FSM
storage (memory, or Redis on the postgres backend), recording fake session."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.types import Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import (
    build_bot,
    build_dispatcher,
    build_storage,
    load_i18n,
    prepare_database,
    prepare_update_database,
)
from core.clock import ManualClock
from devtools.emulator import SpecValidator
from outbox.sender import OutboxSender
from tests.conftest import make_settings
from tests.mocked_bot import RecordingSession, Request


class Harness:
    def __init__(
        self,
        settings: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
        spec: SpecValidator | None,
        update_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.session = RecordingSession(spec)
        # built as the running bot's: its session commits the update's unit of work before
        # every Bot API call (`CommitBeforeSend`) and keeps the answer models alive
        self.bot = build_bot(settings, session=self.session)
        self.settings = settings
        self.sessionmaker = sessionmaker
        #: the updates' unit of work (the loop-thread engine on SQLite, as the running bot)
        self.update_sessionmaker = update_sessionmaker or sessionmaker
        i18n = load_i18n(settings)
        #: the dispatcher's one clock: it stands still until a test moves it
        self.clock = ManualClock()
        self.dp = build_dispatcher(
            settings,
            sessionmaker,
            i18n,
            storage=build_storage(settings),
            clock=self.clock,
            update_sessionmaker=self.update_sessionmaker,
        )
        #: what the bot's sender does after each commit, done after each update
        self.sender = OutboxSender(sessionmaker, self.bot, i18n, settings, clock=self.clock.now)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    @staticmethod
    def _user(user_id: int, lang: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Анна", "language_code": lang}

    async def feed(self, update: dict[str, Any]) -> list[Request]:
        before = len(self.session.requests)
        await self.dp.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )
        await self.sender.drain()
        return self.session.requests[before:]

    async def message(self, user_id: int, text: str, lang: str = "ru") -> list[Request]:
        entities = []
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self.feed(
            {
                "update_id": next(self._update_ids),
                "message": {
                    "message_id": next(self._message_ids),
                    "date": 1_700_000_000,
                    "chat": {"id": user_id, "type": "private", "first_name": "Анна"},
                    "from": self._user(user_id, lang),
                    "text": text,
                    **({"entities": entities} if entities else {}),
                },
            }
        )

    async def callback(self, user_id: int, data: str, lang: str = "ru") -> list[Request]:
        return await self.feed(
            {
                "update_id": next(self._update_ids),
                "callback_query": {
                    "id": f"cb{next(self._update_ids)}",
                    "from": self._user(user_id, lang),
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": 1,
                        "date": 1_700_000_000,
                        "chat": {"id": user_id, "type": "private", "first_name": "Анна"},
                        "from": {"id": 123456, "is_bot": True, "first_name": "Metodbot"},
                        "text": "…",
                    },
                },
            }
        )


@pytest.fixture
async def harness(db_url: str, spec: SpecValidator | None) -> AsyncIterator[Harness]:
    settings = make_settings(db_url, admin_ids=[900], throttle_rate=0.001, throttle_burst=30)
    engine, sessionmaker = await prepare_database(settings)
    update_engine, update_sessionmaker = prepare_update_database(engine, sessionmaker)
    h = Harness(settings, sessionmaker, spec, update_sessionmaker)
    yield h
    await h.dp.storage.close()
    await h.bot.session.close()
    await update_engine.dispose()
    await engine.dispose()
    assert h.session.violations == [], h.session.violations
