"""The fault-test rig: the bot as a real process (`python -m bot run`) polling the Bot API
emulator, a database seeded from the test process, and waits that poll with deadlines.

The tests are black-box: they look only at what the emulator received (messages, calls,
callback answers) and at the business tables (users, registrations). Everything the bot does
inside (jobs, outbox rows, leases) is free to change.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import prepare_database
from db.models import Event, Registration, User
from db.repo import Repo
from db.types import utcnow
from devtools.emulator import BotAPIEmulator, EmuUser
from domain.schedule import JobKind
from tests.conftest import TEST_TOKEN, backend_redis_url, make_settings

ROOT = Path(__file__).resolve().parents[2]
Maker = async_sessionmaker[AsyncSession]

#: the scheduler and the outbox tick fast in these tests (settings of issue #8's outbox;
#: older code ignores variables it does not know)
FAST = {
    "SCHEDULER_TICK_SECONDS": "0.5",
    "OUTBOX_POLL_SECONDS": "0.2",
    "OUTBOX_LEASE_SECONDS": "3",
}
LEASE_SECONDS = float(FAST["OUTBOX_LEASE_SECONDS"])
#: how long a test waits, after the last matching message, for a late duplicate to show up:
#: longer than a lease, so a claimed-but-unmarked row left by a crash (or by a mark that could
#: not be written) would have been re-sent
SETTLE_SECONDS = LEASE_SECONDS + 1
#: the same where a duplicate could only come from two senders at once
SHORT_SETTLE = 2.0
#: the reminder's words in Russian (every seeded teacher has a Russian client)
REMINDER = "Напоминание"
#: a seat offered to the first in line
OFFER = "Освободилось место"

P = ParamSpec("P")
T = TypeVar("T")


def hard_timeout(
    seconds: float,
) -> Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, Coroutine[Any, Any, T]]]:
    """Fail the test (instead of hanging the suite) when it runs longer than `seconds`."""

    def decorate(test: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(test)
        async def run(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                async with asyncio.timeout(seconds):
                    return await test(*args, **kwargs)
            except TimeoutError as exc:
                raise AssertionError(f"{test.__name__} ran over its {seconds} s limit") from exc

        return run

    return decorate


# ------------------------------------------------------------------ waiting


async def wait_until(
    condition: Callable[[], bool],
    timeout: float,  # noqa: ASYNC109 - a deadline, not a cancellation scope
    what: Callable[[], str],
    step: float = 0.05,
) -> None:
    """Poll `condition` until it holds; on the deadline fail with `what()` (a description of
    what was expected and what is there)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what()}")
        await asyncio.sleep(step)


async def settle(
    count: Callable[[], int],
    quiet: float = SETTLE_SECONDS,
    timeout: float = 30,  # noqa: ASYNC109 - a deadline, not a cancellation scope
) -> int:
    """Wait until `count()` has not changed for `quiet` seconds (late duplicates have had
    their chance to arrive); the final count."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last, since = count(), loop.time()
    while loop.time() - since < quiet:
        if loop.time() >= deadline:
            raise AssertionError(f"still changing after {timeout} s (now {count()})")
        await asyncio.sleep(0.05)
        now = count()
        if now != last:
            last, since = now, loop.time()
    return last


# ------------------------------------------------------------------ the bot as a process


@dataclass
class BotProcess:
    """`python -m bot run` against the emulator; its output goes to `log_path`."""

    emu: BotAPIEmulator
    database_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: asyncio.subprocess.Process | None = None
    _log: IO[bytes] | None = None

    def environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OUTBOX_", "SCHEDULER_", "WEBHOOK_"))
        }
        env.update(
            BOT_TOKEN=TEST_TOKEN,
            TELEGRAM_API_BASE=self.emu.base_url,
            DATABASE_URL=self.database_url,
            ADMIN_IDS="",
            REDIS_URL=backend_redis_url() or "",
            RUN_MODE="polling",
            LOG_LEVEL="INFO",
            THROTTLE_RATE="10000",
            THROTTLE_BURST="10000",
            PYTHONUNBUFFERED="1",
            # these runs are on the wall clock: not at the mercy of the hour they run at
            QUIET_HOURS="off",
            **FAST,
        )
        env.update(self.env)
        return env

    async def start(self, *, wait_polling: bool = True, timeout: float = 30) -> None:  # noqa: ASYNC109
        """Start the process; by default wait until it long-polls the emulator."""
        assert self.proc is None or self.proc.returncode is not None, "already running"
        polls = self.emu.poll_count
        self._log = self.log_path.open("ab")
        self._log.write(b"\n===== start =====\n")
        self._log.flush()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=self.environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        if wait_polling:
            await wait_until(
                lambda: self.emu.poll_count > polls or not self.running,
                timeout,
                lambda: f"the bot did not start polling\n{self.log_tail()}",
            )
            assert self.running, f"the bot exited with {self.returncode}\n{self.log_tail()}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc is not None else None

    def kill_now(self) -> None:
        """SIGKILL, synchronously (callable from an emulator hook): no clean-up runs."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)

    async def killed(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait for a process killed by :meth:`kill_now` to be gone."""
        if self.proc is not None:
            async with asyncio.timeout(timeout):
                await self.proc.wait()
        self._close_log()

    async def kill(self) -> None:
        self.kill_now()
        await self.killed()

    async def stop(self, timeout: float = 10) -> None:  # noqa: ASYNC109
        """SIGTERM (a graceful stop), SIGKILL if it takes longer than `timeout`."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    await self.proc.wait()
            except TimeoutError:
                await self.kill()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError:
            return "(no log)"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last lines of {self.log_path.name}:\n{tail}"


class Bots:
    """Every bot process a test starts; all are killed at the end, whatever happened."""

    def __init__(self, emu: BotAPIEmulator, tmp_path: Path) -> None:
        self.emu = emu
        self.tmp_path = tmp_path
        self.started: list[BotProcess] = []

    def new(self, database_url: str, **env: str) -> BotProcess:
        process = BotProcess(
            self.emu, database_url, self.tmp_path / f"bot-{len(self.started) + 1}.log", env
        )
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(p.log_tail() for p in self.started)

    async def kill_all(self) -> None:
        for process in self.started:
            await process.kill()


# ------------------------------------------------------------------ the database


async def prepare(database_url: str) -> tuple[AsyncEngine, Maker]:
    """Migrate and load the sample reference lists and the framework, as `run` would."""
    return await prepare_database(make_settings(database_url))


async def municipality_id(sessionmaker: Maker, code: str = "volgodonsk") -> int:
    async with sessionmaker() as session:
        muni = await Repo(session).reference.municipality_by_code(code)
        assert muni is not None
        return muni.id


async def add_teachers(
    sessionmaker: Maker, emu: BotAPIEmulator, telegram_ids: Iterable[int], muni_id: int
) -> list[int]:
    """Consenting teachers with a complete profile (Russian clients the emulator knows);
    their user ids, in order."""
    now = utcnow()
    ids: list[int] = []
    async with sessionmaker() as session:
        school = (await Repo(session).reference.schools(muni_id))[0]
        for telegram_id in telegram_ids:
            emu.add_user(EmuUser(id=telegram_id, first_name="Мария", language_code="ru"))
            user = User(
                telegram_id=telegram_id,
                language="ru",
                role="teacher",
                consent="given",
                consent_at=now,
                full_name=f"Петрова Мария {telegram_id}",
                municipality_id=muni_id,
                school_id=school.id,
                position_code="teacher",
                experience_years=5,
                age_band="35_plus",
                profile_completed_at=now,
            )
            session.add(user)
            await session.flush()
            ids.append(user.id)
        await session.commit()
    return ids


async def add_event(
    sessionmaker: Maker,
    muni_id: int,
    *,
    title: str,
    capacity: int,
    starts_in: timedelta = timedelta(hours=24) - timedelta(minutes=1),
) -> int:
    """A scheduled master-class of the municipality; its id (no jobs are scheduled). By default
    it starts in a day less a minute, so its day-before reminders are due now: an
    `event_reminder` job (the kind events published before reminders were planned per seat
    have) plans them and the outbox sends them at once."""
    start = utcnow() + starts_in
    async with sessionmaker() as session:
        event = Event(
            kind="masterclass",
            title=title,
            municipality_id=muni_id,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            place="МБОУ СОШ № 1, актовый зал",
            capacity=capacity,
            checkin_code="FAULTS",
        )
        session.add(event)
        await session.commit()
        return event.id


async def register(
    sessionmaker: Maker, event_id: int, user_ids: Iterable[int], status: str = "confirmed"
) -> None:
    """Registrations in queue order, after any the event has."""
    async with sessionmaker() as session:
        taken = list(
            await session.scalars(
                select(Registration.queue_no).where(Registration.event_id == event_id)
            )
        )
        queue_no = max(taken, default=0)
        for user_id in user_ids:
            queue_no += 1
            session.add(
                Registration(event_id=event_id, user_id=user_id, status=status, queue_no=queue_no)
            )
        await session.commit()


async def schedule(sessionmaker: Maker, kind: JobKind, run_at: datetime, **payload: int) -> None:
    async with sessionmaker() as session:
        await Repo(session).jobs.schedule(kind, run_at, **payload)
        await session.commit()


async def statuses(sessionmaker: Maker, event_id: int) -> dict[int, str]:
    """Registration status by Telegram id."""
    async with sessionmaker() as session:
        rows = await session.execute(
            select(User.telegram_id, Registration.status)
            .join(User, User.id == Registration.user_id)
            .where(Registration.event_id == event_id)
        )
        return {int(tg): str(status) for tg, status in rows if tg is not None}


# ------------------------------------------------------------------ counting what arrived


def counts(emu: BotAPIEmulator, chat_ids: Iterable[int], contains: str) -> dict[int, int]:
    """How many messages holding `contains` each chat received."""
    return {chat_id: emu.count_sent(chat_id, contains) for chat_id in chat_ids}


def describe_counts(found: dict[int, int]) -> str:
    by_count: dict[int, list[int]] = {}
    for chat_id, n in sorted(found.items()):
        by_count.setdefault(n, []).append(chat_id)
    return "; ".join(
        f"{len(chats)} chat(s) got it {n} time(s): {chats}" for n, chats in sorted(by_count.items())
    )


# ------------------------------------------------------------------ SQLite write lock


class SqliteWriteLock:
    """Another connection holding `BEGIN EXCLUSIVE` on the database file (in WAL mode the
    bot can still read, but every write waits, then fails with "database is locked")."""

    def __init__(self, database_url: str) -> None:
        path = make_url(database_url).database
        assert path, database_url
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.held: list[float] = []

    def acquire(self) -> None:
        """Synchronous and quick (callable from an emulator hook)."""
        if self.conn is not None:
            return
        conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        self.conn = conn

    def release(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None

    def hold_for(self, seconds: float, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        """Acquire now, release after `seconds`; the future is done once released."""
        self.acquire()
        released: asyncio.Future[None] = loop.create_future()

        def release() -> None:
            self.release()
            if not released.done():
                released.set_result(None)

        loop.call_later(seconds, release)
        return released


async def gather_limited(jobs: Iterable[Awaitable[T]], limit: int) -> list[T]:
    """Await the jobs, at most `limit` at a time."""
    semaphore = asyncio.Semaphore(limit)

    async def one(job: Awaitable[T]) -> T:
        async with semaphore:
            return await job

    return list(await asyncio.gather(*(one(job) for job in jobs)))
