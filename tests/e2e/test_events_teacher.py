"""The teacher's side of events on the shipped sample data (site-linked events, long titles,
a title and a place with `<b>`, `&`, quotes and emoji): booking a site-linked event, scheduled
messages, the list beyond the first 200 events of the region, cancelled events, refusals of
forged buttons, the cancel deadline said aloud, and today/tomorrow in "For me"."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.app import BotApp
from core.clock import utcnow
from db.models import Event, Job, Registration, RouteStep, User
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, EmuUser
from domain.assessment import score
from domain.events import RegStatus
from domain.route import Pace, build_route
from services import registrations
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import register
from tests.sample import load_sample_events
from ui.callbacks.events import EvAct, EvList, FeedbackCb, OfferCb

TRICKY_PLACE = 'МБОУ «Гимназия № 1», каб. 12 <2 этаж> & "актовый зал"'


async def _place(app: BotApp, code: str) -> tuple[int, int]:
    """A sample municipality's id and its first school's id."""
    async with app.sessionmaker() as session:
        repo = Repo(session)
        muni = next(m for m in await repo.reference.municipalities() if m.code == code)
        school = (await repo.reference.schools(muni.id))[0]
        return muni.id, school.id


async def _teacher(
    app: BotApp, emu: BotAPIEmulator, telegram_id: int, muni_id: int, *, known: bool = True
) -> int:
    """A teacher with a finished profile, straight in the database; `known` = Telegram can
    deliver to them (the emulator knows the chat). Their user id."""
    if known:
        emu.add_user(EmuUser(id=telegram_id, first_name="Мария", language_code="ru"))
    async with app.sessionmaker() as session:
        user = User(
            telegram_id=telegram_id,
            language="ru",
            role="teacher",
            consent="given",
            full_name="Петрова Мария Ивановна",
            municipality_id=muni_id,
            position_code="teacher",
            profile_completed_at=utcnow(),
        )
        session.add(user)
        await session.commit()
        return user.id


async def _sign_up(app: BotApp, event_id: int, user_id: int) -> None:
    """A sign-up as the teacher's tap makes it: a confirmed seat plans its reminders."""
    async with app.sessionmaker() as session:
        await registrations.sign_up(
            Repo(session, app.settings.reminders), event_id, user_id, utcnow()
        )
        await session.commit()


async def _jobs(app: BotApp, kind: str, **payload: int) -> list[Job]:
    async with app.sessionmaker() as session:
        rows = await session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id))
        return [j for j in rows if all(j.payload.get(k) == v for k, v in payload.items())]


async def _run_jobs(app: BotApp, now: datetime) -> None:
    await app.tick(now)


def _texts(emu: BotAPIEmulator, chat_id: int) -> list[str]:
    return [m.plain_text for m in emu.chat(chat_id)]


def _markup(chat: Chat) -> str:
    return json.dumps(chat.last.reply_markup, ensure_ascii=False)


async def _seats(app: BotApp, event_id: int) -> int:
    async with app.sessionmaker() as session:
        return await Repo(session).events.seats_taken(event_id)


# ------------------------------------------------------------------ item 1: a site-linked event


@pytest.mark.parametrize(
    ("lang", "code", "texts"),
    [
        (
            "ru",
            SAMPLE_EVENT_CODES[0],
            {
                "site": ' · Площадка "Формирующее оценивание" 🎯',  # the title says it: no prefix
                "before": "Свободно: 3 места из 3",
                "signup": "✅ Записаться",
                "yes": "✅ Да, записаться",
                "done": "Вы записаны!",
                "after": "Свободно: 2 места из 3",
                "status": "✅ Вы записаны",
            },
        ),
        (
            "en",
            SAMPLE_EVENT_CODES[1],
            {
                "site": ' · Площадка "Формирующее оценивание" 🎯',
                "before": "25 seats left of 25",
                "signup": "✅ Sign up",
                "yes": "✅ Yes, sign me up",
                "done": "You are registered!",
                "after": "24 seats left of 25",
                "status": "✅ You are registered",
            },
        ),
    ],
)
async def test_site_linked_sample_event_is_booked_end_to_end(
    running: Running, lang: str, code: str, texts: dict[str, str]
) -> None:
    app, emu = running.app, running.emu
    event = (await load_sample_events(app.sessionmaker))[code]
    assert event.site_id is not None
    muni_id, school_id = await _place(app, "volgodonsk")
    anna = running.chat(9401, lang=lang)
    await register(anna, emu, municipality_id=muni_id, school_id=school_id)

    await anna.send(f"/start event_{event.id}")
    card = anna.last.plain_text
    assert event.title in card and texts["site"] in card and texts["before"] in card
    await anna.tap(texts["signup"])
    await anna.tap(texts["yes"])
    assert any(texts["done"] in p for p in anna.popups()), emu.dump_chat(anna.user.id)
    card = anna.last.plain_text
    assert texts["after"] in card and texts["status"] in card and texts["site"] in card
    assert await _seats(app, event.id) == 1
    async with app.sessionmaker() as session:
        reg = await session.scalar(select(Registration).where(Registration.event_id == event.id))
    assert reg is not None and reg.status == RegStatus.CONFIRMED.value


# ------------------------------------------------------------------ item 5: scheduled messages


async def test_every_scheduled_message_keeps_a_tricky_title_and_place(running: Running) -> None:
    """Offer, lapsed offer and the next offer, reminder, feedback request for the sample event
    whose title and place hold `<b>`, `&` and quotes: each is accepted by the emulator (a
    malformed HTML message is a 400 and a recorded violation) and reads as typed."""
    app, emu = running.app, running.emu
    event = (await load_sample_events(app.sessionmaker))[SAMPLE_EVENT_CODES[0]]
    assert event.title == TRICKY_TITLE and event.place == TRICKY_PLACE and event.capacity == 3
    muni_id, school_id = await _place(app, "volgodonsk")
    anna = running.chat(9501)
    await register(anna, emu, municipality_id=muni_id, school_id=school_id)
    await anna.send(f"/start event_{event.id}")
    await anna.tap_data(EvAct(action="signup", event=event.id).pack())
    await anna.tap_data(EvAct(action="join", event=event.id).pack())
    seated = [9511, 9512]
    waiting = [9513, 9514]
    for telegram_id in seated + waiting:
        await _sign_up(app, event.id, await _teacher(app, emu, telegram_id, muni_id))

    # Anna cancels: the first in line is offered the seat (by the handler)
    await anna.tap_data(EvAct(action="cancel", event=event.id).pack())
    await anna.tap_data(EvAct(action="cancelok", event=event.id).pack())
    assert any(TRICKY_TITLE in t and "освободилось" in t.lower() for t in _texts(emu, waiting[0]))

    # the offer lapses (job): the first is told, the second is offered
    (expiry,) = await _jobs(app, "offer_expire")
    await _run_jobs(app, expiry.run_at + timedelta(minutes=1))
    assert any(TRICKY_TITLE in t and "вовремя" in t for t in _texts(emu, waiting[0]))
    assert any(TRICKY_TITLE in t and "освободилось" in t.lower() for t in _texts(emu, waiting[1]))

    # the reminder a day before, with the place
    await _run_jobs(app, event.starts_at - timedelta(hours=24) + timedelta(minutes=1))
    for telegram_id in seated:
        assert any(
            TRICKY_TITLE in t and TRICKY_PLACE in t and "Напоминание" in t
            for t in _texts(emu, telegram_id)
        ), emu.dump_chat(telegram_id)

    # the feedback request after the end
    await _run_jobs(app, event.ends_at + timedelta(hours=2))
    for telegram_id in seated:
        assert any(TRICKY_TITLE in t and "Как прошло" in t for t in _texts(emu, telegram_id))

    async with app.sessionmaker() as session:
        rows = [
            j
            for j in await session.scalars(select(Job))
            if j.payload.get("event_id") == event.id or j.kind == "offer_expire"
        ]
    assert rows and all(j.done_at is not None and j.last_error is None for j in rows), [
        (j.kind, j.last_error) for j in rows
    ]
    assert not emu.violations, emu.violations


async def test_an_undelivered_scheduled_message_is_recorded_and_never_doubled(
    running: Running,
) -> None:
    """Each seat's reminder is one row; a message Telegram refuses (400) fails on its own row
    with the error kept, a teacher who blocked the bot (403) is marked and skipped (their later
    reminder is withdrawn), the others are reminded once however often the tick runs."""
    app, emu = running.app, running.emu
    event = (await load_sample_events(app.sessionmaker))[SAMPLE_EVENT_CODES[1]]
    muni_id, _ = await _place(app, "volgodonsk")
    reached = await _teacher(app, emu, 9601, muni_id)
    lost = await _teacher(app, emu, 9602, muni_id, known=False)  # 400: chat not found
    blocked = await _teacher(app, emu, 9603, muni_id)
    emu.fail_chat(9603, "blocked")
    for user_id in (reached, lost, blocked):
        await _sign_up(app, event.id, user_id)
    when = event.starts_at - timedelta(hours=24) + timedelta(minutes=1)

    def reminders(chat_id: int) -> int:
        return sum("Напоминание" in t for t in _texts(emu, chat_id))

    await _run_jobs(app, when)
    assert reminders(9601) == 1
    async with app.sessionmaker() as session:
        repo = Repo(session)
        ok, hour_before = await repo.outbox.of_user(reached)
        refused, _ = await repo.outbox.of_user(lost)
        gone, withdrawn = await repo.outbox.of_user(blocked)
        assert ok.state == "sent" and hour_before.state == "pending"
        assert refused.state == "failed" and "chat not found" in (refused.last_error or "")
        assert gone.state == "failed" and "blocked" in (gone.last_error or "")
        assert withdrawn.state == "cancelled"
        blocked_user = await repo.users.get(blocked)
        assert blocked_user is not None and blocked_user.blocked_at is not None

    await _run_jobs(app, when)  # a second tick finds nothing to do
    await _run_jobs(app, when + timedelta(minutes=5))
    assert reminders(9601) == 1 and reminders(9602) == 0 and reminders(9603) == 0


# ------------------------------------------------------------------ item 8: beyond 200 events


async def test_own_events_appear_after_200_events_elsewhere(running: Running) -> None:
    app, emu = running.app, running.emu
    muni_id, school_id = await _place(app, "volgodonsk")
    other_id, _ = await _place(app, "timashevsky")
    now = utcnow()
    async with app.sessionmaker() as session:
        session.add_all(
            Event(
                kind="seminar",
                title=f"Семинар Тимашевского района № {n}",
                municipality_id=other_id,
                starts_at=now + timedelta(hours=2 + n),
                ends_at=now + timedelta(hours=3 + n),
                place="ст. Днепровская",
                capacity=30,
                checkin_code="ABCDEF",
            )
            for n in range(210)
        )
        session.add_all(
            Event(
                kind="masterclass",
                title=f"Волгодонск: мастер-класс {n}",
                municipality_id=muni_id,
                starts_at=now + timedelta(days=20 + n),
                ends_at=now + timedelta(days=20 + n, hours=2),
                place="МБОУ СОШ № 1",
                capacity=10,
                checkin_code="ABCDEF",
            )
            for n in range(8)
        )
        await session.commit()
    anna = running.chat(9701)
    await register(anna, emu, municipality_id=muni_id, school_id=school_id)
    await anna.send("/events")  # no self-assessment yet: all events open to her
    first = anna.last
    assert "Тимашевского" not in first.plain_text
    assert [n for n in range(8) if f"мастер-класс {n}" in first.plain_text] == list(range(6))
    assert "1/2" in _markup(anna)
    await anna.tap_data(EvList(mode="all", page=1).pack())
    second = anna.last.plain_text
    assert [n for n in range(8) if f"мастер-класс {n} " in second + " "] == [6, 7]
    assert "2/2" in _markup(anna)
    await anna.tap_data(EvList(mode="mine").pack())
    assert "мастер-класс 0" in anna.last.plain_text


# ------------------------------------------------------------------ item 11: a cancelled event


async def test_a_cancelled_event_says_so_on_the_card_and_in_my(running: Running) -> None:
    app, emu = running.app, running.emu
    events = await load_sample_events(app.sessionmaker)
    gone, kept = events[SAMPLE_EVENT_CODES[1]], events[SAMPLE_EVENT_CODES[4]]
    muni_id, school_id = await _place(app, "volgodonsk")
    anna = running.chat(9801)
    await register(anna, emu, municipality_id=muni_id, school_id=school_id)
    for event in (gone, kept):
        await anna.send(f"/start event_{event.id}")
        await anna.tap_data(EvAct(action="signup", event=event.id).pack())
        await anna.tap_data(EvAct(action="join", event=event.id).pack())
    async with app.sessionmaker() as session:
        repo = Repo(session)
        row = await repo.events.get(gone.id)
        assert row is not None
        await repo.events.cancel_event(row)
        await session.commit()

    await anna.send(f"/start event_{gone.id}")
    card = anna.last.plain_text
    assert "отменено" in card and "Вы записаны" not in card, card
    buttons = _markup(anna)
    assert "В календарь" not in buttons and "Отменить запись" not in buttons
    assert EvAct(action="ics", event=gone.id).pack() not in buttons

    await anna.send("/my")
    my = anna.last.plain_text
    upcoming, _, cancelled = my.partition("Отменены организаторами")
    assert kept.title in upcoming and gone.title not in upcoming, my
    assert gone.title in cancelled
    assert EvAct(action="card", event=gone.id).pack() not in _markup(anna)


# ------------------------------------------------------------------ item 15: forged buttons


async def test_forged_feedback_is_refused(running: Running) -> None:
    app, emu = running.app, running.emu
    events = await load_sample_events(app.sessionmaker)
    future = events[SAMPLE_EVENT_CODES[1]]
    muni_id, school_id = await _place(app, "volgodonsk")
    anna = running.chat(9901)
    await register(anna, emu, municipality_id=muni_id, school_id=school_id)
    await anna.send(f"/start event_{future.id}")
    await anna.tap_data(EvAct(action="signup", event=future.id).pack())
    await anna.tap_data(EvAct(action="join", event=future.id).pack())
    async with app.sessionmaker() as session:
        repo = Repo(session)
        anna_id = (await repo.users.by_telegram_id(9901)).id  # type: ignore[union-attr]
        confirmed = await repo.events.registration(future.id, anna_id)
        assert confirmed is not None
        # a past event Anna was waitlisted for, and a past cancelled one she had a seat at
        start = utcnow() - timedelta(days=3)
        past = [
            await repo.events.add_event(
                Event(
                    kind="seminar",
                    title=title,
                    municipality_id=muni_id,
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    place="МБОУ СОШ № 1",
                    capacity=10,
                    checkin_code="ABCDEF",
                    status=status,
                )
            )
            for title, status in (("Прошедший семинар", "completed"), ("Отменённый", "cancelled"))
        ]
        waitlisted = Registration(
            event_id=past[0].id, user_id=anna_id, status="waitlisted", queue_no=1
        )
        seat_of_cancelled = Registration(
            event_id=past[1].id, user_id=anna_id, status="confirmed", queue_no=1
        )
        session.add_all([waitlisted, seat_of_cancelled])
        await session.commit()
    message_id = anna.last.message_id

    async def forge(data: str) -> str:
        await anna.run(lambda: emu.forge_callback(anna.user, message_id, data))
        return anna.popups()[-1]

    assert "после окончания" in await forge(FeedbackCb(reg=confirmed.id, rating=5).pack())
    assert "у кого было место" in await forge(FeedbackCb(reg=waitlisted.id, rating=1).pack())
    assert "отменено" in await forge(FeedbackCb(reg=seat_of_cancelled.id, rating=1).pack())
    async with app.sessionmaker() as session:
        rated = await session.scalars(
            select(Registration).where(Registration.feedback_rating.is_not(None))
        )
        assert list(rated) == []


async def test_a_seat_on_a_cancelled_event_cannot_be_taken(running: Running) -> None:
    """A seat offered to Anna on an event that is then cancelled: the (forged) "Take the
    seat" is refused politely and nothing changes."""
    app, emu = running.app, running.emu
    other = (await load_sample_events(app.sessionmaker))[SAMPLE_EVENT_CODES[0]]
    muni_id, school_id = await _place(app, "volgodonsk")
    anna = running.chat(9902)
    await register(anna, emu, municipality_id=muni_id, school_id=school_id)
    message_id = anna.last.message_id
    async with app.sessionmaker() as session:
        repo = Repo(session)
        anna_id = (await repo.users.by_telegram_id(9902)).id  # type: ignore[union-attr]
        repo = Repo(session)
        offer = Registration(
            event_id=other.id,
            user_id=anna_id,
            status="offered",
            queue_no=1,
            offer_expires_at=utcnow() + timedelta(hours=6),
        )
        session.add(offer)
        row = await repo.events.get(other.id)
        assert row is not None
        await repo.events.cancel_event(row)
        await session.commit()
    await anna.run(
        lambda: emu.forge_callback(anna.user, message_id, OfferCb(reg=offer.id, take=True).pack())
    )
    popup = anna.popups()[-1]
    assert "отменено" in popup and "ваше" not in popup.lower(), popup
    async with app.sessionmaker() as session:
        stored = await session.get(Registration, offer.id)
        assert stored is not None and stored.status != RegStatus.CONFIRMED.value


# ------------------------------------------------------------------ item 19: the 2-hour rule


async def test_the_card_says_why_cancelling_is_closed(running: Running) -> None:
    app, emu = running.app, running.emu
    muni_id, school_id = await _place(app, "volgodonsk")
    start = utcnow() + timedelta(minutes=90)
    async with app.sessionmaker() as session:
        event = await Repo(session).events.add_event(
            Event(
                kind="masterclass",
                title="Мастер-класс через полтора часа",
                municipality_id=muni_id,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                place="МБОУ СОШ № 1",
                capacity=10,
                checkin_code="ABCDEF",
            )
        )
        await session.commit()
    anna = running.chat(9951)
    await register(anna, emu, municipality_id=muni_id, school_id=school_id)
    await anna.send(f"/start event_{event.id}")
    await anna.tap_data(EvAct(action="signup", event=event.id).pack())
    await anna.tap_data(EvAct(action="join", event=event.id).pack())
    rule = "Отменить запись можно не позднее чем за 2 часа до начала"
    assert rule in anna.last.plain_text and "Отменить запись" not in _markup(anna)
    await anna.run(
        lambda: emu.forge_callback(
            anna.user, anna.last.message_id, EvAct(action="cancel", event=event.id).pack()
        )
    )
    assert rule in anna.popups()[-1]


# ------------------------------------------------------------------ item 23: For me, soonest


async def _deficits_and_route(
    app: BotApp, telegram_id: int, deficits: set[str], route: list[str]
) -> None:
    async with app.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(telegram_id)
        framework = await repo.frameworks.active()
        assert user is not None and framework is not None
        answers = {
            s.code: (0 if s.competency in deficits else 2) for s in framework.statements(False)
        }
        result = score(framework, answers, is_manager=False)
        assert deficits <= set(result.deficits)
        attempt = await repo.assessments.start(user.id, framework.version, False, app.clock.now())
        await repo.assessments.finish(attempt, result.to_json(), app.clock.now())
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
                build_route(framework, route, young=True, pace=Pace.NORMAL, start=utcnow().date()),
                1,
            )
        ]
        await repo.routes.create(user.id, attempt.id, "normal", steps)
        await session.commit()


async def test_for_me_lists_tonight_first_and_says_today_and_tomorrow(running: Running) -> None:
    app, emu = running.app, running.emu
    tz = app.settings.tz
    muni_id, school_id = await _place(app, "volgodonsk")
    anna = running.chat(9961)
    await register(anna, emu, municipality_id=muni_id, school_id=school_id)
    await _deficits_and_route(app, 9961, {"assessment", "digital"}, ["assessment"])
    # the bot's clock: 09:00 of a day to come, in the service zone
    day = utcnow().astimezone(tz).date() + timedelta(days=1)
    now = datetime.combine(day, time(9, 0), tzinfo=tz)
    running.clock.set(now)

    def at(days: int, hh: int) -> datetime:
        return datetime.combine(day + timedelta(days=days), time(hh, 0), tzinfo=tz)

    plan = [  # (title, start, competencies): tonight's is on a deficit only (weight 1)
        ("Мастер-класс «Цифровые сервисы»", at(0, 18), ["digital"]),
        ("Семинар «Критерии оценивания»", at(1, 10), ["assessment"]),
        ("Стажировка «Обратная связь»", at(7, 10), ["assessment", "digital"]),
        ("Вебинар «Здоровьесбережение»", at(0, 12), ["health"]),
    ]
    ids = []
    async with app.sessionmaker() as session:
        for title, start, comps in plan:
            event = await Repo(session).events.add_event(
                Event(
                    kind="masterclass",
                    title=title,
                    municipality_id=muni_id,
                    competencies=comps,
                    starts_at=start,
                    ends_at=start + timedelta(hours=2),
                    place="МБОУ СОШ № 1",
                    capacity=10,
                    checkin_code="ABCDEF",
                )
            )
            ids.append(event.id)
        await session.commit()

    await anna.send("/events")
    lines = [line for line in anna.last.plain_text.splitlines() if "·" in line]
    assert [next(t for t, _, _ in plan if t in line) for line in lines] == [
        plan[0][0],
        plan[1][0],
        plan[2][0],
    ], lines
    assert lines[0].startswith("сегодня в 18:00") and lines[1].startswith("завтра в 10:00")
    assert at(7, 10).strftime("%d.%m 10:00") in lines[2]
    buttons = [b["text"] for b in anna.last.all_inline_buttons]
    assert buttons[0].startswith("сегодня · ") and buttons[1].startswith("завтра · ")

    await anna.tap_data(EvAct(action="card", event=ids[0]).pack())
    assert f"сегодня в 18:00–20:00 ({day:%d.%m.%Y})" in anna.last.plain_text
