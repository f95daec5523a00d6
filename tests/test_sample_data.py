"""The shipped sample sites and events import cleanly through the coordinator's import path."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from tests.sample import load_sample_events


async def test_sample_events_import_with_sites_and_tricky_titles(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    events = await load_sample_events(sessionmaker)
    assert set(events) == set(SAMPLE_EVENT_CODES)
    assert events[SAMPLE_EVENT_CODES[0]].title == TRICKY_TITLE
    assert sum(1 for e in events.values() if e.site_id is not None) == 4
    assert max(len(e.title) for e in events.values()) > 150
