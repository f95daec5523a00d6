"""The jobs table: decisions taken at a time (expire an offer, ask for feedback, start a
scheduled broadcast). A job runs in one transaction that first marks it done with a conditional
UPDATE (`JobRepo.claim`); two runners (two processes, a retried tick) cannot both run it, and a
job that fails is rolled back whole. A job never talks to Telegram: it writes outbox rows.

Repositories never commit; the caller's unit of work does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Job
from db.repositories.outbox import _rowcount
from domain.schedule import JobKind

#: a job that failed this many times is left alone (its last error stays for the admins)
JOB_MAX_ATTEMPTS = 5


class JobRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedule(self, kind: JobKind, run_at: datetime, **payload: Any) -> Job:
        job = Job(kind=JobKind(kind).value, run_at=run_at, payload=payload, attempts=0)
        self.session.add(job)
        await self.session.flush()
        return job

    async def due(self, now: datetime, limit: int = 50) -> list[tuple[int, str]]:
        """Due jobs as (id, kind), oldest first."""
        rows = await self.session.execute(
            select(Job.id, Job.kind)
            .where(Job.done_at.is_(None), Job.run_at <= now, Job.attempts < JOB_MAX_ATTEMPTS)
            .order_by(Job.run_at, Job.id)
            .limit(limit)
        )
        return [(job_id, kind) for job_id, kind in rows.tuples()]

    async def claim(self, job_id: int, now: datetime) -> Job | None:
        """Mark the job done in the caller's transaction, if nobody did; the job to run. Run it
        in the same transaction: if it fails, the rollback makes the job due again; if another
        runner got there first, the conditional UPDATE changes nothing (PostgreSQL waits on the
        row lock and re-reads it; SQLite serialises writers) and None is returned."""
        result = await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.done_at.is_(None))
            .values(done_at=now)
            .execution_options(synchronize_session=False)
        )
        if not _rowcount(result):
            return None
        job = await self.session.get(Job, job_id, populate_existing=True)
        return job

    async def failed(self, job_id: int, error: str) -> None:
        """Count a failed run (in a new transaction after the rollback); it stays due."""
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.done_at.is_(None))
            .values(attempts=Job.attempts + 1, last_error=error[:2000])
            .execution_options(synchronize_session=False)
        )

    async def pending(self, kind: str | None = None) -> list[Job]:
        query = select(Job).where(Job.done_at.is_(None)).order_by(Job.run_at, Job.id)
        if kind is not None:
            query = query.where(Job.kind == kind)
        return list(await self.session.scalars(query))

    async def reschedule(
        self, kind: JobKind, event_id: int, run_at: datetime | None, now: datetime
    ) -> Job | None:
        """Move the pending `kind` job of an event to `run_at`: the first pending row is moved,
        any other pending rows are closed, and a new row is scheduled when none is pending
        (say, a reminder already sent before the event moved later). `run_at=None` closes
        every pending row and schedules nothing. The job that will run, if any."""
        rows = [j for j in await self.pending(kind) if j.payload.get("event_id") == event_id]
        kept = rows[0] if rows and run_at is not None else None
        for job in rows:
            if job is not kept:
                job.done_at = now
        if kept is not None and run_at is not None:
            kept.run_at = run_at
        await self.session.flush()
        if kept is None and run_at is not None:
            return await self.schedule(kind, run_at, event_id=event_id)
        return kept


__all__ = ["JOB_MAX_ATTEMPTS", "JobRepo"]
