"""Several processes on one Redis (the real redis-server): the scheduler's lease gives the
scheduled work to one process at a time and hands it over when the holder stops or goes
silent; the per-user lock keeps one user's updates from overlapping across processes, and an
update delivered twice is handled once. Each "process" here is its own Redis client and its
own middleware or lease object, as in a worker."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.types import Update, User
from pydantic import ValidationError
from redis.asyncio import Redis

from bot import workers
from bot.middlewares.serial import PerUserSerialMiddleware, user_lock_key
from core.clock import ManualClock
from core.settings import RunMode
from scheduler import build_scheduler, leader_only
from scheduler.lease import RedisLease, SchedulerLeader, leader_key, redis_namespace
from tests.conftest import make_settings

NS = "metodbot:1"


@pytest.fixture
async def clients(redis_url: str) -> AsyncIterator[list[Redis]]:
    made = [Redis.from_url(redis_url) for _ in range(2)]
    await made[0].flushdb()
    yield made
    for client in made:
        await client.aclose()


async def test_one_lease_holder_at_a_time_and_a_clean_handover(clients: list[Redis]) -> None:
    a = RedisLease(clients[0], "t:lease", 5)
    b = RedisLease(clients[1], "t:lease", 5)
    assert await a.acquire()
    assert not await b.acquire()
    assert a.held and not b.held
    assert await a.acquire()  # the holder renews
    assert await b.holder() == a.token
    await a.release()
    assert not a.held
    assert await b.acquire()
    assert not await a.acquire()
    # a lapsed holder can neither renew nor delete the new holder's lock
    await a.release()
    assert not await a.renew()
    assert await a.holder() == b.token


async def test_a_silent_holders_lease_lapses_and_another_takes_over(clients: list[Redis]) -> None:
    a = RedisLease(clients[0], "t:lapse", 0.3)
    b = RedisLease(clients[1], "t:lapse", 0.3)
    assert await a.acquire()
    assert not await b.acquire()
    await asyncio.sleep(0.35)  # `a` froze: no renewal
    assert not a.held  # it stops believing it holds the lease on its own clock
    assert await b.acquire()
    assert not await a.renew()


async def test_the_scheduler_leader_hands_over_on_stop_and_on_silence(
    clients: list[Redis],
) -> None:
    first = SchedulerLeader(clients[0], 1.2, key="t:leader")
    second = SchedulerLeader(clients[1], 1.2, key="t:leader")
    await first.start()
    await second.start()
    try:
        assert first.held and not second.held
        await asyncio.sleep(1.3)  # renewed in the background: still the same holder
        assert first.held and not second.held
        await first.stop()  # a clean shutdown gives it back: the next round takes it
        await asyncio.sleep(0.6)
        assert second.held and not first.held
        # the holder freezes (its renewal stops without giving the lease back)
        task = second._task
        assert task is not None
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        second._task = None
        third = SchedulerLeader(clients[0], 1.2, key="t:leader")
        await third.start()
        assert not third.held  # not before the lease lapses
        await asyncio.sleep(1.7)
        assert third.held and not second.held
        await third.stop()
    finally:
        await first.stop()
        await second.stop()


async def test_scheduled_jobs_run_only_in_the_process_holding_the_lease(
    clients: list[Redis], sqlite_url: str
) -> None:
    ran: list[str] = []

    async def job(name: str) -> int:
        ran.append(name)
        return 1

    holder = SchedulerLeader(clients[0], 5, key="t:jobs")
    other = SchedulerLeader(clients[1], 5, key="t:jobs")
    await holder.step()
    await other.step()
    assert await leader_only(job, holder)("holder") == 1
    assert await leader_only(job, other)("other") == 0
    assert await leader_only(job, None)("alone") == 1  # without Redis: as before
    assert ran == ["holder", "alone"]
    # every job of the real scheduler is guarded so
    settings = make_settings(sqlite_url)
    scheduler = build_scheduler(settings, None, clock=ManualClock(), leader=other)  # type: ignore[arg-type]
    for scheduled in scheduler.get_jobs():
        assert await scheduled.func(*scheduled.args) == 0, scheduled.id
    await holder.stop()
    await other.stop()


def _update(update_id: int, user_id: int) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_700_000_000,
                "chat": {"id": user_id, "type": "private", "first_name": "A"},
                "from": {"id": user_id, "is_bot": False, "first_name": "A"},
                "text": "x",
            },
        }
    )


async def test_one_users_updates_never_overlap_across_processes(clients: list[Redis]) -> None:
    workers = [PerUserSerialMiddleware(client, lease_seconds=2, namespace=NS) for client in clients]
    inside: dict[int, int] = {}
    overlaps: list[int] = []
    users_at_once = 0
    handled: list[tuple[int, int]] = []

    async def handler(event: Any, data: dict[str, Any]) -> None:
        nonlocal users_at_once
        user = data["event_from_user"].id
        inside[user] = inside.get(user, 0) + 1
        if inside[user] > 1:
            overlaps.append(event.update_id)
        users_at_once = max(users_at_once, sum(1 for n in inside.values() if n))
        await asyncio.sleep(0.02)
        handled.append((user, event.update_id))
        inside[user] -= 1

    async def feed(worker: PerUserSerialMiddleware, update_id: int, user_id: int) -> None:
        user = User(id=user_id, is_bot=False, first_name="A")
        await worker(handler, _update(update_id, user_id), {"event_from_user": user})

    # two users, each update given to one worker or the other
    jobs = [feed(workers[(n // 2) % 2], 100 + n, 501 + n % 2) for n in range(12)]
    await asyncio.gather(*jobs)
    assert overlaps == []
    assert len(handled) == 12
    assert users_at_once == 2  # other users are not held up
    assert await clients[0].exists(user_lock_key(NS, 501), user_lock_key(NS, 502)) == 0


async def test_without_redis_two_processes_would_overlap(clients: list[Redis]) -> None:
    """Control: without Redis the two "processes" do overlap (what the Redis lock prevents)."""
    workers = [PerUserSerialMiddleware() for _ in clients]
    inside = 0
    most = 0

    async def handler(event: Any, data: dict[str, Any]) -> None:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.02)
        inside -= 1

    user = User(id=777, is_bot=False, first_name="A")
    await asyncio.gather(
        *(workers[n % 2](handler, _update(n, 777), {"event_from_user": user}) for n in range(4))
    )
    assert most == 2


async def test_an_update_delivered_twice_is_handled_once(clients: list[Redis]) -> None:
    workers = [PerUserSerialMiddleware(client, namespace=NS, dedupe=True) for client in clients]
    handled: list[int] = []

    async def handler(event: Any, data: dict[str, Any]) -> str:
        handled.append(event.update_id)
        return "done"

    user = User(id=901, is_bot=False, first_name="A")
    first = await workers[0](handler, _update(42, 901), {"event_from_user": user})
    again = await workers[1](handler, _update(42, 901), {"event_from_user": user})
    assert (first, again) == ("done", None)
    assert handled == [42]
    assert workers[1].duplicates == 1


async def test_a_dead_workers_user_lock_lapses(clients: list[Redis]) -> None:
    """A worker died holding a user's lock: the user's next update waits only for the lease."""
    dead = RedisLease(clients[0], user_lock_key(NS, 321), 0.3)
    assert await dead.acquire()
    worker = PerUserSerialMiddleware(clients[1], lease_seconds=5, namespace=NS)
    handled: list[float] = []
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def handler(event: Any, data: dict[str, Any]) -> None:
        handled.append(loop.time() - started)

    user = User(id=321, is_bot=False, first_name="A")
    await asyncio.wait_for(worker(handler, _update(7, 321), {"event_from_user": user}), 3)
    assert len(handled) == 1 and 0.2 < handled[0] < 1.5


async def test_polling_needs_no_once_only_mark(clients: list[Redis]) -> None:
    """Without `dedupe` (polling: one process, offsets confirm updates) nothing is marked."""
    worker = PerUserSerialMiddleware(clients[0], namespace=NS)
    handled: list[int] = []

    async def handler(event: Any, data: dict[str, Any]) -> None:
        handled.append(event.update_id)

    user = User(id=902, is_bot=False, first_name="A")
    await worker(handler, _update(43, 902), {"event_from_user": user})
    await worker(handler, _update(43, 902), {"event_from_user": user})
    assert handled == [43, 43]
    assert await clients[0].keys(f"{NS}:update:*") == []


def test_keys_are_per_bot() -> None:
    assert redis_namespace("123456:ABC-token-abcdefghij") == "metodbot:123456"
    assert leader_key(redis_namespace(None)) == "metodbot:0:scheduler"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({}, "RUN_MODE=webhook"),
        # (explicitly without Redis: the suite's PostgreSQL pass gives every setting one)
        ({"run_mode": RunMode.WEBHOOK, "redis_url": None}, "REDIS_URL"),
        ({"run_mode": RunMode.WEBHOOK, "redis_url": "redis://127.0.0.1:6379/0"}, "PostgreSQL"),
    ],
)
def test_several_workers_need_webhook_mode_redis_and_postgresql(
    overrides: dict[str, Any], problem: str
) -> None:
    webhook = {"webhook_url": "https://bot.example.org/hook", "webhook_secret": "s" * 32}
    with pytest.raises(ValidationError, match=problem):
        make_settings("sqlite+aiosqlite:///x.db", webhook_workers=2, **webhook, **overrides)
    fine = make_settings(
        "postgresql+asyncpg://u@h/db",
        webhook_workers=2,
        run_mode=RunMode.WEBHOOK,
        redis_url="redis://127.0.0.1:6379/0",
        **webhook,
    )
    assert fine.webhook_workers == 2


def test_the_workers_parent_refuses_a_port_in_use_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The parent binds before anything else: a busy port is one line and exit code 2 (no
    migration, no worker started)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = int(busy.getsockname()[1])
        settings = make_settings(
            "postgresql+asyncpg://nobody@127.0.0.1:9/none",
            run_mode=RunMode.WEBHOOK,
            webhook_url="https://bot.example.org/hook",
            webhook_secret="s" * 32,
            redis_url="redis://127.0.0.1:9/0",
            webhook_workers=2,
            webhook_host="127.0.0.1",
            webhook_port=port,
        )
        assert workers.serve(settings) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("metodbot: WEBHOOK_PORT: cannot listen on 127.0.0.1:") and "\n" not in err
