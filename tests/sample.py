"""Load the shipped sample sites and events (`db.reference.sample_events`) through the real
import path, as a coordinator's files would arrive."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import FRAMEWORK_FILE, SAMPLE_REFERENCE, import_framework, import_reference
from bot.imports import import_file
from core.clock import utcnow
from db.models import Event, User
from db.reference.sample_events import sample_events_csv, sample_sites_csv
from db.repo import Repo
from domain.reminders import Policy


async def load_sample_events(
    sessionmaker: async_sessionmaker[AsyncSession],
    tz: str = "Europe/Moscow",
    *,
    organiser_id: int | None = None,
    policy: Policy | None = None,
) -> dict[str, Event]:
    """Import the sample sites and events; return the events by code (detached rows). With
    `organiser_id` (`users.id`) that user imports them and organises every event (their
    agenda and summaries are planned, by `policy`)."""
    zone = ZoneInfo(tz)
    now: datetime = utcnow()
    async with sessionmaker() as session:
        repo = Repo(session, policy)
        actor = await repo.users.get(organiser_id) if organiser_id is not None else None
        if await repo.reference.is_empty():
            await import_reference(repo, SAMPLE_REFERENCE)
        await import_framework(repo, FRAMEWORK_FILE)
        for name, data in (
            ("sites.csv", sample_sites_csv()),
            ("events.csv", sample_events_csv(now.astimezone(zone).date())),
        ):
            outcome = await import_file(
                repo, data, name, allowed_municipalities=None, actor=actor, tz=zone, now=now
            )
            assert outcome.ok, [r for r in outcome.reports if r.action == "reject"]
        await session.commit()
        events = (await session.execute(select(Event))).scalars().all()
        return {e.code: e for e in events if e.code}


async def consenting_teacher(
    repo: Repo, telegram_id: int, municipality_id: int, now: datetime
) -> User:
    """A teacher with consent and a complete profile (the first school of the municipality;
    a young teacher of two years), as onboarding leaves one."""
    user, _ = await repo.users.get_or_create(telegram_id, "ru")
    await repo.users.set_consent(user, "given", "1.0", now)
    school = (await repo.reference.schools(municipality_id))[0]
    await repo.users.set_fields(
        user,
        full_name=f"Учитель {telegram_id}",
        municipality_id=municipality_id,
        school_id=school.id,
        position_code="teacher",
        experience_years=2,
        age_band="under_35",
    )
    await repo.users.complete_profile(user, now)
    return user
