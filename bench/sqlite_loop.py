"""Micro-benchmark of the two SQLite engines: aiosqlite (a thread per connection) against the
loop-thread dialect (`db.sqlite_loop`), same file, same run, rounds interleaved.

    python -m bench.sqlite_loop [--n N] [--rounds R]

Per engine, the median over the rounds of the time per operation:
  select   one ORM select of a user by Telegram id in an open session
  unit     a session opened, that select, commit, closed (an update's read-only unit of work)
  write    a session opened, an audit row added, commit, closed (an update's write)
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import prepare_database, prepare_update_database
from core.settings import Settings
from db.models import AuditEntry, User
from db.repo import Repo

TOKEN = "123456:BENCH-token-abcdefghij"
USERS = 200


async def _seed(maker: async_sessionmaker[AsyncSession]) -> None:
    async with maker() as session:
        repo = Repo(session)
        for telegram_id in range(1, USERS + 1):
            await repo.users.get_or_create(telegram_id, "ru")
        await session.commit()


def _ops(
    maker: async_sessionmaker[AsyncSession],
) -> dict[str, Callable[[int], Awaitable[None]]]:
    async def select_(n: int) -> None:
        async with maker() as session:
            for i in range(n):
                await session.scalar(select(User).where(User.telegram_id == i % USERS + 1))

    async def unit(n: int) -> None:
        for i in range(n):
            async with maker() as session:
                await session.scalar(select(User).where(User.telegram_id == i % USERS + 1))
                await session.commit()

    async def write(n: int) -> None:
        for _ in range(n):
            async with maker() as session:
                session.add(AuditEntry(action="bench", details={}))
                await session.commit()

    return {"select": select_, "unit": unit, "write": write}


async def main(n: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            bot_token=TOKEN,
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}",
            log_level="WARNING",
        )
        engine, threaded = await prepare_database(settings)
        loop_engine, loop = prepare_update_database(engine, threaded)
        try:
            await _seed(threaded)
            engines = {"aiosqlite": _ops(threaded), "loop": _ops(loop)}
            for ops in engines.values():  # warm the pools and the statement caches
                for op in ops.values():
                    await op(20)
            times: dict[tuple[str, str], list[float]] = {}
            for _ in range(rounds):
                for kind in ("select", "unit", "write"):
                    for name, ops in engines.items():
                        started = time.perf_counter()
                        await ops[kind](n)
                        per_op = (time.perf_counter() - started) / n * 1000
                        times.setdefault((name, kind), []).append(per_op)
            print(f"{n} operations x {rounds} rounds, median ms per operation")
            print(f"{'':8} {'aiosqlite':>10} {'loop':>8} {'ratio':>7}")
            for kind in ("select", "unit", "write"):
                a = statistics.median(times[("aiosqlite", kind)])
                b = statistics.median(times[("loop", kind)])
                print(f"{kind:8} {a:10.3f} {b:8.3f} {a / b:6.1f}x")
        finally:
            await loop_engine.dispose()
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
