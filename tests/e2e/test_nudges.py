"""Route nudges, the stalled route and the self-assessment reminders, end to end on the bot's
injected clock: each arrives at 10:00 in the teacher's own zone (Europe/Moscow and
Asia/Yekaterinburg differ by two hours), its buttons work, a change withdraws or moves it,
and a restart of the bot loses and duplicates nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.app import BotApp
from core.clock import ManualClock
from db.models import RouteStep
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, EmuUser, SpecValidator
from domain.notices import NoticeKind
from domain.reminders import Category
from services import assessment as assessment_service
from services import reminders
from services import route as route_service
from services.nudges import plan_route
from services.route import Overview
from tests.conftest import TEST_TOKEN, make_settings
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import register
from tests.sample_teacher import WEAK, answer_all, ids
from ui.callbacks.assessment import AnswerCb, AssessCb
from ui.callbacks.route import NudgeAction, NudgeCb

MOSCOW, YEKATERINBURG = "Europe/Moscow", "Asia/Yekaterinburg"
QUIET = "21:00-08:00"
#: 15:00 in Moscow, 17:00 in Yekaterinburg: the same local day D in both zones
T0 = datetime(2031, 3, 10, 12, 0, tzinfo=UTC)
D = date(2031, 3, 10)

NUDGE = "A gentle reminder about your route"
STALLED = "Shall we continue your route?"
UNFINISHED = "Your self-assessment is waiting"
RETAKE = "You can take the self-assessment again"
ROUTE_KINDS = [NoticeKind.ROUTE_NUDGE, NoticeKind.ROUTE_STALLED]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


async def _teacher(running: Running, tg_id: int, zone: str) -> tuple[Chat, int]:
    """A registered English-speaking teacher in `zone` with quiet hours 21:00–08:00."""
    async with running.app.sessionmaker() as session:
        muni_id, school_id = await ids(Repo(session))
    chat = running.chat(tg_id, lang="en", first_name="Anna")
    await register(chat, running.emu, municipality_id=muni_id, school_id=school_id)
    async with running.app.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(tg_id)
        assert user is not None
        user.timezone, user.quiet_hours = zone, QUIET
        await session.commit()
        return chat, user.id


async def _route(app: BotApp, user_id: int, now: datetime, targets: list[date]) -> list[int]:
    """The self-assessment and a route of the shipped framework, built at `now`; its steps'
    target dates set to `targets` (the rest two months on), the reminders planned again.
    The steps' ids in route order."""
    async with app.sessionmaker() as session:
        repo = Repo(session, app.settings.reminders)
        await answer_all(repo, user_id, now=now)
        built = await route_service.build(repo, user_id, [WEAK], "normal", None, D, now)
        assert isinstance(built, Overview)
        steps = built.route.steps
        for index, step in enumerate(steps):
            step.target_date = targets[index] if index < len(targets) else D + timedelta(60)
        await session.flush()
        await plan_route(repo, user_id, now)
        await session.commit()
        return [step.id for step in steps]


async def _titles(app: BotApp, step_ids: list[int]) -> list[str]:
    async with app.sessionmaker() as session:
        rows = await session.scalars(select(RouteStep).where(RouteStep.id.in_(step_ids)))
        by_id = {row.id: str(row.content["title"]["en"]) for row in rows}
    return [by_id[i] for i in step_ids]


async def _tick(running: Running, moment: datetime) -> None:
    running.clock.set(moment)
    await running.app.tick()


def _count(chat: Chat, marker: str) -> int:
    """Messages sent to the chat with `marker` (as sent: a later edit does not hide one)."""
    return sum(
        marker in str(call.params.get("text", ""))
        for call in chat.emu.calls_of("sendMessage")
        if str(call.params.get("chat_id")) == str(chat.user.id)
    )


async def test_route_nudges_arrive_at_ten_local_grouped_weekly_and_follow_the_route(
    running: Running,
) -> None:
    app, emu = running.app, running.emu
    running.clock.set(T0)
    anna, anna_id = await _teacher(running, 8801, MOSCOW)
    ivan, ivan_id = await _teacher(running, 8802, YEKATERINBURG)
    near = D + timedelta(days=5)
    anna_steps = await _route(app, anna_id, T0, [near, near])
    await _route(app, ivan_id, T0, [near, near])

    # three days before the target, at 10:00 local: 05:00 UTC in Yekaterinburg, 07:00 in Moscow
    day = D + timedelta(days=2)
    await _tick(running, _at(day, 4, 59))
    assert _count(ivan, NUDGE) == _count(anna, NUDGE) == 0
    await _tick(running, _at(day, 5))
    assert _count(ivan, NUDGE) == 1 and _count(anna, NUDGE) == 0
    await _tick(running, _at(day, 6, 59))
    assert _count(anna, NUDGE) == 0
    await _tick(running, _at(day, 7))
    assert _count(anna, NUDGE) == 1, emu.dump_chat(8801)

    # both due steps in one message, each with its buttons, and the 🔕 row
    nudge = anna.last
    first, second = await _titles(app, anna_steps[:2])
    assert first in nudge.plain_text and second in nudge.plain_text
    assert nudge.plain_text.count("by 15.03.2031") == 2 and "overdue" not in nudge.plain_text
    labels = [b["text"] for b in nudge.all_inline_buttons]
    assert labels == [
        "✅ 1. Done",
        "🔄 1. +1 week",
        "✅ 2. Done",
        "🔄 2. +1 week",
        "🔕 No more route reminders",
    ]

    # a forged button for somebody else's step: refused, nothing moves
    forged = NudgeCb(action=NudgeAction.POSTPONE, step=anna_steps[0]).pack()
    ivan_message = ivan.last.message_id
    await ivan.run(lambda: emu.forge_callback(ivan.user, ivan_message, forged))
    assert any("out of date" in p for p in ivan.popups())
    forged = NudgeCb(action=NudgeAction.DONE, step=anna_steps[1]).pack()
    await ivan.run(lambda: emu.forge_callback(ivan.user, ivan_message, forged))
    assert sum("out of date" in p for p in ivan.popups()) == 2
    assert "Send evidence" not in ivan.last.plain_text
    async with app.sessionmaker() as session:
        step = await session.get(RouteStep, anna_steps[0])
        assert step is not None and step.target_date == near

    # 🔄 +1 week moves the first step; ✅ Done asks for evidence, as on the step card
    await anna.tap("🔄 1. +1 week")
    assert "now by 22.03.2031" in anna.popups()[-1]
    await anna.tap("✅ 2. Done")
    assert "Send evidence of this step" in anna.last.plain_text and second in anna.last.plain_text
    await anna.send("https://example.org/my-lesson-plan")
    await anna.send("I now plan lessons from the outcomes.")
    async with app.sessionmaker() as session:
        moved = await session.get(RouteStep, anna_steps[0])
        done = await session.get(RouteStep, anna_steps[1])
        assert moved is not None and moved.target_date == date(2031, 3, 22)
        assert done is not None and done.status == "done"

    # no second nudge within the week, though Ivan's steps stay due (then overdue)
    for offset in range(3, 9):
        await _tick(running, _at(D + timedelta(days=offset), 5))
    await _tick(running, _at(D + timedelta(days=9), 4, 59))
    assert _count(ivan, NUDGE) == 1 and _count(anna, NUDGE) == 1
    await _tick(running, _at(D + timedelta(days=9), 5))
    assert _count(ivan, NUDGE) == 2, emu.dump_chat(8802)
    assert ivan.last.plain_text.count("overdue") == 2

    # Anna closes every step: her pending nudge is withdrawn
    async with app.sessionmaker() as session:
        repo = Repo(session, app.settings.reminders)
        assert await repo.outbox.pending_of(anna_id, [NoticeKind.ROUTE_NUDGE])
        now = _at(D + timedelta(days=9), 6)
        for step_id in anna_steps[2:]:
            await route_service.change_status(repo, anna_id, step_id, "skipped", now)
        assert await repo.outbox.pending_of(anna_id, [NoticeKind.ROUTE_NUDGE])  # one is open
        changed = await route_service.record_evidence(
            repo,
            anna_id,
            anna_steps[0],
            now,
            text="Done",
            file_id=None,
            file_name=None,
            reflection="Fine",
        )
        assert isinstance(changed, route_service.StepChanged) and changed.route_completed
        assert await repo.outbox.pending_of(anna_id, ROUTE_KINDS) == []
        # Ivan switches route reminders off: his pending ones go at once
        assert await repo.outbox.pending_of(ivan_id, ROUTE_KINDS)
        assert await reminders.mute(repo, ivan_id, Category.ROUTE)
        assert await repo.outbox.pending_of(ivan_id, ROUTE_KINDS) == []
        await session.commit()
    for offset in (10, 16, 17, 24, 31):
        await _tick(running, _at(D + timedelta(days=offset), 7))
    assert _count(anna, NUDGE) == 1 and _count(ivan, NUDGE) == 2
    assert _count(anna, STALLED) == _count(ivan, STALLED) == 0


async def test_a_route_left_alone_for_thirty_days_gets_one_message_and_progress_resets_it(
    running: Running,
) -> None:
    app = running.app
    running.clock.set(T0)
    anna, anna_id = await _teacher(running, 8811, MOSCOW)
    far = D + timedelta(days=200)  # no step comes near: no nudges in this test
    steps = await _route(app, anna_id, T0, [far] * 6)
    first, second = await _titles(app, steps[:2])

    # progress on day 20 moves the 30 days on: nothing on day 31
    async with app.sessionmaker() as session:
        repo = Repo(session, app.settings.reminders)
        progress_at = T0 + timedelta(days=20)
        await route_service.change_status(repo, anna_id, steps[0], "skipped", progress_at)
        await session.commit()
    await _tick(running, _at(D + timedelta(days=31), 7))
    assert _count(anna, STALLED) == 0

    # 30 days after the progress (day 50, 15:00 MSK): the next morning at 10:00 Moscow
    morning = D + timedelta(days=51)
    await _tick(running, _at(morning, 6, 59))
    assert _count(anna, STALLED) == 0
    await _tick(running, _at(morning, 7))
    assert _count(anna, STALLED) == 1, running.emu.dump_chat(8811)
    stalled = anna.last.plain_text
    assert second in stalled and first not in stalled and "since 30.03.2031" in stalled
    labels = [b["text"] for b in anna.last.all_inline_buttons]
    assert labels == ["▶️ Open the next step", "🔕 No more route reminders"]

    # exactly one per stall, however long it lasts
    for offset in (52, 60, 75):
        await _tick(running, _at(D + timedelta(days=offset), 7))
    assert _count(anna, STALLED) == 1

    # the button opens the next step's card
    await anna.tap("▶️ Open the next step")
    assert second in anna.last.plain_text and "What and why" in anna.last.plain_text

    # progress again: a new stall is counted from it
    async with app.sessionmaker() as session:
        repo = Repo(session, app.settings.reminders)
        await route_service.change_status(
            repo, anna_id, steps[1], "skipped", _at(D + timedelta(days=76), 12)
        )
        await session.commit()
    await _tick(running, _at(D + timedelta(days=106), 6, 59))
    assert _count(anna, STALLED) == 1
    await _tick(running, _at(D + timedelta(days=107), 7))
    assert _count(anna, STALLED) == 2


def _answer_button(chat: Chat) -> str:
    data = next(
        b["callback_data"]
        for b in chat.last.all_inline_buttons
        if b["callback_data"].startswith("aa:")
    )
    shown = AnswerCb.unpack(data)
    return AnswerCb(attempt=shown.attempt, code=shown.code, value=2).pack()


async def test_self_assessment_reminders_after_two_and_seven_days_the_retake_and_restarts(
    db_url: str, spec: SpecValidator | None
) -> None:
    clock = ManualClock(T0)
    ivan_user = EmuUser(id=8821, first_name="Ivan", language_code="en")
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:

        async def start_app() -> BotApp:
            app = BotApp(
                make_settings(db_url, telegram_api_base=emu.base_url),
                clock=clock,
            )
            await app.setup()
            await app.start_polling()
            return app

        def chat_of(app: BotApp, user: EmuUser) -> Chat:
            return Chat(emu, user, app.dp["update_counter"], app.sender)

        async def tick(app: BotApp, moment: datetime) -> None:
            clock.set(moment)
            await app.tick()

        app = await start_app()
        try:
            running = Running(app, emu, app.dp["update_counter"], clock)
            ivan, _ = await _teacher(running, 8821, YEKATERINBURG)
            anna, anna_id = await _teacher(running, 8822, MOSCOW)

            # Ivan answers three statements at 17:00 his time and leaves
            await ivan.send("/assess")
            await ivan.tap_data(AssessCb(action="start").pack())
            for _ in range(3):
                await ivan.tap_data(_answer_button(ivan))
            assert "📝 4 / 44" in ivan.last.plain_text
            # Anna starts too, and finishes the next day: her reminders are withdrawn
            async with app.sessionmaker() as session:
                repo = Repo(session, app.settings.reminders)
                await assessment_service.start(repo, anna_id, T0)
                assert len(await repo.outbox.pending_of(anna_id)) == 2
                await session.commit()
            async with app.sessionmaker() as session:
                repo = Repo(session, app.settings.reminders)
                await answer_all(repo, anna_id, now=T0 + timedelta(days=1))
                pending = await repo.outbox.pending_of(anna_id)
                assert [row.kind for row in pending] == [NoticeKind.RETAKE_AVAILABLE.value]
                await session.commit()
            await app.stop()

            # the bot restarts; two days and the night later, at 10:00 Yekaterinburg (05:00 UTC)
            app = await start_app()
            ivan, anna = chat_of(app, ivan_user), chat_of(app, anna.user)
            await tick(app, _at(D + timedelta(days=3), 4, 59))
            assert _count(ivan, UNFINISHED) == 0
            await tick(app, _at(D + timedelta(days=3), 5))
            assert _count(ivan, UNFINISHED) == 1, emu.dump_chat(8821)
            assert "answered 3 of 44 statements" in ivan.last.plain_text
            labels = [b["text"] for b in ivan.last.all_inline_buttons]
            assert labels == ["▶️ Continue", "🔕 No more self-assessment reminders"]

            # another restart: nothing is sent twice, nothing else comes before day 7
            await app.stop()
            app = await start_app()
            ivan, anna = chat_of(app, ivan_user), chat_of(app, anna.user)
            for offset in (3, 4, 5, 6, 7):
                await tick(app, _at(D + timedelta(days=offset), 5))
            assert _count(ivan, UNFINISHED) == 1
            await tick(app, _at(D + timedelta(days=8), 5))
            assert _count(ivan, UNFINISHED) == 2
            # then silence
            for offset in (9, 20, 60):
                await tick(app, _at(D + timedelta(days=offset), 5))
            assert _count(ivan, UNFINISHED) == 2 and _count(anna, UNFINISHED) == 0
            # the button continues where he stopped
            await ivan.tap("▶️ Continue")
            assert "📝 4 / 44" in ivan.last.plain_text

            # Anna's retake: 90 days after she finished (11.03, 15:00 MSK), the next morning
            retake_day = D + timedelta(days=92)
            await tick(app, _at(retake_day, 6, 59))
            assert _count(anna, RETAKE) == 0
            await tick(app, _at(retake_day, 7))
            assert _count(anna, RETAKE) == 1, emu.dump_chat(8822)
            assert "changed since 11.03.2031" in anna.last.plain_text
            await tick(app, _at(retake_day + timedelta(days=5), 7))
            assert _count(anna, RETAKE) == 1
            await anna.tap("▶️ Start the self-assessment")
            assert anna.last.plain_text.startswith("📝 1 / 44")
        finally:
            await app.stop()
        emu.assert_no_violations()
