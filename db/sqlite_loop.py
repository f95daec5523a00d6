"""A SQLAlchemy asyncio dialect that runs SQLite on the event loop's thread (`sqlite+metodbot_loop`).

Through aiosqlite one statement makes four thread hops (cursor, execute, fetchall, close: each a
queue put, a worker wakeup and a `call_soon_threadsafe` back), ~0.6 ms against SQLite's own
~0.01 ms. A teacher's update runs a few short indexed statements: here they run directly on the
loop thread, through the stdlib `sqlite3` module. Long work (reports, exports, imports, the
scheduler) stays on the threaded aiosqlite engine (`db.engine.create_engine`); see
`db.engine.create_update_engine` and `bot.middlewares.offload`.

Lock waits never block the loop: the connections run with SQLite's busy timeout at 0, and a
statement (or COMMIT/ROLLBACK) refused with SQLITE_BUSY or SQLITE_LOCKED sleeps on the loop
(`asyncio.sleep`, 1 ms doubling to 50 ms) and retries until the connection's `timeout` (5 s,
what the busy timeout gives the threaded engine) has passed; then the original error is raised.
SQLITE_BUSY_SNAPSHOT (a WAL read snapshot gone stale: a retry cannot cure it) is raised at once,
and so is a refusal after the call had already changed rows (an `executemany` half done).

SQLAlchemy's `greenlet_spawn` wants one real `await_only` per execute: each call awaits a no-op
coroutine first (a greenlet switch, no loop iteration).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar, cast

from sqlalchemy import pool
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_module
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, AdaptedConnection
from sqlalchemy.util.concurrency import await_only

DRIVER = "metodbot_loop"

#: SQLite's primary result codes a retry can cure (the extended SQLITE_BUSY_SNAPSHOT = 517 is not)
RETRYABLE = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
#: how long a refused call keeps retrying unless the connection says otherwise (`timeout`)
DEFAULT_TIMEOUT = 5.0
FIRST_BACKOFF = 0.001
MAX_BACKOFF = 0.05

T = TypeVar("T")


async def _noop() -> None:
    return None


def _retryable(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in RETRYABLE


class LoopCursor:
    """A DBAPI cursor over one `sqlite3.Cursor`; the rows of a statement are fetched at once."""

    __slots__ = ("_adapt", "_cursor", "_rows", "arraysize", "description")

    server_side = False

    def __init__(self, adapt: LoopConnection) -> None:
        self._adapt = adapt
        self._cursor = adapt._sqlite.cursor()
        self._rows: deque[Any] = deque()
        self.arraysize = 1
        self.description: Any = None

    @property
    def rowcount(self) -> int:
        rowcount: int = self._cursor.rowcount
        return rowcount

    @property
    def lastrowid(self) -> int | None:
        lastrowid: int | None = self._cursor.lastrowid
        return lastrowid

    def _run(self, operation: str, parameters: Any) -> None:
        cursor = self._cursor
        cursor.execute(operation, parameters)
        self.description = cursor.description
        self._rows = deque(cursor.fetchall()) if cursor.description else deque()

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._adapt.call(self._run, operation, () if parameters is None else parameters)

    def executemany(self, operation: str, seq_of_parameters: Any) -> None:
        self.description = None
        self._rows.clear()
        self._adapt.call(self._cursor.executemany, operation, seq_of_parameters)

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()
        self._cursor.close()

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        rows = self._rows
        return [rows.popleft() for _ in range(min(size or self.arraysize, len(rows)))]

    def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows


class LoopConnection(AdaptedConnection):
    """The DBAPI connection: a `sqlite3.Connection` used on the loop thread."""

    __slots__ = ("_sqlite", "dbapi", "timeout")

    def __init__(self, dbapi: LoopDBAPI, connection: sqlite3.Connection, timeout: float) -> None:
        self.dbapi = dbapi
        self._sqlite = connection
        self._connection = cast(Any, connection)  # `driver_connection`
        #: seconds a refused call keeps retrying (cooperatively) before its error is raised
        self.timeout = timeout

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` after one no-op await; retried on the loop while the database is busy."""
        await_only(_noop())
        changes = self._sqlite.total_changes
        try:
            return fn(*args)
        except sqlite3.OperationalError as error:
            # a call refused after it changed rows (an executemany half done) must not run again
            if not _retryable(error) or self._sqlite.total_changes != changes:
                raise
            first = error
        return self._retry(fn, args, first)

    def _retry(self, fn: Callable[..., T], args: tuple[Any, ...], first: Exception) -> T:
        deadline = time.monotonic() + self.timeout
        delay = FIRST_BACKOFF
        connection = self._sqlite
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise first
            await_only(asyncio.sleep(min(delay, remaining)))
            delay = min(delay * 2, MAX_BACKOFF)
            changes = connection.total_changes
            try:
                return fn(*args)
            except sqlite3.OperationalError as error:
                if not _retryable(error) or connection.total_changes != changes:
                    raise

    @property
    def isolation_level(self) -> str | None:
        return self._sqlite.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._sqlite.isolation_level = value

    def create_function(self, *args: Any, **kw: Any) -> None:
        self._sqlite.create_function(*args, **kw)

    def cursor(self, server_side: bool = False) -> LoopCursor:
        return LoopCursor(self)

    def execute(self, operation: str, parameters: Any = None) -> LoopCursor:
        cursor = self.cursor()
        cursor.execute(operation, parameters)
        return cursor

    def commit(self) -> None:
        self.call(self._sqlite.commit)

    def rollback(self) -> None:
        self.call(self._sqlite.rollback)

    def close(self) -> None:
        self._sqlite.close()

    def _handle_exception(self, error: Exception) -> NoReturn:
        raise error


class LoopDBAPI(AsyncAdapt_dbapi_module):
    """The DBAPI "module": `sqlite3`'s names, and `connect` giving a `LoopConnection`."""

    def __init__(self) -> None:
        self.sqlite = sqlite3
        for name in dir(sqlite3):
            if not name.startswith("_") and name != "connect":
                setattr(self, name, getattr(sqlite3, name))
        self.paramstyle = "qmark"

    def connect(self, *args: Any, **kw: Any) -> LoopConnection:
        # SQLite's own busy handler would sleep on the loop thread: the wait is ours
        timeout = float(kw.pop("timeout", DEFAULT_TIMEOUT))
        kw["timeout"] = 0
        kw["check_same_thread"] = False
        connection = sqlite3.connect(*args, **kw)
        return LoopConnection(self, connection, timeout)


class SQLiteDialect_loop(SQLiteDialect_pysqlite):
    driver = DRIVER
    is_async = True
    supports_statement_cache = True
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> Any:
        return LoopDBAPI()

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection._sqlite


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_loop")
