"""Alembic: every revision upgrades, downgrades and upgrades again (the stairway), and the
models match the migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from db import migrate
from db.engine import create_engine
from db.models import Base


async def test_stairway(db_url: str) -> None:
    engine = create_engine(db_url)
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


async def test_models_match_migrations(db_url: str) -> None:
    engine = create_engine(db_url)
    await migrate.upgrade(engine)

    def diff(conn: Connection) -> list[object]:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    await engine.dispose()
