"""Shared fixtures: databases (SQLite always, PostgreSQL when its binaries exist), the Bot API
spec, the emulator, and a running bot."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.settings import Settings
from db import migrate
from db.engine import create_engine, create_sessionmaker
from devtools.emulator import SpecValidator, load_spec
from tests.pg import create_database, find_bin_dir, postgres_server
from tests.redis_server import find_redis, redis_server

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT.parent / "shared" / "botapi" / "flat-10.2.json"
TEST_TOKEN = "123456:TEST-TOKEN-abcdefghij"
REQUIRE_PG = os.environ.get("METODBOT_REQUIRE_POSTGRES") == "1"
REQUIRE_REDIS = os.environ.get("METODBOT_REQUIRE_REDIS") == "1"


def pytest_report_header(config: pytest.Config) -> list[str]:
    if SPEC_PATH.exists():
        return [f"botapi spec: {SPEC_PATH} (every request is validated against it)"]
    return [
        f"botapi spec: not found at {SPEC_PATH}: spec validation SKIPPED "
        "(the project's own limit checks still run)"
    ]


@pytest.fixture(scope="session")
def spec() -> SpecValidator | None:
    return load_spec(SPEC_PATH)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TEST_TOKEN,
        "database_url": database_url,
        "admin_ids": [],
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
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
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


_db_counter = itertools.count()


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return create_database(pg_server, f"t{os.getpid()}_{next(_db_counter)}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    await migrate.upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)
