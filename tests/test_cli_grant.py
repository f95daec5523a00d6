"""`python -m bot grant`: the same use case as /grant — audited, and the person is told (the
notice waits in the outbox for the running bot)."""

from __future__ import annotations

import asyncio

import pytest

from bot.__main__ import main
from bot.app import prepare_database
from db.repo import Repo
from tests.conftest import make_settings


def test_cli_grant_is_audited_and_queues_the_notice(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed() -> None:
        engine, maker = await prepare_database(make_settings(db_url))
        async with maker() as session:
            await Repo(session).users.get_or_create(4242, "ru")
            await session.commit()
        await engine.dispose()

    async def check() -> tuple[str, list[str], list[str]]:
        engine, maker = await prepare_database(make_settings(db_url))
        async with maker() as session:
            repo = Repo(session)
            user = await repo.users.by_telegram_id(4242)
            assert user is not None
            audit = [e.action for e in await repo.audit.recent(10)]
            queued = [r.kind for r in await repo.outbox.of_user(user.id)]
        await engine.dispose()
        return user.role, audit, queued

    asyncio.run(seed())
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["grant", "4242", "coordinator", "volgodonsk"]) == 0
    role, audit, queued = asyncio.run(check())
    assert role == "coordinator" and "role_set" in audit
    assert queued == ["role_changed"]
