"""The one database layer: a `Repo` facade with one repository per area.

The queries live in `db.repositories.<area>`: `users` (+ `privacy`: export and erasure),
`reference`, `audit`, `assessment` (frameworks and attempts), `routes`, `events` (events, the
teacher's listing, the event lock), `registrations` (seats, waitlist, offers, attendance),
`sites` and `imports`. Repositories never commit: the session middleware owns the unit of work
(one commit per update). Writes that change what `UserContext` caches are recorded in
`Repo.dirty_users` so the middleware can drop those cache entries after the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Job
from db.repositories.assessment import AssessmentRepo, FrameworkRepo
from db.repositories.audit import AuditRepo
from db.repositories.imports import ImportRepo
from db.repositories.privacy import PersonalDataRepo
from db.repositories.reference import ReferenceRepo
from db.repositories.registrations import RegistrationRepo
from db.repositories.routes import RouteRepo
from db.repositories.sites import SiteRepo
from db.types import utcnow


class EventArea(RegistrationRepo, SiteRepo):
    """`repo.events`: events and the teacher's listing (`db.repositories.events`), their
    seats, waitlist, offers and attendance under the event lock
    (`db.repositories.registrations`) and the internship sites (`db.repositories.sites`)."""


class JobRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedule(self, kind: str, run_at: datetime, **payload: Any) -> Job:
        job = Job(kind=kind, run_at=run_at, payload=payload)
        self.session.add(job)
        await self.session.flush()
        return job

    async def due(self, now: datetime, limit: int = 50) -> list[Job]:
        return list(
            await self.session.scalars(
                select(Job)
                .where(Job.done_at.is_(None), Job.run_at <= now, Job.attempts < 5)
                .order_by(Job.run_at, Job.id)
                .limit(limit)
            )
        )

    async def pending(self, kind: str | None = None) -> list[Job]:
        query = select(Job).where(Job.done_at.is_(None)).order_by(Job.run_at, Job.id)
        if kind is not None:
            query = query.where(Job.kind == kind)
        return list(await self.session.scalars(query))

    async def reschedule(self, kind: str, event_id: int, run_at: datetime | None) -> Job | None:
        """Move the pending `kind` job of an event to `run_at`: the first pending row is moved,
        any other pending rows are closed (done_at = now), and a new row is scheduled when none
        is pending (say, a reminder already sent before the event moved later). `run_at=None`
        closes every pending row and schedules nothing. The job that will run, if any."""
        rows = [j for j in await self.pending(kind) if j.payload.get("event_id") == event_id]
        kept = rows[0] if rows and run_at is not None else None
        now = utcnow()
        for job in rows:
            if job is not kept:
                job.done_at = now
        if kept is not None and run_at is not None:
            kept.run_at = run_at
            # whom a partly delivered run reached (scheduler.jobs) was told about the old time
            kept.payload = {k: v for k, v in kept.payload.items() if k != "sent"}
        await self.session.flush()
        if kept is None and run_at is not None:
            return await self.schedule(kind, run_at, event_id=event_id)
        return kept

    async def finish(self, job: Job, error: str | None = None) -> None:
        job.attempts += 1
        if error is None:
            job.done_at = utcnow()
        job.last_error = error


class Repo:
    """Facade handed to handlers by the session middleware."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dirty_users: set[int] = set()
        self.users = PersonalDataRepo(session, self.dirty_users)
        self.reference = ReferenceRepo(session)
        self.audit = AuditRepo(session)
        self.frameworks = FrameworkRepo(session)
        self.assessments = AssessmentRepo(session)
        self.routes = RouteRepo(session)
        self.events = EventArea(session)
        self.jobs = JobRepo(session)
        self.imports = ImportRepo(session)
