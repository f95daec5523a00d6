"""The numbers of /admin's system health and user overview: database size, the outbox queue,
failed jobs, users by role and activity, finding a user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Job, OutboxMessage, User
from db.repositories.outbox import OutboxState
from domain.ids import parse_id


@dataclass(frozen=True, slots=True)
class FailedJob:
    id: int
    kind: str
    run_at: datetime
    attempts: int
    last_error: str


@dataclass(frozen=True, slots=True)
class RoleCount:
    role: str
    users: int
    #: changed anything (profile, settings, answers…) since the given moment
    active: int


class HealthRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def database_size(self) -> int | None:
        """Bytes: SQLite pages × page size, PostgreSQL `pg_database_size` (None: unknown)."""
        dialect = self.session.bind.dialect.name if self.session.bind else ""
        if dialect == "sqlite":
            pages = await self.session.scalar(text("PRAGMA page_count"))
            size = await self.session.scalar(text("PRAGMA page_size"))
            return int(pages or 0) * int(size or 0)
        if dialect == "postgresql":
            found = await self.session.scalar(text("SELECT pg_database_size(current_database())"))
            return int(found) if found is not None else None
        return None

    async def outbox_pending(self) -> tuple[int, datetime | None]:
        """Pending outbox rows and the oldest one's creation time."""
        count, oldest = (
            await self.session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.state == OutboxState.PENDING.value
                )
            )
        ).one()
        return int(count), oldest

    async def failed_jobs(self, limit: int = 5) -> list[FailedJob]:
        """Jobs still due after failing (their last error), the most recent first."""
        rows = await self.session.scalars(
            select(Job)
            .where(Job.done_at.is_(None), Job.last_error.is_not(None))
            .order_by(Job.run_at.desc(), Job.id.desc())
            .limit(limit)
        )
        return [FailedJob(j.id, j.kind, j.run_at, j.attempts, j.last_error or "") for j in rows]

    async def roles(self, since: datetime) -> list[RoleCount]:
        """Users (not erased) by stored role, and how many of them were active since `since`."""
        active = func.sum(case((User.updated_at >= since, 1), else_=0))
        rows = await self.session.execute(
            select(User.role, func.count(), active)
            .where(User.telegram_id.is_not(None))
            .group_by(User.role)
            .order_by(User.role)
        )
        return [RoleCount(role, int(n), int(a or 0)) for role, n, a in rows.tuples()]

    async def find_users(self, query: str, limit: int = 10) -> list[User]:
        """Users by @username, Telegram id, internal id or a part of the name (any case of
        its first letters: SQLite's lower() knows only ASCII)."""
        query = query.strip()
        if not query:
            return []
        base = select(User).where(User.telegram_id.is_not(None)).order_by(User.id).limit(limit)
        if query.startswith("@"):
            name = query[1:].lower()
            return list(await self.session.scalars(base.where(User.username == name)))
        number = parse_id(query)
        if number is not None:
            return list(
                await self.session.scalars(
                    base.where(or_(User.telegram_id == number, User.id == number))
                )
            )
        variants = {query, query.lower(), query.capitalize(), query.title(), query.upper()}
        return list(
            await self.session.scalars(
                base.where(or_(*(User.full_name.contains(v, autoescape=True) for v in variants)))
            )
        )


__all__ = ["FailedJob", "HealthRepo", "RoleCount"]
