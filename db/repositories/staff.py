"""Staff assignments (`staff_scopes`) and invite links (`staff_invites`), and the SQL form of a
`domain.scope.Scope` that every staff list uses (teachers, schools, sites, events)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Event, School, Site, StaffInvite, StaffScope, User
from domain.roles import Role
from domain.scope import Assignment, Scope, scope_of


def users_in(scope: Scope) -> list[ColumnElement[bool]]:
    """Teachers inside the scope (by their profile's municipality and school)."""
    where: list[ColumnElement[bool]] = []
    if scope.municipality_ids is not None:
        where.append(User.municipality_id.in_(sorted(scope.municipality_ids)))
    if scope.school_ids is not None:
        where.append(User.school_id.in_(sorted(scope.school_ids)))
    return where


def schools_in(scope: Scope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.municipality_ids is not None:
        where.append(School.municipality_id.in_(sorted(scope.municipality_ids)))
    if scope.school_ids is not None:
        where.append(School.id.in_(sorted(scope.school_ids)))
    return where


def sites_in(scope: Scope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.municipality_ids is not None:
        where.append(Site.municipality_id.in_(sorted(scope.municipality_ids)))
    if scope.school_ids is not None:
        where.append(Site.school_id.in_(sorted(scope.school_ids)))
    return where


def events_in(scope: Scope) -> list[ColumnElement[bool]]:
    """Events organised inside the scope; a school's events are those at its sites."""
    where: list[ColumnElement[bool]] = []
    if scope.municipality_ids is not None:
        where.append(Event.municipality_id.in_(sorted(scope.municipality_ids)))
    if scope.school_ids is not None:
        where.append(
            Event.site_id.in_(select(Site.id).where(Site.school_id.in_(sorted(scope.school_ids))))
        )
    return where


class StaffRepo:
    def __init__(self, session: AsyncSession, dirty: set[int]) -> None:
        self.session = session
        self._dirty = dirty
        #: assignments read in this unit of work (the role filter, then the use case)
        self._cache: dict[int, list[Assignment]] = {}

    async def assignments(self, user_id: int) -> list[Assignment]:
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        rows = await self.session.execute(
            select(StaffScope.municipality_id, StaffScope.school_id, School.municipality_id)
            .outerjoin(School, School.id == StaffScope.school_id)
            .where(StaffScope.user_id == user_id)
            .order_by(StaffScope.id)
        )
        found = [Assignment(m, s, sm) for m, s, sm in rows.tuples()]
        self._cache[user_id] = found
        return found

    async def scope(self, user: User, role: Role) -> Scope | None:
        """Where the user acts in `role` (their effective role); None: nowhere."""
        if role is Role.TEACHER:
            return None
        return scope_of(role, [] if role is Role.ADMIN else await self.assignments(user.id))

    async def event_allowed(self, scope: Scope, event: Event | None) -> bool:
        """Is the event inside the scope? (A school's events are those at its sites.)"""
        if event is None:
            return False
        school_id = None
        if scope.school_ids is not None and event.site_id is not None:
            site = await self.session.get(Site, event.site_id)
            school_id = site.school_id if site is not None else None
        return scope.allows(event.municipality_id, school_id)

    async def replace(
        self,
        user: User,
        assignments: Iterable[Assignment],
        granted_by: User | None,
        now: datetime,
    ) -> None:
        """The user's assignments become these (none: no staff scope)."""
        await self.session.execute(delete(StaffScope).where(StaffScope.user_id == user.id))
        self.session.add_all(
            StaffScope(
                user_id=user.id,
                municipality_id=a.municipality_id,
                school_id=a.school_id,
                granted_by_user_id=granted_by.id if granted_by else None,
                granted_at=now,
            )
            for a in assignments
        )
        await self.session.flush()
        self._cache.pop(user.id, None)
        if user.telegram_id is not None:
            self._dirty.add(user.telegram_id)

    async def scopes_of(self, user_ids: Iterable[int]) -> dict[int, list[Assignment]]:
        """The assignments of many users at once (the staff list)."""
        ids = sorted(set(user_ids))
        result: dict[int, list[Assignment]] = {uid: [] for uid in ids}
        if not ids:
            return result
        rows = await self.session.execute(
            select(
                StaffScope.user_id,
                StaffScope.municipality_id,
                StaffScope.school_id,
                School.municipality_id,
            )
            .outerjoin(School, School.id == StaffScope.school_id)
            .where(StaffScope.user_id.in_(ids))
            .order_by(StaffScope.id)
        )
        for uid, m, s, sm in rows.tuples():
            result[uid].append(Assignment(m, s, sm))
        return result

    async def forget_person(self, user_id: int) -> None:
        """Erasure (/deleteme): their assignments go; invites and grants they made or used
        stay, unsigned."""
        await self.session.execute(delete(StaffScope).where(StaffScope.user_id == user_id))
        for column in (StaffInvite.created_by_user_id, StaffInvite.used_by_user_id):
            await self.session.execute(
                update(StaffInvite).where(column == user_id).values({column.key: None})
            )
        await self.session.execute(
            update(StaffScope)
            .where(StaffScope.granted_by_user_id == user_id)
            .values(granted_by_user_id=None)
        )

    async def export(self, user_id: int) -> dict[str, Any]:
        """Where they act as staff, and the invite links they made or opened."""
        scopes = await self.session.scalars(
            select(StaffScope).where(StaffScope.user_id == user_id).order_by(StaffScope.id)
        )
        invites = await self.session.scalars(
            select(StaffInvite)
            .where(
                (StaffInvite.created_by_user_id == user_id)
                | (StaffInvite.used_by_user_id == user_id)
            )
            .order_by(StaffInvite.id)
        )
        return {
            "scopes": [
                {
                    "id": s.id,
                    "municipality_id": s.municipality_id,
                    "school_id": s.school_id,
                    "granted_at": _iso(s.granted_at),
                }
                for s in scopes
            ],
            "invites": [
                {
                    "id": i.id,
                    "code": i.code,
                    "role": i.role,
                    "scope": i.scope,
                    "made_by_you": i.created_by_user_id == user_id,
                    "used_by_you": i.used_by_user_id == user_id,
                    "created_at": _iso(i.created_at),
                    "expires_at": _iso(i.expires_at),
                    "used_at": _iso(i.used_at),
                }
                for i in invites
            ],
        }

    # ---------------------------------------------------------------- invites

    async def add_invite(self, invite: StaffInvite) -> StaffInvite:
        self.session.add(invite)
        await self.session.flush()
        return invite

    async def invite(self, code: str) -> StaffInvite | None:
        invite: StaffInvite | None = await self.session.scalar(
            select(StaffInvite).where(StaffInvite.code == code)
        )
        return invite

    async def claim_invite(self, invite_id: int, user_id: int, now: datetime) -> bool:
        """Mark the invite used by `user_id`, once: False if someone used it first or it
        expired (a conditional UPDATE, so two people opening it at once cannot both win)."""
        result: Any = await self.session.execute(
            update(StaffInvite)
            .where(
                StaffInvite.id == invite_id,
                StaffInvite.used_at.is_(None),
                StaffInvite.expires_at > now,
            )
            .values(used_by_user_id=user_id, used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)

    async def open_invites(self, now: datetime, limit: int = 20) -> list[StaffInvite]:
        return list(
            await self.session.scalars(
                select(StaffInvite)
                .where(StaffInvite.used_at.is_(None), StaffInvite.expires_at > now)
                .order_by(StaffInvite.id.desc())
                .limit(limit)
            )
        )


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


__all__ = ["StaffRepo", "events_in", "schools_in", "sites_in", "users_in"]
