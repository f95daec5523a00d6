"""Fixtures of the fault tests: the emulator, the bot processes, the seeded database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from devtools.emulator import BotAPIEmulator, SpecValidator
from tests.conftest import TEST_TOKEN
from tests.faults.rig import Bots, Maker, prepare


@pytest.fixture
async def emu(spec: SpecValidator | None) -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emulator:
        yield emulator


@pytest.fixture
async def bots(emu: BotAPIEmulator, tmp_path: Path) -> AsyncIterator[Bots]:
    """Start bot processes with `bots.new(url, **env).start()`; all are killed afterwards,
    and every call they made must have been a valid Bot API call."""
    rig = Bots(emu, tmp_path)
    try:
        yield rig
    finally:
        await rig.kill_all()
    emu.assert_no_violations()


@pytest.fixture
async def open_db() -> AsyncIterator[Callable[[str], Awaitable[Maker]]]:
    """`await open_db(url)`: the database migrated and holding the sample reference lists;
    the session maker of the test process (its engine is disposed afterwards)."""
    engines: list[AsyncEngine] = []

    async def open_(url: str) -> Maker:
        engine, sessionmaker = await prepare(url)
        engines.append(engine)
        return sessionmaker

    yield open_
    for engine in engines:
        await engine.dispose()
