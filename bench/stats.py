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
import itertools
import random
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Base, Event, Municipality, School, User
from db.repo import Repo
from db.repositories import stats_milestones as milestones
from domain.broadcasts import Scope
from domain.stats import Period, PeriodKind
from services.stats import report_for_scope

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Moscow")
MUNICIPALITIES, SCHOOLS, EVENTS, CHUNK = 20, 25, 2000, 20_000
COMPETENCIES = [f"comp_{c}" for c in "abcdefgh"]


def _framework() -> dict[str, Any]:
    from tests.framework_doc import framework_doc

    return framework_doc(competencies=len(COMPETENCIES))


async def _insert(session: AsyncSession, table: str, rows: Iterable[dict[str, Any]]) -> int:
    """Bulk insert (executemany through Core) in chunks, never holding all rows at once."""
    target = Base.metadata.tables[table]
    n = 0
    it = iter(rows)
    while chunk := list(itertools.islice(it, CHUNK)):
        await session.execute(insert(target), chunk)
        n += len(chunk)
    return n


async def fill(engine: AsyncEngine, teachers: int, per_teacher: int, answers: int) -> float:
    """The synthetic region: `teachers` teachers (a quarter of them in the first
    municipality, the rest spread over the other 19), `per_teacher` registrations each,
    `answers` answers per self-assessment."""
    started = time.perf_counter()
    rnd = random.Random(11)
    await migrate.upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    tables = Base.metadata.tables

    def ago(days: float) -> datetime:
        return NOW - timedelta(days=days)

    async with sessionmaker() as session:
        if engine.dialect.name == "sqlite":
            await session.execute(text("PRAGMA synchronous = OFF"))
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
                starts_at=ago(90 - n * 120 / EVENTS),
                ends_at=ago(90 - n * 120 / EVENTS),
                capacity=30,
                checkin_code="x",
                status="completed" if n < EVENTS * 3 // 4 else "scheduled",
            )
            for n in range(EVENTS)
        ]
        session.add_all(events)
        await session.flush()
        first, others = schools[:SCHOOLS], schools[SCHOOLS:]

        def person(i: int) -> dict[str, Any]:
            school = first[(i // 4) % SCHOOLS] if i % 4 == 0 else others[i % len(others)]
            return {
                "telegram_id": 10_000_000 + i,
                "language": "ru",
                "role": "teacher",
                "consent": "given",
                "full_name": f"Учитель {rnd.randrange(10**6):06d} {i}",
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

        await _insert(session, "users", (person(i) for i in range(teachers)))
        ids = list(
            await session.scalars(
                select(User.id).where(User.telegram_id >= 10_000_000).order_by(User.id)
            )
        )

        def attempts() -> Iterator[dict[str, Any]]:
            for n, uid in enumerate(ids):
                if n % 10 < 7:
                    done = ago(rnd.uniform(0, 100))
                    yield {
                        "user_id": uid,
                        "framework_version": "t1",
                        "is_manager": False,
                        "started_at": done - timedelta(hours=1),
                        "finished_at": done,
                        "result": {"deficits": rnd.sample(COMPETENCIES, rnd.randint(0, 3))},
                    }
                elif n % 10 == 7:
                    yield {
                        "user_id": uid,
                        "framework_version": "t1",
                        "is_manager": False,
                        "started_at": ago(rnd.uniform(0, 50)),
                        "finished_at": None,
                        "result": None,
                    }

        def externals() -> Iterator[dict[str, Any]]:
            for n, uid in enumerate(ids):
                if n % 20 == 0:
                    yield {
                        "user_id": uid,
                        "diagnosed_on": date(2026, 10, 1) + timedelta(n % 40),
                        "source": "ЦНППМ",
                        "deficits": rnd.sample(COMPETENCIES, 2),
                        "scores": {},
                        "imported_at": NOW,
                    }

        def registrations() -> Iterator[dict[str, Any]]:
            for n, uid in enumerate(ids):
                for k, e in enumerate(rnd.sample(events, per_teacher)):
                    over = e.status == "completed"
                    attended = over and k % 2 == 0
                    yield {
                        "event_id": e.id,
                        "user_id": uid,
                        "status": "attended" if attended else "confirmed",
                        "queue_no": n * per_teacher + k,
                        "created_at": ago(100),
                        "updated_at": ago(100),
                        "attended_at": e.starts_at if attended else None,
                        "feedback_rating": rnd.randint(1, 5) if attended else None,
                    }

        await _insert(session, "assessment_attempts", attempts())
        await _insert(session, "external_diagnoses", externals())
        await _insert(session, "registrations", registrations())
        attempt_rows = (
            await session.execute(
                select(
                    tables["assessment_attempts"].c.id, tables["assessment_attempts"].c.started_at
                )
            )
        ).tuples()
        codes = [f"q{j}" for j in range(answers)]
        await _insert(
            session,
            "assessment_answers",
            (
                {"attempt_id": aid, "statement_code": code, "value": j % 4, "answered_at": at}
                for aid, at in list(attempt_rows)
                for j, code in enumerate(codes)
            ),
        )
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
        await _insert(session, "routes", routes)
        route_ids = list(await session.scalars(select(tables["routes"].c.id)))
        kinds = ["learn", "practice", "masterclass", "mentoring", "transfer", "reflection"]
        await _insert(
            session,
            "route_steps",
            (
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
            ),
        )
        await session.commit()
    # what autovacuum does soon after a bulk load on PostgreSQL (statistics, and the visibility
    # map that lets index-only scans skip the table); SQLite's planner gets its statistics the
    # same way (`sqlite_stat1`)
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )
    return time.perf_counter() - started


Statement = tuple[str, Any, float]
#: the least CPU time (process, all threads) of each report's runs in `measure`
cpu_of: dict[str, float] = {}


async def measure(
    engine: AsyncEngine, runs: int = 5
) -> tuple[dict[str, tuple[float, list[Statement]]], tuple[float, list[Statement]]]:
    """Best of `runs` of each report, with its statements (SQL, parameters, seconds) of the
    best run; and `/teachers` (`repo.users.teachers_of`) of the largest municipality."""
    sessionmaker = create_sessionmaker(engine)
    period = Period.containing(PeriodKind.WEEK, NOW.date())
    async with sessionmaker() as session:
        first, second = (
            await session.scalars(select(Municipality.id).order_by(Municipality.id).limit(2))
        ).all()
    cases = {
        "region by municipality": (Scope(None), False),
        "the largest municipality (a quarter of the teachers) by school": (
            Scope(frozenset({first})),
            True,
        ),
        "a typical municipality (1/25 of the teachers) by school": (
            Scope(frozenset({second})),
            True,
        ),
    }
    seen: list[Statement] = []
    began: list[float] = []

    def before(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        began.append(time.perf_counter())

    def after(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters, time.perf_counter() - began.pop()))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    result: dict[str, tuple[float, list[Statement]]] = {}
    cpu_of.clear()
    try:
        for name, (scope, by_school) in cases.items():
            best, cpu, statements = float("inf"), float("inf"), []
            for _ in range(runs):
                seen.clear()
                async with sessionmaker() as session:
                    started, used = time.perf_counter(), time.process_time()
                    await report_for_scope(
                        Repo(session),
                        scope,
                        period,
                        TZ,
                        by_school=by_school,
                        trend_weeks=8,
                        now=NOW,
                    )
                    took = time.perf_counter() - started
                    cpu = min(cpu, time.process_time() - used)
                if took < best:
                    best, statements = took, list(seen)
            result[name] = (best, statements)
            cpu_of[name] = cpu
        best, statements = float("inf"), []
        for _ in range(runs * 4):
            seen.clear()
            async with sessionmaker() as session:
                started = time.perf_counter()
                await Repo(session).users.teachers_of(Scope(frozenset({first})))
                took = time.perf_counter() - started
            if took < best:
                best, statements = took, list(seen)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        event.remove(engine.sync_engine, "after_cursor_execute", after)
    return result, (best, statements)


async def plan(engine: AsyncEngine, statement: str, parameters: Any) -> list[str]:
    """SQLite's `EXPLAIN QUERY PLAN` tree, or PostgreSQL's `EXPLAIN (ANALYZE, BUFFERS)`."""
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)).all()
            depth: dict[int, int] = {0: -1}
            lines = []
            for node, parent, _, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + str(detail))
            return lines
        rows = (
            await conn.exec_driver_sql(
                f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters
            )
        ).all()
        return [str(r[0]) for r in rows]


def _first_line(statement: str) -> str:
    flat = " ".join(statement.split())
    return flat[:90] + ("…" if len(flat) > 90 else "")


async def report(engine: AsyncEngine, plans: bool) -> None:
    reports, (teachers_took, teachers_statements) = await measure(engine)
    for name, (seconds, statements) in reports.items():
        cpu = (
            f"; CPU {cpu_of[name] * 1000:.0f} ms (this process, all threads: what a quiet "
            "machine takes; on a loaded one the wall time is longer)"
            if engine.dialect.name == "sqlite"
            else ""  # the server's work is in another process
        )
        print(f"  {name}: {seconds * 1000:.0f} ms, {len(statements)} statements (best of 5){cpu}")
        for statement, _, took in statements:
            print(f"    {took * 1000:7.1f} ms  {_first_line(statement)}")
    print(f"  /teachers of the largest municipality: {teachers_took * 1000:.2f} ms (best of 20)")
    if not plans:
        return
    region = reports["region by municipality"][1] + teachers_statements
    for statement, parameters, took in region:
        if statement.lstrip().upper().startswith("SELECT") or "WITH" in statement[:20]:
            print(f"\n  plan ({took * 1000:.1f} ms): {_first_line(statement)}")
            for line in await plan(engine, statement, parameters):
                print(f"    {line}")


@contextlib.asynccontextmanager
async def _database(pg: bool, keep: Path | None) -> AsyncIterator[str]:
    if keep is not None:
        yield f"sqlite+aiosqlite:///{keep}"
        return
    with tempfile.TemporaryDirectory(prefix="metodbot-bench-") as tmp:
        if not pg:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'stats.db'}"
            return
        from tests.pg import create_database, postgres_server

        with postgres_server() as server:
            make: Callable[[str], str] = partial(create_database, server)
            yield make("bench_stats")


async def main_async(
    teachers: int, registrations: int, answers: int, pg: bool, plans: bool, keep: Path | None
) -> None:
    filled_before = keep is not None and await asyncio.to_thread(keep.exists)
    async with _database(pg, keep) as url:
        engine = create_engine(url)
        try:
            if keep is not None and filled_before:
                # a database filled by an earlier run: the newest migrations, fresh statistics
                await migrate.upgrade(engine)
                async with engine.connect() as conn:
                    await conn.execute(text("ANALYZE"))
                    await conn.commit()
                print(f"SQLite: {keep} as filled before, migrated")
                await _refresh(engine)
                await report(engine, plans)
                return
            filled = await fill(engine, teachers, registrations, answers)
            print(
                f"{'PostgreSQL' if pg else 'SQLite'}: {teachers} teachers, "
                f"{teachers * registrations} registrations, "
                f"{teachers * 8 // 10 * answers} answers filled in {filled:.1f} s"
            )
            await _refresh(engine)
            await report(engine, plans)
        finally:
            await engine.dispose()


async def _refresh(engine: AsyncEngine) -> None:
    """What the scheduler's ticks do after a bulk load: every user's milestones (migration
    0011's triggers marked them stale) recomputed, chunk by chunk, each in its own
    transaction. Then a write of one teacher (a route step done), as the bot makes all day:
    the reports below read that one teacher from the raw rows."""
    sessionmaker = create_sessionmaker(engine)
    started, rows, chunks = time.perf_counter(), 0, 0
    while True:
        async with sessionmaker() as session:
            n = await milestones.refresh(session, limit=5000)
            await session.commit()
        if not n:
            break
        rows, chunks = rows + n, chunks + 1
    took = time.perf_counter() - started
    print(f"  milestones refreshed: {rows} users in {took:.1f} s ({chunks} chunks of <= 5000)")
    # the planner's statistics were taken when every row was stale: what autovacuum (or, on
    # SQLite, `PRAGMA optimize`) soon does after so many changed rows
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("ANALYZE stats_milestones"))
    async with sessionmaker() as session:
        step = (await session.execute(text("SELECT id FROM route_steps LIMIT 1"))).scalar_one()
        await session.execute(
            text("UPDATE route_steps SET status = 'done' WHERE id = :id"), {"id": step}
        )
        await session.commit()
        print(f"  stale after one write: {await milestones.stale_count(session)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stats")
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--registrations", type=int, default=10, help="per teacher")
    parser.add_argument("--answers", type=int, default=50, help="per self-assessment")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--no-plans", action="store_true", help="skip the query plans")
    parser.add_argument(
        "--keep", type=Path, help="SQLite file to fill and keep, or to reuse when it exists"
    )
    args = parser.parse_args(argv)
    asyncio.run(
        main_async(
            args.teachers,
            args.registrations,
            args.answers,
            args.pg,
            plans=not args.no_plans,
            keep=args.keep,
        )
    )


if __name__ == "__main__":
    main()
