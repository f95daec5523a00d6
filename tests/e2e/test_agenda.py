"""The coordinator's morning agenda and day-after summary, end to end on the bot's clock.

The shipped sample events are imported by a coordinator (so they organise them all), teachers
take seats, and the clock is moved to the moments the rows are due: 08:00 and 10:00 in the
coordinator's own zone (Europe/Moscow and Asia/Yekaterinburg are two hours apart in UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from db.models import Event, Municipality, OutboxMessage, School, User
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from db.repo import Repo
from devtools.emulator import EmuUser
from domain.notices import NoticeKind
from domain.reminders import Category
from services import events as event_services
from services import reminders
from services.registrations import sign_up
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import coordinator
from tests.sample import load_sample_events

TRICKY, INTERN, OPEN_LESSON, WEBINAR = (
    SAMPLE_EVENT_CODES[0],  # day +2, 15:00-17:00 Moscow, 3 seats, Volgodonsk
    SAMPLE_EVENT_CODES[1],  # day +7, 10:00-14:30
    SAMPLE_EVENT_CODES[3],  # day +7, 09:00-09:45
    SAMPLE_EVENT_CODES[4],  # day +7, 15:00-16:30 (the webinar)
)
AGENDA_KINDS = [NoticeKind.STAFF_AGENDA, NoticeKind.STAFF_SUMMARY]
MOSCOW = ZoneInfo("Europe/Moscow")


def at(day: date, hh: int, mm: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=tz).astimezone(UTC)


async def _coordinator(
    running: Running, tg_id: int, zone: str, quiet: str | None = None
) -> tuple[Chat, int, dict[str, Event]]:
    """A Volgodonsk coordinator in `zone` who imports the sample events (and so organises
    them all); their user id and the events by code."""
    app = running.app
    async with app.sessionmaker() as session:
        muni = await session.scalar(select(Municipality).where(Municipality.code == "volgodonsk"))
        assert muni is not None
        school = await session.scalar(select(School).where(School.municipality_id == muni.id))
        assert school is not None
    chat = await coordinator(running, tg_id, muni.id, school.id)
    async with app.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(tg_id)
        assert user is not None
        user.timezone, user.quiet_hours = zone, quiet
        user_id = user.id
        await session.commit()
    events = await load_sample_events(
        app.sessionmaker, organiser_id=user_id, policy=app.settings.reminders
    )
    return chat, user_id, events


async def _seats(running: Running, event_id: int, first_tg: int, n: int) -> None:
    """`n` teachers take seats (the ones beyond the capacity queue in the waitlist)."""
    async with running.app.sessionmaker() as session:
        repo = Repo(session, running.app.settings.reminders)
        for tg in range(first_tg, first_tg + n):
            running.emu.add_user(EmuUser(id=tg, first_name="Teacher", language_code="en"))
            user, _ = await repo.users.get_or_create(tg, "en")
            await sign_up(repo, event_id, user.id, running.clock.now())
        await session.commit()


async def _tick(running: Running, moment: datetime) -> None:
    running.clock.set(moment)
    await running.app.tick(moment)


async def _pending(running: Running, user_id: int) -> list[tuple[str, str, datetime]]:
    async with running.app.sessionmaker() as session:
        rows = await Repo(session).outbox.pending_of(user_id, AGENDA_KINDS)
    return [(row.kind, row.payload["day"], row.due_at) for row in rows if row.due_at]


def _agendas(chat: Chat) -> list[str]:
    return [t for t in chat.texts() if t.startswith("📋 ")]


@pytest.mark.parametrize("zone", ["Europe/Moscow", "Asia/Yekaterinburg"])
async def test_agenda_at_eight_local_follows_moves_and_cancellations(
    running: Running, zone: str
) -> None:
    tz = ZoneInfo(zone)
    # quiet hours until 08:00: the end of the quiet period is not in it, the agenda goes out
    olga, olga_id, events = await _coordinator(running, 8801, zone, quiet="21:00-08:00")
    tricky, intern, lesson, webinar = (events[c] for c in (TRICKY, INTERN, OPEN_LESSON, WEBINAR))
    soon = tricky.starts_at.astimezone(tz).date()
    week = intern.starts_at.astimezone(tz).date()
    assert lesson.starts_at.astimezone(tz).date() == webinar.starts_at.astimezone(tz).date() == week

    # the import planned one agenda per day of events, at 08:00 in the coordinator's zone
    agendas = [p for p in await _pending(running, olga_id) if p[0] == "staff_agenda"]
    assert [(day, due) for _, day, due in agendas][:2] == [
        (soon.isoformat(), at(soon, 8, 0, tz)),
        (week.isoformat(), at(week, 8, 0, tz)),
    ]
    assert at(week, 8, 0, tz).hour == {"Europe/Moscow": 5, "Asia/Yekaterinburg": 3}[zone]

    await _seats(running, tricky.id, 9100, 4)  # 3 seats: one teacher waits
    await _seats(running, intern.id, 9200, 2)
    now = running.clock.now()
    async with running.app.sessionmaker() as session:
        repo = Repo(session, running.app.settings.reminders)
        # the tricky master-class moves from its day to the week's day, 12:00 Moscow time
        new_start = at(intern.starts_at.astimezone(MOSCOW).date(), 12, 0, MOSCOW)
        moved = await event_services.update_event(
            repo,
            tricky.id,
            {"starts_at": new_start, "ends_at": new_start + timedelta(hours=2)},
            now,
        )
        assert isinstance(moved, event_services.Done)
        cancelled = await event_services.cancel_event(repo, lesson.id, now)
        assert isinstance(cancelled, event_services.Done)
        await session.commit()

    # the old day's agenda finds no event left: dropped unsent
    await _tick(running, at(soon, 8, 0, tz))
    assert _agendas(olga) == []
    async with running.app.sessionmaker() as session:
        old = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.user_id == olga_id,
                OutboxMessage.kind == "staff_agenda",
                OutboxMessage.payload["day"].as_string() == soon.isoformat(),
            )
        )
    assert old is not None and old.state == "cancelled" and old.sent_at is None

    # a minute early: nothing; at 08:00 local: one message with the day's events
    await _tick(running, at(week, 7, 59, tz))
    assert _agendas(olga) == []
    await _tick(running, at(week, 8, 0, tz))
    assert len(_agendas(olga)) == 1, running.emu.dump_chat(8801)
    agenda = olga.last
    text = agenda.plain_text

    def hours(event_start: datetime, minutes: int) -> str:
        start = event_start.astimezone(tz)
        return f"{start:%H:%M}–{start + timedelta(minutes=minutes):%H:%M}"

    assert text.splitlines()[0] == f"📋 Your events today, {week:%d.%m.%Y}"
    blocks = text.split("\n\n")[1:]
    assert len(blocks) == 3  # the cancelled open lesson is left out
    assert blocks[0].startswith(f"1. {hours(intern.starts_at, 270)} · Стажировка")
    assert blocks[0].endswith("🪑 Seats taken: 2 of 25 · waitlist: 0")
    assert blocks[1].splitlines()[0] == f"2. {hours(new_start, 120)} · {TRICKY_TITLE}"
    assert blocks[1].splitlines()[1] == ('📍 МБОУ «Гимназия № 1», каб. 12 <2 этаж> & "актовый зал"')
    assert blocks[1].splitlines()[2] == "🪑 Seats taken: 3 of 3 · waitlist: 1"
    assert blocks[2].splitlines()[:2] == [
        f"3. {hours(webinar.starts_at, 90)} · {webinar.title}",
        "🔗 https://vk.com/metod_volgodonsk",
    ]
    # the title went out escaped: its <b> is text, not markup
    assert agenda.text is not None and "&lt;b&gt;«Оценка &amp; " in agenda.text
    assert [[b["text"] for b in row] for row in agenda.inline_buttons] == [
        ["1. 🔳 Check-in QR", "1. 🗂 Event card"],
        ["2. 🔳 Check-in QR", "2. 🗂 Event card"],
        ["3. 🔳 Check-in QR", "3. 🗂 Event card"],
        ["🔕 No more agendas and summaries"],
    ]

    # the QR button of the master-class sends its check-in QR code
    photos = len(running.emu.calls_of("sendPhoto"))
    await olga.tap("2. 🔳 Check-in QR")
    sent = running.emu.calls_of("sendPhoto")
    assert len(sent) == photos + 1 and olga.last.photo is not None
    assert olga.last.plain_text.startswith(f"🔳 Check-in · {TRICKY_TITLE}")
    # the card opens below; the agenda stays as it was
    await olga.tap("3. 🗂 Event card")
    assert olga.last.plain_text.startswith(webinar.title)
    assert olga.last.message_id != agenda.message_id
    kept = next(m for m in running.emu.chat(8801) if m.message_id == agenda.message_id)
    assert kept.plain_text == text and not kept.edited


async def test_summary_the_day_after_at_ten_local(running: Running) -> None:
    tz = ZoneInfo("Asia/Yekaterinburg")
    olga, _, events = await _coordinator(running, 8811, "Asia/Yekaterinburg")
    intern, webinar, lesson = events[INTERN], events[WEBINAR], events[OPEN_LESSON]
    week = intern.starts_at.astimezone(tz).date()
    await _seats(running, intern.id, 9300, 6)
    await _seats(running, webinar.id, 9400, 2)
    async with running.app.sessionmaker() as session:
        repo = Repo(session, running.app.settings.reminders)
        cancelled = await event_services.cancel_event(repo, lesson.id, running.clock.now())
        assert isinstance(cancelled, event_services.Done)
        after = intern.ends_at + timedelta(minutes=30)
        # the internship: 3 attended (rated 5, 4 and not at all), 2 never came, 1 cancelled
        regs = await repo.events.participants(intern.id)
        assert len(regs) == 6
        for reg, rating in zip(regs[:3], (5, 4, None), strict=True):
            await repo.events.mark_attended(reg, intern.starts_at)
            if rating is not None:
                await repo.events.set_feedback(reg, rating, None, after)
        await repo.events.cancel(regs[5])
        # the webinar: both attended, both rated 4
        for reg in await repo.events.participants(webinar.id):
            await repo.events.mark_attended(reg, webinar.starts_at)
            await repo.events.set_feedback(reg, 4, "useful", webinar.ends_at)
        await session.commit()

    # (the days before bring their own agendas and the master-class's summary)
    await _tick(running, at(week + timedelta(days=1), 9, 59, tz))
    assert [t for t in olga.texts() if t.startswith("📊") and f"{week:%d.%m.%Y}" in t] == []
    await _tick(running, at(week + timedelta(days=1), 10, 0, tz))
    summary = olga.last.plain_text
    # hand-computed: 3 + 2 attended, 2 no-shows, ratings 5, 4 | 4, 4: 17 / 4 = 4.25 → 4.3
    assert summary.split("\n\n") == [
        f"📊 Yesterday, {week:%d.%m.%Y}",
        f"1. {intern.starts_at.astimezone(tz):%H:%M}–{intern.ends_at.astimezone(tz):%H:%M}"
        f" · {intern.title}\n✅ Attended: 3 · no-shows: 2\n⭐ Feedback: 2, average 4.5",
        f"2. {webinar.starts_at.astimezone(tz):%H:%M}–{webinar.ends_at.astimezone(tz):%H:%M}"
        f" · {webinar.title}\n✅ Attended: 2 · no-shows: 0\n⭐ Feedback: 2, average 4.0",
        "In all: attended 5, no-shows 2, feedback 4, average 4.3",
    ], running.emu.dump_chat(8811)
    assert [b["text"] for b in olga.last.all_inline_buttons] == ["🔕 No more agendas and summaries"]


async def test_muted_agenda_is_withdrawn_and_unmuting_plans_it_again(running: Running) -> None:
    tz = ZoneInfo("Europe/Moscow")
    olga, olga_id, events = await _coordinator(running, 8821, "Europe/Moscow")
    week = events[INTERN].starts_at.astimezone(tz).date()
    planned = await _pending(running, olga_id)
    assert (NoticeKind.STAFF_AGENDA.value, week.isoformat(), at(week, 8, 0, tz)) in planned
    async with running.app.sessionmaker() as session:
        assert await reminders.mute(Repo(session), olga_id, Category.AGENDA)
        await session.commit()
    assert await _pending(running, olga_id) == []
    # a move while muted plans nothing
    async with running.app.sessionmaker() as session:
        repo = Repo(session, running.app.settings.reminders)
        start = events[INTERN].starts_at + timedelta(days=1)
        done = await event_services.update_event(
            repo,
            events[INTERN].id,
            {"starts_at": start, "ends_at": start + timedelta(hours=4)},
            running.clock.now(),
        )
        assert isinstance(done, event_services.Done)
        await session.commit()
    assert await _pending(running, olga_id) == []
    await _tick(running, at(week + timedelta(days=2), 12, 0, tz))
    assert [t for t in olga.texts() if t.startswith(("📋", "📊"))] == []

    # switched back on (and the zone changed meanwhile): planned again, in the new zone
    ekb = ZoneInfo("Asia/Yekaterinburg")
    now = running.clock.now()
    async with running.app.sessionmaker() as session:
        await session.execute(update(User).where(User.id == olga_id).values(timezone=ekb.key))
        repo = Repo(session, running.app.settings.reminders)
        assert await reminders.unmute(repo, olga_id, Category.AGENDA, now)
        await session.commit()
    month = events[SAMPLE_EVENT_CODES[2]].starts_at.astimezone(ekb).date()
    assert (NoticeKind.STAFF_AGENDA.value, month.isoformat(), at(month, 8, 0, ekb)) in (
        await _pending(running, olga_id)
    )
