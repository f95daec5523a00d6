"""Time-driven work on APScheduler: the jobs tick and a cron table (`scheduler.runner`).

The outbox sender (`outbox.sender`) runs beside it in the same process; the scheduler only
writes outbox rows and wakes it. What is due is decided on the injected clock; APScheduler's
own timer runs on the wall clock.

Several processes (webhook workers, `REDIS_URL` set): each has a scheduler, but its jobs run
only while the process holds the Redis lease (`scheduler.lease.SchedulerLeader`); the others'
timers fire and do nothing. Every process's outbox sender drains the outbox (its claims keep
two senders off the same row). The jobs table's claims would keep even two tickers from running
a job twice; the lease spares the database the doubled polling and keeps the cron
housekeeping to one process."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock, SystemClock
from core.settings import Settings
from scheduler.lease import SchedulerLeader
from scheduler.runner import (
    UNCONSENTED_RETENTION,
    plan_stats_digests,
    purge_unconsented,
    run_due_jobs,
)

#: (job id, function, cron fields): housekeeping at fixed local times
CRON = (("purge_unconsented", purge_unconsented, {"hour": 3, "minute": 17}),)


class RunningJobs:
    """The scheduled jobs running now (their tasks), so that a shutdown can let them finish
    their transaction instead of cancelling them in the middle (`BotApp` waits up to
    `SHUTDOWN_GRACE` seconds; a job still running then is cancelled, and its claims let the
    next process redo it)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def track(self, func: Callable[..., Awaitable[int]]) -> Callable[..., Coroutine[Any, Any, int]]:
        @functools.wraps(func)
        async def tracked(*args: Any) -> int:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                return await func(*args)
            finally:
                self._tasks.discard(task)

        return tracked

    @property
    def count(self) -> int:
        return len(self._tasks)

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - a grace period, not I/O
        """Wait until no job runs, at most `timeout` seconds; False if one still does."""
        if not self._tasks:
            return True
        _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        return not pending


#: seconds a shutdown waits for a running scheduled job (a tick, a refresh chunk, a digest)
SHUTDOWN_GRACE = 5.0


def leader_only(
    func: Callable[..., Awaitable[int]], leader: SchedulerLeader | None
) -> Callable[..., Awaitable[int]]:
    """`func`, run only while this process holds the scheduler lease (always without one)."""
    if leader is None:
        return func

    @functools.wraps(func)
    async def guarded(*args: Any) -> int:
        if not leader.held:
            return 0
        return await func(*args)

    return guarded


def build_scheduler(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    clock: Clock | None = None,
    on_commit: Callable[[], None] | None = None,
    leader: SchedulerLeader | None = None,
    running: RunningJobs | None = None,
) -> AsyncIOScheduler:
    """The jobs; with `leader` (several processes share the database) they run only in the
    process holding its lease; with `running` each run is tracked there (`RunningJobs`)."""
    clock = clock or SystemClock()
    running = running or RunningJobs()

    def job(func: Callable[..., Awaitable[int]]) -> Callable[..., Awaitable[int]]:
        return running.track(leader_only(func, leader))

    scheduler = AsyncIOScheduler(timezone=settings.tz)
    policy = settings.reminders

    async def tick() -> int:
        return await run_due_jobs(sessionmaker, clock.now(), on_commit=on_commit, policy=policy)

    scheduler.add_job(
        job(tick),
        "interval",
        seconds=settings.scheduler_tick_seconds,
        id="run_due_jobs",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(settings.tz),
    )

    async def plan_digests() -> int:
        return await plan_stats_digests(sessionmaker, clock, policy=policy)

    # hourly: the next Monday digest of every staff member (the row key keeps it to one)
    scheduler.add_job(
        job(plan_digests),
        "cron",
        minute=7,
        id="plan_stats_digests",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
        next_run_time=datetime.now(settings.tz),
    )
    for job_id, func, fields in CRON:
        scheduler.add_job(
            job(func),
            "cron",
            **fields,
            args=[sessionmaker, clock],
            id=job_id,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=3600,
        )
    return scheduler


__all__ = [
    "SHUTDOWN_GRACE",
    "UNCONSENTED_RETENTION",
    "RunningJobs",
    "SchedulerLeader",
    "build_scheduler",
    "leader_only",
    "purge_unconsented",
    "run_due_jobs",
]
