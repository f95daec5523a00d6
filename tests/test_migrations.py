"""Alembic: every revision upgrades, downgrades and upgrades again (the stairway), and the
models match the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from db import migrate
from db.engine import create_engine
from db.models import Base


async def test_stairway(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    revisions = migrate.revisions()
    assert revisions[0] == "0001"
    previous = "base"
    for revision in revisions:
        await migrate.upgrade(engine, revision)
        assert await migrate.current_revision(engine) == revision
        await migrate.downgrade(engine, previous)
        await migrate.upgrade(engine, revision)
        previous = revision
    await migrate.downgrade(engine, "base")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
    assert set(tables) <= {"alembic_version"}
    await engine.dispose()


async def test_models_match_migrations(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    await migrate.upgrade(engine)

    def diff(conn: Connection) -> list[object]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    await engine.dispose()


async def test_0009_moves_each_coordinators_municipality_into_staff_scopes(
    empty_db_url: str,
) -> None:
    engine = create_engine(empty_db_url)
    await migrate.upgrade(engine, "0008")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO municipalities (id, code, name_ru, name_en, region_ru, region_en, "
                "sort_order, is_sample) VALUES (7, 'm7', 'М', 'M', 'Р', 'R', 0, false)"
            )
        )
        for uid, role, staff_muni in (
            (1, "coordinator", 7),
            (2, "teacher", None),
            (3, "coordinator", None),
        ):
            await conn.execute(
                text(
                    "INSERT INTO users (id, telegram_id, language, role, consent, muted, "
                    "mentor_volunteer, staff_municipality_id, created_at, updated_at) VALUES "
                    "(:id, :tg, 'ru', :role, 'none', '[]', false, :muni, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"id": uid, "tg": 100 + uid, "role": role, "muni": staff_muni},
            )
    await migrate.upgrade(engine, "0009")
    async with engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT user_id, municipality_id, school_id FROM staff_scopes"))
        ).all()
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("users")}
        )
    assert [tuple(r) for r in rows] == [(1, 7, None)]
    assert "username" in columns
    async with engine.connect() as conn:
        emptied = await conn.scalar(
            text("SELECT COUNT(*) FROM users WHERE staff_municipality_id IS NOT NULL")
        )
        kept = await conn.scalar(text("SELECT COUNT(*) FROM users"))
    assert (emptied, kept) == (0, 3)  # nothing reads the old column; no user row is lost
    await migrate.downgrade(engine, "0008")
    async with engine.connect() as conn:
        back = (
            await conn.execute(text("SELECT id, staff_municipality_id FROM users ORDER BY id"))
        ).all()
    assert [tuple(r) for r in back] == [(1, 7), (2, None), (3, None)]
    await engine.dispose()
