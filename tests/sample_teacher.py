"""A teacher of the sample data for the use-case tests: the sample reference, framework, sites
and events (`tests.sample.load_sample_events`), and a teacher of Volgodonsk (where the sample
assessment events are) whose profile is filled in through `services.profile`, as the wizard
does it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from db.models import Event
from db.repo import Repo
from domain.framework import Framework
from services import assessment, profile
from tests.sample import load_sample_events

MUNICIPALITY = "volgodonsk"
SCHOOL = "volgodonsk_gymn_1"
#: the competency the sample teacher answers lowest (the sample events teach it)
WEAK = "assessment"


@dataclass(frozen=True, slots=True)
class Sample:
    user_id: int
    municipality_id: int
    school_id: int
    events: dict[str, Event]


async def ids(repo: Repo) -> tuple[int, int]:
    """The sample municipality's and school's ids."""
    muni = await repo.reference.municipality_by_code(MUNICIPALITY)
    assert muni is not None
    school = next(s for s in await repo.reference.schools(muni.id) if s.code == SCHOOL)
    return muni.id, school.id


async def fill_profile(
    repo: Repo, user_id: int, municipality_id: int, school_id: int, now: datetime | None = None
) -> None:
    """Every answer of the wizard, through the use cases, then saved (at `now`, the wall
    clock if not given)."""
    for step in (
        profile.set_full_name(repo, user_id, "Иванова Анна Петровна", editing=False),
        profile.pick_municipality(repo, user_id, municipality_id, editing=False),
        profile.pick_school(repo, user_id, school_id, editing=False),
        profile.pick_position(repo, user_id, "teacher", editing=False),
        profile.save_subjects(repo, user_id, ["math"], editing=False),
        profile.set_experience(repo, user_id, "2", editing=False),
        profile.pick_age(repo, user_id, "under_35", editing=False),
    ):
        assert isinstance(await step, profile.Next)
    assert isinstance(await profile.save(repo, user_id, now or utcnow()), profile.Saved)


async def sample_teacher(
    sessionmaker: async_sessionmaker[AsyncSession],
    telegram_id: int = 5001,
    now: datetime | None = None,
) -> Sample:
    """The sample data and one consented teacher with a complete profile (committed), who
    agreed and saved the profile at `now` (the wall clock if not given)."""
    now = now or utcnow()
    events = await load_sample_events(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        user, _ = await repo.users.get_or_create(telegram_id, "ru")
        await session.flush()
        await profile.give_consent(repo, user.id, "test", now)
        muni_id, school_id = await ids(repo)
        await fill_profile(repo, user.id, muni_id, school_id, now)
        await session.commit()
        return Sample(user.id, muni_id, school_id, events)


async def answer_all(
    repo: Repo, user_id: int, weak: str = WEAK, now: datetime | None = None
) -> assessment.Finished:
    """A whole self-assessment: `weak`'s statements "0", every other one the top value,
    answered and finished at `now` (the wall clock if not given)."""
    now = now or utcnow()
    step: assessment.Step | assessment.Refusal = await assessment.start(repo, user_id, now)
    while isinstance(step, assessment.Question):
        top = len(step.framework.scale) - 1
        value = 0 if step.statement.competency == weak else top
        step = await assessment.answer(
            repo, user_id, step.attempt_id, step.statement.code, value, now
        )
    assert isinstance(step, assessment.Finished)
    return step


async def framework(repo: Repo) -> Framework:
    found = await repo.frameworks.active()
    assert found is not None
    return found
