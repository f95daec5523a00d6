"""Issue #11 "Speed": what `bench/stats.py` measured, kept true by small tests. `/teachers` of
a municipality reads the index of its teachers by name (no scan of every user, no sort); the
deficit map, which parses each teacher's deficit list once (a table-valued JSON function,
counted with DISTINCT), counts a teacher once even when a code is listed twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Attempt, ExternalDiagnosis, Municipality, School, User
from db.repo import Repo
from db.repositories.stats import Group
from domain.broadcasts import Scope
from tests.framework_doc import framework_doc

Maker = async_sessionmaker[AsyncSession]
T = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def _place(session: AsyncSession) -> tuple[int, int]:
    muni = Municipality(code="m", name_ru="М", name_en="M", region_ru="Р", region_en="R")
    session.add(muni)
    await session.flush()
    school = School(code="s", municipality_id=muni.id, name="s", name_key="s", short_name="s")
    session.add(school)
    await session.flush()
    return muni.id, school.id


def _teacher(n: int, muni: int, school: int) -> User:
    return User(
        telegram_id=5000 + n,
        language="ru",
        consent="given",
        full_name=f"Учитель {n:03d}",
        municipality_id=muni,
        school_id=school,
        profile_completed_at=datetime(2026, 9, 1, tzinfo=UTC),
    )


async def test_teachers_of_a_municipality_read_its_index_by_name(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    await migrate.upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        muni, school = await _place(session)
        session.add_all([_teacher(n, muni, school) for n in range(60)])
        await session.commit()
    async with engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    seen: list[tuple[str, Any]] = []

    def keep(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", keep)
    async with sessionmaker() as session:
        teachers = await Repo(session).users.teachers_of(Scope(frozenset({muni})))
    event.remove(engine.sync_engine, "before_cursor_execute", keep)
    assert [t.full_name for t in teachers] == [f"Учитель {n:03d}" for n in range(50)]
    (statement, parameters), *_ = seen
    async with engine.connect() as conn:
        plan = " | ".join(
            str(row[3])
            for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
    await engine.dispose()
    assert "ix_users_municipality_name" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # read in name order: no sort of the municipality


async def test_a_deficit_listed_twice_counts_its_teacher_once(sessionmaker: Maker) -> None:
    async with sessionmaker() as session:
        repo = Repo(session)
        await repo.frameworks.add(framework_doc())
        muni, school = await _place(session)
        olga, anna, ivan = (_teacher(n, muni, school) for n in range(3))
        session.add_all([olga, anna, ivan])
        await session.flush()
        finished = datetime(2026, 10, 1, 10, tzinfo=UTC)
        session.add_all(
            [
                Attempt(
                    user_id=olga.id,
                    framework_version="t1",
                    started_at=finished,
                    finished_at=finished,
                    result={"deficits": ["comp_a", "comp_a", "comp_b"]},
                ),
                Attempt(
                    user_id=anna.id,
                    framework_version="t1",
                    started_at=finished,
                    finished_at=finished,
                    result={"deficits": ["comp_c"]},
                ),
                # newer than Anna's self-assessment: it wins, with a code listed twice
                ExternalDiagnosis(
                    user_id=anna.id,
                    diagnosed_on=date(2026, 10, 5),
                    source="ЦНППМ",
                    deficits=["comp_b", "comp_b"],
                    scores={},
                ),
                # an empty list: diagnosed, no deficit
                ExternalDiagnosis(
                    user_id=ivan.id,
                    diagnosed_on=date(2026, 10, 5),
                    source="ЦНППМ",
                    deficits=[],
                    scores={},
                ),
            ]
        )
        await session.commit()
    async with sessionmaker() as session:
        columns = await Repo(session).stats.deficits(
            Scope(None), (T, T.date()), ["comp_a", "comp_b", "comp_c", "comp_d"], Group.SCHOOL
        )
    assert [(c.id, c.diagnosed, c.having) for c in columns] == [
        (school, 3, {"comp_a": 1, "comp_b": 2, "comp_c": 0, "comp_d": 0})
    ]
