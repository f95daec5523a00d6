"""The loop-thread SQLite dialect (`db.sqlite_loop`): the same answers as aiosqlite, and lock
waits that never block the event loop.

Every test builds its engines on a SQLite file of its own (the dialect is SQLite's by nature).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.app import prepare_database, prepare_update_database
from db import sqlite_loop
from db.engine import create_engine, create_sessionmaker, create_update_engine
from db.models import AuditEntry, Event, Municipality, School, Site, User
from db.repo import Repo
from domain.roles import Role
from tests.conftest import make_settings
from tests.sample import load_sample_events

T = TypeVar("T")

pytestmark = pytest.mark.sqlite_only("the loop-thread dialect is SQLite's")

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(40), nullable=False),
    Column("n", Integer, nullable=False, default=0),
)


@dataclass
class Engines:
    path: Path
    threaded: AsyncEngine
    loop: AsyncEngine


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[Engines]:
    path = tmp_path / "loop.db"
    threaded = create_engine(f"sqlite+aiosqlite:///{path}")
    loop = create_update_engine(threaded)
    async with threaded.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield Engines(path, threaded, loop)
    await loop.dispose()
    await threaded.dispose()


async def _both(engines: Engines, fn: Callable[[AsyncEngine], Awaitable[T]]) -> tuple[T, T]:
    return await fn(engines.threaded), await fn(engines.loop)


# --- the dialect answers as aiosqlite does -----------------------------------------------


async def test_the_update_engine_is_the_loop_dialect_on_the_same_file(engines: Engines) -> None:
    loop = engines.loop
    assert loop is not engines.threaded
    assert loop.dialect.driver == sqlite_loop.DRIVER and loop.dialect.is_async
    assert loop.url.database == engines.threaded.url.database
    async with loop.connect() as conn:
        pragmas = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("busy_timeout", "foreign_keys", "journal_mode", "synchronous")
        }
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, sqlite3.Connection)
    # SQLite's own busy handler would sleep on the loop: the wait is the dialect's
    assert pragmas == {
        "busy_timeout": 0,
        "foreign_keys": 1,
        "journal_mode": "wal",
        "synchronous": 1,
    }
    assert loop.sync_engine.hide_parameters


def test_postgresql_and_memory_keep_one_engine() -> None:
    for url in ("postgresql+asyncpg://u:p@localhost/db", "sqlite+aiosqlite:///:memory:"):
        engine = create_engine(url)
        assert create_update_engine(engine) is engine
        sessionmaker = create_sessionmaker(engine)
        assert prepare_update_database(engine, sessionmaker) == (engine, sessionmaker)


async def test_rowcount_lastrowid_and_executemany(engines: Engines) -> None:
    async def run(engine: AsyncEngine) -> list[Any]:
        seen: list[Any] = []
        async with engine.begin() as conn:
            await conn.execute(items.delete())
            inserted = await conn.execute(items.insert().values(name="a", n=1))
            seen.append((inserted.rowcount, inserted.inserted_primary_key))
            raw = await conn.exec_driver_sql("INSERT INTO items (name, n) VALUES ('b', 2)")
            seen.append((raw.rowcount, raw.lastrowid))
            many = await conn.execute(items.insert(), [{"name": f"m{i}", "n": i} for i in range(5)])
            seen.append(many.rowcount)
            bumped = await conn.execute(
                items.update().where(items.c.name == bindparam("b_name")).values(n=items.c.n + 10),
                [{"b_name": "m1"}, {"b_name": "m2"}, {"b_name": "nobody"}],
            )
            seen.append(bumped.rowcount)
            updated = await conn.execute(items.update().where(items.c.n >= 3).values(n=0))
            seen.append(updated.rowcount)
            rows = await conn.execute(select(items.c.name, items.c.n).order_by(items.c.id))
            seen.append([tuple(r) for r in rows])
            returned = await conn.execute(
                items.insert().values(name="r", n=7).returning(items.c.id, items.c.name)
            )
            seen.append([tuple(r) for r in returned])
        return seen

    threaded, loop = await _both(engines, run)
    assert loop == threaded
    assert loop[2] == 5 and loop[3] == 2  # executemany's rowcounts add up


async def test_a_savepoint_rolls_back_alone_and_a_rollback_all(engines: Engines) -> None:
    sessionmaker = create_sessionmaker(engines.loop)
    async with sessionmaker() as session:
        await session.execute(items.insert().values(name="kept"))
        with pytest.raises(RuntimeError):
            async with session.begin_nested():
                await session.execute(items.insert().values(name="undone"))
                raise RuntimeError
        await session.commit()
    async with sessionmaker() as session:
        await session.execute(items.insert().values(name="rolled back"))
        await session.rollback()
    async with engines.threaded.connect() as conn:
        names = (await conn.execute(select(items.c.name))).scalars().all()
    assert names == ["kept"]


async def test_the_orm_round_trip_gives_what_aiosqlite_gives(tmp_path: Path) -> None:
    """On the real schema with the shipped sample events (long titles, `TRICKY_TITLE`): a few
    ORM queries, a join, an aggregate and a write answer the same through both engines."""
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'orm.db'}")
    engine, sessionmaker = await prepare_database(settings)
    loop_engine, loop_sessionmaker = prepare_update_database(engine, sessionmaker)
    try:
        await load_sample_events(sessionmaker)

        async def queries(maker: async_sessionmaker[AsyncSession]) -> list[Any]:
            async with maker() as session:
                events = (
                    await session.scalars(
                        select(Event).options(selectinload(Event.site)).order_by(Event.id)
                    )
                ).all()
                per_site = (
                    await session.execute(
                        select(Site.title, func.count(Event.id))
                        .join(Event, Event.site_id == Site.id)
                        .group_by(Site.title)
                        .order_by(Site.title)
                    )
                ).all()
                schools = (
                    await session.execute(
                        select(Municipality.name_ru, School.name)
                        .join(School, School.municipality_id == Municipality.id)
                        .order_by(School.id)
                        .limit(20)
                    )
                ).all()
                return [
                    [
                        (e.id, e.code, e.title, e.starts_at, e.capacity, e.site and e.site.title)
                        for e in events
                    ],
                    [tuple(r) for r in per_site],
                    [tuple(r) for r in schools],
                ]

        threaded, loop = await queries(sessionmaker), await queries(loop_sessionmaker)
        assert loop == threaded
        assert len(loop[0]) >= 5 and any("<b>" in title for _, _, title, *_ in loop[0])

        # an ORM write through the loop engine, read back through the threaded one
        async with loop_sessionmaker() as session:
            repo = Repo(session)
            user, created = await repo.users.get_or_create(555, "ru")
            assert created
            await repo.audit.record("probe", actor=user, note="<b>&</b>")
            await session.commit()
        async with sessionmaker() as session:
            row = await session.scalar(select(User).where(User.telegram_id == 555))
            entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "probe"))
        assert row is not None and row.role == Role.TEACHER
        assert entry is not None and entry.actor_user_id == row.id
        assert entry.details == {"note": "<b>&</b>"}
    finally:
        await loop_engine.dispose()
        await engine.dispose()


# --- lock waits are cooperative ----------------------------------------------------------


class Holder:
    """Another process's writer: a plain sqlite3 connection in a thread that holds the write
    lock (`BEGIN IMMEDIATE`) for `seconds`."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path = path
        self.seconds = seconds
        self.locked = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO items (name, n) VALUES ('holder', 0)")
            self.locked.set()
            time.sleep(self.seconds)
            conn.execute("COMMIT")
        finally:
            conn.close()

    async def __aenter__(self) -> Holder:
        self.thread.start()
        assert await asyncio.to_thread(self.locked.wait, 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.thread.join, 10)


class Ticker:
    """Counts how often the loop got to run a 5 ms timer meanwhile."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.005)
            self.ticks += 1

    def __enter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _write(engine: AsyncEngine, name: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(items.insert().values(name=name))


async def test_a_locked_write_waits_on_the_loop_and_succeeds(engines: Engines) -> None:
    async with Holder(engines.path, 0.25):
        with Ticker() as ticker:
            started = time.monotonic()
            await _write(engines.loop, "after the holder")
            waited = time.monotonic() - started
    assert waited >= 0.15, waited  # it did wait for the lock ...
    assert ticker.ticks >= 10, ticker.ticks  # ... and the loop kept running meanwhile
    async with engines.threaded.connect() as conn:
        names = (await conn.execute(select(items.c.name).order_by(items.c.id))).scalars().all()
    assert names == ["holder", "after the holder"]


async def test_a_holder_that_never_lets_go_gives_the_original_error_at_the_deadline(
    engines: Engines,
) -> None:
    short = create_update_engine(engines.threaded, timeout=0.3)
    try:
        async with Holder(engines.path, 1.5):
            with Ticker() as ticker:
                started = time.monotonic()
                with pytest.raises(OperationalError) as raised:
                    await _write(short, "never")
                waited = time.monotonic() - started
    finally:
        await short.dispose()
    orig = raised.value.orig
    assert isinstance(orig, sqlite3.OperationalError)
    assert orig.sqlite_errorcode == sqlite3.SQLITE_BUSY, orig.sqlite_errorcode
    assert "locked" in str(orig)
    assert 0.28 <= waited < 1.2, waited
    assert ticker.ticks >= 10, ticker.ticks


async def test_a_stale_snapshot_is_raised_at_once(engines: Engines) -> None:
    """A transaction read, another connection wrote and committed since: SQLITE_BUSY_SNAPSHOT
    (517) — no retry can cure it, so no 5 s wait either."""
    await _write(engines.threaded, "first")
    async with engines.loop.connect() as conn:
        await conn.exec_driver_sql("BEGIN")
        assert (await conn.exec_driver_sql("SELECT count(*) FROM items")).scalar() == 1
        await _write(engines.threaded, "meanwhile")
        started = time.monotonic()
        with pytest.raises(OperationalError) as raised:
            await conn.execute(items.insert().values(name="stale"))
        waited = time.monotonic() - started
        await conn.rollback()
    orig = raised.value.orig
    assert isinstance(orig, sqlite3.OperationalError)
    assert orig.sqlite_errorcode == sqlite3.SQLITE_BUSY_SNAPSHOT, orig.sqlite_errorcode
    assert waited < 0.2, waited


async def test_the_loop_engine_waits_for_the_threaded_engine_too(engines: Engines) -> None:
    """The bot's own two engines: a threaded transaction holding the write lock makes a loop
    write wait (cooperatively) until it commits."""
    threaded = create_sessionmaker(engines.threaded)
    async with threaded() as session:
        await session.execute(items.insert().values(name="threaded"))  # holds the lock
        write = asyncio.create_task(_write(engines.loop, "loop"))
        await asyncio.sleep(0.1)
        assert not write.done()
        await session.commit()
    await asyncio.wait_for(write, 5)
    async with engines.threaded.connect() as conn:
        names = (await conn.execute(select(items.c.name).order_by(items.c.id))).scalars().all()
    assert names == ["threaded", "loop"]


def test_retryable_codes() -> None:
    def error(code: int) -> sqlite3.OperationalError:
        e = sqlite3.OperationalError("x")
        e.sqlite_errorcode = code
        return e

    assert sqlite_loop._retryable(error(sqlite3.SQLITE_BUSY))
    assert sqlite_loop._retryable(error(sqlite3.SQLITE_LOCKED))
    assert not sqlite_loop._retryable(error(sqlite3.SQLITE_BUSY_SNAPSHOT))
    assert not sqlite_loop._retryable(sqlite3.OperationalError("no such table"))
