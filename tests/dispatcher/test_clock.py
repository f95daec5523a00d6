"""The dispatcher's one clock: `build_dispatcher(clock=...)` hands the same object to every
handler, so moving the harness's ManualClock moves the bot's idea of "now", and every time the
bot stores (consent, profile, answers, the finish, a step's and the route's completion,
/mydata, /deleteme) is that clock's, never the wall clock's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from aiogram.methods import SendDocument
from aiogram.types import BufferedInputFile
from sqlalchemy import select

from db.models import Answer, Attempt, Route, RouteStep, User
from db.repo import Repo
from tests.dispatcher.conftest import Harness
from tests.dispatcher.test_coordinator_routes import (
    _finish_assessment,
    _munis,
    _route,
    _step,
    _user,
)
from tests.mocked_bot import Request
from tests.sample_teacher import ids
from ui.callbacks.assessment import AnswerCb, AssessAction, AssessCb
from ui.callbacks.menu import DeleteCb
from ui.callbacks.onboarding import ConsentAction, ConsentCb
from ui.callbacks.profile import Nav, NavAction
from ui.callbacks.route import RouteAction, RouteCb

#: the bot's clock, years away from the wall clock
AWAY = datetime(2031, 3, 14, 9, 30, tzinfo=UTC)


def _sent(requests: list[Request]) -> list[str]:
    """Text and buttons of every message sent."""
    return [
        str(r.params.get("text", "")) + json.dumps(r.params.get("reply_markup"), ensure_ascii=False)
        for r in requests
        if r.method == "sendMessage"
    ]


async def test_the_retake_wait_is_counted_on_the_bots_clock(harness: Harness) -> None:
    muni = (await _munis(harness))[0]
    user_id = await _user(harness, 7301, muni)
    await _finish_assessment(harness, user_id)  # finished now, by the bot's clock

    sent = _sent(await harness.message(7301, "/assess"))
    assert len(sent) == 1 and "Вы проходили самооценку совсем недавно" in sent[0], sent
    due = (harness.clock.now() + timedelta(days=90)).astimezone(harness.settings.tz)
    assert f"{due:%d.%m.%Y}" in sent[0]

    harness.clock.advance(days=91)  # the framework's retake_days is 90
    sent = _sent(await harness.message(7301, "/assess"))
    assert len(sent) == 1 and "▶️ Начать" in sent[0] and "недавно" not in sent[0], sent


async def _me(h: Harness, telegram_id: int) -> User:
    async with h.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(telegram_id)
        assert user is not None
        return user


async def test_consent_profile_assessment_and_personal_data_are_stamped_by_the_bots_clock(
    harness: Harness,
) -> None:
    clock = harness.clock
    clock.set(AWAY)
    await harness.message(7310, "/start")
    await harness.callback(7310, ConsentCb(action=ConsentAction.AGREE).pack())
    assert (await _me(harness, 7310)).consent_at == AWAY

    async with harness.sessionmaker() as session:  # the wizard's answers (tested elsewhere)
        repo = Repo(session)
        user = await repo.users.require((await _me(harness, 7310)).id)
        muni_id, school_id = await ids(repo)
        await repo.users.set_fields(
            user,
            full_name="Иванова Анна Петровна",
            municipality_id=muni_id,
            school_id=school_id,
            position_code="teacher",
            experience_years=2,
            age_band="under_35",
        )
        await repo.users.set_subjects(user, ["math"])
        await session.commit()
    saved_at = clock.advance(minutes=10)
    await harness.callback(7310, Nav(action=NavAction.SAVE).pack())
    me = await _me(harness, 7310)
    assert me.profile_completed_at == saved_at

    started_at = clock.advance(hours=1)
    await harness.message(7310, "/assess")
    await harness.callback(7310, AssessCb(action=AssessAction.START).pack())
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        attempt = await repo.assessments.open_attempt(me.id)
        framework = await repo.frameworks.active()
        assert attempt is not None and framework is not None
        assert attempt.started_at == started_at
        *answered, last = framework.statements(attempt.is_manager)
        for statement in answered:  # one update each would hit the flood limit
            await repo.assessments.set_answer(attempt.id, statement.code, 1, started_at)
        await session.commit()
    finished_at = clock.advance(minutes=20)
    await harness.callback(7310, AnswerCb(attempt=attempt.id, code=last.code, value=2).pack())
    async with harness.sessionmaker() as session:
        done = await session.get(Attempt, attempt.id)
        assert done is not None and done.result is not None
        assert done.finished_at == finished_at
        stamped = await session.scalar(
            select(Answer.answered_at).where(
                Answer.attempt_id == attempt.id, Answer.statement_code == last.code
            )
        )
        assert stamped == finished_at

    # the retake date counts from the finish on the bot's clock
    sent = _sent(await harness.message(7310, "/assess"))
    due = (finished_at + timedelta(days=90)).astimezone(harness.settings.tz)
    assert len(sent) == 1 and "недавно" in sent[0] and f"{due:%d.%m.%Y}" in sent[0], sent

    exported_at = clock.advance(days=1)
    requests = await harness.message(7310, "/mydata")
    (document,) = [r.obj for r in requests if isinstance(r.obj, SendDocument)]
    assert isinstance(document.document, BufferedInputFile)
    data = json.loads(document.document.data)
    assert data["exported_at"] == exported_at.isoformat()
    assert data["consent"]["given_at"] == AWAY.isoformat()
    assert data["profile"]["completed_at"] == saved_at.isoformat()

    erased_at = clock.advance(days=1)
    await harness.message(7310, "/deleteme")
    await harness.callback(7310, DeleteCb(confirm=True).pack())
    async with harness.sessionmaker() as session:
        erased = await session.get(User, me.id)
        assert erased is not None and erased.telegram_id is None
        assert erased.erased_at == erased_at


async def test_closing_steps_stamps_the_step_and_the_route_by_the_bots_clock(
    harness: Harness,
) -> None:
    clock = harness.clock
    clock.set(AWAY)
    user_id = await _user(harness, 7320, (await _munis(harness))[0])
    route_id = await _route(harness, user_id, [_step(1, "digital"), _step(2, "digital")])
    async with harness.sessionmaker() as session:
        first, second = (await Repo(session).routes.get(route_id)).steps  # type: ignore[union-attr]

    skipped_at = clock.advance(hours=2)
    await harness.callback(
        7320, RouteCb(action=RouteAction.STATUS, step=first.id, status="skipped").pack()
    )
    async with harness.sessionmaker() as session:
        step = await session.get(RouteStep, first.id)
        route = await session.get(Route, route_id)
        assert step is not None and route is not None
        assert (step.status, step.completed_at) == ("skipped", skipped_at)
        assert (route.status, route.completed_at) == ("active", None)

    clock.advance(days=3)
    await harness.callback(
        7320, RouteCb(action=RouteAction.STATUS, step=second.id, status="done").pack()
    )
    await harness.message(7320, "Конспект открытого урока")
    done_at = clock.advance(minutes=5)  # the reflection, typed later, completes the step
    await harness.message(7320, "Стала чаще давать обратную связь")
    async with harness.sessionmaker() as session:
        step = await session.get(RouteStep, second.id)
        route = await session.get(Route, route_id)
        assert step is not None and route is not None
        assert (step.status, step.completed_at) == ("done", done_at)
        assert (route.status, route.completed_at) == ("completed", done_at)
