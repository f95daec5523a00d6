"""The statistics milestones (`stats_milestones`, migration 0011) stay exact whatever writes:
after every kind of change a report — fresh rows plus the users a trigger marked stale — equals
the report computed from the raw rows alone, before and after the scheduler's refresh. A
missing trigger would leave an outdated fresh row and the two reports would differ.

The world is `tests/test_stats.py`'s (people by telegram id: anna 7000, boris 7001, vera 7002,
galina 7003, dmitry 7004, fedor 7006, olga 7007, ira 7008, pavel 7010), refreshed."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select, text, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    Attempt,
    Event,
    ExternalDiagnosis,
    Registration,
    Route,
    RouteStep,
    StatsMilestone,
    User,
)
from db.repo import Repo
from db.repositories import stats_milestones as milestones
from domain.broadcasts import Scope
from domain.stats import StatsReport
from scheduler.runner import refresh_milestones
from services import stats as service
from services.privacy import erase_user
from tests.test_stats import MOSCOW, NOW, WEEK, World, _world

Maker = async_sessionmaker[AsyncSession]
Change = Callable[[AsyncSession, World], Awaitable[None]]
LATER = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)


async def _uid(session: AsyncSession, telegram_id: int) -> int:
    uid = await session.scalar(select(User.id).where(User.telegram_id == telegram_id))
    assert uid is not None
    return uid


async def move_dmitry_to_beta(session: AsyncSession, world: World) -> None:
    await session.execute(
        update(User)
        .where(User.telegram_id == 7004)
        .values(municipality_id=world.beta, school_id=world.s2a)
    )


async def erase_anna(session: AsyncSession, world: World) -> None:
    anna = await Repo(session).users.get(world.anna)
    assert anna is not None
    await erase_user(Repo(session), anna, NOW)


async def boris_external_deleted(session: AsyncSession, _: World) -> None:
    boris = await _uid(session, 7001)
    await session.execute(delete(ExternalDiagnosis).where(ExternalDiagnosis.user_id == boris))


async def internship_becomes_a_seminar(session: AsyncSession, _: World) -> None:
    await session.execute(update(Event).where(Event.kind == "internship").values(kind="seminar"))


async def dmitry_visit_undone(session: AsyncSession, _: World) -> None:
    dmitry = await _uid(session, 7004)
    await session.execute(
        update(Registration)
        .where(Registration.user_id == dmitry, Registration.status == "attended")
        .values(status="registered", attended_at=None)
    )


async def vera_assessed_again(session: AsyncSession, _: World) -> None:
    session.add(
        Attempt(
            user_id=await _uid(session, 7002),
            framework_version="t1",
            started_at=LATER,
            finished_at=LATER,
            result={"deficits": ["comp_c", "comp_d"]},
        )
    )


async def ira_finishes_her_assessment(session: AsyncSession, _: World) -> None:
    ira = await _uid(session, 7008)
    await session.execute(
        update(Attempt)
        .where(Attempt.user_id == ira)
        .values(finished_at=LATER, result={"deficits": ["comp_b"]})
    )


async def anna_route_completed(session: AsyncSession, world: World) -> None:
    await session.execute(
        update(Route).where(Route.user_id == world.anna).values(completed_at=LATER)
    )


async def fedor_step_gets_a_certificate(session: AsyncSession, _: World) -> None:
    fedor = await _uid(session, 7006)
    routes = select(Route.id).where(Route.user_id == fedor)
    await session.execute(
        update(RouteStep)
        .where(RouteStep.route_id.in_(routes), RouteStep.kind == "learn")
        .values(evidence_file_id="certificate")
    )


async def pavel_newest_route_deleted(session: AsyncSession, _: World) -> None:
    pavel = await _uid(session, 7010)
    newest = await session.scalar(
        select(Route.id).where(Route.user_id == pavel).order_by(Route.id.desc())
    )
    await session.execute(delete(Route).where(Route.id == newest))


async def ira_is_no_longer_young(session: AsyncSession, _: World) -> None:
    await session.execute(update(User).where(User.telegram_id == 7008).values(age_band="35_plus"))


async def galina_withdraws_consent(session: AsyncSession, _: World) -> None:
    await session.execute(update(User).where(User.telegram_id == 7003).values(consent="withdrawn"))


async def a_new_teacher_registers(session: AsyncSession, world: World) -> None:
    session.add(
        User(
            telegram_id=7500,
            language="ru",
            consent="given",
            full_name="x",
            municipality_id=world.alpha,
            school_id=world.s1a,
            age_band="under_35",
            experience_years=1,
            profile_completed_at=LATER,
        )
    )


async def raw_sql_attendance(session: AsyncSession, _: World) -> None:
    """A hand-written statement, as an operator might run: the triggers still see it."""
    await session.execute(
        text(
            "UPDATE registrations SET status = 'attended', attended_at = :at "
            "WHERE status = 'waitlisted'"
        ),
        {
            "at": LATER.replace(tzinfo=None)
            if session.get_bind().dialect.name == "sqlite"
            else LATER
        },
    )


CHANGES: list[Change] = [
    move_dmitry_to_beta,
    erase_anna,
    boris_external_deleted,
    internship_becomes_a_seminar,
    dmitry_visit_undone,
    vera_assessed_again,
    ira_finishes_her_assessment,
    anna_route_completed,
    fedor_step_gets_a_certificate,
    pavel_newest_route_deleted,
    ira_is_no_longer_young,
    galina_withdraws_consent,
    a_new_teacher_registers,
    raw_sql_attendance,
]


async def _reports(session: AsyncSession, world: World) -> list[StatsReport]:
    repo = Repo(session)
    week = dict(trend_weeks=2, now=NOW)
    out: list[StatsReport] = []
    for period in (WEEK, WEEK.previous()):  # the previous week: diagnosed again since
        out += [
            await service.report_for_scope(
                repo,
                Scope(None),
                period,
                MOSCOW,
                by_school=False,
                **week,  # type: ignore[arg-type]
            ),
            await service.report_for_scope(
                repo,
                Scope(frozenset({world.alpha})),
                period,
                MOSCOW,
                by_school=True,
                **week,  # type: ignore[arg-type]
            ),
            await service.report_for_scope(
                repo,
                Scope(frozenset({world.alpha}), frozenset({world.s1b})),
                period,
                MOSCOW,
                by_school=True,
                **week,  # type: ignore[arg-type]
            ),
        ]
    return out


async def _from_raw_rows(sessionmaker: Maker, world: World) -> list[StatsReport]:
    """The reports with every user's milestones stale: the raw rows alone (rolled back)."""
    async with sessionmaker() as session:
        await session.execute(milestones.everything_stale())
        reports = await _reports(session, world)
        await session.rollback()
    return reports


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
async def test_every_write_keeps_the_numbers_exact(sessionmaker: Maker, change: Change) -> None:
    world = await _world(sessionmaker, refreshed=True)
    async with sessionmaker() as session:
        before = await _reports(session, world)
    async with sessionmaker() as session:
        await change(session, world)
        await session.commit()
    async with sessionmaker() as session:
        stale = await milestones.stale_count(session)
        mixed = await _reports(session, world)
    truth = await _from_raw_rows(sessionmaker, world)
    assert stale > 0, "the change marked nobody stale"
    assert mixed == truth
    assert truth != before, "the change must move some number, or the test proves nothing"

    assert await refresh_milestones(sessionmaker) == stale
    async with sessionmaker() as session:
        assert await milestones.stale_count(session) == 0
        assert await _reports(session, world) == truth


async def test_a_fresh_row_equals_its_computation(sessionmaker: Maker) -> None:
    """Column by column: what the refresh stored is what the definition computes now."""
    await _world(sessionmaker, refreshed=True)
    async with sessionmaker() as session:
        dialect = session.get_bind().dialect.name
        computed = (await session.execute(milestones.computed(dialect, true()))).mappings().all()
        stored = {m.user_id: m for m in (await session.scalars(select(StatsMilestone))).all()}
    assert {r["user_id"] for r in computed} == set(stored)
    for row in computed:
        m = stored[row["user_id"]]
        for name, value in row.items():
            if name == "deficits" and isinstance(value, str):  # SQLite: the JSON's text
                value = json.loads(value)
            if name.endswith("_on") and isinstance(value, str):
                value = date.fromisoformat(value)
            if name in ("counted", "young"):
                value = bool(value)
            assert getattr(m, name) == value, (name, row["user_id"])


@pytest.mark.postgres
async def test_a_refresh_waits_for_the_writer_it_would_miss(pg_url: str) -> None:
    """PostgreSQL, two connections: a teacher's row is stale; a transaction writes her new
    attempt (its trigger marks the row again) and has not committed; a refresh that claims
    her row waits for it, then computes with the committed attempt — it never stores numbers
    older than the mark it clears. (A row the writer marks while it is fresh stays fresh for
    everyone else until the writer commits, then stale: the next tick takes it.)"""
    import asyncio

    from db import migrate
    from db.engine import create_engine, create_sessionmaker

    engine = create_engine(pg_url)
    await migrate.upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    try:
        await _world(sessionmaker, refreshed=True)
        async with sessionmaker() as session:  # an earlier write: her row is stale
            vera = await _uid(session, 7002)
            await session.execute(
                update(StatsMilestone).where(StatsMilestone.user_id == vera).values(stale=True)
            )
            await session.commit()
        async with sessionmaker() as writer:
            await vera_assessed_again(writer, World(0, 0, 0, 0, 0, 0, 0))
            await writer.flush()  # the trigger marked her row again: locked until commit
            refresh = asyncio.create_task(refresh_milestones(sessionmaker))
            await asyncio.sleep(0.5)
            waited = not refresh.done()
            await writer.commit()
        assert waited, "the refresh must wait for the writer's lock"
        assert await asyncio.wait_for(refresh, 10) == 1
        async with sessionmaker() as session:
            row = await session.get(StatsMilestone, vera)
            assert row is not None and not row.stale
            assert row.last_assessed == milestones.to_us(LATER)
            assert row.deficits == ["comp_c", "comp_d"]
    finally:
        await engine.dispose()
