"""A realistic teacher update mix through the real dispatcher, against the bare aiogram floor.

    python -m bench.run mix [--updates N] [--teachers N] [--pg] [--profile FILE]

The mix: `/help`, `/events`, an event card, an assessment answer and `/route`, round robin
over teachers of the shipped sample data (`tests.sample_teacher`: the sample sites and events,
a finished profile in Volgodonsk, a finished self-assessment, a route built from it and a new
assessment in progress). Every update goes through `build_dispatcher` (all the middlewares,
every router) with a bot whose HTTP session records requests (`tests.mocked_bot`), exactly as
the dispatcher tests feed it. The floor is a bare aiogram `Dispatcher` with one echo router
(a message is echoed, a callback answered) fed the same updates the same way in the same run.

Printed: updates/s of both and their ratio, p50/p99 per update type, and the SQL statements
each update type runs (counted on the engine). `--profile FILE` writes a pyinstrument profile
of the mix (text) to FILE.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import statistics
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Message, Update
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.__main__ import settle_heap
from bot.app import (
    build_bot,
    build_dispatcher,
    load_i18n,
    prepare_database,
    prepare_update_database,
)
from core.settings import Settings
from core.usercache import UserCache
from tests.mocked_bot import wire_form

TOKEN = "123456:BENCH-token-abcdefghij"
FIRST_TELEGRAM_ID = 700_000
TYPES = ("/help", "/events", "card", "answer", "/route")
BLOCK = 100


@dataclass(frozen=True, slots=True)
class Teacher:
    telegram_id: int
    attempt_id: int
    statement: str
    event_id: int


@dataclass
class Counter:
    """SQL statements executed on an engine (every cursor execution, any dialect)."""

    count: int = 0

    def attach(self, engine: AsyncEngine) -> None:
        def on_execute(*_: Any) -> None:
            self.count += 1

        event.listen(engine.sync_engine, "before_cursor_execute", on_execute)


@dataclass
class Result:
    updates: int = 0
    elapsed_s: float = 0.0
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    statements: dict[str, list[int]] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return self.updates / self.elapsed_s if self.elapsed_s else 0.0


class WireSession(BaseSession):
    """What aiogram's HTTP session does for a call, without the network: the request is
    serialised field by field exactly as `AiohttpSession.build_form_data` does, and Telegram's
    JSON answer (a message for a send or an edit, `true` otherwise) is parsed by
    `check_response`. The test suite's `RecordingSession` also runs the emulator's limit
    checks on every request (an HTML parser, keyboard rules): test work a deployed bot never
    does, so the mix and the floor both go through this session instead."""

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1000)
        self.calls = 0
        #: when a list, every method called is appended to it (`record_replies`)
        self.sent: list[TelegramMethod[Any]] | None = None

    async def close(self) -> None:
        pass

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        form = wire_form(self, bot, method)
        self.calls += 1
        if self.sent is not None:
            self.sent.append(method)
        result: Any = True
        if method.__api_method__ in {"sendMessage", "editMessageText"}:
            chat_id = int(form.get("chat_id", 1))
            result = {
                "message_id": int(form.get("message_id") or next(self._ids)),
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": 123456, "is_bot": True, "first_name": "Metodbot"},
                "text": form.get("text", ""),
            }
        content = json.dumps({"ok": True, "result": result}, ensure_ascii=False)
        response = self.check_response(bot, method, status_code=200, content=content)
        return response.result  # type: ignore[return-value]

    async def stream_content(  # pragma: no cover - the mix downloads nothing
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""


def settings_for(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        bot_token=TOKEN,
        database_url=database_url,
        throttle_rate=1_000_000.0,
        throttle_burst=1_000_000,
        log_level="WARNING",
    )


async def prepare_teachers(
    sessionmaker: async_sessionmaker[AsyncSession], teachers: int
) -> list[Teacher]:
    """The sample data and `teachers` teachers, each with a finished profile, a finished
    self-assessment, a route built from it, and a new assessment in progress (two answers)."""
    from db.repo import Repo
    from services import assessment
    from services import route as route_service
    from tests.sample import load_sample_events
    from tests.sample_teacher import WEAK, answer_all, fill_profile, ids

    events = await load_sample_events(sessionmaker)
    event_id = min(e.id for e in events.values())
    out: list[Teacher] = []
    async with sessionmaker() as session:
        repo = Repo(session)
        muni_id, school_id = await ids(repo)
        from core.clock import utcnow
        from services import profile

        now = utcnow()
        for n in range(teachers):
            user, _ = await repo.users.get_or_create(FIRST_TELEGRAM_ID + n, "ru")
            await session.flush()
            await profile.give_consent(repo, user.id, "bench", now)
            await fill_profile(repo, user.id, muni_id, school_id, now)
            await answer_all(repo, user.id, now=now)
            built = await route_service.build(
                repo, user.id, [WEAK], "normal", None, date.today(), now
            )
            assert isinstance(built, route_service.Overview), built
            step = await assessment.start(repo, user.id, now)
            assert isinstance(step, assessment.Question)
            first = step.statement.code
            after = await assessment.answer(repo, user.id, step.attempt_id, first, 1, now)
            assert isinstance(after, assessment.Question)
            out.append(Teacher(FIRST_TELEGRAM_ID + n, after.attempt_id, first, event_id))
        await session.commit()
    return out


class Feeder:
    """Builds the updates of the mix (the same dicts for the bot and for the floor)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def _user(self, telegram_id: int) -> dict[str, Any]:
        return {"id": telegram_id, "is_bot": False, "first_name": "Анна", "language_code": "ru"}

    def message(self, telegram_id: int, text: str) -> dict[str, Any]:
        n = next(self._ids)
        entities = (
            [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            if text.startswith("/")
            else []
        )
        return {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": 1_700_000_000,
                "chat": {"id": telegram_id, "type": "private", "first_name": "Анна"},
                "from": self._user(telegram_id),
                "text": text,
                **({"entities": entities} if entities else {}),
            },
        }

    def callback(self, telegram_id: int, data: str) -> dict[str, Any]:
        n = next(self._ids)
        return {
            "update_id": n,
            "callback_query": {
                "id": f"cb{n}",
                "from": self._user(telegram_id),
                "chat_instance": "ci",
                "data": data,
                "message": {
                    "message_id": 1,
                    "date": 1_700_000_000,
                    "chat": {"id": telegram_id, "type": "private", "first_name": "Анна"},
                    "from": {"id": 123456, "is_bot": True, "first_name": "Metodbot"},
                    "text": "…",
                },
            },
        }

    def update(self, kind: str, teacher: Teacher, n: int) -> dict[str, Any]:
        from ui.callbacks.assessment import AnswerCb
        from ui.callbacks.events import EvAct, EvAction

        if kind == "card":
            return self.callback(
                teacher.telegram_id, EvAct(action=EvAction.CARD, event=teacher.event_id).pack()
            )
        if kind == "answer":
            data = AnswerCb(attempt=teacher.attempt_id, code=teacher.statement, value=n % 4)
            return self.callback(teacher.telegram_id, data.pack())
        return self.message(teacher.telegram_id, kind)


#: the bot's replies to each teacher's update of each type: (telegram id, type) -> methods
Replies = dict[tuple[int, str], list[TelegramMethod[Any]]]


def kind_of(update: Update) -> str:
    """The mix's update type of `update` (as `Feeder` built it)."""
    if update.message is not None:
        return update.message.text or ""
    from ui.callbacks.events import EvAct

    data = update.callback_query.data if update.callback_query else ""
    return "card" if (data or "").startswith(EvAct.__prefix__ + EvAct.__separator__) else "answer"


async def record_replies(
    dp: Dispatcher, bot: Bot, session: WireSession, teachers: list[Teacher]
) -> Replies:
    """What the bot sends for one update of each type from each teacher."""
    replies: Replies = {}
    for kind, update in prepare_updates(bot, teachers, len(TYPES) * len(teachers)):
        session.sent = []
        await dp.feed_update(bot, update)
        event = update.message or update.callback_query
        assert event is not None and event.from_user is not None
        replies[(event.from_user.id, kind)] = session.sent
    session.sent = None
    return replies


def reply_floor_dispatcher(replies: Replies) -> Dispatcher:
    """A bare aiogram dispatcher that sends, for each update, the very replies the bot sent
    for it (copies of the same method objects: their texts and keyboards): what aiogram itself
    costs to route an update and send those replies, with no middleware, database or
    rendering of ours. The mix can't be faster than this."""
    router = Router(name="replay")

    async def replay(event: Message | CallbackQuery, bot: Bot, event_update: Update) -> None:
        assert event.from_user is not None
        for method in replies[(event.from_user.id, kind_of(event_update))]:
            await bot(method.model_copy())

    router.message.register(replay)
    router.callback_query.register(replay)
    dp = Dispatcher(storage=MemoryStorage())
    dp.include_router(router)
    return dp


def floor_dispatcher() -> Dispatcher:
    """The bare aiogram floor: one router that echoes messages and answers callbacks."""
    router = Router(name="echo")

    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    async def answer(query: CallbackQuery) -> None:
        await query.answer()

    router.message.register(echo)
    router.callback_query.register(answer)
    dp = Dispatcher(storage=MemoryStorage())
    dp.include_router(router)
    return dp


def prepare_updates(
    bot: Bot, teachers: list[Teacher], updates: int, start: int = 0
) -> list[tuple[str, Update]]:
    """`updates` updates of the mix, round robin over the types and the teachers."""
    feeder = Feeder()
    out = []
    for n in range(start, start + updates):
        kind = TYPES[n % len(TYPES)]
        teacher = teachers[(n // len(TYPES)) % len(teachers)]
        out.append(
            (kind, Update.model_validate(feeder.update(kind, teacher, n), context={"bot": bot}))
        )
    return out


async def feed(
    dp: Dispatcher,
    bot: Bot,
    prepared: list[tuple[str, Update]],
    result: Result,
    counter: Counter | None = None,
) -> None:
    """Feed the updates one at a time (each handled completely before the next is fed, as
    `bench.run` does), adding their latencies and statements to `result`."""
    for kind, update in prepared:
        before = counter.count if counter else 0
        t0 = time.perf_counter()
        await dp.feed_update(bot, update)
        took = time.perf_counter() - t0
        result.elapsed_s += took
        result.updates += 1
        result.latencies_ms.setdefault(kind, []).append(took * 1000)
        if counter:
            result.statements.setdefault(kind, []).append(counter.count - before)


async def run_mix(
    dp: Dispatcher, bot: Bot, teachers: list[Teacher], updates: int, counter: Counter | None = None
) -> Result:
    """Feed `updates` updates of the mix through `dp`."""
    result = Result()
    await feed(dp, bot, prepare_updates(bot, teachers, updates), result, counter)
    return result


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


@contextlib.asynccontextmanager
async def database(pg: bool) -> AsyncIterator[str]:
    with tempfile.TemporaryDirectory(prefix="metodbot-mix-") as tmp:
        if not pg:
            yield f"sqlite+aiosqlite:///{Path(tmp) / 'mix.db'}"
            return
        from tests.pg import create_database, postgres_server

        with postgres_server() as server:
            yield create_database(server, "mix")


class BlockProfiler:
    """A pyinstrument profile of the mix's blocks alone (the floor's blocks between them are
    left out): started and stopped around each block, written once at the end (text)."""

    def __init__(self, path: str) -> None:
        from pyinstrument import Profiler

        self.path = path
        self.profiler = Profiler(interval=0.0005, async_mode="disabled")

    @contextlib.contextmanager
    def block(self) -> Iterator[None]:
        self.profiler.start()
        try:
            yield
        finally:
            self.profiler.stop()

    def write(self) -> None:
        p = self.profiler
        Path(self.path).write_text(
            p.output_text(unicode=True, color=False, show_all=False), encoding="utf-8"
        )
        Path(self.path + ".all").write_text(
            p.output_text(unicode=True, color=False, show_all=True), encoding="utf-8"
        )


async def measure(
    updates: int = 2500, teachers: int = 20, pg: bool = False, profile_to: str | None = None
) -> dict[str, Any]:
    """Both dispatchers in one run: warm-up, then blocks of the floor and of the mix in turn."""
    async with database(pg) as url:
        settings = settings_for(url)
        engine, sessionmaker = await prepare_database(settings)
        # as `BotApp`: on SQLite the updates run on the loop-thread engine
        update_engine, update_sessionmaker = prepare_update_database(engine, sessionmaker)
        try:
            group = await prepare_teachers(sessionmaker, teachers)
            counter = Counter()
            counter.attach(update_engine)
            wire, replay_wire = WireSession(), WireSession()
            bot = build_bot(settings, session=wire)
            dp = build_dispatcher(
                settings,
                sessionmaker,
                load_i18n(settings),
                storage=MemoryStorage(),
                cache=UserCache(),
                update_sessionmaker=update_sessionmaker,
            )
            floor = floor_dispatcher()
            floor_bot = build_bot(settings, session=WireSession())
            warm = max(len(TYPES) * teachers, 200)
            await run_mix(dp, bot, group, warm)  # imports, caches, first queries
            await run_mix(floor, floor_bot, group, warm)
            replay = reply_floor_dispatcher(await record_replies(dp, bot, wire, group))
            replay_bot = build_bot(settings, session=replay_wire)
            await run_mix(replay, replay_bot, group, warm)
            before, warmed = wire.calls, replay_wire.calls
            settle_heap()  # what `python -m bot run` does once set up
            # the machine is shared and its load drifts: the three alternate in blocks of 100
            # updates, so all see the same moments; each block is prepared before it is timed
            mix, bare, replayed = Result(), Result(), Result()
            profiler = BlockProfiler(profile_to) if profile_to else None
            for start in range(0, updates, BLOCK):
                n = min(BLOCK, updates - start)
                await feed(floor, floor_bot, prepare_updates(floor_bot, group, n, start), bare)
                await feed(
                    replay, replay_bot, prepare_updates(replay_bot, group, n, start), replayed
                )
                block = prepare_updates(bot, group, n, start)
                with profiler.block() if profiler else contextlib.nullcontext():
                    await feed(dp, bot, block, mix, counter)
            if profiler:
                profiler.write()
            mix_calls, replay_calls = wire.calls - before, replay_wire.calls - warmed
        finally:
            await update_engine.dispose()
            await engine.dispose()
    bare_per_s = bare.per_s
    return {
        "backend": "PostgreSQL" if pg else "SQLite",
        "mix_per_s": mix.per_s,
        "bare_per_s": bare_per_s,
        "ratio": mix.per_s / bare_per_s,
        "replay_per_s": replayed.per_s,
        "mix_calls": mix_calls,
        "replayed_calls": replay_calls,
        "replay_ratio": replayed.per_s / bare_per_s,
        "types": {
            kind: {
                "p50_ms": statistics.median(mix.latencies_ms[kind]),
                "p99_ms": pct(mix.latencies_ms[kind], 99),
                "statements": statistics.mean(mix.statements[kind]),
                "statements_max": max(mix.statements[kind]),
            }
            for kind in TYPES
        },
        "bare_p99_ms": pct([v for vs in bare.latencies_ms.values() for v in vs], 99),
    }


def render(r: dict[str, Any], updates: int, teachers: int) -> list[str]:
    lines = [
        f"teacher mix through the real dispatcher, {r['backend']}, {updates} updates "
        f"({', '.join(TYPES)}) from {teachers} teachers:",
        f"  mix {r['mix_per_s']:8.0f} updates/s   bare aiogram echo floor "
        f"{r['bare_per_s']:8.0f} updates/s   ratio {r['ratio']:.3f}x (goal >= 0.25x)",
        f"  {'type':<9} {'p50 ms':>8} {'p99 ms':>8} {'SQL/update':>11}",
    ]
    for kind, t in r["types"].items():
        lines.append(
            f"  {kind:<9} {t['p50_ms']:8.2f} {t['p99_ms']:8.2f} {t['statements']:8.1f}"
            f" (max {t['statements_max']})"
        )
    lines.append(f"  floor p99 {r['bare_p99_ms']:.2f} ms")
    lines.append(
        f"  the same replies from a bare dispatcher (no middleware, database or rendering of "
        f"ours): {r['replay_per_s']:.0f} updates/s = {r['replay_ratio']:.3f}x the echo floor"
    )
    return lines


async def report(
    updates: int = 2500, teachers: int = 20, pg: bool = False, profile_to: str | None = None
) -> None:
    logging.getLogger("aiogram").setLevel(logging.ERROR)
    r = await measure(updates, teachers, pg, profile_to)
    print("\n".join(render(r, updates, teachers)), flush=True)
