"""A broadcast to 10,000 teachers against Telegram's limits (issue #10), run by
`python -m bench.run broadcasts [--recipients N | --quick] [--pg]`.

Each pass gets a fresh database filled in bulk (N teachers with complete profiles, one
coordinator of their municipality, a few methodists who ask `/help`) and a fresh Bot API
emulator in a process of its own **enforcing Telegram's flood limits**
(devtools/emulator/ratelimit.py: a token bucket of 30 messages/s holding one second's worth,
1000/s for calls with `allow_paid_broadcast`, 1/s per chat; `429 retry after N` beyond, counted).
The coordinator's message is in her chat in the emulator; the broadcast is created by
`services.broadcasts.create` (the wizard's own call: N outbox rows, one `copyMessage` each).

Passes:
* **free, kill and resume**: the real `OutboxSender` in a child process drains the broadcast at
  `OUTBOX_RATE=30`, `OUTBOX_CHAT_RATE=1`. 30 is the emulator's limit itself: the sender's
  limiter lets 3 messages through per 100 ms and never more than 30 in any second, so it
  never exceeds a 30/s bucket; real Telegram's "about 30" is looser, and the bot's default
  stays 25. Half-way (by the copies the emulator received) the child is SIGKILLed and a new one
  started; it drains what is left, including the dead sender's rows once their lease
  (`OUTBOX_LEASE_SECONDS`, default 60 s) has lapsed. Reported: the sustained rate over the
  steady part of each sender's run (from the emulator's arrival times; the first and last 5 %
  of each run left out) as a fraction of 30/s, the 429s, the total time, and per chat what the
  emulator received: duplicates (a chat got the copy twice) and losses (never got it).
* **paid**: the real bot (`BotApp`: long polling and its sender in one process, as in
  production) in a child process with `OUTBOX_PAID_BROADCAST=true` at `OUTBOX_PAID_RATE=1000`.
  Methodists send `/help` every 50 ms in turn (each one every 2 s: the per-chat limit holds)
  first with nothing to send (the baseline), then while the broadcast drains; the emulator
  times each reply (from the update to the bot's answer). Reported: the rate reached, where
  the time goes per row (claim, render, send, mark, as in bench/reminders.py), and the p95 of
  `/help` during the drain against the baseline.

    python -m bench.run broadcasts [--recipients N | --quick] [--pg]

Figures are measurements, never test assertions (tests/test_bench_broadcasts.py only checks
that every recipient gets exactly one copy, with no 429s, across a kill and resume).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.emulator_proc import TOKEN, EmulatorProcess, cpu_seconds, max_rss_kb
from bench.reminders import PHASES, Phases, _databases, instrument, outbox_states
from bot.app import BotApp, build_bot, load_i18n, prepare_database
from core.clock import utcnow
from core.settings import Settings
from db.models import Base, School, StaffScope, User
from db.repo import Repo
from domain.broadcasts import Filters
from domain.roles import Role
from outbox.sender import OutboxSender
from services import broadcasts as service

ROOT = Path(__file__).resolve().parents[1]
RECIPIENTS = 10_000
QUICK = 600
#: the quick run's lease (seconds), so that it does not wait a minute for the dead sender's rows
QUICK_LEASE = 10.0
#: the full run's lease: the default OUTBOX_LEASE_SECONDS
LEASE = 60.0
#: Telegram's free limit, which the emulator enforces, and the sender's rate at it
LIMIT = 30.0
PAID_RATE = 1000.0
#: the coordinator's chat; the teachers are FIRST_CHAT + 1 .. + N, then the methodists
FIRST_CHAT = 8_000_000
ASKERS = 40
ASK_EVERY = 0.05
BASELINE_S = 10.0
KILL_AT = 0.5
CHUNK = 10_000
NO_API = "http://127.0.0.1:9"
TEXT = "Семинар для учителей: формирующее оценивание. Программа и запись по ссылке."
#: the share of a sender's copies left out at each end of its run when the rate is taken
EDGE = 0.05
#: a stretch without a copy longer than this (seconds) is idle time, not sending time
IDLE = 1.0


def settings_for(api: str, database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": database_url,
        "telegram_api_base": api,
        "log_level": "WARNING",
        "outbox_rate": LIMIT,
        "outbox_chat_rate": 1.0,
        "outbox_poll_seconds": 0.2,
        "quiet_hours": "off",
        "throttle_rate": 10_000.0,
        "throttle_burst": 10_000,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


def teachers(recipients: int) -> range:
    return range(FIRST_CHAT + 1, FIRST_CHAT + 1 + recipients)


def askers(recipients: int) -> range:
    return range(FIRST_CHAT + 1 + recipients, FIRST_CHAT + 1 + recipients + ASKERS)


# ---------------------------------------------------------------------------- the fill


async def fill(database_url: str, recipients: int) -> float:
    """Migrate a fresh database: the coordinator, `recipients` teachers, ASKERS methodists."""
    started = time.perf_counter()
    now = utcnow()
    engine, sessionmaker = await prepare_database(settings_for(NO_API, database_url))
    try:
        async with sessionmaker() as session:
            muni = (await Repo(session).reference.municipalities())[0].id
            school = await session.scalar(select(School.id).where(School.municipality_id == muni))

            def person(chat_id: int, n: int, position: str, role: str) -> dict[str, Any]:
                return {
                    "telegram_id": chat_id,
                    "language": "en" if n % 3 == 0 else "ru",
                    "role": role,
                    "consent": "given",
                    "consent_at": now,
                    "full_name": f"Учитель {n}",
                    "municipality_id": muni,
                    "school_id": school,
                    "position_code": position,
                    "experience_years": 5 + n % 30,
                    "age_band": "35_plus",
                    "profile_completed_at": now,
                    "timezone": "Europe/Moscow",
                    "quiet_hours": "off",
                    "muted": [],
                    "mentor_volunteer": False,
                    "created_at": now,
                    "updated_at": now,
                }

            people = [person(FIRST_CHAT, 0, "methodist", "coordinator")]
            people += [
                person(chat_id, n, "teacher", "teacher")
                for n, chat_id in enumerate(teachers(recipients))
            ]
            people += [
                person(chat_id, n, "methodist", "teacher")
                for n, chat_id in enumerate(askers(recipients))
            ]
            users = Base.metadata.tables["users"]
            for lo in range(0, len(people), CHUNK):
                await session.execute(insert(users), people[lo : lo + CHUNK])
            coordinator = await session.scalar(
                select(User.id).where(User.telegram_id == FIRST_CHAT)
            )
            session.add(StaffScope(user_id=coordinator, municipality_id=muni))  # her scope
            await session.commit()
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def create_broadcast(database_url: str, source_message_id: int) -> dict[str, Any]:
    """The wizard's `services.broadcasts.create`, "send now", to every teacher."""
    engine, sessionmaker = await prepare_database(settings_for(NO_API, database_url))
    started = time.perf_counter()
    try:
        async with sessionmaker() as session:
            repo = Repo(session)
            staff = await repo.users.by_telegram_id(FIRST_CHAT)
            assert staff is not None
            done = await service.create(
                repo,
                staff,
                Role.COORDINATOR,
                service.Draft(
                    source_chat_id=FIRST_CHAT,
                    source_message_id=source_message_id,
                    content_kind="text",
                    preview=TEXT[:60],
                    filters=Filters(positions=("teacher",)),
                    url="https://example.org/register",
                    url_label="📝 Запись",
                ),
                utcnow(),
            )
            assert not isinstance(done, service.Refusal), done
            await session.commit()
            total = done.total
    finally:
        await engine.dispose()
    return {"total": total, "create_s": time.perf_counter() - started}


# ---------------------------------------------------------------------------- children


async def _waiting(sender: OutboxSender) -> int:
    async with sender.sessionmaker() as session:
        return await Repo(session, sender.policy).outbox.waiting(sender.clock())


async def drain_child(api: str, database_url: str, rows: int, lease: float) -> dict[str, Any]:
    """(child) The real sender drains until no row is pending, the dead sender's included
    once their lease lapses; it may be SIGKILLed at any moment."""
    settings = settings_for(api, database_url, outbox_lease_seconds=lease)
    engine, sessionmaker = await prepare_database(settings)
    bot = build_bot(settings)
    try:
        sender = OutboxSender(sessionmaker, bot, load_i18n(settings), settings)
        phases = Phases(rows)
        instrument(sender, phases)
        print("STARTED", flush=True)
        started, cpu0 = time.perf_counter(), cpu_seconds()
        sent = retried = 0
        while True:
            report = await sender.drain()
            sent, retried = sent + report.sent, retried + report.retried
            if not await _waiting(sender):
                break
            await asyncio.sleep(0.2)  # rows leased by a dead sender: wait for the lease
        elapsed = time.perf_counter() - started
    finally:
        await bot.session.close()
        await engine.dispose()
    return {
        "sent": sent,
        "retried": retried,
        "elapsed_s": elapsed,
        "cpu_s": cpu_seconds() - cpu0,
        "phase_s": phases.seconds,
        "batches": phases.batches,
        "batch_size": sender.batch_size,
        "concurrency": settings.outbox_concurrency,
    }


async def bot_child(api: str, database_url: str, rows: int) -> dict[str, Any]:
    """(child) The real bot, polling and sending with `allow_paid_broadcast`, until `quit`."""
    settings = settings_for(
        api, database_url, outbox_paid_broadcast=True, outbox_paid_rate=PAID_RATE
    )
    app = BotApp(settings)
    await app.setup()
    phases = Phases(rows)
    instrument(app.sender, phases)
    await app.start_polling()
    cpu0 = cpu_seconds()
    try:
        print("STARTED", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
    finally:
        await app.stop()
    return {
        "cpu_s": cpu_seconds() - cpu0,
        "phase_s": phases.seconds,
        "sent": phases.sent,
        "batches": phases.batches,
        "batch_size": app.sender.batch_size,
        "concurrency": settings.outbox_concurrency,
        "max_rss_kb": max_rss_kb(),
    }


class Child:
    """`python -m bench.broadcasts MODE ARGS` in a process of its own."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.broadcasts",
            *self.args,
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 120)
        if line.decode().strip() != "STARTED":
            raise RuntimeError(f"bench.broadcasts {self.args[0]} did not start: {line!r}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no shutdown, no marking of what is in flight

    async def result(self, quit_: bool = False) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        if quit_:
            self.proc.stdin.write(b"quit\n")
            await self.proc.stdin.drain()
        out, _ = await self.proc.communicate()
        if self.proc.returncode != 0:
            raise RuntimeError(f"bench.broadcasts {self.args[0]} failed ({self.proc.returncode})")
        result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
        return result

    async def reap(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
        if self.proc is not None:
            await self.proc.wait()


# ---------------------------------------------------------------------------- the passes


def steady_rate(times: list[float]) -> float:
    """Copies a second over a run, its first and last EDGE of copies left out, and the idle
    stretches (no copy for over IDLE seconds: the new sender waiting for the dead one's lease)
    not counted as time."""
    if len(times) < 20:
        return float("nan")
    lo, hi = int(len(times) * EDGE), int(len(times) * (1 - EDGE)) - 1
    span = times[hi] - times[lo]
    span -= sum(gap for a, b in itertools.pairwise(times[lo : hi + 1]) if (gap := b - a) > IDLE)
    return (hi - lo) / span if span > 0 else float("nan")


def idle_s(times: list[float]) -> float:
    return sum(gap for a, b in itertools.pairwise(times) if (gap := b - a) > IDLE)


async def _copied(emu: EmulatorProcess) -> int:
    return int((await emu.ask("copied"))["n"])


async def free_pass(
    database_url: str, recipients: int, lease: float = LEASE, kill_at: float | None = KILL_AT
) -> dict[str, Any]:
    """Drain a broadcast at OUTBOX_RATE=30 against the limits; SIGKILL the sender when
    `kill_at` of the copies are out and finish with a new one (None: no kill)."""
    fill_s = await fill(database_url, recipients)
    chats = teachers(recipients)
    async with EmulatorProcess(FIRST_CHAT, 1 + recipients + ASKERS, limits=True) as emu:
        source = await emu.ask(f"say {FIRST_CHAT} {TEXT}")
        created = await create_broadcast(database_url, int(source["message_id"]))
        args = ("drain", emu.base_url, database_url, str(recipients), str(lease))
        started = time.monotonic()
        first = Child(*args)
        killed_at: float | None = None
        runs: list[dict[str, Any]] = []
        try:
            await first.start()
            if kill_at is not None:
                while await _copied(emu) < recipients * kill_at:
                    if first.proc is not None and first.proc.returncode is not None:
                        break
                    await asyncio.sleep(0.05)
                first.kill()
                killed_at = time.monotonic()
                await first.reap()
                second = Child(*args)
                try:
                    await second.start()
                    runs.append(await second.result())
                finally:
                    await second.reap()
            else:
                runs.append(await first.result())
        finally:
            await first.reap()
        total_s = time.monotonic() - started
        stats = await emu.stats(chats)
    times: list[float] = stats.pop("copy_at")
    before = [t for t in times if killed_at is None or t < killed_at]
    after = [t for t in times if killed_at is not None and t >= killed_at]
    return {
        "recipients": recipients,
        "fill_s": fill_s,
        **created,
        "total_s": total_s,
        "killed": killed_at is not None,
        "copies_before_kill": len(before),
        "rate_before": steady_rate(before),
        "rate_after": steady_rate(after),
        "idle_after_s": idle_s(after),
        "kill_gap_s": (after[0] - before[-1]) if before and after else 0.0,
        "first_to_last_s": times[-1] - times[0] if times else 0.0,
        "run": runs[-1] if runs else {},
        "emulator": stats,
        "states": await outbox_states(database_url),
        "lease_s": lease,
    }


def _p(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def paid_pass(database_url: str, recipients: int) -> dict[str, Any]:
    """The real bot with paid broadcasts: /help reply times without and during the drain."""
    fill_s = await fill(database_url, recipients)
    chats = teachers(recipients)
    asking = askers(recipients)
    load = f"load {asking.start} {len(asking)} {ASK_EVERY} /help"
    async with EmulatorProcess(FIRST_CHAT, 1 + recipients + ASKERS, limits=True) as emu:
        source = await emu.ask(f"say {FIRST_CHAT} {TEXT}")
        bot = Child("bot", emu.base_url, database_url, str(recipients))
        try:
            await bot.start()
            await emu.ask(load)
            await asyncio.sleep(BASELINE_S)
            baseline = await emu.ask("unload")
            await emu.ask(load)
            started = time.monotonic()
            created = await create_broadcast(database_url, int(source["message_id"]))
            while await _copied(emu) < created["total"]:  # noqa: ASYNC110 (another process)
                await asyncio.sleep(0.1)
            drain_s = time.monotonic() - started
            during = await emu.ask("unload")
            run = await bot.result(quit_=True)
        finally:
            await bot.reap()
        stats = await emu.stats(chats)
    times: list[float] = stats.pop("copy_at")
    return {
        "recipients": recipients,
        "fill_s": fill_s,
        **created,
        "drain_s": drain_s,
        "rate": steady_rate(times),
        "run": run,
        "emulator": stats,
        "help_baseline": baseline,
        "help_during": during,
        "states": await outbox_states(database_url),
    }


# ---------------------------------------------------------------------------- the report


def _deliveries(r: dict[str, Any]) -> str:
    emu = r["emulator"]
    return (
        f"{emu['copies_once']} teachers got exactly one copy, {emu['copies_more']} more than one"
        f" ({emu['copies_extra']} duplicate copies), {emu['copies_none']} none; 429s received:"
        f" {emu['refused']}; API violations: {emu['violations']}"
    )


def _phases(run: dict[str, Any], rows: int, wall: float) -> str:
    ph = run["phase_s"]
    serial = ph["claim"] + ph["render"]
    conc = run["concurrency"]
    return (
        f"per row: claim {ph['claim'] / rows * 1e3:.2f} ms + render {ph['render'] / rows * 1e3:.2f}"
        f" ms (one batch of {run['batch_size']} at a time) + send/mark phase"
        f" {(wall - serial) / rows * 1e3:.2f} ms of wall; latencies: copyMessage"
        f" {ph['send'] / rows * 1e3:.2f} ms, mark sent {ph['mark'] / rows * 1e3:.2f} ms"
        f" ({conc} chats at a time); sender process CPU {run['cpu_s'] / rows * 1e3:.2f} ms/row"
    )


async def report(recipients: int = RECIPIENTS, pg: bool = False, lease: float = LEASE) -> None:
    backend = "PostgreSQL" if pg else "SQLite"
    print(
        f"a broadcast to {recipients} teachers through the outbox ({backend}; the emulator"
        f" enforcing Telegram's limits, the sender in processes of their own; nproc"
        f" {os.cpu_count()}, Python {platform.python_version()}):",
        flush=True,
    )
    async with _databases(pg) as database:
        free = await free_pass(database("free"), recipients, lease)
        emu = free["emulator"]
        print(
            f"  OUTBOX_RATE=30 against a 30/s limit: {free['total']} rows created in"
            f" {free['create_s']:.1f} s; sustained {free['rate_before']:.2f}/s"
            f" ({free['rate_before'] / LIMIT:.3f} of the limit) before the kill,"
            f" {free['rate_after']:.2f}/s ({free['rate_after'] / LIMIT:.3f}) after (idle"
            f" {free['idle_after_s']:.0f} s waiting for the dead sender's lease not counted);"
            f" {emu['refused']} × 429",
            flush=True,
        )
        print(
            f"    SIGKILL of the sender after {free['copies_before_kill']} copies, a new one"
            f" finished (no copy for {free['kill_gap_s']:.1f} s around the restart):"
            f" total {free['total_s']:.0f} s (first to last copy"
            f" {free['first_to_last_s']:.0f} s; the dead sender's rows wait for their lease,"
            f" {free['lease_s']:.0f} s); {_deliveries(free)}; rows {free['states']}",
            flush=True,
        )
        paid = await paid_pass(database("paid"), recipients)
        run, rows = paid["run"], paid["recipients"]
        base = paid["help_baseline"]["replies_ms"]
        during = paid["help_during"]["replies_ms"]
        print(
            f"  paid (allow_paid_broadcast, OUTBOX_PAID_RATE=1000) by the real bot (polling and"
            f" its sender in one process): {rows} copies in {paid['drain_s']:.1f} s, sustained"
            f" {paid['rate']:.0f}/s; {_deliveries(paid)}",
            flush=True,
        )
        print(f"    {_phases(run, rows, paid['drain_s'])}", flush=True)
        print(
            f"    /help every {ASK_EVERY * 1000:.0f} ms: p50/p95 {_p(base, 50):.0f}/{_p(base, 95):.0f}"
            f" ms with nothing to send ({len(base)} replies), {_p(during, 50):.0f}/"
            f"{_p(during, 95):.0f} ms during the drain ({len(during)} replies,"
            f" {paid['help_during']['unanswered']} unanswered): p95 ×"
            f"{_p(during, 95) / _p(base, 95):.1f}",
            flush=True,
        )
        print(
            "  JSON: " + json.dumps({"free": _brief(free), "paid": _brief(paid)}, default=str),
            flush=True,
        )


def _brief(r: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in r.items() if k not in ("help_baseline", "help_during")}
    for key in ("help_baseline", "help_during"):
        if key in r:
            replies = r[key]["replies_ms"]
            out[key] = {"n": len(replies), "p50": _p(replies, 50), "p95": _p(replies, 95)}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcasts")
    sub = parser.add_subparsers(dest="mode", required=True)
    drain = sub.add_parser("drain", help="(child) the sender drains the outbox")
    drain.add_argument("api")
    drain.add_argument("database_url")
    drain.add_argument("rows", type=int)
    drain.add_argument("lease", type=float)
    bot = sub.add_parser("bot", help="(child) the real bot with paid broadcasts")
    bot.add_argument("api")
    bot.add_argument("database_url")
    bot.add_argument("rows", type=int)
    run = sub.add_parser("run", help="the whole benchmark (as `python -m bench.run broadcasts`)")
    run.add_argument("--recipients", type=int, default=RECIPIENTS)
    run.add_argument("--quick", action="store_true", help=f"{QUICK} recipients")
    run.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    result: dict[str, Any]
    if args.mode == "drain":
        result = asyncio.run(drain_child(args.api, args.database_url, args.rows, args.lease))
    elif args.mode == "bot":
        result = asyncio.run(bot_child(args.api, args.database_url, args.rows))
    else:
        quick = args.quick
        asyncio.run(
            report(QUICK if quick else args.recipients, args.pg, QUICK_LEASE if quick else LEASE)
        )
        return
    print(json.dumps(result), flush=True)


__all__ = ["PHASES", "free_pass", "paid_pass", "report"]

if __name__ == "__main__":
    main()
