"""Statement budgets of a teacher's hot paths, through the real dispatcher (issue #12).

The update mix of `bench/mix.py` (`/help`, `/events`, an event card, an assessment answer,
`/route`) on the shipped sample data, each update type held to the number of SQL statements it
may run, so the count cannot silently grow back; and what keeps it small: one user read per
update (the role filters refuse by the cached role and share one read), the framework cached
per version, no synchronous filter hopping through a thread, the menu built once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram.types import ReplyKeyboardMarkup, Update
from aiogram.utils.i18n import I18n
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.mix import Feeder, Teacher, prepare_teachers
from bot.app import load_i18n, prepare_database, prepare_update_database
from db.repo import Repo
from devtools.emulator import SpecValidator
from domain.roles import Role
from handlers.filters import RoleFilter
from tests.conftest import make_settings
from tests.dispatcher.conftest import Harness
from tests.staffing import make_staff
from ui.keyboards.menu import main_menu

#: SQL statements per update type, the user's facts already cached (they are, after the first
#: update, for `UserCache.ttl`); before issue #12: 0, 19, 13, 11, 9; then 0, 5, 4, 3, 2
BUDGET = {"/help": 0, "/events": 2, "card": 2, "answer": 2, "/route": 1}


@dataclass
class Statements:
    texts: list[str] = field(default_factory=list)

    def attach(self, engine: AsyncEngine) -> None:
        def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            self.texts.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", on_execute)

    def user_reads(self, statements: list[str]) -> int:
        """Reads of the user's row with their powers (what the middleware and the role
        filters read; a screen's own read of a few profile columns does not count)."""
        return sum(
            1
            for s in statements
            if "FROM users" in s and "users.role" in s and s.lstrip().startswith("SELECT")
        )


@dataclass
class Bench:
    harness: Harness
    statements: Statements
    teacher: Teacher
    feeder: Feeder

    async def feed(self, kind: str, n: int = 0) -> list[str]:
        """The statements of the update's handling (not of the outbox drain after it)."""
        h = self.harness
        update = Update.model_validate(
            self.feeder.update(kind, self.teacher, n), context={"bot": h.bot}
        )
        before = len(h.session.requests)
        self.statements.texts.clear()
        await h.dp.feed_update(h.bot, update)
        statements = list(self.statements.texts)
        assert len(h.session.requests) > before, f"{kind}: the bot said nothing"
        await h.sender.drain()
        return statements


@pytest.fixture
async def bench(db_url: str, spec: SpecValidator | None) -> AsyncIterator[Bench]:
    settings = make_settings(db_url, admin_ids=[900], throttle_rate=1000.0, throttle_burst=1000)
    engine, sessionmaker = await prepare_database(settings)
    update_engine, update_sessionmaker = prepare_update_database(engine, sessionmaker)
    teachers = await prepare_teachers(sessionmaker, 2)
    h = Harness(settings, sessionmaker, spec, update_sessionmaker)
    statements = Statements()
    # the updates' statements run on the update engine (on SQLite the loop-thread one); an
    # offloaded handler's on the app's engine: both are counted
    statements.attach(update_engine)
    if update_engine is not engine:
        statements.attach(engine)
    yield Bench(h, statements, teachers[0], Feeder())
    await h.dp.storage.close()
    await h.bot.session.close()
    await update_engine.dispose()
    await engine.dispose()
    assert h.session.violations == [], h.session.violations


@pytest.mark.parametrize("kind", list(BUDGET))
async def test_each_update_type_stays_within_its_statement_budget(bench: Bench, kind: str) -> None:
    await bench.feed("/help")  # the user's facts are cached from here on
    for n in range(3):
        statements = await bench.feed(kind, n)
        assert len(statements) <= BUDGET[kind], (kind, len(statements), statements)
        assert bench.statements.user_reads(statements) <= 1, (kind, statements)


async def test_a_cold_update_reads_the_user_once(bench: Bench) -> None:
    """Nothing cached: the user middleware loads the user; the routers' role filters refuse a
    teacher by that cached role, without reading the row again."""
    for kind in BUDGET:
        bench.harness.dp["user_cache"].invalidate(bench.teacher.telegram_id)
        statements = await bench.feed(kind)
        assert bench.statements.user_reads(statements) == 1, (kind, statements)


async def test_staff_pass_the_role_filters_with_one_user_read(bench: Bench) -> None:
    """A school methodist's `/events` passes six routers' role filters (admin, coordinator,
    broadcasts, stats, event admin, event import) before it reaches the teacher's screen:
    the row is read once for all of them, and only the database's answer lets them in."""
    async with bench.harness.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(bench.teacher.telegram_id)
        assert user is not None and user.school_id is not None
        await make_staff(repo, user, Role.SCHOOL_METHODIST, school_id=user.school_id)
        await session.commit()
    bench.harness.dp["user_cache"].invalidate(bench.teacher.telegram_id)
    await bench.feed("/help")  # cached as a methodist now
    statements = await bench.feed("/events")
    assert bench.statements.user_reads(statements) == 1, statements
    assert len(statements) <= BUDGET["/events"] + 2, statements  # + the row and the scope


async def test_a_cached_staff_role_grants_nothing_the_database_does_not(bench: Bench) -> None:
    """The cache says methodist, the database says teacher: refused (the cache only refuses)."""
    from dataclasses import replace

    cache = bench.harness.dp["user_cache"]
    await bench.feed("/help")
    ctx = cache.get(bench.teacher.telegram_id)
    assert ctx is not None and ctx.role is Role.TEACHER
    cache.put(replace(ctx, role=Role.SCHOOL_METHODIST))
    async with bench.harness.sessionmaker() as session:
        repo = Repo(session)
        allowed = await RoleFilter(Role.SCHOOL_METHODIST)(
            object(),  # type: ignore[arg-type]
            user=cache.get(bench.teacher.telegram_id),
            repo=repo,
            admin_ids=frozenset(),
        )
    assert allowed is False


def test_every_filter_runs_on_the_event_loop(sqlite_url: str) -> None:
    """aiogram runs a synchronous filter in a worker thread; none is left on any router."""
    from bot.app import build_dispatcher

    settings = make_settings(sqlite_url)
    dp = build_dispatcher(settings, None, load_i18n(settings))  # type: ignore[arg-type]
    sync = [
        (router.name, name, getattr(handler.callback, "__name__", "?"), flt.callback)
        for router in dp.chain_tail
        for name, observer in router.observers.items()
        for handler in observer.handlers
        for flt in handler.filters or ()
        if not flt.awaitable
    ]
    assert sync == []
    for observer in (dp.message, dp.callback_query):
        # the dispatcher's own (private-chat) filters too
        assert all(flt.awaitable for flt in observer._handler.filters or ())


def test_the_main_menu_is_built_once_per_language(sqlite_url: str) -> None:
    i18n: I18n = load_i18n(make_settings(sqlite_url))
    with i18n.context(), i18n.use_locale("ru"):
        first: ReplyKeyboardMarkup = main_menu(Role.TEACHER)
        assert main_menu(Role.TEACHER) is first
        assert main_menu(Role.COORDINATOR) is not first
        assert first.keyboard[0][0].text == "📝 Самооценка"
    with i18n.context(), i18n.use_locale("en"):
        assert main_menu(Role.TEACHER).keyboard[0][0].text == "📝 Self-assessment"


async def test_the_one_statement_list_matches_the_list_counts_and_statuses(
    sqlite_url: str,
) -> None:
    """`teacher_page` (the page, seats, the user's statuses and the total in one statement)
    answers exactly what `for_teacher` + `seats_taken_many` + `statuses_of` answered, on the
    sample events with sign-ups, for every page, a stale page past the end, and the weighted
    "for me" order."""
    from dataclasses import replace as with_

    from core.clock import utcnow
    from db.repositories.teacher_events import TeacherEvents
    from domain.events import interest_weights

    settings = make_settings(sqlite_url)
    engine, sessionmaker = await prepare_database(settings)
    teachers = await prepare_teachers(sessionmaker, 3)
    now = utcnow()
    async with sessionmaker() as session:
        repo = Repo(session)
        users = [await repo.users.by_telegram_id(t.telegram_id) for t in teachers]
        me = users[0]
        assert me is not None
        base = TeacherEvents(
            now=now,
            municipality_id=me.municipality_id,
            position=me.position_code,
            subjects=tuple(await repo.users.subject_codes(me.id)),
        )
        first, _ = await repo.events.for_teacher(base, 0, 100)
        assert len(first.items) >= 3
        for i, e in enumerate(first.items[:3]):  # sign-ups: one, two and three teachers
            for u in users[: 1 + i % 3]:
                assert u is not None
                await repo.events.sign_up(e.id, u.id, now, eligible=True)
        await session.commit()
        weighted = with_(base, weights=interest_weights({"assessment"}, set()))
        for spec in (base, weighted, with_(weighted, relevant_only=True)):
            for page in (0, 1, 2, 99):
                old, old_total = await repo.events.for_teacher(spec, page, 2)
                taken = await repo.events.seats_taken_many([e.id for e in old.items])
                mine = await repo.events.statuses_of(me.id, [e.id for e in old.items])
                new, new_total = await repo.events.teacher_page(spec, page, 2, me.id)
                assert (new_total, new.page, new.pages) == (old_total, old.page, old.pages)
                assert [(i.event.id, i.taken, i.mine) for i in new.items] == [
                    (e.id, taken.get(e.id, 0), mine.get(e.id)) for e in old.items
                ]
                assert any(i.taken for i in new.items) or not new.items
    await engine.dispose()
