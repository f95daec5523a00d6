"""A teacher finds a recommended session, books it, is waitlisted and promoted, adds it to the
calendar, shares it, checks in (the route step completes), leaves feedback once and sees the
journal; timed parts run from persistent job rows."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.app import BotApp
from core.clock import ManualClock, utcnow
from db.models import Event, Job, Registration
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, EmuUser, SpecValidator
from domain.assessment import score
from domain.route import Pace, build_route
from domain.schedule import JobKind
from tests.conftest import TEST_TOKEN, make_settings
from tests.e2e.conftest import Chat
from tests.e2e.flows import register
from ui.callbacks.events import EvAct, EvList, FeedbackCb, OfferCb


async def _app(emu: BotAPIEmulator, db_url: str, clock: ManualClock | None = None) -> BotApp:
    settings = make_settings(db_url, telegram_api_base=emu.base_url)
    app = BotApp(settings, clock=clock) if clock is not None else BotApp(settings)
    await app.setup()
    await app.start_polling()
    return app


def _chat(app: BotApp, emu: BotAPIEmulator, user_id: int, lang: str = "en") -> Chat:
    return Chat(
        emu,
        EmuUser(id=user_id, first_name="T", language_code=lang),
        app.dp["update_counter"],
        app.sender,
    )


async def _event(
    app: BotApp,
    *,
    title: str,
    competencies: list[str],
    capacity: int,
    hours_ahead: float,
    kind: str = "masterclass",
) -> Event:
    async with app.sessionmaker() as session:
        repo = Repo(session)
        muni = (await repo.reference.municipalities())[0]
        start = utcnow() + timedelta(hours=hours_ahead)
        event = await repo.events.add_event(
            Event(
                kind=kind,
                title=title,
                municipality_id=muni.id,
                competencies=competencies,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                place="МБОУ СОШ № 1, ул. Ленина, 1",
                capacity=capacity,
                checkin_code="K7M2QX",
                description="Практика формирующего оценивания.",
            )
        )
        await repo.jobs.schedule(
            JobKind.FEEDBACK_REQUEST, event.ends_at + timedelta(hours=1), event_id=event.id
        )
        await session.commit()
        return event


async def _give_route(app: BotApp, telegram_id: int) -> None:
    """A finished self-assessment with the 'assessment' deficit and a route built from it."""
    async with app.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(telegram_id)
        framework = await repo.frameworks.active()
        assert user is not None and framework is not None
        answers = {
            s.code: (0 if s.competency == "assessment" else 2) for s in framework.statements(False)
        }
        result = score(framework, answers, is_manager=False)
        attempt = await repo.assessments.start(user.id, framework.version, False, app.clock.now())
        await repo.assessments.finish(attempt, result.to_json(), app.clock.now())
        from db.models import RouteStep

        steps = [
            RouteStep(
                position=i,
                competency=p.competency,
                number=p.number,
                kind=p.template.kind.value,
                target_date=p.target,
                status="planned",
                content={
                    "title": {"ru": p.template.title.ru, "en": p.template.title.en},
                    "what": {"ru": "", "en": ""},
                    "how": {"ru": "", "en": ""},
                },
            )
            for i, p in enumerate(
                build_route(
                    framework, ["assessment"], young=True, pace=Pace.NORMAL, start=utcnow().date()
                ),
                1,
            )
        ]
        await repo.routes.create(user.id, attempt.id, "normal", steps)
        await session.commit()


async def test_teacher_events_flow(db_url: str, spec: SpecValidator | None) -> None:
    clock = ManualClock()
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec, bot_username="metodbot_test_bot") as emu:
        app = await _app(emu, db_url, clock)
        try:
            async with app.sessionmaker() as session:
                repo = Repo(session)
                muni = (await repo.reference.municipalities())[0]
                school = (await repo.reference.schools(muni.id))[0]
            anna, boris = _chat(app, emu, 9001), _chat(app, emu, 9002)
            for chat in (anna, boris):
                await register(chat, emu, municipality_id=muni.id, school_id=school.id)
            await _give_route(app, 9001)
            on_topic = await _event(
                app,
                title="Формирующее оценивание на уроке",
                competencies=["assessment"],
                capacity=1,
                hours_ahead=0.5,
            )
            other = await _event(
                app,
                title="Цифровые сервисы учителя",
                competencies=["digital"],
                capacity=30,
                hours_ahead=72,
                kind="webinar",
            )

            # recommended for Anna: the session on her deficit, not the other one
            await anna.send("/events")
            listing = anna.last.plain_text
            assert (
                "Recommended for you" in listing
                and on_topic.title in listing
                and other.title not in listing
            )
            await anna.tap_data(EvList(mode="all").pack())
            assert other.title in anna.last.plain_text

            # Anna books the only seat (with a confirmation step; a double tap is harmless)
            await anna.tap_data(EvAct(action="card", event=on_topic.id).pack())
            assert "1 seat left of 1" in anna.last.plain_text
            await anna.tap_data(EvAct(action="signup", event=on_topic.id).pack())
            await anna.tap_data(EvAct(action="join", event=on_topic.id).pack())
            assert any("You are registered" in p for p in anna.popups())
            assert "no seats left" in anna.last.plain_text

            # Boris lands on the waitlist, first in line
            await boris.send(f"/start event_{on_topic.id}")
            assert on_topic.title in boris.last.plain_text
            await boris.tap_data(EvAct(action="signup", event=on_topic.id).pack())
            await boris.tap_data(EvAct(action="join", event=on_topic.id).pack())
            assert any("number 1 on the waitlist" in p for p in boris.popups())

            # calendar file and share link
            await anna.tap_data(EvAct(action="ics", event=on_topic.id).pack())
            ics = anna.last.document
            assert ics is not None and ics[0].endswith(".ics") and b"BEGIN:VCALENDAR" in ics[1]
            await anna.tap_data(EvAct(action="share", event=on_topic.id).pack())
            assert (
                f"https://t.me/metodbot_test_bot?start=event_{on_topic.id}" in anna.last.plain_text
            )

            # the session starts in 30 minutes: cancelling is closed by now
            await anna.send("/events")
            await anna.tap_data(EvAct(action="card", event=on_topic.id).pack())
            assert "Cancel my registration" not in json.dumps(
                anna.last.reply_markup, ensure_ascii=False
            )

            # Boris books the webinar and cancels it again (three days ahead: allowed)
            await boris.tap_data(EvList(mode="all").pack())
            await boris.tap_data(EvAct(action="card", event=other.id).pack())
            await boris.tap_data(EvAct(action="signup", event=other.id).pack())
            await boris.tap_data(EvAct(action="join", event=other.id).pack())
            await boris.tap_data(EvAct(action="cancel", event=other.id).pack())
            await boris.tap_data(EvAct(action="cancelok", event=other.id).pack())
            assert any("registration is cancelled" in p for p in boris.popups())

            # Anna checks in with the code: attendance, and her route's master-class step is done
            await anna.send("/checkin k7m-2qx")
            text = anna.last.plain_text
            assert "checked in" in text and "route step" in text
            async with app.sessionmaker() as session:
                anna_row = await Repo(session).users.by_telegram_id(9001)
                assert anna_row is not None
                route = await Repo(session).routes.active(anna_row.id)
                reg = await session.scalar(
                    select(Registration).where(
                        Registration.event_id == on_topic.id, Registration.status == "attended"
                    )
                )
            assert reg is not None and route is not None
            assert [s.status for s in route.steps if s.kind == "masterclass"] == ["done"]
            await anna.send("/checkin K7M2QX")
            assert "already checked in" in anna.last.plain_text

            # after the end the persistent job asks for feedback, once
            later = on_topic.ends_at + timedelta(hours=2)
            assert await app.tick(later) == 1
            await anna.counter.wait_for(0)
            ask = anna.last
            assert "How was" in ask.plain_text
            # the teacher answers after the end (feedback is refused before it)
            clock.set(later)  # the bot's one clock: every screen sees the new time
            await anna.tap_data(FeedbackCb(reg=reg.id, rating=5).pack())
            await anna.send("Very practical, thank you")
            await anna.run(
                lambda: emu.forge_callback(
                    anna.user, ask.message_id, FeedbackCb(reg=reg.id, rating=1).pack()
                )
            )
            assert any("already left feedback" in p for p in anna.popups())
            async with app.sessionmaker() as session:
                stored = await session.get(Registration, reg.id)
                assert (
                    stored is not None
                    and stored.feedback_rating == 5
                    and stored.feedback_comment == "Very practical, thank you"
                )
                jobs = {j.payload["event_id"]: j for j in await session.scalars(select(Job))}
                assert jobs[on_topic.id].done_at is not None and jobs[other.id].done_at is None

            # /my and the journal
            await anna.send("/my")
            assert on_topic.title in anna.last.plain_text
            await anna.send("/journal")
            journal = anna.last.document
            assert journal is not None and on_topic.title in journal[1].decode("utf-8-sig")
        finally:
            await app.stop()
        emu.assert_no_violations()


async def test_freed_seat_is_offered_claimed_or_passed_on(
    db_url: str, spec: SpecValidator | None
) -> None:
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:
        app = await _app(emu, db_url)
        try:
            async with app.sessionmaker() as session:
                repo = Repo(session)
                muni = (await repo.reference.municipalities())[0]
                school = (await repo.reference.schools(muni.id))[0]
            chats = [_chat(app, emu, 9100 + n) for n in range(3)]
            for chat in chats:
                await register(chat, emu, municipality_id=muni.id, school_id=school.id)
            event = await _event(
                app,
                title="Стажировка",
                competencies=["digital"],
                capacity=1,
                hours_ahead=48,
                kind="internship",
            )
            for chat in chats:
                await chat.send(f"/start event_{event.id}")
                await chat.tap_data(EvAct(action="signup", event=event.id).pack())
                await chat.tap_data(EvAct(action="join", event=event.id).pack())
            first, second, third = chats
            assert any("number 2 on the waitlist" in p for p in third.popups())
            # the seat holder cancels: the first in line gets an offer
            await first.tap_data(EvAct(action="cancel", event=event.id).pack())
            await first.tap_data(EvAct(action="cancelok", event=event.id).pack())
            assert "A seat has freed up" in second.last.plain_text
            # the offer lapses (the job runs after its window): it passes to the third
            async with app.sessionmaker() as session:
                jobs = list(await session.scalars(select(Job).where(Job.kind == "offer_expire")))
            assert len(jobs) == 1
            await app.tick(
                jobs[0].run_at + timedelta(minutes=1),
            )
            await second.counter.wait_for(0)
            assert "not confirmed in time" in second.last.plain_text
            assert "A seat has freed up" in third.last.plain_text
            offer = third.last
            reg_id = OfferCb.unpack(offer.all_inline_buttons[0]["callback_data"]).reg
            await third.tap_data(OfferCb(reg=reg_id, take=True).pack())
            assert any("The seat is yours" in p for p in third.popups())
            async with app.sessionmaker() as session:
                statuses = sorted(
                    r.status for r in await Repo(session).events.participants(event.id)
                )
            assert statuses == ["cancelled", "cancelled", "confirmed"]
        finally:
            await app.stop()
        emu.assert_no_violations()


async def test_route_step_lists_matching_sessions(db_url: str, spec: SpecValidator | None) -> None:
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:
        app = await _app(emu, db_url)
        try:
            async with app.sessionmaker() as session:
                repo = Repo(session)
                muni = (await repo.reference.municipalities())[0]
                school = (await repo.reference.schools(muni.id))[0]
            anna = _chat(app, emu, 9301)
            await register(anna, emu, municipality_id=muni.id, school_id=school.id)
            await _give_route(app, 9301)
            match = await _event(
                app,
                title="Мастер-класс по критериальному оцениванию",
                competencies=["assessment"],
                capacity=10,
                hours_ahead=48,
            )
            await _event(
                app,
                title="Вебинар о цифровых сервисах",
                competencies=["digital"],
                capacity=10,
                hours_ahead=48,
                kind="webinar",
            )
            async with app.sessionmaker() as session:
                row = await Repo(session).users.by_telegram_id(9301)
                assert row is not None
                route = await Repo(session).routes.active(row.id)
                assert route is not None
                step = next(s for s in route.steps if s.kind == "masterclass")
            from ui.callbacks.route import RouteCb

            await anna.send("/route")
            await anna.tap_data(RouteCb(action="comp", code="assessment").pack())
            await anna.tap_data(RouteCb(action="step", step=step.id).pack())
            card = json.dumps(anna.last.reply_markup, ensure_ascii=False)
            assert "Upcoming sessions for this step" in anna.last.plain_text
            assert match.title[:20] in card and "цифровых" not in card
            await anna.tap_data(EvAct(action="card", event=match.id).pack())
            assert match.title in anna.last.plain_text
        finally:
            await app.stop()
        emu.assert_no_violations()
