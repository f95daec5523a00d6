"""Time-driven work on APScheduler: the jobs tick and a cron table (`scheduler.runner`).

The outbox sender (`outbox.sender`) runs beside it in the same process; the scheduler only
writes outbox rows and wakes it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from scheduler.runner import purge_unconsented, run_due_jobs

#: (job id, function, cron fields): housekeeping at fixed local times
CRON = (("purge_unconsented", purge_unconsented, {"hour": 3, "minute": 17}),)


def build_scheduler(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    on_commit: Callable[[], None] | None = None,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    scheduler.add_job(
        run_due_jobs,
        "interval",
        seconds=settings.scheduler_tick_seconds,
        args=[sessionmaker],
        kwargs={"on_commit": on_commit},
        id="run_due_jobs",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(settings.tz),
    )
    for job_id, func, fields in CRON:
        scheduler.add_job(
            func,
            "cron",
            **fields,
            args=[sessionmaker],
            id=job_id,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=3600,
        )
    return scheduler


__all__ = ["build_scheduler", "purge_unconsented", "run_due_jobs"]
