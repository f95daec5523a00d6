"""Engines and session factory. SQLite gets WAL, foreign keys and a busy timeout; PostgreSQL
runs without JIT.

Two engines on SQLite: `create_engine` (aiosqlite, a thread per connection) serves everything
long or in the background: the scheduler, the outbox sender, the CLI, migrations, and the
handlers flagged `offload` (reports, exports, imports, broadcasts). `create_update_engine` gives
the engine the updates' unit of work uses: on SQLite the same file through
`db.sqlite_loop` (statements on the event loop's thread, lock waits cooperative); on PostgreSQL
the same engine (asyncpg has no threads)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

#: how long a statement waits for another connection's write lock (ms)
BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(
    dbapi_conn: Any, _record: Any, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> None:
    cursor = dbapi_conn.cursor()
    # the loop engine's first: SQLite's own busy handler must never sleep on the loop
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _loop_pragmas(dbapi_conn: Any, record: Any) -> None:
    # the wait for a lock is `db.sqlite_loop`'s, on the loop, up to the same 5 s
    _sqlite_pragmas(dbapi_conn, record, busy_timeout_ms=0)


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    url = make_url(database_url)
    # personal data travels as SQL parameters (names, evidence, comments): never log them,
    # neither in error messages (a failed INSERT's exception text) nor in echo/debug logs
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if url.get_backend_name() == "sqlite":
        # aiosqlite logs every statement with its parameters at DEBUG (LOG_LEVEL=DEBUG)
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
        if url.get_driver_name() == "asyncpg":
            # the statistics' large aggregates spent ~2.7 s in PostgreSQL's JIT compiler for a
            # 0.3 s query (bench/stats.py); the bot's queries are all short: JIT never pays
            kwargs["connect_args"] = {"server_settings": {"jit": "off"}}
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def is_file_sqlite(engine: AsyncEngine) -> bool:
    url = engine.url
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def create_update_engine(engine: AsyncEngine, **connect_args: Any) -> AsyncEngine:
    """The engine for the updates' unit of work, next to `engine` (from `create_engine`): on a
    SQLite file a loop-thread engine on the same file (`db.sqlite_loop`), else `engine` itself
    (PostgreSQL; an in-memory SQLite cannot be shared). `connect_args` go to the loop dialect
    (`timeout`: seconds a statement waits for a lock, 5 by default)."""
    if not is_file_sqlite(engine):
        return engine
    from db import sqlite_loop  # importing it registers the dialect

    connect_args.setdefault("timeout", BUSY_TIMEOUT_MS / 1000)
    url = engine.url.set(drivername=f"sqlite+{sqlite_loop.DRIVER}")
    loop_engine = create_async_engine(
        url, echo=engine.echo, hide_parameters=True, connect_args=connect_args
    )
    event.listen(loop_engine.sync_engine, "connect", _loop_pragmas)
    return loop_engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)
