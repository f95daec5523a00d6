"""What the event and site import reads and writes: existing codes (`ImportCodes`), site upserts
and the event columns a validated draft sets (`domain.event_import`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Event, Municipality, School, Site
from domain.event_import import EventDraft, SiteDraft


@dataclass(frozen=True, slots=True)
class ImportCodes:
    """What an import needs to know about existing rows."""

    municipalities: dict[str, int]
    schools: dict[str, tuple[int, str]]  # school code -> (id, municipality code)
    sites: dict[str, tuple[int, str]]  # site code -> (id, municipality code)
    events: dict[str, str]  # event code -> organising municipality code


class ImportRepo:
    """Upserts of validated import drafts (domain.event_import) by their codes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def codes(self) -> ImportCodes:
        munis = {
            code: mid
            for mid, code in (
                await self.session.execute(select(Municipality.id, Municipality.code))
            ).tuples()
        }
        by_id = {mid: code for code, mid in munis.items()}
        schools = {
            code: (sid, by_id[mid])
            for sid, code, mid in (
                await self.session.execute(
                    select(School.id, School.code, School.municipality_id).where(
                        School.code.is_not(None)
                    )
                )
            ).tuples()
            if code
        }
        sites = {
            code: (sid, by_id[mid])
            for sid, code, mid in (
                await self.session.execute(select(Site.id, Site.code, Site.municipality_id))
            ).tuples()
        }
        events = {
            code: by_id[mid]
            for code, mid in (
                await self.session.execute(
                    select(Event.code, Event.municipality_id).where(Event.code.is_not(None))
                )
            ).tuples()
            if code
        }
        return ImportCodes(munis, schools, sites, events)

    async def upsert_site(self, draft: SiteDraft, codes: ImportCodes) -> Site:
        site = await self.session.scalar(select(Site).where(Site.code == draft.code))
        if site is None:
            site = Site(code=draft.code)
            self.session.add(site)
        site.municipality_id = codes.municipalities[draft.municipality]
        site.school_id = codes.schools[draft.school][0] if draft.school else None
        site.title, site.topic = draft.title, draft.topic
        site.competencies = list(draft.competencies)
        site.description, site.contact = draft.description, draft.contact
        site.modules = [{"title": t, "hours": h} for t, h in draft.modules]
        await self.session.flush()
        return site

    async def event_values(
        self, draft: EventDraft, codes: ImportCodes, *, default_municipality: int
    ) -> dict[str, Any]:
        """The event columns a validated draft sets (all but the code, status and check-in
        code): creating and updating an event go through `services.events` with them."""
        site_id = None
        site_muni = None
        if draft.site:
            site = await self.session.scalar(select(Site).where(Site.code == draft.site))
            if site is not None:
                site_id, site_muni = site.id, site.municipality_id
        return {
            "kind": draft.kind,
            "title": draft.title,
            "description": draft.description,
            "competencies": list(draft.competencies),
            "site_id": site_id,
            "region_wide": draft.municipality is None,
            "municipality_id": codes.municipalities[draft.municipality]
            if draft.municipality
            else (site_muni or default_municipality),
            "positions": list(draft.positions),
            "subjects": list(draft.subjects),
            "starts_at": draft.starts_at,
            "ends_at": draft.ends_at,
            "place": draft.place,
            "online_url": draft.online_url,
            "capacity": draft.capacity,
            "registration_deadline": draft.registration_deadline,
        }

    async def event_ids(self, codes: Sequence[str]) -> dict[str, int]:
        """Existing events by code."""
        if not codes:
            return {}
        rows = await self.session.execute(
            select(Event.code, Event.id).where(Event.code.in_(set(codes)))
        )
        return {code: event_id for code, event_id in rows.tuples() if code}
