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

import functools
from collections.abc import Awaitable, Callable
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
) -> AsyncIOScheduler:
    """The jobs; with `leader` (several processes share the database) they run only in the
    process holding its lease."""
    clock = clock or SystemClock()
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    policy = settings.reminders

    async def tick() -> int:
        return await run_due_jobs(sessionmaker, clock.now(), on_commit=on_commit, policy=policy)

    scheduler.add_job(
        leader_only(tick, leader),
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
        leader_only(plan_digests, leader),
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
            leader_only(func, leader),
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
    "UNCONSENTED_RETENTION",
    "SchedulerLeader",
    "build_scheduler",
    "leader_only",
    "purge_unconsented",
    "run_due_jobs",
]
