"""The resident size of the running bot: `python -m bot run` (polling, SQLite) in a process of
its own against the Bot API emulator (another process), on a database of many teachers.

    python -m bench.memory [--db FILE | --teachers N] [--updates N]
    python -m bench.run memory ...                     the same

`--db FILE` is copied first (never modified; /tmp/speed.db from `python -m bench.stats
--teachers 100000 --keep /tmp/speed.db` is such a file); without it a database of N teachers
(default 100,000) is filled by `bench.stats` (takes minutes). Prints the resident size (VmRSS)
of a bare interpreter, of the bot's modules imported with the dispatcher built (no database,
no network), of the running bot after start, and after a burst of updates from the teachers
(`/start`, `/help`, `/events`, `/route`, `/profile` in turn), with the peak (VmHWM). Figures go
to README, never into tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.emulator_proc import ROOT, TOKEN, EmulatorProcess

#: the teachers of `bench.stats` have Telegram ids from here on
FIRST_TEACHER = 10_000_000
MIX = ("/start", "/help", "/events", "/route", "/profile")
#: what the dispatcher loads, without a database or the network (the imports' share)
_IMPORTS_ONLY = (
    "import bot.app, handlers; handlers.get_routers(); from pathlib import Path; "
    "print(next(l.split()[1] for l in Path('/proc/self/status').read_text().splitlines() "
    "if l.startswith('VmRSS')))"
)
_BARE = (
    "from pathlib import Path; print(next(l.split()[1] for l in "
    "Path('/proc/self/status').read_text().splitlines() if l.startswith('VmRSS')))"
)


def _status_kb(pid: int, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _mib(kb: int) -> str:
    return f"{kb / 1024:6.1f} MiB"


def _child_env(database_url: str, api_base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {
        "PYTHONPATH": str(ROOT),  # this checkout's code, whatever the venv has installed
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": api_base,
        "DATABASE_URL": database_url,
        "RUN_MODE": "polling",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_RATE": "10000",
        "THROTTLE_BURST": "10000",
        "QUIET_HOURS": "off",
    }
    return env


def _python_rss(code: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return int(out.stdout.strip().splitlines()[-1])


def _database(db: Path | None, teachers: int, tmp: Path) -> Path:
    target = tmp / "memory.db"
    if db is not None:
        if not db.is_file():
            raise SystemExit(f"{db}: no such file")
        shutil.copyfile(db, target)  # the given file stays as it was
        return target
    print(f"filling a database of {teachers} teachers (bench.stats; takes a while)...")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.stats",
            "--teachers",
            str(teachers),
            "--no-plans",
            "--keep",
            str(target),
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return target


async def _quiet(emu: EmulatorProcess, key: str, *, at_least: int, within: float) -> int:
    """Wait until the emulator's `key` reaches `at_least` and then stops growing for 2 s."""
    deadline = time.monotonic() + within
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        value = int((await emu.stats())[key])
        if value != last:
            last, since = value, time.monotonic()
        elif value >= at_least and time.monotonic() - since >= 2:
            return value
        await asyncio.sleep(0.25)
    return last


async def measure(db: Path, updates: int, users: int) -> dict[str, int]:
    url = f"sqlite+aiosqlite:///{db}"
    figures: dict[str, int] = {}
    async with EmulatorProcess(FIRST_TEACHER, users) as emu:
        started = time.monotonic()
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=db.parent,  # no .env of the checkout: only the settings given here
            env=_child_env(url, emu.base_url),
        )
        try:
            # started: the start-up calls (getMe, commands, ...) were made and it went quiet
            await _quiet(emu, "calls", at_least=1, within=180)
            if bot.returncode is not None:
                raise SystemExit(f"the bot exited at start (code {bot.returncode})")
            figures["start_s"] = int(time.monotonic() - started)
            await asyncio.sleep(3)
            figures["after_start"] = _status_kb(bot.pid, "VmRSS")
            for i in range(updates):
                await emu.ask(f"say {FIRST_TEACHER + i % users} {MIX[i % len(MIX)]}")
            sent = await _quiet(emu, "send_ok", at_least=updates, within=600)
            figures["replies"] = sent
            figures["after_burst"] = _status_kb(bot.pid, "VmRSS")
            figures["peak"] = _status_kb(bot.pid, "VmHWM")
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(bot.wait(), 30)
                except TimeoutError:
                    bot.kill()
                    await bot.wait()
    return figures


async def report(db: Path | None, teachers: int, updates: int, users: int) -> None:
    with tempfile.TemporaryDirectory(prefix="metodbot-memory-") as tmp:
        path = _database(db, teachers, Path(tmp))
        size = path.stat().st_size
        bare = _python_rss(_BARE)
        imports = _python_rss(_IMPORTS_ONLY)
        figures = await measure(path, updates, users)
    print(f"memory of the running bot (python -m bot run, polling, SQLite {size / 2**20:.0f} MB):")
    print(f"  bare interpreter                         {_mib(bare)}")
    print(f"  modules imported, dispatcher built       {_mib(imports)}")
    print(
        f"  running, after start ({figures['start_s']} s)             {_mib(figures['after_start'])}"
    )
    print(
        f"  after a burst of {updates} updates from {users} teachers "
        f"({figures['replies']} replies)  {_mib(figures['after_burst'])}   "
        f"peak {_mib(figures['peak'])}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--db", type=Path, default=None, help="a SQLite file to copy and use")
    parser.add_argument("--teachers", type=int, default=100_000, help="without --db: fill one")
    parser.add_argument("--updates", type=int, default=500, help="the burst after start")
    parser.add_argument("--users", type=int, default=100, help="teachers sending the burst")
    args = parser.parse_args(argv)
    asyncio.run(report(args.db, args.teachers, args.updates, args.users))


if __name__ == "__main__":
    main()
