"""The scheduler runs on the bot's one clock: `build_scheduler(clock=...)` hands it to every
job it schedules (the purge of silent users is decided by that clock, not the wall clock)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from db.models import User
from db.repo import Repo
from scheduler import UNCONSENTED_RETENTION, build_scheduler
from tests.conftest import make_settings


async def test_the_purge_job_reads_the_clock_it_was_given(
    sessionmaker: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    async with sessionmaker() as session:
        await Repo(session).users.get_or_create(61, "ru")  # silent, no consent, updated now
        await session.commit()
    clock = ManualClock()
    scheduler = build_scheduler(make_settings(db_url), sessionmaker, clock=clock)
    purge = scheduler.get_job("purge_unconsented")
    assert purge is not None

    assert await purge.func(*purge.args) == 0  # by the bot's clock the row is fresh
    clock.advance(UNCONSENTED_RETENTION + timedelta(days=1))
    assert await purge.func(*purge.args) == 1  # the wall clock never moved: the clock did
    async with sessionmaker() as session:
        assert list(await session.scalars(select(User.telegram_id))) == []
