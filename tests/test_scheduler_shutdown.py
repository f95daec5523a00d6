"""A shutdown lets a running scheduled job finish (`scheduler.RunningJobs`, `BotApp`'s
`_on_shutdown`) instead of cancelling it in the middle of its transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.app import BotApp
from scheduler import RunningJobs
from tests.conftest import make_settings


async def test_wait_lets_a_running_job_finish() -> None:
    running = RunningJobs()
    finished: list[int] = []

    async def job() -> int:
        await asyncio.sleep(0.2)
        finished.append(1)
        return 1

    task = asyncio.create_task(running.track(job)())
    await asyncio.sleep(0.01)
    assert running.count == 1
    assert await running.wait(5.0)
    assert finished == [1] and running.count == 0 and task.result() == 1


async def test_wait_gives_up_after_the_grace_period() -> None:
    running = RunningJobs()
    gate = asyncio.Event()

    async def stuck() -> int:
        await gate.wait()
        return 0

    task = asyncio.create_task(running.track(stuck)())
    await asyncio.sleep(0.01)
    assert not await running.wait(0.05)  # still running: the caller goes on shutting down
    assert not task.done()
    gate.set()
    assert await task == 0 and running.count == 0
    assert await running.wait(0.05)  # nothing runs: at once


async def test_the_app_shutdown_waits_for_the_tick(tmp_path: Path) -> None:
    """`BotApp._on_shutdown`: a job in flight when the process stops completes."""
    app = BotApp(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"))
    await app.setup()
    try:
        done: list[str] = []

        async def slow() -> int:
            await asyncio.sleep(0.3)
            done.append("tick")
            return 0

        app.scheduler.start(paused=True)
        task = asyncio.create_task(app.jobs.track(slow)())
        await asyncio.sleep(0.01)
        await app._on_shutdown()
        assert done == ["tick"] and task.done() and not task.cancelled()
        await asyncio.sleep(0)  # AsyncIOScheduler stops on the loop's next turn
        assert not app.scheduler.running
    finally:
        await app.stop()
