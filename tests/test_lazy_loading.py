"""No lazy loading in async code: every relationship raises instead of loading implicitly, and
the paths that once loaded lazily (the event row lock, check-in completing a route step) load
what they use explicitly."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from db.models import Base, User
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from tests.sample import load_sample_events


def test_every_relationship_refuses_to_lazy_load() -> None:
    lazy = [
        f"{mapper.class_.__name__}.{rel.key}={rel.lazy}"
        for mapper in Base.registry.mappers
        for rel in mapper.relationships
        if rel.lazy != "raise"
    ]
    assert lazy == []


async def test_sign_up_on_a_site_linked_event_keeps_the_site_loaded(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    events = await load_sample_events(sessionmaker)
    event = events[SAMPLE_EVENT_CODES[1]]
    assert event.site_id is not None
    async with sessionmaker() as session:
        repo = Repo(session)
        user = User(telegram_id=501, language="ru", role="teacher", consent="given")
        session.add(user)
        await session.flush()
        loaded = await repo.events.get(event.id)
        assert loaded is not None and loaded.site is not None
        outcome = await repo.events.sign_up(event.id, user.id, utcnow(), eligible=True)
        assert outcome.registration is not None
        # the row lock refreshed the same object (the card reads it next): its site is loaded
        assert loaded.site is not None and loaded.site.title.startswith("Площадка")
        assert utcnow() + timedelta(days=1) < loaded.starts_at
