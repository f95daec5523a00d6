"""The route's and the self-assessment's reminders as outbox rows (services.nudges), on SQLite
and PostgreSQL: planned in the unit of work of their cause, in each teacher's zone, moved or
withdrawn by every change, and rendered at send time from what the database says then
(outbox.render_nudges): stale rows render to nothing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import load_i18n
from db.models import OutboxMessage
from db.reference.sample_events import TRICKY_TITLE
from db.repo import Repo
from domain.notices import NoticeKind
from domain.reminders import Category
from domain.roles import Role
from outbox.render import render as render_row
from outbox.rendered import RenderContext, Rendered
from services import assessment, reminders
from services import route as route_service
from services.nudges import Postponed, PostponeRefusal, plan_route, postpone_step
from services.route import Overview
from tests.conftest import make_settings
from tests.sample_teacher import WEAK, answer_all, sample_teacher
from tests.staffing import make_staff

Maker = async_sessionmaker[AsyncSession]
MSK, YEKT = ZoneInfo("Europe/Moscow"), ZoneInfo("Asia/Yekaterinburg")
D = date(2031, 3, 10)
T0 = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)
ROUTE_KINDS = [NoticeKind.ROUTE_NUDGE, NoticeKind.ROUTE_STALLED]
ASSESSMENT_KINDS = [NoticeKind.ASSESSMENT_UNFINISHED, NoticeKind.RETAKE_AVAILABLE]


def _utc(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@contextmanager
def english() -> Iterator[None]:
    i18n = load_i18n(make_settings("sqlite+aiosqlite://"))
    with i18n.context(), i18n.use_locale("en"):
        yield


async def _render(
    repo: Repo, row: OutboxMessage, now: datetime, tz: ZoneInfo = MSK
) -> Rendered | None:
    payload: Mapping[str, Any] = row.payload
    with english():
        return await render_row(NoticeKind(row.kind), RenderContext(repo, tz, now, "en"), payload)


async def _teacher_with_route(
    sessionmaker: Maker, telegram_id: int, zone: str, targets: list[date]
) -> tuple[int, list[int]]:
    sample = await sample_teacher(sessionmaker, telegram_id, T0)
    async with sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.require(sample.user_id)
        user.timezone = zone
        await answer_all(repo, sample.user_id, now=T0)
        built = await route_service.build(repo, sample.user_id, [WEAK], "normal", None, D, T0)
        assert isinstance(built, Overview)
        for index, step in enumerate(built.route.steps):
            step.target_date = targets[index] if index < len(targets) else D + timedelta(60)
        await session.flush()
        await plan_route(repo, sample.user_id, T0)
        await session.commit()
        return sample.user_id, [s.id for s in built.route.steps]


async def test_building_a_route_plans_a_nudge_and_a_stall_in_the_teachers_zone(
    sessionmaker: Maker,
) -> None:
    moscow, _ = await _teacher_with_route(sessionmaker, 5101, "Europe/Moscow", [D + timedelta(5)])
    yekat, _ = await _teacher_with_route(
        sessionmaker, 5102, "Asia/Yekaterinburg", [D + timedelta(5)]
    )
    async with sessionmaker() as session:
        repo = Repo(session)
        for user_id, hour in ((moscow, 7), (yekat, 5)):
            nudge, stall = await repo.outbox.pending_of(user_id, ROUTE_KINDS)
            assert (nudge.kind, nudge.due_at) == ("route_nudge", _utc(D + timedelta(2), hour))
            assert (stall.kind, stall.due_at) == ("route_stalled", _utc(D + timedelta(31), hour))
            assert nudge.ref == stall.ref == f"route:{nudge.payload['route_id']}"
            assert stall.payload["since"] == T0.isoformat()  # the route's creation, bot's clock
        # building it anew (replacing it) leaves one nudge and one stall, of the new route
        current = await repo.routes.active(moscow)
        assert current is not None
        built = await route_service.build(
            repo, moscow, [WEAK, "digital"], "normal", current.id, D, T0 + timedelta(hours=1)
        )
        assert isinstance(built, Overview)
        pending = await repo.outbox.pending_of(moscow, ROUTE_KINDS)
        assert sorted(r.kind for r in pending) == ["route_nudge", "route_stalled"]
        assert {r.payload["route_id"] for r in pending} == {built.route.id}


async def _pending(repo: Repo, user_id: int) -> list[OutboxMessage]:
    return await repo.outbox.pending_of(user_id, ROUTE_KINDS)


async def test_postponing_is_checked_against_the_owner_and_moves_the_nudge(
    sessionmaker: Maker,
) -> None:
    anna, anna_steps = await _teacher_with_route(
        sessionmaker, 5111, "Europe/Moscow", [D + timedelta(2)]
    )
    ivan, _ = await _teacher_with_route(sessionmaker, 5112, "Europe/Moscow", [D + timedelta(2)])
    async with sessionmaker() as session:
        repo = Repo(session)
        # a forged id: Anna's step from Ivan's button
        assert await postpone_step(repo, ivan, anna_steps[0], T0) is PostponeRefusal.STALE
        assert await postpone_step(repo, anna, 10**9, T0) is PostponeRefusal.STALE
        (before,) = await repo.outbox.pending_of(anna, [NoticeKind.ROUTE_NUDGE])
        assert before.due_at == _utc(D + timedelta(1), 7)  # window open already: tomorrow 10:00
        moved = await postpone_step(repo, anna, anna_steps[0], T0)
        assert isinstance(moved, Postponed) and moved.step.target_date == D + timedelta(9)
        (after,) = await repo.outbox.pending_of(anna, [NoticeKind.ROUTE_NUDGE])
        assert after.due_at == _utc(D + timedelta(6), 7)
        await route_service.change_status(repo, anna, anna_steps[0], "skipped", T0)
        assert await postpone_step(repo, anna, anna_steps[0], T0) is PostponeRefusal.CLOSED
        await session.commit()


async def test_a_muted_route_plans_nothing_and_switching_it_back_on_plans_again(
    sessionmaker: Maker,
) -> None:
    anna, _ = await _teacher_with_route(sessionmaker, 5121, "Europe/Moscow", [D + timedelta(5)])
    async with sessionmaker() as session:
        repo = Repo(session)
        assert await reminders.mute(repo, anna, Category.ROUTE)
        assert await _pending(repo, anna) == []
        assert await plan_route(repo, anna, T0) == 0
        assert await _pending(repo, anna) == []
        assert await reminders.unmute(repo, anna, Category.ROUTE, T0)
        assert len(await _pending(repo, anna)) == 2
        await session.commit()


async def test_an_attempt_started_over_keeps_two_reminders_of_the_new_one(
    sessionmaker: Maker,
) -> None:
    sample = await sample_teacher(sessionmaker, 5131, T0)
    uid = sample.user_id
    async with sessionmaker() as session:
        repo = Repo(session)
        step = await assessment.start(repo, uid, T0)
        assert isinstance(step, assessment.Question)
        first = step.attempt_id
        rows = await repo.outbox.pending_of(uid, ASSESSMENT_KINDS)
        assert [(r.payload["days"], r.ref) for r in rows] == [
            (2, f"attempt:{first}"),
            (7, f"attempt:{first}"),
        ]
        later = T0 + timedelta(hours=5)
        again = await assessment.restart(repo, uid, first, later)
        assert isinstance(again, assessment.Question)
        rows = await repo.outbox.pending_of(uid, ASSESSMENT_KINDS)
        assert [(r.payload["days"], r.payload["started"]) for r in rows] == [
            (2, later.isoformat()),
            (7, later.isoformat()),
        ]
        await session.commit()


async def test_stale_rows_render_to_nothing_and_due_ones_list_every_due_step(
    sessionmaker: Maker,
) -> None:
    near = [D + timedelta(days=n) for n in (-3, 1, 2, 2, 3, 3)]
    anna, steps = await _teacher_with_route(sessionmaker, 5141, "Europe/Moscow", near)
    async with sessionmaker() as session:
        repo = Repo(session)
        # a methodist's step with the tricky title, due too: seven due steps
        methodist, _ = await repo.users.get_or_create(6141, "ru")
        await session.flush()
        teacher = await repo.users.require(anna)
        await make_staff(repo, methodist, Role.COORDINATOR, teacher.municipality_id)
        added = await route_service.add_methodist_step(
            repo, methodist, Role.COORDINATOR, anna, TRICKY_TITLE, D + timedelta(1), T0
        )
        assert not isinstance(added, route_service.Refusal)
        nudge, stall = await _pending(repo, anna)
        rendered = await _render(repo, nudge, T0)
        assert rendered is not None and rendered.markup is not None
        text = rendered.text
        assert text.count("overdue") == 1 and "…and 2 more steps: /route" in text
        assert text.count("\n1. ") == 1 and "\n5. " in text and "\n6. " not in text
        # five rows of two buttons, then 🔕
        rows = rendered.markup.inline_keyboard
        assert [len(r) for r in rows] == [2, 2, 2, 2, 2, 1]
        # the methodist's title (due on D+1) is escaped
        assert "&lt;b&gt;" in text and "<b>" + TRICKY_TITLE not in text

        # the stall message: gone once progress is made
        assert await _render(repo, stall, T0 + timedelta(days=31)) is not None
        await route_service.change_status(repo, anna, steps[0], "skipped", T0 + timedelta(1))
        assert await _render(repo, stall, T0 + timedelta(days=31)) is None
        # no step due any more (all closed): the nudge is stale, and none is planned
        route = await repo.routes.active(anna)
        assert route is not None
        for step in route.steps:
            await route_service.change_status(repo, anna, step.id, "skipped", T0)
        assert await _render(repo, nudge, T0) is None
        assert await _pending(repo, anna) == []
        await session.commit()


async def test_assessment_reminders_are_stale_once_finished_or_superseded(
    sessionmaker: Maker,
) -> None:
    sample = await sample_teacher(sessionmaker, 5151, T0)
    uid = sample.user_id
    async with sessionmaker() as session:
        repo = Repo(session)
        await assessment.start(repo, uid, T0)
        two, _seven = await repo.outbox.pending_of(uid, ASSESSMENT_KINDS)
        shown = await _render(repo, two, T0 + timedelta(days=3), YEKT)
        assert shown is not None and "answered 0 of 44 statements" in shown.text
        await answer_all(repo, uid, now=T0 + timedelta(days=1))
        assert await _render(repo, two, T0 + timedelta(days=3)) is None  # finished
        (retake,) = await repo.outbox.pending_of(uid, ASSESSMENT_KINDS)
        assert retake.kind == "retake_available"
        assert await _render(repo, retake, T0 + timedelta(days=80)) is None  # not yet possible
        offered = await _render(repo, retake, T0 + timedelta(days=92))
        assert offered is not None and "changed since 11.03.2031" in offered.text
        # a newer attempt: the offer is stale
        await assessment.start(repo, uid, T0 + timedelta(days=91))
        assert await _render(repo, retake, T0 + timedelta(days=92)) is None
        await session.commit()
