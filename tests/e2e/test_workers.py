"""Two webhook workers behind one port on PostgreSQL + Redis (`python -m bot run` with
RUN_MODE=webhook, WEBHOOK_WORKERS=2), against the Bot API emulator delivering updates to the
webhook as Telegram does (a chat's next update after the previous one was answered, many chats
at once, each delivery on a fresh connection so both workers take some).

While both workers run: six teachers each send a burst of eight messages (`/help` and free text
in a fixed pattern), a broadcast to every teacher is due, and reminders are due for twenty
registrations. Then the worker holding the scheduler's lease is stopped, the other takes the
scheduled work over, and a second broadcast is sent. The emulator shows: every update
answered exactly once and each teacher's answers in the order of their messages; every
broadcast copy and every reminder sent exactly once; both workers handled updates; exactly one
worker at a time ran the scheduled work.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bench import broadcasts as bench_broadcasts
from bench import reminders as bench_reminders
from core.clock import utcnow
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, EmuUser, SpecValidator
from domain.broadcasts import Filters
from domain.roles import Role
from scheduler.lease import leader_key, redis_namespace
from services import broadcasts as service
from tests.conftest import TEST_TOKEN
from tests.sample import load_sample_events

ROOT = Path(__file__).resolve().parents[2]
SECRET = "two-workers-secret-0123456789-abcdef"
TEACHERS = 20  # the broadcasts' audience
CHATTY = 6  # of them, these send bursts of messages
BURST = 8
REMINDERS = 20
COORDINATOR = bench_broadcasts.FIRST_CHAT
WAIT = 90.0

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pattern(k: int) -> list[str]:
    """Teacher k's burst: "help" (/help) or "text" (free text the bot does not understand)."""
    return ["help" if (k + i) % 3 == 0 else "text" for i in range(BURST)]


def _kind(text: str) -> str:
    lowered = text.lower()
    return "text" if "did not understand" in lowered or "не удалось понять" in lowered else "help"


async def _schedule_broadcast(database_url: str, message_id: int, seconds: float) -> None:
    """A broadcast to every teacher, planned `seconds` from now (a scheduler job starts it)."""
    from bot.app import prepare_database

    settings = bench_broadcasts.settings_for(bench_broadcasts.NO_API, database_url)
    engine, sessionmaker = await prepare_database(settings)
    try:
        async with sessionmaker() as session:
            repo = Repo(session)
            staff = await repo.users.by_telegram_id(COORDINATOR)
            assert staff is not None
            now = utcnow()
            planned = await service.create(
                repo,
                staff,
                Role.COORDINATOR,
                service.Draft(
                    source_chat_id=COORDINATOR,
                    source_message_id=message_id,
                    content_kind="text",
                    preview="Совещание",
                    filters=Filters(positions=("teacher",)),
                    scheduled_at=now + timedelta(seconds=seconds),
                ),
                now,
            )
            assert not isinstance(planned, service.Refusal), planned
            await session.commit()
    finally:
        await engine.dispose()


def _read(log: Path) -> str:
    return log.read_text(errors="replace")


async def _wait(predicate: Callable[[], bool], what: str, log: Path, limit: float = WAIT) -> None:
    try:
        async with asyncio.timeout(limit):
            while True:
                if predicate():
                    return
                await asyncio.sleep(0.1)
    except TimeoutError:
        tail = "\n".join(_read(log).splitlines()[-40:])
        raise AssertionError(f"timed out waiting for {what}\n--- workers' log:\n{tail}") from None


async def _leader_pid(redis: Redis) -> int | None:
    value = await redis.get(leader_key(redis_namespace(TEST_TOKEN)))
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    return int(text.split(":")[1])  # host:pid:random


async def test_two_webhook_workers_handle_each_update_once_in_order_and_send_each_copy_once(
    tmp_path: Path, spec: SpecValidator | None, pg_url: str, redis_url: str
) -> None:
    # the data: the sample events, a coordinator with TEACHERS teachers, due reminders
    await bench_reminders.fill(pg_url, REMINDERS)
    await bench_broadcasts.fill(pg_url, TEACHERS)
    from bot.app import prepare_database

    engine, sessionmaker = await prepare_database(
        bench_broadcasts.settings_for(bench_broadcasts.NO_API, pg_url)
    )
    await load_sample_events(sessionmaker)
    await engine.dispose()
    redis = Redis.from_url(redis_url)
    await redis.flushdb()

    port = _free_port()
    log = tmp_path / "workers.log"
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:
        olga = EmuUser(id=COORDINATOR, first_name="Ольга", language_code="ru")
        teachers = [
            EmuUser(id=chat, first_name=f"T{n}", language_code="en" if n % 3 == 0 else "ru")
            for n, chat in enumerate(bench_broadcasts.teachers(TEACHERS))
        ]
        reminded = [
            EmuUser(id=bench_reminders.FIRST_CHAT + i, first_name=f"R{i}") for i in range(REMINDERS)
        ]
        for user in [olga, *teachers, *reminded]:
            emu.add_user(user)
        # the coordinator's message to copy (it reaches the bot too: one more update)
        source = emu.send_message(olga, "Совещание в пятницу в 15:00")
        await _schedule_broadcast(pg_url, source["message"]["message_id"], 4)

        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE": emu.base_url,
            "DATABASE_URL": pg_url,
            "REDIS_URL": redis_url,
            "RUN_MODE": "webhook",
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/tg/hook",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_HOST": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_WORKERS": "2",
            "LOG_LEVEL": "INFO",
            "QUIET_HOURS": "off",
            "THROTTLE_RATE": "10000",
            "THROTTLE_BURST": "10000",
            "OUTBOX_RATE": "1000",
            "OUTBOX_CHAT_RATE": "1000",
            "OUTBOX_POLL_SECONDS": "0.2",
            "SCHEDULER_TICK_SECONDS": "0.5",
            "SCHEDULER_LEASE_SECONDS": "5",
        }
        with log.open("wb") as out:
            parent = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=tmp_path,  # no .env here
                env=env,
                stdout=out,
                stderr=out,
            )
        try:
            await _wait(
                lambda: _read(log).count(" listening on ") == 2,
                "both workers listening",
                log,
            )
            await _wait(lambda: bool(emu.calls_of("setWebhook")), "setWebhook", log)
            assert len(emu.calls_of("setWebhook")) == 1  # only worker 0 sets it
            assert emu.calls_of("setWebhook")[0].params["secret_token"] == SECRET

            # bursts: each teacher's messages queued at once; the emulator delivers them
            patterns = {}
            for k, teacher in enumerate(teachers[:CHATTY]):
                patterns[teacher.id] = _pattern(k)
                for i, kind in enumerate(patterns[teacher.id]):
                    emu.send_message(teacher, "/help" if kind == "help" else f"привет {i}")

            def answers(chat: int) -> list[str]:
                return [
                    _kind(str(c.params.get("text", "")))
                    for c in emu.calls_to(chat, "sendMessage")
                    if c.ok
                ]

            def copies() -> Counter[int]:
                return Counter(
                    int(c.params["chat_id"]) for c in emu.calls_of("copyMessage") if c.ok
                )

            def reminders() -> Counter[int]:
                return Counter(
                    int(c.params["chat_id"])
                    for c in emu.calls_of("sendMessage")
                    if c.ok
                    and int(c.params["chat_id"]) >= bench_reminders.FIRST_CHAT
                    and int(c.params["chat_id"]) < bench_reminders.FIRST_CHAT + REMINDERS
                )

            await _wait(
                lambda: all(len(answers(chat)) >= BURST for chat in patterns),
                "the answers to every burst",
                log,
            )
            await _wait(lambda: len(copies()) == TEACHERS, "the first broadcast", log)
            await _wait(lambda: len(reminders()) == REMINDERS, "the reminders", log)
            await asyncio.sleep(1.5)  # anything sent twice would arrive now
            for chat, pattern in patterns.items():
                assert answers(chat) == pattern, (chat, answers(chat), pattern)
            assert set(copies().values()) == {1}
            assert set(reminders().values()) == {1}

            # the worker holding the scheduler's lease stops; the other takes the work over
            leader = await _leader_pid(redis)
            assert leader is not None
            os.kill(leader, signal.SIGTERM)
            await _wait(lambda: "webhook stopped" in _read(log), "the leader to stop", log)
            await _wait(
                lambda: _read(log).count("scheduler lease taken") >= 2,
                "another worker to take the lease",
                log,
            )
            second = emu.send_message(olga, "Перенос совещания на понедельник")
            await _schedule_broadcast(pg_url, second["message"]["message_id"], 1)
            await _wait(lambda: set(copies().values()) == {2}, "the second broadcast", log)
            # the parent started the stopped worker again (it waits behind the new holder)
            await _wait(
                lambda: _read(log).count(" listening on ") == 3, "the worker's restart", log
            )
            await asyncio.sleep(1.5)
            assert set(copies().values()) == {2} and len(copies()) == TEACHERS
            assert set(reminders().values()) == {1}
        finally:
            if parent.returncode is None:
                parent.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(parent.wait(), 60)
            await redis.aclose()
        text = _read(log)
        assert code == 0, text[-3000:]

        # every update handled once: the workers' own counts add up to what the emulator sent
        handled = [
            (int(worker), int(count), int(skipped))
            for worker, count, skipped in re.findall(
                r"\[worker (\d)\] bot\.app: webhook stopped: (\d+) updates handled, "
                r"(\d+) delivered again",
                text,
            )
        ]
        assert len(handled) == 3, text[-3000:]  # the stopped leader, its successor, the other
        assert sum(count for _, count, _ in handled) == len(emu.updates)
        ok = [update_id for update_id, status in emu.webhook_deliveries if status == 200]
        assert sorted(ok) == sorted(u["update_id"] for u in emu.updates)
        # both workers took updates while both ran (the stopped one, and the other one)
        by_worker = Counter[int]()
        for worker, count, _ in handled:
            by_worker[worker] += count
        assert by_worker[0] > 0 and by_worker[1] > 0, handled
        # the scheduled work ran in one process at a time: taken once at start, once on handover
        taken = re.findall(r"\[worker (\d)\] scheduler\.lease: scheduler lease taken", text)
        assert len(taken) == 2 and taken[0] != taken[1], taken
        assert "Traceback" not in text, text[-3000:]
    emu.assert_no_violations()
