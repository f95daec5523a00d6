"""Shared fixtures: databases, FSM storage, the Bot API spec.

One switch picks the backend of the whole suite: ``METODBOT_TEST_BACKEND=sqlite`` (the default)
or ``METODBOT_TEST_BACKEND=postgres`` (a throwaway PostgreSQL server per session, a fresh database
per test cloned from a migrated template, and Redis FSM storage flushed before each test).
Every fixture that makes a database URL (`db_url`, `engine`, the dispatcher harness, the running
bot) and every `make_settings` (its default `redis_url`) follows it. `make test` runs the suite
once per backend."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.settings import Settings
from db import migrate
from db.engine import create_engine, create_sessionmaker
from devtools.emulator import SpecValidator, load_spec
from tests.pg import clone_database, create_database, drop_database, find_bin_dir, postgres_server
from tests.redis_server import find_redis, flush_redis, redis_server

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT.parent / "shared" / "botapi" / "flat-10.2.json"
TEST_TOKEN = "123456:TEST-TOKEN-abcdefghij"
REQUIRE_PG = os.environ.get("METODBOT_REQUIRE_POSTGRES") == "1"
REQUIRE_REDIS = os.environ.get("METODBOT_REQUIRE_REDIS") == "1"
BACKENDS = ("sqlite", "postgres")
#: the backend of this run: sqlite, or postgres (PostgreSQL + Redis FSM storage)
BACKEND = os.environ.get("METODBOT_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
if BACKEND not in BACKENDS:
    raise pytest.UsageError(
        f"METODBOT_TEST_BACKEND={BACKEND!r}: expected one of {', '.join(BACKENDS)}"
    )
#: the Redis every `make_settings` uses by default (set per test on the postgres backend)
_backend_redis_url: str | None = None


def pytest_report_header(config: pytest.Config) -> list[str]:
    if BACKEND == "postgres":
        lines = ["backend: postgres (PostgreSQL database per test, Redis FSM storage)"]
    else:
        lines = ["backend: sqlite (SQLite file per test, memory FSM storage)"]
    if SPEC_PATH.exists():
        return [*lines, f"botapi spec: {SPEC_PATH} (every request is validated against it)"]
    return [
        *lines,
        f"botapi spec: not found at {SPEC_PATH}: spec validation SKIPPED "
        "(the project's own limit checks still run)",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the postgres backend, tests marked `sqlite_only` (SQLite by nature: a query plan,
    the SQLite write lock) are skipped with their reason; they ran in the SQLite pass."""
    if BACKEND == "sqlite":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(scope="session")
def spec() -> SpecValidator | None:
    return load_spec(SPEC_PATH)


def backend_redis_url() -> str | None:
    """The Redis of this test on the postgres backend (FSM storage of every bot it starts);
    None on the sqlite backend."""
    return _backend_redis_url


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TEST_TOKEN,
        "database_url": database_url,
        "admin_ids": [],
        # None (memory FSM storage) on the sqlite backend, the session's Redis on postgres
        "redis_url": None,
        # the anti-flood limit is tested on its own (tests/dispatcher); scripted users here tap
        # far faster than people, and a dropped update would make a test depend on timing
        "throttle_rate": 10_000.0,
        "throttle_burst": 10_000,
        "log_level": "DEBUG",
        # the emulator takes any pace; the outbox's limits are tested on their own
        "outbox_rate": 1000.0,
        "outbox_chat_rate": 1000.0,
        "outbox_poll_seconds": 0.2,
        # the tests that run on the wall clock must not depend on the hour they run at; quiet
        # hours are tested on their own, on an injected clock (tests/e2e/test_reminders.py)
        "quiet_hours": "off",
    }
    if _backend_redis_url is not None:
        values["redis_url"] = _backend_redis_url
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A new, empty SQLite file (not created yet)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    if find_bin_dir() is None:
        if REQUIRE_PG:
            pytest.fail("METODBOT_REQUIRE_POSTGRES=1 but no PostgreSQL binaries were found")
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql)")
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if find_redis() is None:
        if REQUIRE_REDIS:
            pytest.fail("METODBOT_REQUIRE_REDIS=1 but redis-server was not found")
        pytest.skip("redis-server not found (apt-get install redis-server)")
    with redis_server() as url:
        yield url


@pytest.fixture(autouse=True)
def backend_redis(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """On the postgres backend: the session's Redis, emptied before the test, and the default
    `redis_url` of every `make_settings` (so the bot keeps its FSM state in Redis); None on
    the sqlite backend."""
    global _backend_redis_url
    if BACKEND != "postgres":
        yield None
        return
    url = str(request.getfixturevalue("redis_url"))
    flush_redis(url)
    _backend_redis_url = url
    try:
        yield url
    finally:
        _backend_redis_url = None


_db_counter = itertools.count()


def _pg_name() -> str:
    return f"t{os.getpid()}_{next(_db_counter)}"


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database on the session's PostgreSQL server (dropped afterwards)."""
    name = _pg_name()
    url = create_database(pg_server, name)
    yield url
    drop_database(pg_server, name)


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> str:
    """A database migrated to head, the template of every test's `db_url` on PostgreSQL."""
    name = "metodbot_template"
    url = create_database(pg_server, name)

    async def upgrade() -> None:
        eng = create_engine(url)
        try:
            await migrate.upgrade(eng)
        finally:
            await eng.dispose()

    _run_async(upgrade())
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied for every test's `db_url` on SQLite."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def upgrade() -> None:
        eng = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await migrate.upgrade(eng)
        finally:
            await eng.dispose()

    _run_async(upgrade())
    return path


def _run_async(coro: Any) -> None:
    import asyncio

    with asyncio.Runner() as runner:
        runner.run(coro)


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest) -> str:
    """A new, empty database of this run's backend (for the migration tests)."""
    if BACKEND == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture(
    params=[pytest.param(BACKEND, marks=[pytest.mark.postgres] if BACKEND == "postgres" else [])]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database of this run's backend, already migrated to head (a copy of a template:
    a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL); reference lists empty."""
    if request.param == "postgres":
        server = str(request.getfixturevalue("pg_server"))
        template = str(request.getfixturevalue("pg_template"))
        name = _pg_name()
        url = clone_database(server, template, name)
        yield url
        drop_database(server, name)
        return
    template_file: Path = request.getfixturevalue("sqlite_template")
    target = tmp_path / "metodbot.db"
    shutil.copyfile(template_file, target)
    yield f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    await migrate.upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)
