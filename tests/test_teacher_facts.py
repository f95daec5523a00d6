"""`repo.events.teacher_facts`: what the event screens know of a teacher, in one statement,
equals what the separate reads it replaced answer — before and after each fact changes, on
SQLite and on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from db.repo import Repo
from db.repositories.event_views import TeacherFacts
from services import route as route_service
from tests.sample_teacher import WEAK, answer_all, sample_teacher

Maker = async_sessionmaker[AsyncSession]


async def _separately(repo: Repo, user_id: int) -> TeacherFacts:
    """The same facts through the repositories' own reads."""
    user = await repo.users.require(user_id)
    framework = await repo.frameworks.active()
    return TeacherFacts(
        user_id=user.id,
        language=user.language,
        municipality_id=user.municipality_id,
        position_code=user.position_code,
        subjects=tuple(await repo.users.subject_codes(user_id)),
        latest_result=await repo.assessments.latest_result(user_id),
        route_competencies=frozenset(await repo.routes.active_competencies(user_id)),
        framework_version=framework.version if framework else None,
    )


async def _check(sessionmaker: Maker, user_id: int) -> TeacherFacts:
    async with sessionmaker() as session:
        repo = Repo(session)
        facts = await repo.events.teacher_facts(user_id)
        expected = await _separately(repo, user_id)
    assert facts is not None
    assert sorted(facts.subjects) == sorted(expected.subjects)
    assert replace(facts, subjects=expected.subjects) == expected
    return facts


async def test_teacher_facts_follow_every_change(sessionmaker: Maker) -> None:
    sample = await sample_teacher(sessionmaker)
    uid = sample.user_id
    first = await _check(sessionmaker, uid)
    assert first.subjects == ("math",) and first.latest_result is None
    assert first.route_competencies == frozenset() and first.framework_version is not None

    now = utcnow()
    async with sessionmaker() as session:
        repo = Repo(session)
        await answer_all(repo, uid, now=now)  # a finished self-assessment
        await repo.users.set_subjects(await repo.users.require(uid), ["physics", "math"])
        await session.commit()
    second = await _check(sessionmaker, uid)
    assert sorted(second.subjects) == ["math", "physics"]
    assert second.latest_result is not None and WEAK in second.latest_result["deficits"]

    async with sessionmaker() as session:
        repo = Repo(session)
        built = await route_service.build(repo, uid, [WEAK], "normal", None, date.today(), now)
        assert isinstance(built, route_service.Overview)
        await session.commit()
    third = await _check(sessionmaker, uid)
    assert WEAK in third.route_competencies

    async with sessionmaker() as session:  # a teacher nobody knows: no facts
        assert await Repo(session).events.teacher_facts(10**9) is None
