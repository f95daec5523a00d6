"""Internship sites (the schools that host events) and their upcoming events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Event, Site
from db.repositories.staff import sites_in
from domain.events import EventStatus
from domain.scope import Scope


class SiteRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def site(self, site_id: int) -> Site | None:
        return await self.session.get(Site, site_id)

    async def site_by_code(self, code: str) -> Site | None:
        site: Site | None = await self.session.scalar(select(Site).where(Site.code == code))
        return site

    async def sites(self, scope: Scope | None = None) -> list[Site]:
        """The sites inside a scope (all when None), by title."""
        query = select(Site).order_by(Site.title).options(selectinload(Site.school))
        if scope is not None:
            query = query.where(*sites_in(scope))
        return list(await self.session.scalars(query))

    async def site_events(self, site_id: int, now: datetime) -> list[Event]:
        return list(
            await self.session.scalars(
                select(Event)
                .where(
                    Event.site_id == site_id,
                    Event.status == EventStatus.SCHEDULED.value,
                    Event.starts_at > now,
                )
                .order_by(Event.starts_at)
            )
        )

    async def add_site(self, site: Site) -> Site:
        self.session.add(site)
        await self.session.flush()
        return site

    EDITABLE_SITE_FIELDS = frozenset({"title", "topic", "description", "contact", "modules"})

    async def update_site(self, site: Site, **changes: Any) -> list[str]:
        """Change the given fields of a site; the names of those whose value changed."""
        unknown = set(changes) - self.EDITABLE_SITE_FIELDS
        if unknown:
            raise ValueError(f"not editable: {sorted(unknown)}")
        changed = [name for name, value in changes.items() if getattr(site, name) != value]
        for name in changed:
            setattr(site, name, changes[name])
        await self.session.flush()
        return changed
