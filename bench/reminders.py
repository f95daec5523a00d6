"""100,000 due event reminders drained through the outbox (issue #9), run by
`python -m bench.run reminders` (alone) or as part of `python -m bench.run`.

Each pass gets a fresh database filled in bulk (users in two zones, ru/en, quiet hours off;
a few events a day ahead; one CONFIRMED registration and one pending EVENT_REMINDER row due
now per user, so every row renders for real) and a fresh Bot API emulator in a process of
its own (it keeps every message it receives; in the sender's process it would hide the
sender's memory and take its CPU). The drain itself runs in a child process too, so its peak
RSS (`ru_maxrss`) is the drain's own and not the fill's.

Passes:
* baseline: the emulator's raw `sendMessage` throughput with the same bot client and the
  sender's concurrency, no database: the drain rates are read as fractions of it, since
  shared machines are noisy;
* the real `OutboxSender` draining all the rows (default 100,000) at `OUTBOX_RATE` (default
  1000/s) and `OUTBOX_CHAT_RATE=1` (one message per user, so it never binds): the achieved
  rate as a fraction of the configured one;
* the same unlimited (`OUTBOX_RATE=100000`, so a batch is every due row): where the time goes.
The baseline and the unlimited pass use a fifth of the rows (`side_rows`): enough for a
steady rate, and the whole run stays within minutes.

The sender's phases are timed by wrapping its methods on the instance (`_claim`, `_render`,
`_call`, `_mark_sent`, and `_db` for the claim's and the mark's transactions with their
commits); its behaviour is unchanged. Claim and render run one batch at a time; sends and
marks run `OUTBOX_CONCURRENCY` chats at once, so their per-row times are latencies, and
the send phase's wall time is what is left of the drain.

    python -m bench.run reminders [--rows N | --quick] [--rate R] [--pg]

Figures are measurements, never test assertions (tests/test_bench_reminders.py only checks
that the code path delivers every row once).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, insert, select

from bench.emulator_proc import TOKEN, EmulatorProcess, cpu_seconds, max_rss_kb, vm_rss_kb
from bot.app import build_bot, load_i18n, prepare_database
from core.clock import utcnow
from core.settings import Settings
from db.models import Base, Event, OutboxMessage, Registration, User
from db.reference.sample_events import TRICKY_TITLE
from db.repo import Repo
from domain.events import EventStatus, RegStatus
from domain.notices import NoticeKind
from outbox.render import render
from outbox.rendered import RenderContext
from outbox.sender import OutboxSender
from services.reminders import event_ref

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
ROWS = 100_000
QUICK_ROWS = 5_000
#: the configured rate of the limited pass, and the "unlimited" one
RATE = 1000.0
UNLIMITED = 100_000.0
#: Telegram ids (and emulator chats) of the benchmark's users: FIRST_CHAT, FIRST_CHAT + 1, ...
FIRST_CHAT = 7_000_000
EVENTS = 5
ZONES = ("Europe/Moscow", "Asia/Yekaterinburg")
LEADS = (24 * 60, 60)  # minutes: the default lead times (the 1-hour one adds the check-in hint)
#: rows per INSERT statement of the fill
CHUNK = 10_000
#: when (percent of the rows sent) the drain's RSS is sampled
RSS_AT = (10, 50, 90)
PHASES = ("claim", "render", "send", "mark")
#: a placeholder Bot API address for the fill (which never talks to Telegram)
NO_API = "http://127.0.0.1:9"


def _settings(api: str, database_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": database_url,
        "telegram_api_base": api,
        "log_level": "WARNING",
        "outbox_rate": RATE,
        "outbox_chat_rate": 1.0,
        "outbox_poll_seconds": 0.2,
        "quiet_hours": "off",
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


# ---------------------------------------------------------------------------- the fill


def _title(n: int) -> str:
    if n == 0:
        return TRICKY_TITLE  # escaping is part of the render cost
    return f"Семинар № {n}: формирующее оценивание на уроках в основной школе"


async def fill(database_url: str, rows: int, now: datetime | None = None) -> float:
    """Migrate a fresh database and fill it for `rows` due reminders; the seconds it took."""
    started = time.perf_counter()
    now = now or utcnow()
    engine, sessionmaker = await prepare_database(_settings(NO_API, database_url))
    try:
        async with sessionmaker() as session:
            muni = (await Repo(session).reference.municipalities())[0].id
            events = []
            for n in range(EVENTS):
                start = now + timedelta(days=1, hours=n)
                events.append(
                    Event(
                        kind="seminar",
                        title=_title(n),
                        municipality_id=muni,
                        starts_at=start,
                        ends_at=start + timedelta(hours=2),
                        place=f"МБОУ СОШ № {n + 1}, актовый зал, ул. Ленина, {10 + n}",
                        online_url=f"https://meet.example.org/seminar-{n}" if n % 2 else "",
                        capacity=rows,
                        checkin_code=f"BENCH{n}",
                        status=EventStatus.SCHEDULED.value,
                    )
                )
            session.add_all(events)
            await session.flush()
            # Core executemany on the tables (no ORM objects, no RETURNING): seconds for 100k
            tables = Base.metadata.tables
            for lo in range(0, rows, CHUNK):
                await session.execute(
                    insert(tables["users"]),
                    [
                        {
                            "telegram_id": FIRST_CHAT + i,
                            "language": "en" if i % 3 == 0 else "ru",
                            "role": "teacher",
                            "consent": "given",
                            "consent_at": now,
                            "full_name": f"Учитель {i}",
                            "municipality_id": muni,
                            "timezone": ZONES[i % len(ZONES)],
                            "quiet_hours": "off",
                            "muted": [],
                            "mentor_volunteer": False,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(lo, min(rows, lo + CHUNK))
                    ],
                )
            user_ids = list(
                await session.scalars(
                    select(User.id)
                    .where(User.telegram_id >= FIRST_CHAT, User.telegram_id < FIRST_CHAT + rows)
                    .order_by(User.telegram_id)
                )
            )
            seats = [(events[i % EVENTS], i // EVENTS + 1) for i in range(rows)]
            for lo in range(0, rows, CHUNK):
                await session.execute(
                    insert(tables["registrations"]),
                    [
                        {
                            "event_id": seats[i][0].id,
                            "user_id": user_ids[i],
                            "status": RegStatus.CONFIRMED.value,
                            "queue_no": seats[i][1],
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(lo, min(rows, lo + CHUNK))
                    ],
                )
            regs = await session.execute(
                select(Registration.user_id, Registration.id).where(
                    Registration.event_id.in_([event.id for event in events])
                )
            )
            reg_of = dict(regs.tuples().all())
            due = now - timedelta(minutes=1)
            for lo in range(0, rows, CHUNK):
                # the rows `services.reminders.plan_event_reminders` writes, due now
                await session.execute(
                    insert(tables["outbox"]),
                    [
                        {
                            "user_id": user_ids[i],
                            "kind": NoticeKind.EVENT_REMINDER.value,
                            "payload": {
                                "event_id": seats[i][0].id,
                                "reg_id": reg_of[user_ids[i]],
                                "lead": LEADS[i % len(LEADS)],
                            },
                            "key": f"remind:{reg_of[user_ids[i]]}:{LEADS[i % len(LEADS)]}:"
                            f"{seats[i][0].starts_at.isoformat()}",
                            "ref": event_ref(seats[i][0].id),
                            "due_at": due,
                            "state": "pending",
                            "attempts": 0,
                            "created_at": now,
                        }
                        for i in range(lo, min(rows, lo + CHUNK))
                    ],
                )
            await session.commit()
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def outbox_states(database_url: str) -> dict[str, int]:
    engine, sessionmaker = await prepare_database(_settings(NO_API, database_url))
    try:
        async with sessionmaker() as session:
            rows = await session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            )
            return {state: int(n) for state, n in rows.tuples()}
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------- the drain


class Phases:
    """Seconds spent in each phase of the sender, the rows marked sent, RSS samples."""

    def __init__(self, rows: int) -> None:
        self.seconds = dict.fromkeys(PHASES, 0.0)
        self.batches = 0
        self.sent = 0
        self._marks = {math.ceil(rows * p / 100): p for p in RSS_AT}
        self.rss_kb: dict[int, int] = {}

    @contextlib.contextmanager
    def timing(self, phase: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - t0

    def marked(self) -> None:
        self.sent += 1
        percent = self._marks.get(self.sent)
        if percent is not None:
            self.rss_kb[percent] = vm_rss_kb()


def instrument(sender: OutboxSender, phases: Phases) -> None:
    """Time the sender's phases by wrapping its methods on this instance (no change of
    behaviour): the claim's and the mark's transactions are timed whole, commit included."""
    claim, render_batch, call = sender._claim, sender._render, sender._call
    mark_sent, db = sender._mark_sent, sender._db

    async def timed_claim(repo: Repo) -> list[int]:
        phases.batches += 1
        return await claim(repo)

    async def timed_render(batch: Any) -> Any:
        with phases.timing("render"):
            return await render_batch(batch)

    async def timed_call(item: Any) -> Exception | int:
        with phases.timing("send"):
            return await call(item)

    async def timed_mark(row: Any, message_id: int, repo: Repo) -> None:
        await mark_sent(row, message_id, repo)
        phases.marked()

    async def timed_db(work: Callable[[Repo], Awaitable[T]], tries: int = 8) -> T:
        inner = work.func if isinstance(work, partial) else work
        phase = "claim" if inner is timed_claim else "mark" if inner is timed_mark else None
        if phase is None:
            return await db(work, tries)
        with phases.timing(phase):
            return await db(work, tries)

    setattr(sender, "_claim", timed_claim)  # noqa: B010 (assigning to a method)
    setattr(sender, "_render", timed_render)  # noqa: B010
    setattr(sender, "_call", timed_call)  # noqa: B010
    setattr(sender, "_mark_sent", timed_mark)  # noqa: B010
    setattr(sender, "_db", timed_db)  # noqa: B010


async def drain_pass(api: str, database_url: str, rows: int, rate: float) -> dict[str, Any]:
    """Drain the filled outbox with the real sender at `rate`; figures and the rows' states."""
    settings = _settings(api, database_url, outbox_rate=rate)
    engine, sessionmaker = await prepare_database(settings)
    bot = build_bot(settings)
    try:
        sender = OutboxSender(sessionmaker, bot, load_i18n(settings), settings)
        phases = Phases(rows)
        instrument(sender, phases)
        rss_start, cpu0 = vm_rss_kb(), cpu_seconds()
        started = time.perf_counter()
        report = await sender.drain()
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu0
        rss_end = vm_rss_kb()
    finally:
        await bot.session.close()
        await engine.dispose()
    return {
        "rows": rows,
        "rate": rate,
        "batch_size": sender.batch_size,
        "concurrency": settings.outbox_concurrency,
        "elapsed_s": elapsed,
        "per_s": report.sent / elapsed,
        "cpu_s": cpu,
        "sent": report.sent,
        "cancelled": report.cancelled,
        "failed": report.failed,
        "deferred": report.deferred,
        "retried": report.retried,
        "batches": phases.batches,
        "phase_s": phases.seconds,
        "rss_kb": {"start": rss_start, **{str(p): kb for p, kb in phases.rss_kb.items()}}
        | {"end": rss_end},
        "max_rss_kb": max_rss_kb(),
        "states": await outbox_states(database_url),
    }


async def baseline_pass(api: str, database_url: str, messages: int) -> dict[str, Any]:
    """Raw `sendMessage` throughput: the same bot client and concurrency as the sender, one
    real rendered reminder (rendered before the clock starts), no database while timed."""
    settings = _settings(api, database_url)
    engine, sessionmaker = await prepare_database(settings)
    i18n = load_i18n(settings)
    bot = build_bot(settings)
    try:
        async with sessionmaker() as session:
            repo = Repo(session, settings.reminders)
            first = await session.scalar(select(func.min(OutboxMessage.id)))
            assert first is not None, "fill the database first"
            (row,) = await repo.outbox.load([first])
            who = row.recipient
            prefs = settings.reminders.preferences(who.timezone, who.quiet_hours, who.muted)
            ctx = RenderContext(repo, prefs.tz, utcnow(), row.recipient.language)
            with i18n.context(), i18n.use_locale(row.recipient.language):
                rendered = await render(NoticeKind(row.kind), ctx, row.payload)
        await engine.dispose()
        assert rendered is not None
        chats = iter(range(FIRST_CHAT, FIRST_CHAT + messages))

        async def worker() -> None:
            for chat_id in chats:
                await bot.send_message(chat_id, rendered.text, reply_markup=rendered.markup)

        rss_start, cpu0 = vm_rss_kb(), cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(settings.outbox_concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await bot.session.close()
        await engine.dispose()
    return {
        "messages": messages,
        "concurrency": settings.outbox_concurrency,
        "elapsed_s": elapsed,
        "per_s": messages / elapsed,
        "cpu_s": cpu_seconds() - cpu0,
        "rss_kb": {"start": rss_start, "end": vm_rss_kb()},
        "max_rss_kb": max_rss_kb(),
    }


# ---------------------------------------------------------------------------- child processes


async def _child(*args: str) -> dict[str, Any]:
    """Run `python -m bench.reminders ARGS` and read the JSON it prints last."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.reminders", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"bench.reminders {args[0]} failed ({proc.returncode})")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------- the report


@contextlib.asynccontextmanager
async def _databases(pg: bool) -> AsyncIterator[Callable[[str], str]]:
    """A factory of fresh database URLs: SQLite files in a temp dir, or databases on a
    throwaway PostgreSQL cluster (tests/pg.py)."""
    with tempfile.TemporaryDirectory(prefix="metodbot-bench-") as tmp:
        if not pg:
            yield lambda name: f"sqlite+aiosqlite:///{Path(tmp) / name}.db"
            return
        from tests.pg import create_database, postgres_server

        with postgres_server() as server:
            yield partial(create_database, server)


async def run_pass(
    mode: str, database_url: str, rows: int, rate: float = RATE, messages: int = 0
) -> dict[str, Any]:
    """Fill a fresh database, start a fresh emulator, run one pass in a child process."""
    fill_s = await fill(database_url, rows)
    async with EmulatorProcess(FIRST_CHAT, rows) as emu:
        if mode == "baseline":
            result = await _child("baseline", emu.base_url, database_url, str(messages or rows))
        else:
            result = await _child("drain", emu.base_url, database_url, str(rows), str(rate))
        result["emulator"] = await emu.stats()
    result["fill_s"] = fill_s
    return result


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f}"


def _describe(label: str, r: dict[str, Any], baseline: float) -> list[str]:
    rows, elapsed, sent = r["rows"], r["elapsed_s"], r["sent"]
    ph = r["phase_s"]
    serial = ph["claim"] + ph["render"]
    rss = r["rss_kb"]
    emu = r["emulator"]
    conc = r["concurrency"]
    states = ", ".join(f"{n} {state}" for state, n in sorted(r["states"].items()))
    lines = [
        f"  {label}: {sent} sent in {elapsed:.1f} s = {r['per_s']:.0f} rows/s"
        + (
            f" ({r['per_s'] / r['rate']:.2f} of the configured {r['rate']:.0f}/s)"
            if r["rate"] < UNLIMITED
            else ""
        )
        + f", {r['per_s'] / baseline:.2f} of the baseline; batches of {r['batch_size']}"
        f" ({r['batches']} claims), concurrency {r['concurrency']}",
        f"    per row (wall): claim {ph['claim'] / rows * 1e6:.0f} µs + render "
        f"{ph['render'] / rows * 1e6:.0f} µs (one batch at a time) + send/mark phase "
        f"{(elapsed - serial) / rows * 1e6:.0f} µs = {elapsed / rows * 1e6:.0f} µs;"
        f" sender CPU {r['cpu_s'] / rows * 1e6:.0f} µs/row",
        f"    in the send/mark phase, latency per row: sendMessage {ph['send'] / rows * 1e3:.2f} ms,"
        f" mark sent (own transaction) {ph['mark'] / rows * 1e3:.2f} ms; {conc} chats at a time,"
        f" so about {ph['send'] / rows / conc * 1e6:.0f} + {ph['mark'] / rows / conc * 1e6:.0f}"
        " µs of wall per row",
        f"    RSS MB: start {_mb(rss['start'])}, at 10/50/90 % "
        f"{_mb(rss.get('10', 0))}/{_mb(rss.get('50', 0))}/{_mb(rss.get('90', 0))}, "
        f"end {_mb(rss['end'])}; peak (ru_maxrss) {_mb(r['max_rss_kb'])}",
        f"    rows: {states}; emulator: {emu['send_ok']} sendMessage ok, {emu['chats_once']} chats"
        f" got exactly one, {emu['chats_more']} more than one, {emu['violations']} API violations;"
        f" fill {r['fill_s']:.1f} s",
    ]
    return lines


def side_rows(rows: int) -> int:
    """The size of the baseline and of the unlimited pass: a fifth of the rows (at least
    1,000): enough for a steady rate, and the full run stays within minutes."""
    return min(rows, max(1_000, rows // 5))


async def report(rows: int = ROWS, rate: float = RATE, pg: bool = False) -> None:
    backend = "PostgreSQL" if pg else "SQLite"
    side = side_rows(rows)
    print(
        f"due event reminders through the outbox ({backend}; the emulator and the drain in"
        f" processes of their own; nproc {os.cpu_count()}, Python {platform.python_version()}):",
        flush=True,
    )
    names = (f"pass{n}" for n in itertools.count())
    async with _databases(pg) as database:
        base = await run_pass("baseline", database(next(names)), side, messages=side)
        bps = base["per_s"]
        print(
            f"  baseline: raw sendMessage through the same bot client, {base['concurrency']} at"
            f" a time, no database: {base['messages']} in {base['elapsed_s']:.1f} s ="
            f" {bps:.0f}/s (client CPU {base['cpu_s'] / base['messages'] * 1e6:.0f} µs/message,"
            f" emulator CPU {base['emulator']['cpu_s'] / base['messages'] * 1e6:.0f} µs/message)",
            flush=True,
        )
        limited = await run_pass("drain", database(next(names)), rows, rate)
        for line in _describe(f"OUTBOX_RATE={rate:.0f}, OUTBOX_CHAT_RATE=1", limited, bps):
            print(line, flush=True)
        free = await run_pass("drain", database(next(names)), side, UNLIMITED)
        for line in _describe(f"unlimited (OUTBOX_RATE={UNLIMITED:.0f})", free, bps):
            print(line, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reminders")
    sub = parser.add_subparsers(dest="mode", required=True)
    drain = sub.add_parser("drain", help="(child) drain a filled database")
    drain.add_argument("api")
    drain.add_argument("database_url")
    drain.add_argument("rows", type=int)
    drain.add_argument("rate", type=float)
    base = sub.add_parser("baseline", help="(child) raw sendMessage throughput")
    base.add_argument("api")
    base.add_argument("database_url")
    base.add_argument("messages", type=int)
    run = sub.add_parser("run", help="the whole benchmark (as `python -m bench.run reminders`)")
    run.add_argument("--rows", type=int, default=ROWS)
    run.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS} rows")
    run.add_argument("--rate", type=float, default=RATE)
    run.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    if args.mode == "drain":
        result = asyncio.run(drain_pass(args.api, args.database_url, args.rows, args.rate))
        print(json.dumps(result), flush=True)
    elif args.mode == "baseline":
        result = asyncio.run(baseline_pass(args.api, args.database_url, args.messages))
        print(json.dumps(result), flush=True)
    else:
        rows = QUICK_ROWS if args.quick else args.rows
        asyncio.run(report(rows, args.rate, args.pg))


if __name__ == "__main__":
    main()
