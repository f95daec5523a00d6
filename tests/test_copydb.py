"""`python -m bot copy-db`: the shipped sample installation (sites, events, a few teachers with
self-assessments, routes, registrations and queued notices) moves from SQLite to a real
PostgreSQL intact: every row equal, SQL NULL and JSON null kept apart, sequences past the copied
ids, repositories reading the copy; a non-empty target is refused, and a target that does not
store what it was given is caught by the checksums and rolled back."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.__main__ import main
from bot.copydb import DERIVED_TABLES, CopyError, copy_database
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import Base, Broadcast, Event, StatsMilestone, User
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from db.repo import Repo
from domain.notices import Notice, NoticeKind
from scheduler.runner import refresh_milestones
from services import assessment, registrations
from services import route as route_service
from tests.sample import load_sample_events
from tests.sample_teacher import WEAK, answer_all, fill_profile, ids

NOW = datetime(2026, 9, 1, 9, 30, 15, 123456, tzinfo=UTC)
TEACHERS = (7001, 7002, 7003)


async def _sample_installation(url: str) -> None:
    """The sample sites and events and three teachers, through the services: profiles,
    self-assessments, routes, sign-ups, queued notices; one assessment left unfinished (its
    result is SQL NULL) and one broadcast whose scope is JSON null."""
    engine = create_engine(url)
    await migrate.upgrade(engine)
    maker = create_sessionmaker(engine)
    await load_sample_events(maker)
    async with maker() as session:
        repo = Repo(session)
        muni_id, school_id = await ids(repo)
        events = [await repo.events.event_by_code(code) for code in SAMPLE_EVENT_CODES[:3]]
        for n, telegram_id in enumerate(TEACHERS):
            user, _ = await repo.users.get_or_create(telegram_id, "ru")
            await session.flush()
            await fill_profile(repo, user.id, muni_id, school_id, NOW)
            if n < 2:
                await answer_all(repo, user.id, WEAK, NOW)
                built = await route_service.build(
                    repo, user.id, [WEAK], "normal", None, date.today()
                )
                assert isinstance(built, route_service.Overview)
            else:
                await assessment.start(repo, user.id, NOW)  # unfinished: result IS NULL
            for event in events[: n + 1]:
                assert event is not None
                await registrations.sign_up(repo, event.id, user.id, NOW)
            await repo.outbox.add(
                [Notice(user.id, NoticeKind.ROLE_CHANGED, {"role": "teacher", "n": n + 0.5})], NOW
            )
        await session.commit()
    async with engine.begin() as conn:
        # a JSON null next to SQL NULLs: the two must not merge in the copy
        await conn.execute(
            insert(Broadcast).values(
                author_user_id=None,
                scope=JSON.NULL,
                filters={"positions": ["teacher"], "ratio": 0.25},
                source_chat_id=-1001234567890123,
                source_message_id=7,
                content_kind="text",
                preview='<b>Всем</b> & "всё" 🎓\nвторая строка',
                buttons={},
                total=0,
                state="draft",
                created_at=NOW,
            )
        )
    await engine.dispose()


async def _rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read through the models' types, in primary-key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in DERIVED_TABLES:
                continue
            order = list(table.primary_key.columns)
            rows = (await conn.execute(select(table).order_by(*order))).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


async def _null_kinds(engine: AsyncEngine) -> dict[str, tuple[int, int]]:
    """(SQL NULL, any value) counts of every nullable JSON column."""
    kinds: dict[str, tuple[int, int]] = {}
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in DERIVED_TABLES:
                continue
            for col in table.columns:
                if isinstance(col.type, JSON) and col.nullable:
                    nulls = await conn.scalar(select(func.count()).where(col.is_(None)))
                    total = await conn.scalar(select(func.count()).select_from(table))
                    kinds[f"{table.name}.{col.name}"] = (int(nulls or 0), int(total or 0))
    return kinds


@pytest.mark.postgres
async def test_copy_db_moves_the_sample_installation_to_postgresql_intact(
    sqlite_url: str, pg_url: str
) -> None:
    await _sample_installation(sqlite_url)
    report = await copy_database(sqlite_url, pg_url, chunk=7)  # chunks smaller than tables
    assert report.ok and report.committed, report.render()
    names = {t.name for t in report.tables}
    assert names == {t.name for t in Base.metadata.sorted_tables} - {
        "alembic_version",
        *DERIVED_TABLES,
    }
    counts = {t.name: t.target_rows for t in report.tables}
    for name in ("users", "events", "sites", "routes", "route_steps", "registrations", "outbox"):
        assert counts[name] > 0, name
    assert counts["assessment_answers"] > 7  # more than one chunk
    assert "MISMATCH" not in report.render()

    source, target = create_engine(sqlite_url), create_engine(pg_url)
    try:
        # independent of the checksums: every row equal, value by value, through the types
        assert await _rows(target) == await _rows(source)
        # the statistics milestones rebuilt by the target's triggers: one stale row per user,
        # recomputed by the scheduler's refresh
        async with target.connect() as conn:
            users = await conn.scalar(select(func.count()).select_from(User))
            stale = await conn.scalar(
                select(func.count()).select_from(StatsMilestone).where(StatsMilestone.stale)
            )
        assert users and stale == users
        assert await refresh_milestones(create_sessionmaker(target)) == users
        kinds = await _null_kinds(target)
        assert kinds == await _null_kinds(source)
        # the unfinished attempt's SQL NULL and the broadcast's JSON null stay what they were
        assert kinds["assessment_attempts.result"] == (1, 3)
        assert kinds["broadcasts.scope"] == (0, 1)

        maker = create_sessionmaker(target)
        async with maker() as session:
            repo = Repo(session)
            tricky = await session.scalar(select(Event).where(Event.title == TRICKY_TITLE))
            assert tricky is not None and tricky.starts_at.tzinfo is not None
            user = await repo.users.by_telegram_id(TEACHERS[0])
            assert user is not None and user.full_name == "Иванова Анна Петровна"
            assert user.profile_completed_at == NOW
            overview = await route_service.overview(repo, user.id)
            assert isinstance(overview, route_service.Overview)
            assert overview.route.steps and overview.route.steps[0].content["competency"]
            queued = await repo.outbox.of_user(user.id)
            mine = [q.payload for q in queued if q.kind == NoticeKind.ROLE_CHANGED]
            assert mine == [{"role": "teacher", "n": 0.5}] and len(queued) > 1
            assert len(await repo.events.of_user(user.id)) == 1
            # the sequences moved past the copied ids: a new row gets a fresh id
            newcomer, created = await repo.users.get_or_create(7999, "ru")
            await session.flush()
            copied = [u for u in await session.scalars(select(User.id)) if u != newcomer.id]
            assert created and newcomer.id > max(copied)
            await session.rollback()
    finally:
        await source.dispose()
        await target.dispose()

    # and back: PostgreSQL (read in one REPEATABLE READ snapshot) to a fresh SQLite file
    back_url = sqlite_url.replace("test.db", "back.db")
    back = await copy_database(pg_url, back_url)
    assert back.ok and back.committed
    assert [t.source_sum for t in back.tables] == [t.source_sum for t in report.tables]
    source, back_engine = create_engine(sqlite_url), create_engine(back_url)
    try:
        assert await _rows(back_engine) == await _rows(source)
    finally:
        await source.dispose()
        await back_engine.dispose()

    # a second copy into a database that has rows is refused, and changes nothing
    with pytest.raises(CopyError, match=r"not empty.*--force"):
        await copy_database(sqlite_url, pg_url)
    # --force empties it first and copies again
    again = await copy_database(sqlite_url, pg_url, force=True)
    assert again.ok and again.committed
    assert [t.target_rows for t in again.tables] == [t.target_rows for t in report.tables]


@pytest.mark.postgres
async def test_a_target_that_alters_values_is_caught_and_rolled_back(
    sqlite_url: str, pg_url: str
) -> None:
    await _sample_installation(sqlite_url)
    target = create_engine(pg_url)
    await migrate.upgrade(target)
    async with target.begin() as conn:
        # a target that silently changes what it stores (a trigger, a lossy column, ...)
        await conn.execute(
            text(
                "CREATE FUNCTION shorten() RETURNS trigger AS $$ BEGIN "
                "NEW.title := left(NEW.title, 10); RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        await conn.execute(
            text(
                "CREATE TRIGGER shorten BEFORE INSERT ON events "
                "FOR EACH ROW EXECUTE FUNCTION shorten()"
            )
        )
    report = await copy_database(sqlite_url, pg_url)
    assert not report.ok and not report.committed
    bad = [t.name for t in report.tables if not t.ok]
    assert bad == ["events"]
    assert "MISMATCH" in report.render()
    async with target.connect() as conn:  # rolled back: nothing half-copied stays
        assert await conn.scalar(select(func.count()).select_from(User)) == 0
    await target.dispose()


@pytest.mark.postgres
def test_cli_copy_db_prints_the_table_and_fails_on_a_mismatch(
    sqlite_url: str,
    pg_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asyncio.run(_sample_installation(sqlite_url))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["copy-db", "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "copied and verified" in out
    assert all(
        line.rstrip().endswith("ok")
        for line in out.splitlines()
        if line.split() and line.split()[0] in {"users", "events", "outbox", "route_steps"}
    )
    # the target has rows now: refused politely with exit code 2, nothing changed
    assert main(["copy-db", "--from", sqlite_url, "--to", pg_url]) == 2
    assert "not empty" in capsys.readouterr().err

    async def sabotage() -> None:
        engine = create_engine(pg_url)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "CREATE FUNCTION later() RETURNS trigger AS $$ BEGIN "
                    "NEW.created_at := NEW.created_at + interval '1 second'; RETURN NEW; "
                    "END $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER later BEFORE INSERT ON outbox "
                    "FOR EACH ROW EXECUTE FUNCTION later()"
                )
            )
        await engine.dispose()

    asyncio.run(sabotage())
    assert main(["copy-db", "--from", sqlite_url, "--to", pg_url, "--force"]) == 1
    captured = capsys.readouterr()
    assert "MISMATCH" in captured.out and "rolled back" in captured.err

    async def users_kept() -> int:
        engine = create_engine(pg_url)
        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(User))
        await engine.dispose()
        return int(count or 0)

    # the failed --force run was rolled back too: the earlier copy is still there
    assert asyncio.run(users_kept()) == len(TEACHERS)


def test_copy_db_refuses_bad_urls_and_missing_files(tmp_path: Any) -> None:
    assert main(["copy-db", "--from", "mysql://x/y", "--to", "sqlite+aiosqlite:///x.db"]) == 2
    missing = f"sqlite+aiosqlite:///{tmp_path / 'nope.db'}"
    assert main(["copy-db", "--from", missing, "--to", f"sqlite+aiosqlite:///{tmp_path}/t.db"]) == 2


async def test_a_running_bots_sqlite_is_copied_from_a_snapshot(tmp_path: Path) -> None:
    """While the bot writes (a committed change still only in the WAL file, and a write
    transaction open), the copy is neither blocked nor torn: it holds what was committed."""
    source_url = f"sqlite+aiosqlite:///{tmp_path / 'live.db'}"
    await _sample_installation(source_url)
    live = sqlite3.connect(tmp_path / "live.db", isolation_level=None)
    try:
        live.execute("PRAGMA wal_autocheckpoint=0")  # the committed change stays in the WAL
        live.execute("UPDATE users SET full_name = 'Committed' WHERE telegram_id = ?", (7001,))
        live.execute("BEGIN IMMEDIATE")  # the bot in the middle of a write
        live.execute("UPDATE users SET full_name = 'Uncommitted' WHERE telegram_id = ?", (7002,))
        assert (tmp_path / "live.db-wal").stat().st_size > 0
        target_url = f"sqlite+aiosqlite:///{tmp_path / 'copy.db'}"
        report = await asyncio.wait_for(copy_database(source_url, target_url), 120)
        assert report.ok and report.committed
    finally:
        live.execute("ROLLBACK")
        live.close()
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        names = dict(copy.execute("SELECT telegram_id, full_name FROM users").fetchall())
    finally:
        copy.close()
    assert names[7001] == "Committed"
    assert names[7002] == "Иванова Анна Петровна"
