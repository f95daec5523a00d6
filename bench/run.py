"""Measure update handling: dispatcher throughput with and without the user cache, the
profile wizard, and the round trip through the Bot API emulator over HTTP.

    python -m bench.run [--updates N]             everything
    python -m bench.run reminders [--rows N | --quick] [--rate R] [--pg]
                                                  only the 100,000 due reminders (bench/reminders.py)
    python -m bench.run broadcasts [--recipients N | --quick] [--pg]
                                                  only the 10,000-recipient broadcast against
                                                  Telegram's limits (bench/broadcasts.py)
    python -m bench.run memory [--db FILE | --teachers N] [--updates N]
                                                  only the resident size of the running bot
                                                  (bench/memory.py)
    python -m bench.run mix [--updates N] [--teachers N] [--pg] [--profile FILE]
                                                  only the realistic teacher update mix
                                                  against the bare aiogram floor (bench/mix.py)

Everything runs on loopback with a temporary SQLite database; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Update

from bot.app import (
    BotApp,
    build_dispatcher,
    load_i18n,
    prepare_database,
    prepare_update_database,
)
from core.settings import Settings
from core.usercache import UserCache
from devtools.emulator import BotAPIEmulator, EmuUser
from tests.mocked_bot import RecordingSession

TOKEN = "123456:BENCH-token-abcdefghij"


def _settings(db: Path, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,
        bot_token=TOKEN,
        database_url=f"sqlite+aiosqlite:///{db}",
        throttle_rate=10_000.0,
        throttle_burst=10_000,
        log_level="WARNING",
        **extra,
    )


def _message(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    entities = (
        [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/")
        else []
    )
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "U"},
            "from": {"id": user_id, "is_bot": False, "first_name": "U", "language_code": "ru"},
            "text": text,
            **({"entities": entities} if entities else {}),
        },
    }


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def bench_dispatcher(updates: int, users: int, cache_ttl: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp) / "bench.db")
        engine, sessionmaker = await prepare_database(settings)
        update_engine, update_sessionmaker = prepare_update_database(engine, sessionmaker)
        session = RecordingSession(spec=None)
        bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
        dp = build_dispatcher(
            settings,
            sessionmaker,
            load_i18n(settings),
            storage=MemoryStorage(),
            cache=UserCache(ttl=cache_ttl),
            update_sessionmaker=update_sessionmaker,  # as `BotApp` does
        )
        ids = itertools.count(1)
        for user in range(users):  # every user exists already
            await dp.feed_update(
                bot,
                Update.model_validate(
                    _message(next(ids), 10_000 + user, "/start"), context={"bot": bot}
                ),
            )
        latencies: list[float] = []
        started = time.perf_counter()
        for i in range(updates):
            update = Update.model_validate(
                _message(next(ids), 10_000 + i % users, "/help"), context={"bot": bot}
            )
            t0 = time.perf_counter()
            await dp.feed_update(bot, update)
            latencies.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - started
        await update_engine.dispose()
        await engine.dispose()
    return {
        "updates_per_s": updates / elapsed,
        "p50_ms": statistics.median(latencies),
        "p95_ms": _pct(latencies, 95),
    }


async def bench_emulator_round_trip(messages: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        async with BotAPIEmulator(token=TOKEN, spec=None) as emu:
            app = BotApp(_settings(Path(tmp) / "e2e.db", telegram_api_base=emu.base_url))
            await app.setup()
            await app.start_polling()
            try:
                user = EmuUser(id=4242, first_name="U", language_code="ru")
                emu.send_message(user, "/start")
                await emu.wait_for_message(user.id)
                await emu.wait_idle()
                while True:  # consume what /start sent
                    try:
                        await emu.wait_for_message(user.id, timeout=0.2)
                    except AssertionError:
                        break
                latencies = []
                for _ in range(messages):
                    t0 = time.perf_counter()
                    emu.send_message(user, "/help")
                    await emu.wait_for_message(user.id, timeout=10)
                    latencies.append((time.perf_counter() - t0) * 1000)
            finally:
                await app.stop()
    return {"p50_ms": statistics.median(latencies), "p95_ms": _pct(latencies, 95)}


def bench_domain_and_rendering() -> dict[str, float]:
    """Scoring + route building (pure), the radar chart and the route PDF (rendering)."""
    import yaml

    from bot.app import FRAMEWORK_FILE
    from domain.assessment import score
    from domain.framework import parse_framework
    from domain.route import Pace, build_route, default_competencies
    from ui.files.charts import radar_chart
    from ui.files.pdf import RouteCompetencyBlock, RouteDocument, RouteStepRow, route_pdf

    framework = parse_framework(yaml.safe_load(FRAMEWORK_FILE.read_text(encoding="utf-8")))
    statements = framework.statements(is_manager=True)
    answers = {st.code: i % 4 for i, st in enumerate(statements)}
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        result = score(framework, answers, is_manager=True)
        build_route(
            framework,
            default_competencies(result, 3),
            young=True,
            pace=Pace.NORMAL,
            start=date(2026, 12, 1),
        )
    domain_ms = (time.perf_counter() - t0) * 1000 / n
    labels = [c.short.ru for c in framework.competencies]
    values = [float(x.score) for x in result.scores]
    radar_chart(labels, values, title="warm-up")
    t0 = time.perf_counter()
    for _ in range(5):
        radar_chart(labels, values, title=framework.title.ru, threshold=60.0)
    chart_ms = (time.perf_counter() - t0) * 1000 / 5
    steps = [
        RouteStepRow(
            f"1.{i}",
            "Шаг маршрута с достаточно длинным названием",
            "Стажировка",
            "01.02.2027",
            "запланирован",
            i < 2,
        )
        for i in range(1, 7)
    ]
    doc = RouteDocument(
        heading="Индивидуальный образовательный маршрут педагога",
        teacher_lines=[("ФИО", "Иванова Анна Петровна"), ("Школа", "МБОУ СОШ № 1")],
        meta_line="Составлен 01.12.2026",
        blocks=[
            RouteCompetencyBlock(f"Компетенция {i}", "Начальный уровень, 38 из 100", steps)
            for i in range(3)
        ],
        column_titles=("№", "Шаг", "Форма", "Срок", "Отметка"),
        footer="подпись",
    )
    t0 = time.perf_counter()
    for _ in range(3):
        route_pdf(doc, created=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    pdf_ms = (time.perf_counter() - t0) * 1000 / 3
    return {"domain_ms": domain_ms, "chart_ms": chart_ms, "pdf_ms": pdf_ms}


async def bench_signups(users: int = 200, seats: int = 50) -> dict[str, float]:
    """Concurrent sign-ups for one event on SQLite: all serialised by the per-event lock."""
    from datetime import timedelta

    from core.clock import utcnow
    from db.models import Event, User
    from db.repo import Repo

    with tempfile.TemporaryDirectory() as tmp:
        settings = _settings(Path(tmp) / "signups.db")
        engine, sessionmaker = await prepare_database(settings)
        async with sessionmaker() as session:
            repo = Repo(session)
            muni = (await repo.reference.municipalities())[0]
            ids = []
            for n in range(users):
                user = User(telegram_id=50_000 + n, language="ru", role="teacher", consent="given")
                session.add(user)
                await session.flush()
                ids.append(user.id)
            start = utcnow() + timedelta(days=2)
            event = await repo.events.add_event(
                Event(
                    kind="seminar",
                    title="b",
                    municipality_id=muni.id,
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    place="x",
                    capacity=seats,
                    checkin_code="ABCDEF",
                )
            )
            await session.commit()

        async def one(user_id: int) -> None:
            async with sessionmaker() as session:
                await Repo(session).events.sign_up(event.id, user_id, utcnow(), eligible=True)
                await session.commit()

        t0 = time.perf_counter()
        await asyncio.gather(*(one(u) for u in ids))
        elapsed = time.perf_counter() - t0
        await engine.dispose()
    return {"per_s": users / elapsed, "total_ms": elapsed * 1000}


async def main(updates: int, rows: int, rate: float, pg: bool) -> None:
    from bench.mix import report as mix_report

    await mix_report(updates, MIX_TEACHERS, pg)
    print(f"dispatcher, {updates} /help updates from 100 known users, SQLite:")
    for ttl, label in ((60.0, "user cache on "), (0.0, "user cache off")):
        r = await bench_dispatcher(updates, 100, ttl)
        print(
            f"  {label}: {r['updates_per_s']:8.0f} updates/s   p50 {r['p50_ms']:.2f} ms   p95 {r['p95_ms']:.2f} ms"
        )
    r = await bench_emulator_round_trip(200)
    print(
        f"end to end through the emulator (HTTP long polling), 200 x /help: p50 {r['p50_ms']:.1f} ms   p95 {r['p95_ms']:.1f} ms"
    )
    sg = await bench_signups()
    print(
        f"200 concurrent sign-ups for 50 seats (SQLite, serialised by the event lock): {sg['total_ms']:.0f} ms, {sg['per_s']:.0f} sign-ups/s"
    )
    from bench.outbox import report as outbox_report

    await outbox_report()
    d = bench_domain_and_rendering()
    print(
        f"score 49 answers + build a route: {d['domain_ms']:.3f} ms   radar chart: "
        f"{d['chart_ms']:.0f} ms   route PDF (3 x 6 steps): {d['pdf_ms']:.0f} ms"
    )
    from bench.reminders import report as reminders_report

    await reminders_report(rows, rate, pg)


#: `make bench` drains this many reminders (about 2 minutes here); `bench.run reminders`
#: drains ROWS (100,000: about 12 minutes)
ALL_ROWS = 20_000
#: teachers of the update mix (bench/mix.py)
MIX_TEACHERS = 20


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["memory"]:  # its own options (bench/memory.py)
        from bench.memory import main as memory_main

        memory_main(sys.argv[2:])
        raise SystemExit(0)
    from bench.broadcasts import LEASE, QUICK, QUICK_LEASE, RECIPIENTS
    from bench.broadcasts import report as broadcasts_report
    from bench.reminders import QUICK_ROWS, RATE, ROWS
    from bench.reminders import report as reminders_report

    parser = argparse.ArgumentParser()
    parser.add_argument(
        "which", nargs="?", choices=("all", "reminders", "broadcasts", "mix"), default="all"
    )
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=ROWS, help="due reminders to drain")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ROWS} reminders, {QUICK} recipients"
    )
    parser.add_argument(
        "--recipients", type=int, default=RECIPIENTS, help="teachers a broadcast goes to"
    )
    parser.add_argument("--rate", type=float, default=RATE, help="OUTBOX_RATE of the drain")
    parser.add_argument("--pg", action="store_true", help="reminders on PostgreSQL")
    parser.add_argument("--teachers", type=int, default=MIX_TEACHERS, help="teachers of the mix")
    parser.add_argument("--profile", default=None, help="mix: write a pyinstrument profile here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    rows = QUICK_ROWS if args.quick else args.rows
    if args.which == "mix":
        from bench.mix import report as mix_report

        asyncio.run(mix_report(args.updates, args.teachers, args.pg, args.profile))
    elif args.which == "reminders":
        asyncio.run(reminders_report(rows, args.rate, args.pg))
    elif args.which == "broadcasts":
        lease = QUICK_LEASE if args.quick else LEASE
        recipients = QUICK if args.quick else args.recipients
        asyncio.run(broadcasts_report(recipients, args.pg, lease))
    else:
        explicit = args.quick or args.rows != ROWS
        asyncio.run(main(args.updates, rows if explicit else ALL_ROWS, args.rate, args.pg))
