"""Two engines on SQLite: an update's unit of work runs on the loop-thread engine, a handler
flagged `offload` (the statistics, exports, imports, broadcasts, the admin panel) on the
threaded one (`bot.middlewares.offload`), through the real dispatcher.

On PostgreSQL there is one engine (asyncpg has no threads) and nothing to offload.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message, TelegramObject
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import bot.app
import handlers
from bot.middlewares.offload import OFFLOAD, OffloadMiddleware
from bot.middlewares.session import CURRENT_UOW, CommitBeforeSend, UnitOfWork
from core.usercache import UserCache
from db.models import AuditEntry
from db.repo import Repo
from tests.conftest import BACKEND
from tests.dispatcher.conftest import Harness

pytestmark = pytest.mark.sqlite_only("the loop-thread engine is SQLite's")

ADMIN = 900


def _engine(maker: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    bind = maker.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    return bind


class Counter:
    def __init__(self, engine: AsyncEngine) -> None:
        self.statements: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # not the outbox sender's (the harness drains it on the threaded engine after each update)
        if "FROM outbox" not in statement:
            self.statements.append(statement)


def test_the_harness_runs_updates_on_the_loop_engine(harness: Harness) -> None:
    assert BACKEND == "sqlite"
    loop, threaded = _engine(harness.update_sessionmaker), _engine(harness.sessionmaker)
    assert loop is not threaded
    assert loop.dialect.driver == "metodbot_loop" and threaded.dialect.driver == "aiosqlite"


async def test_stats_run_on_the_threaded_engine_and_other_screens_on_the_loop(
    harness: Harness,
) -> None:
    loop = Counter(_engine(harness.update_sessionmaker))
    threaded = Counter(_engine(harness.sessionmaker))
    await harness.message(ADMIN, "/staff")  # unflagged: the user's row and the staff list
    assert loop.statements and threaded.statements == []
    loop.statements.clear()
    sent = await harness.message(ADMIN, "/stats")
    assert any("весь регион" in str(r.params.get("text")) for r in sent), sent
    # the report's queries went to the thread; the loop saw the user middleware and filters
    assert len(threaded.statements) > 3, threaded.statements
    assert not any("FROM events" in s or "FROM registrations" in s for s in loop.statements)
    assert any("FROM events" in s or "FROM registrations" in s for s in threaded.statements)


class Probe:
    """Two probe commands, one flagged `offload`: each records where its repository is bound
    and which unit of work is current, writes an audit row, replies (`CommitBeforeSend`
    commits), writes another."""

    def __init__(self) -> None:
        self.seen: dict[str, tuple[Any, UnitOfWork | None]] = {}
        self.around: list[tuple[bool, bool]] = []
        self.committed: dict[str, list[str]] = {}
        self.router = Router(name="probe")
        self.router.message.outer_middleware(self._around)
        self.router.message.register(self._handler("heavy"), Command("heavy"), flags=OFFLOAD)
        self.router.message.register(self._handler("light"), Command("light"))

    def _handler(self, name: str) -> Callable[..., Awaitable[None]]:
        async def handle(
            message: Message, repo: Repo, sessionmaker: async_sessionmaker[AsyncSession]
        ) -> None:
            self.seen[name] = (repo.session.bind, CURRENT_UOW.get())
            await repo.audit.record(f"{name}-before")
            await message.answer(name)
            # the reply went out after a commit of the handler's own unit of work
            async with sessionmaker() as other:
                self.committed[name] = list(await other.scalars(select(AuditEntry.action)))
            await repo.audit.record(f"{name}-after")

        return handle

    async def _around(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """Outside the inner middlewares: the update's own unit of work and repo come back."""
        uow, repo = CURRENT_UOW.get(), data["repo"]
        try:
            return await handler(event, data)
        finally:
            self.around.append((CURRENT_UOW.get() is uow, data["repo"] is repo))


async def test_a_flagged_handler_gets_the_threaded_engine_and_its_writes_are_committed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = Probe()
    real = handlers.get_routers
    monkeypatch.setattr(bot.app, "get_routers", lambda: [probe.router, *real()])
    h = Harness(harness.settings, harness.sessionmaker, None, harness.update_sessionmaker)
    h.session.middleware(CommitBeforeSend())  # as `build_bot` installs it
    try:
        await h.message(ADMIN, "/light")
        await h.message(ADMIN, "/heavy")
    finally:
        await h.dp.storage.close()
        await h.bot.session.close()
    loop, threaded = _engine(h.update_sessionmaker), _engine(h.sessionmaker)
    light_bind, light_uow = probe.seen["light"]
    heavy_bind, heavy_uow = probe.seen["heavy"]
    assert light_bind is loop
    assert heavy_bind is threaded
    assert heavy_uow is not None and heavy_uow.repo.session.bind is threaded
    assert light_uow is not None and light_uow.repo.session.bind is loop
    assert probe.around == [(True, True), (True, True)]
    assert probe.committed == {
        "light": ["light-before"],
        "heavy": ["light-before", "light-after", "heavy-before"],
    }
    async with h.sessionmaker() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert sorted(actions) == ["heavy-after", "heavy-before", "light-after", "light-before"]


async def test_the_middleware_restores_the_update_unit_of_work_after_a_failure(
    harness: Harness,
) -> None:
    """A flagged handler that raises: its writes are rolled back, the update's unit of work
    and repo are current again; the update's own earlier writes were committed first."""
    from aiogram.dispatcher.event.handler import HandlerObject

    cache = UserCache()
    middleware = OffloadMiddleware(harness.sessionmaker, cache)

    async def failing(_event: Any, data: dict[str, Any]) -> None:
        await data["repo"].audit.record("offloaded")
        raise RuntimeError("boom")

    async with harness.update_sessionmaker() as session:
        outer = UnitOfWork(session, cache, None)
        await outer.repo.audit.record("outer")
        token = CURRENT_UOW.set(outer)
        data: dict[str, Any] = {
            "repo": outer.repo,
            "handler": HandlerObject(callback=failing, flags=OFFLOAD),
        }
        try:
            with pytest.raises(RuntimeError):
                await middleware(failing, object(), data)  # type: ignore[arg-type]
            assert CURRENT_UOW.get() is outer
            assert data["repo"] is outer.repo
        finally:
            CURRENT_UOW.reset(token)
    async with harness.sessionmaker() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert actions == ["outer"]
