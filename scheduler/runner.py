"""The one runner of time-driven work.

* `run_due_jobs` — every `SCHEDULER_TICK_SECONDS`: each due row of the `jobs` table runs in its
  own transaction that first claims it (`JobRepo.claim`, a conditional UPDATE) and commits the
  job's changes together with the outbox rows it queued. A crash, a locked database or a second
  process running the same tick can therefore neither lose a job nor run it twice; and as a job
  never talks to Telegram, nothing is sent twice either — the outbox sender delivers after the
  commit.
* the cron table (`CRON`): housekeeping at fixed times;
* every tick also ends the broadcasts that have sent everything but that no progress message
  follows (`services.broadcasts.finish_unwatched`), and recomputes the statistics milestones
  that writes marked stale (`refresh_milestones`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from db.repo import Repo
from domain.reminders import Policy
from domain.schedule import JobKind
from scheduler.jobs import JOBS
from services import broadcasts, digest

log = logging.getLogger(__name__)

#: how long the bot keeps the row of someone who never agreed to personal-data processing
UNCONSENTED_RETENTION = timedelta(days=30)


async def run_due_jobs(
    sessionmaker: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    on_commit: Callable[[], None] | None = None,
    policy: Policy | None = None,
) -> int:
    """Run every job due at `now` once; how many ran. `on_commit` is called after a job that
    queued messages is committed (the outbox sender's `wake`)."""
    async with sessionmaker() as session:
        due = await Repo(session).jobs.due(now)
    ran = 0
    for job_id, kind in due:
        async with sessionmaker() as session:
            repo = Repo(session, policy)
            try:
                job = await repo.jobs.claim(job_id, now)
                if job is None:
                    continue  # another runner took it
                work = JOBS.get(JobKind(kind)) if kind in set(JobKind) else None
                if work is None:
                    raise LookupError(f"unknown job kind {kind!r}")
                await work(repo, dict(job.payload), now)
                await session.commit()
            except Exception as exc:
                await session.rollback()
                log.exception("job %s (%s) failed; it stays due", job_id, kind)
                try:
                    await repo.jobs.failed(job_id, repr(exc))
                    await session.commit()
                except Exception:  # the database itself is failing: the next tick retries
                    log.exception("job %s: could not record the failure", job_id)
                continue
        ran += 1
        if repo.outbox.added and on_commit is not None:
            on_commit()
    await _finish_broadcasts(sessionmaker, now)
    await refresh_milestones(sessionmaker)
    return ran


#: statistics milestones one transaction recomputes (SQLite's one writer is held for about
#: 40 ms per 1,000 on a 2-core machine), and how many such transactions one tick runs at most
MILESTONE_CHUNK = 1000
MILESTONE_CHUNKS_PER_TICK = 20


async def refresh_milestones(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Every tick: the users whose statistics milestones a write marked stale get them
    recomputed (`db.repositories.stats_milestones`), chunk by chunk, each chunk its own short
    transaction; how many. Until then `/stats` reads those users from the raw rows: this keeps
    it fast, never exact or not."""
    done = 0
    for _ in range(MILESTONE_CHUNKS_PER_TICK):
        try:
            async with sessionmaker() as session:
                n = await Repo(session).stats.refresh_milestones(MILESTONE_CHUNK)
                await session.commit()
        except Exception:  # the database is failing: the next tick tries again
            log.exception("could not refresh the statistics milestones")
            break
        done += n
        if n < MILESTONE_CHUNK:
            break
    return done


async def _finish_broadcasts(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """Every tick: a broadcast that has sent everything, with no progress message following
    it, is marked finished (`services.broadcasts.finish_unwatched`)."""
    try:
        async with sessionmaker() as session:
            if await broadcasts.finish_unwatched(Repo(session), now):
                await session.commit()
    except Exception:  # the database is failing: the next tick tries again
        log.exception("could not finish the broadcasts that have sent everything")


async def purge_unconsented(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Data minimisation (152-FZ art. 5): forget silent users who never gave consent."""
    async with sessionmaker() as session:
        cutoff = clock.now() - UNCONSENTED_RETENTION
        removed = await Repo(session).users.purge_unconsented(cutoff)
        await session.commit()
    if removed:
        log.info("purged %d users without consent", removed)
    return removed


async def plan_stats_digests(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, *, policy: Policy | None = None
) -> int:
    """Every hour: each coordinator's and administrator's next Monday digest is planned (new
    staff, a changed zone); one row per person per Monday (`services.digest.plan_all`)."""
    async with sessionmaker() as session:
        added = await digest.plan_all(Repo(session, policy), clock.now())
        await session.commit()
    return added


__all__ = [
    "UNCONSENTED_RETENTION",
    "plan_stats_digests",
    "purge_unconsented",
    "refresh_milestones",
    "run_due_jobs",
]
