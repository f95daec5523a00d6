"""Shared fixtures: databases, FSM storage, the Bot API spec.

One switch picks the backend of the whole suite: ``METODBOT_TEST_BACKEND=sqlite`` (the default)
or ``METODBOT_TEST_BACKEND=postgres`` (a throwaway PostgreSQL server per session, a fresh database
per test cloned from a migrated template, and Redis FSM storage flushed before each test).
Every fixture that makes a database URL (`db_url`, `engine`, the dispatcher harness, the running
bot) and every `make_settings` (its default `redis_url`) follows it. `make test` runs the suite
once per backend."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import prepare_database
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
    """Each pass runs every test once: on the postgres backend, tests marked `sqlite_only`
    (SQLite by nature: the SQLite write lock) are skipped with their reason, they ran in the
    SQLite pass; on sqlite, tests written for PostgreSQL itself wait for its pass."""
    for item in items:
        if BACKEND == "sqlite":
            # a test written for PostgreSQL itself (it asks for `pg_url`) runs in that pass
            if "pg_url" in getattr(item, "fixturenames", ()) and item.get_closest_marker(
                "postgres"
            ):
                item.add_marker(pytest.mark.skip(reason="PostgreSQL only: runs in that pass"))
            continue
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


@pytest.fixture(scope="session", autouse=True)
def parse_each_yaml_text_once() -> Iterator[None]:
    """Every start of the bot (the dispatcher harness, each running bot) parses the shipped
    YAML files again: the 256 KB framework alone takes 0.5-2 s with PyYAML's pure-Python
    parser, most of a harness's set-up. In this test process `yaml.safe_load` remembers what
    each text parsed to and hands out deep copies: the same values and the same errors, once
    per text (the bot's own processes are not affected)."""
    real = yaml.safe_load
    parsed: dict[str, Any] = {}

    def safe_load(stream: Any) -> Any:
        text = stream if isinstance(stream, str | bytes) else stream.read()
        key = text if isinstance(text, str) else text.decode("utf-8")
        if key not in parsed:
            parsed[key] = real(text)
        return copy.deepcopy(parsed[key])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yaml, "safe_load", safe_load)
        yield


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


class Templates:
    """Databases built once per session and copied for each test (a file copy on SQLite,
    CREATE DATABASE ... TEMPLATE on PostgreSQL: faster than migrating again):
    "migrated" is at head with empty tables; "prepared" also holds what the bot's start-up
    (`prepare_database`) loads into an empty database: the sample reference lists and the
    competency framework."""

    def __init__(self, workdir: Path, pg_server: str | None) -> None:
        self.workdir = workdir
        self.pg_server = pg_server
        self._built: dict[str, str] = {}

    def _url(self, name: str) -> str:
        if self.pg_server is not None:
            return self.pg_server.rsplit("/", 1)[0] + f"/{name}"
        return f"sqlite+aiosqlite:///{self.workdir / name}"

    def _build(self, kind: str) -> str:
        name = f"template_{kind}"
        if self.pg_server is not None:
            url = create_database(self.pg_server, name)
        else:
            url = self._url(name)

        async def fill() -> None:
            if kind == "migrated":
                eng = create_engine(url)
                try:
                    await migrate.upgrade(eng)
                finally:
                    await eng.dispose()
            else:
                eng, _ = await prepare_database(make_settings(url, redis_url=None))
                await eng.dispose()

        with asyncio.Runner() as runner:
            runner.run(fill())
        return name

    def template(self, kind: str) -> str:
        if kind not in self._built:
            self._built[kind] = self._build(kind)
        return self._built[kind]

    @contextlib.contextmanager
    def copy(self, kind: str, tmp_path: Path) -> Iterator[str]:
        """A new database copied from the template of this kind; its URL."""
        template = self.template(kind)
        if self.pg_server is None:
            target = tmp_path / f"{kind}.db"
            shutil.copyfile(self.workdir / template, target)
            yield f"sqlite+aiosqlite:///{target}"
            return
        name = _pg_name()
        url = clone_database(self.pg_server, template, name)
        try:
            yield url
        finally:
            drop_database(self.pg_server, name)


@pytest.fixture(scope="session")
def db_templates(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Templates:
    server = str(request.getfixturevalue("pg_server")) if BACKEND == "postgres" else None
    return Templates(tmp_path_factory.mktemp("templates"), server)


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest) -> str:
    """A new, empty database of this run's backend (for the migration tests)."""
    if BACKEND == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return str(request.getfixturevalue("sqlite_url"))


#: fixtures that run the bot's start-up on `db_url` (it loads the sample reference lists and
#: the framework into an empty database): their tests get the "prepared" copy, where it finds
#: them already and loads nothing
STARTS_THE_BOT = frozenset({"harness", "running"})


@pytest.fixture(
    params=[pytest.param(BACKEND, marks=[pytest.mark.postgres] if BACKEND == "postgres" else [])]
)
def db_url(
    request: pytest.FixtureRequest, db_templates: Templates, tmp_path: Path
) -> Iterator[str]:
    """The test's database, new, on this run's backend: migrated to head with empty tables, or,
    for a test that starts the bot on it (STARTS_THE_BOT), as that start-up leaves it."""
    kind = "prepared" if STARTS_THE_BOT & set(request.fixturenames) else "migrated"
    with db_templates.copy(kind, tmp_path) as url:
        yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    await migrate.upgrade(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)
