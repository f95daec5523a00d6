"""Time-driven work (APScheduler). Jobs read and write the database through `db.repo`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock, SystemClock
from core.settings import Settings
from db.repo import Repo

log = logging.getLogger(__name__)

#: how long the bot keeps the row of someone who never agreed to personal-data processing
UNCONSENTED_RETENTION = timedelta(days=30)


async def purge_unconsented(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Data minimisation (152-FZ art. 5): forget silent users who never gave consent."""
    async with sessionmaker() as session:
        cutoff = clock.now() - UNCONSENTED_RETENTION
        removed = await Repo(session).users.purge_unconsented(cutoff)
        await session.commit()
    if removed:
        log.info("purged %d users without consent", removed)
    return removed


JOBS_TICK_SECONDS = 20


def build_scheduler(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    bot: Bot | None = None,
    i18n: I18n | None = None,
    *,
    clock: Clock | None = None,
) -> AsyncIOScheduler:
    """The periodic work; every run reads the time from `clock` (the bot's one clock)."""
    clock = clock or SystemClock()
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    if bot is not None and i18n is not None:
        from scheduler.jobs import run_due_jobs

        async def tick() -> int:
            return await run_due_jobs(sessionmaker, bot, i18n, settings, now=clock.now())

        scheduler.add_job(
            tick,
            "interval",
            seconds=JOBS_TICK_SECONDS,
            id="run_due_jobs",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            # APScheduler's own timer runs on the wall clock; what is due is `clock`'s business
            next_run_time=datetime.now(settings.tz),
        )
    scheduler.add_job(
        purge_unconsented,
        "cron",
        hour=3,
        minute=17,
        args=[sessionmaker, clock],
        id="purge_unconsented",
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
    )
    return scheduler
