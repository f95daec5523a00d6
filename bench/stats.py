"""How long one `/stats` report takes (`services.stats.report_for_scope`), for the region and
for one municipality, on a synthetic database:

    python -m bench.stats [--teachers N] [--pg]

N teachers (default 10,000) in 20 municipalities of 25 schools each; 70 % with a finished
self-assessment (and 10 % one still open), 5 % an external diagnosis, 40 % a route of six
steps (half of them done), two registrations each on 400 events (half of them over), the
week's trend over 8 weeks. Prints the fill time, the statements and the best of five runs.
Figures go to README, never into tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Base, Event, Municipality, School, User
from db.repo import Repo
from domain.broadcasts import Scope
from domain.stats import Period, PeriodKind
from services.stats import report_for_scope

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Moscow")
MUNICIPALITIES, SCHOOLS, EVENTS, CHUNK = 20, 25, 400, 2000
COMPETENCIES = [f"comp_{c}" for c in "abcdefgh"]


def _framework() -> dict[str, Any]:
    from tests.framework_doc import framework_doc

    return framework_doc(competencies=len(COMPETENCIES))


async def fill(engine: AsyncEngine, teachers: int) -> float:
    started = time.perf_counter()
    rnd = random.Random(11)
    await migrate.upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    tables = Base.metadata.tables

    def ago(days: float) -> datetime:
        return NOW - timedelta(days=days)

    async with sessionmaker() as session:
        repo = Repo(session)
        await repo.frameworks.add(_framework())
        munis = [
            Municipality(
                code=f"m{m}",
                name_ru=f"Район {m}",
                name_en=f"District {m}",
                region_ru="Р",
                region_en="R",
            )
            for m in range(MUNICIPALITIES)
        ]
        session.add_all(munis)
        await session.flush()
        schools = [
            School(
                code=f"s{m.id}-{s}",
                municipality_id=m.id,
                name=f"Школа {s}",
                name_key=f"{s}",
                short_name=f"СОШ {s}",
            )
            for m in munis
            for s in range(SCHOOLS)
        ]
        session.add_all(schools)
        events = [
            Event(
                kind=["seminar", "masterclass", "internship", "webinar"][n % 4],
                title=f"Событие {n}",
                municipality_id=munis[n % MUNICIPALITIES].id,
                region_wide=n % 10 == 0,
                competencies=[COMPETENCIES[n % len(COMPETENCIES)]],
                starts_at=ago(90 - n * 0.4),
                ends_at=ago(90 - n * 0.4),
                capacity=30,
                checkin_code="x",
                status="completed" if n < EVENTS // 2 else "scheduled",
            )
            for n in range(EVENTS)
        ]
        session.add_all(events)
        await session.flush()
        people = []
        for i in range(teachers):
            school = schools[i % len(schools)]
            people.append(
                {
                    "telegram_id": 10_000_000 + i,
                    "language": "ru",
                    "role": "teacher",
                    "consent": "given",
                    "full_name": f"Учитель {i}",
                    "municipality_id": school.municipality_id,
                    "school_id": school.id,
                    "age_band": "under_35" if i % 3 == 0 else "35_plus",
                    "experience_years": i % 20,
                    "profile_completed_at": ago(rnd.uniform(0, 120)),
                    "muted": [],
                    "mentor_volunteer": False,
                    "created_at": ago(130),
                    "updated_at": ago(130),
                }
            )
        for lo in range(0, teachers, CHUNK):
            await session.execute(insert(tables["users"]), people[lo : lo + CHUNK])
        ids = list(
            await session.scalars(
                select(User.id).where(User.telegram_id >= 10_000_000).order_by(User.id)
            )
        )
        attempts, externals, regs = [], [], []
        for n, uid in enumerate(ids):
            if n % 10 < 7:
                done = ago(rnd.uniform(0, 100))
                attempts.append(
                    {
                        "user_id": uid,
                        "framework_version": "t1",
                        "is_manager": False,
                        "started_at": done - timedelta(hours=1),
                        "finished_at": done,
                        "result": {"deficits": rnd.sample(COMPETENCIES, rnd.randint(0, 3))},
                    }
                )
            elif n % 10 == 7:
                attempts.append(
                    {
                        "user_id": uid,
                        "framework_version": "t1",
                        "is_manager": False,
                        "started_at": ago(rnd.uniform(0, 50)),
                        "finished_at": None,
                        "result": None,
                    }
                )
            if n % 20 == 0:
                externals.append(
                    {
                        "user_id": uid,
                        "diagnosed_on": date(2026, 10, 1) + timedelta(n % 40),
                        "source": "ЦНППМ",
                        "deficits": rnd.sample(COMPETENCIES, 2),
                        "scores": {},
                        "imported_at": NOW,
                    }
                )
            for k, e in enumerate(rnd.sample(events, 2)):
                over = e.status == "completed"
                attended = over and k == 0
                regs.append(
                    {
                        "event_id": e.id,
                        "user_id": uid,
                        "status": "attended" if attended else "confirmed",
                        "queue_no": n * 2 + k,
                        "created_at": ago(100),
                        "updated_at": ago(100),
                        "attended_at": e.starts_at if attended else None,
                        "feedback_rating": rnd.randint(1, 5) if attended else None,
                    }
                )
        for rows, table in (
            (attempts, "assessment_attempts"),
            (externals, "external_diagnoses"),
            (regs, "registrations"),
        ):
            for lo in range(0, len(rows), CHUNK):
                await session.execute(insert(tables[table]), rows[lo : lo + CHUNK])
        finished = dict(
            (
                await session.execute(
                    select(
                        tables["assessment_attempts"].c.user_id, tables["assessment_attempts"].c.id
                    ).where(tables["assessment_attempts"].c.finished_at.is_not(None))
                )
            )
            .tuples()
            .all()
        )
        routes = [
            {
                "user_id": uid,
                "attempt_id": aid,
                "pace": "normal",
                "status": "completed" if n % 5 == 0 else "active",
                "created_at": ago(rnd.uniform(0, 90)),
                "completed_at": NOW - timedelta(days=1) if n % 5 == 0 else None,
            }
            for n, (uid, aid) in enumerate(finished.items())
            if n % 7 < 4
        ]
        for lo in range(0, len(routes), CHUNK):
            await session.execute(insert(tables["routes"]), routes[lo : lo + CHUNK])
        route_ids = list(await session.scalars(select(tables["routes"].c.id)))
        kinds = ["learn", "practice", "masterclass", "mentoring", "transfer", "reflection"]
        steps = [
            {
                "route_id": rid,
                "position": p,
                "competency": "comp_a",
                "number": p,
                "kind": kinds[p],
                "content": {},
                "target_date": date(2026, 12, 1),
                "status": "done" if p < 3 else "planned",
                "evidence_file_id": "file" if p == 0 and rid % 2 else None,
                "completed_at": ago(rnd.uniform(0, 60)) if p < 3 else None,
            }
            for rid in route_ids
            for p in range(6)
        ]
        for lo in range(0, len(steps), CHUNK):
            await session.execute(insert(tables["route_steps"]), steps[lo : lo + CHUNK])
        await session.commit()
    if engine.dialect.name == "postgresql":
        # what autovacuum does soon after a bulk load: without statistics the planner walks
        # every event's registrations for every teacher
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    return time.perf_counter() - started


async def measure(engine: AsyncEngine, runs: int = 5) -> dict[str, tuple[float, int]]:
    sessionmaker = create_sessionmaker(engine)
    period = Period.containing(PeriodKind.WEEK, NOW.date())
    async with sessionmaker() as session:
        first = (await session.scalars(select(Municipality.id).order_by(Municipality.id))).first()
    assert first is not None
    cases = {
        "region by municipality": (Scope(None), False),
        "one municipality by school": (Scope(frozenset({first})), True),
    }
    seen: list[str] = []

    def count(*_: Any) -> None:
        seen.append("x")

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    result = {}
    for name, (scope, by_school) in cases.items():
        best = float("inf")
        for _ in range(runs):
            seen.clear()
            async with sessionmaker() as session:
                started = time.perf_counter()
                await report_for_scope(
                    Repo(session), scope, period, TZ, by_school=by_school, trend_weeks=8, now=NOW
                )
                best = min(best, time.perf_counter() - started)
        result[name] = (best, len(seen))
    event.remove(engine.sync_engine, "before_cursor_execute", count)
    return result


@contextlib.asynccontextmanager
async def _database(pg: bool) -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="metodbot-bench-") as tmp:
        if not pg:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'stats.db'}"
            return
        from tests.pg import create_database, postgres_server

        with postgres_server() as server:
            make: Callable[[str], str] = partial(create_database, server)
            yield make("bench_stats")


async def main_async(teachers: int, pg: bool) -> None:
    async with _database(pg) as url:
        engine = create_engine(url)
        try:
            filled = await fill(engine, teachers)
            print(
                f"{'PostgreSQL' if pg else 'SQLite'}: {teachers} teachers filled in {filled:.1f} s"
            )
            for name, (seconds, statements) in (await measure(engine)).items():
                print(f"  {name}: {seconds * 1000:.0f} ms, {statements} statements (best of 5)")
            if pg:
                # PostgreSQL's JIT compiles these large aggregates for seconds (its cost
                # threshold counts the correlated lookups): measured again without it
                async with engine.connect() as conn:
                    name = (await conn.execute(text("SELECT current_database()"))).scalar_one()
                    await conn.execute(text(f'ALTER DATABASE "{name}" SET jit = off'))
                    await conn.commit()
                await engine.dispose()
                print("  with jit = off:")
                for name, (seconds, statements) in (await measure(engine)).items():
                    print(f"  {name}: {seconds * 1000:.0f} ms, {statements} statements (best of 5)")
        finally:
            await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stats")
    parser.add_argument("--teachers", type=int, default=10_000)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.teachers, args.pg))


if __name__ == "__main__":
    main()
