"""A coordinator creates an event through /newevent, manages it from /myevents (participants,
attendance, CSV, a message, capacity, cancellation) and creates an internship site through
/newsite; edits a published event (registrants are told of a new time or place, reminders
follow) and a site from /mysites; a coordinator of another municipality cannot touch the event
by forging a callback."""

from __future__ import annotations

import csv
import functools
import importlib.util
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db.models import AuditEntry, Event, Registration, School, Site
from db.repo import Repo
from domain.schedule import FEEDBACK_AFTER, JobKind
from tests.e2e.conftest import Running
from tests.e2e.flows import coordinator, register
from ui.callbacks.event_admin import EventAdminCb, EventEditCb, NewEventCb, NewSiteCb

TEACHER_NAME = "Иванова Анна Петровна"  # what tests.e2e.flows.register types in


async def _places(running: Running) -> tuple[int, School, int, School]:
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        first, second = (await repo.reference.municipalities())[:2]
        return (
            first.id,
            (await repo.reference.schools(first.id))[0],
            second.id,
            (await repo.reference.schools(second.id))[0],
        )


async def test_coordinator_creates_and_manages_an_event(running: Running) -> None:
    emu = running.emu
    tz = ZoneInfo("Europe/Moscow")
    muni, school, other_muni, other_school = await _places(running)
    coord = await coordinator(running, 8301, muni, school.id)
    teacher = running.chat(8302, lang="en", first_name="Anna")
    await register(teacher, emu, municipality_id=muni, school_id=school.id)

    # /newevent, one question per message, with re-asks on bad input
    await coord.send("/newevent")
    assert "What kind of event" in coord.last.plain_text
    assert coord.last.button("✖️ Cancel")
    await coord.tap("Seminar")
    assert "title" in coord.last.plain_text
    await coord.send("Hi")  # too short
    assert "3 to 200 characters" in coord.last.plain_text
    await coord.send("Formative assessment in maths")
    await coord.send("-")
    await coord.send("tomorrow at ten")
    assert "could not read this date" in coord.last.plain_text
    await coord.send("01.01.2020 10:00")
    assert "already passed" in coord.last.plain_text
    day = (datetime.now(tz) + timedelta(days=10)).date()
    await coord.send(f"{day:%d.%m.%Y} 10:00")
    assert "When does it end" in coord.last.plain_text
    await coord.send("09:00")  # before the start
    assert "must be after the start" in coord.last.plain_text
    await coord.send("12:30")
    await coord.send("School No. 1, Lenina 5")
    await coord.send("0")
    assert "whole number from 1 to 10000" in coord.last.plain_text
    await coord.send("2")
    assert "competencies" in coord.last.plain_text
    await coord.tap_data(NewEventCb(action="comp", value="assessment").pack())
    assert any(b["text"].startswith("✅ ") for b in coord.last.all_inline_buttons)
    await coord.tap("Done")
    await coord.tap("No site")
    summary = coord.last.plain_text
    assert "Formative assessment in maths" in summary and "Seminar" in summary
    assert f"{day:%d.%m.%Y}, 10:00–12:30" in summary and "My municipality" in summary
    await coord.tap("✅ Publish")
    assert "Published" in coord.last.plain_text

    local_start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=tz)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        event = (await session.scalars(select(Event))).one()
        assert event.starts_at == local_start.astimezone(UTC)
        assert event.ends_at == (local_start + timedelta(hours=2, minutes=30)).astimezone(UTC)
        assert event.kind == "seminar" and event.capacity == 2 and event.municipality_id == muni
        assert event.place == "School No. 1, Lenina 5" and event.online_url == ""
        assert event.competencies == ["assessment"] and len(event.checkin_code) == 6
        reminders = await repo.jobs.pending("event_reminder")
        feedback = await repo.jobs.pending("feedback_request")
        assert reminders == []  # planned per confirmed seat (services.reminders)
        assert [(j.run_at, j.payload) for j in feedback] == [
            (event.ends_at + FEEDBACK_AFTER, {"event_id": event.id})
        ]
        # sign-ups (the teacher UI is another module): Anna and Boris get seats, Clara waits
        now = datetime.now(UTC)
        anna = await repo.users.by_telegram_id(8302)
        assert anna is not None
        boris, _ = await repo.users.get_or_create(990001, "en")  # never wrote to the bot
        clara, _ = await repo.users.get_or_create(8303, "en")
        await repo.users.set_fields(boris, full_name="Petrov Boris", school_id=school.id)
        await repo.users.set_fields(clara, full_name="Sidorova Clara")
        await session.flush()
        for user in (anna, boris, clara):
            await repo.events.sign_up(event.id, user.id, now, eligible=True)
        await session.commit()
        event_id, code = event.id, event.checkin_code
        anna_reg = await repo.events.registration(event_id, anna.id)
        clara_id = clara.id
        assert anna_reg is not None
        anna_reg_id = anna_reg.id
    clara_chat = running.chat(8303, lang="en", first_name="Clara")
    emu.add_user(clara_chat.user)

    # /myevents → the card
    await coord.send("/myevents")
    await coord.tap(f"{day:%d.%m} · Formative assessment in maths")
    card = coord.last.plain_text
    assert "Seats taken: 2 of 2 · waitlist: 1" in card and code in card

    # participants, grouped, and attendance toggled on
    await coord.tap("👥 Participants")
    people = coord.last.plain_text
    assert TEACHER_NAME in people and school.name in people and "Petrov Boris" in people
    assert people.index("Waitlist") < people.index("Sidorova Clara")
    await coord.tap_data(EventAdminCb(action="att", event=event_id, reg=anna_reg_id).pack())
    assert "Attended" in coord.last.plain_text
    async with running.app.sessionmaker() as session:
        reg = await session.get(Registration, anna_reg_id)
        assert reg is not None and reg.status == "attended" and reg.attended_at is not None

    # CSV export
    await coord.tap("⬅️ Back")
    await coord.tap("📤 Export CSV")
    document = coord.last.document
    assert document is not None and document[0] == f"participants-{event_id}.csv"
    assert document[1].startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(document[1].decode("utf-8-sig")), delimiter=";"))
    assert table[0][:3] == ["Full name", "School", "Status"] and len(table) == 4
    by_name = {row[0]: row for row in table[1:]}
    assert by_name[TEACHER_NAME][1] == school.name and by_name[TEACHER_NAME][2] == "attended"
    assert by_name[TEACHER_NAME][4] and by_name["Sidorova Clara"][2] == "waitlist"

    # a message to the participants: Boris has no chat with the bot
    await coord.tap("✉️ Message participants")
    await coord.send("Bring your lesson plans, please.")
    assert "Send it to 3 participants?" in coord.last.plain_text  # a preview first
    assert not any("Bring your lesson plans" in t for t in teacher.texts())
    await coord.tap("✅ Send")
    assert "on its way to 3 participants" in coord.last.plain_text
    assert any(
        "Formative assessment in maths" in t and "Bring your lesson plans" in t
        for t in teacher.texts()
    )
    assert any("Bring your lesson plans" in t for t in clara_chat.texts())
    async with running.app.sessionmaker() as session:  # Boris's copy failed: no chat
        # (pending: the organiser's agenda and summary of the event's day, services.agenda)
        assert await Repo(session).outbox.counts() == {"sent": 2, "failed": 1, "pending": 2}

    # a coordinator of another municipality forges callbacks on the event
    stranger = await coordinator(running, 8304, other_muni, other_school.id)
    await stranger.send("/myevents")
    assert "No events yet" in stranger.last.plain_text
    own = stranger.last.message_id
    for action in ("card", "cancel_yes"):
        forged = EventAdminCb(action=action, event=event_id).pack()
        await stranger.run(functools.partial(emu.forge_callback, stranger.user, own, forged))
    assert sum("cannot manage this event" in p for p in stranger.popups()) == 2

    # capacity: below the seats taken is refused; growing it offers Clara a seat
    await coord.tap("⬅️ Back to the event")
    await coord.tap("🪑 Change capacity")
    await coord.send("1")
    assert "2 seats are already taken" in coord.last.plain_text
    clara_before = len(clara_chat.texts())
    await coord.send("3")
    assert "Capacity is now 3" in coord.last.plain_text
    async with running.app.sessionmaker() as session:
        stored = await session.get(Event, event_id)
        assert stored is not None and stored.capacity == 3 and stored.status == "scheduled"
        clara_reg = await Repo(session).events.registration(event_id, clara_id)
        assert clara_reg is not None and clara_reg.status == "offered"
    if importlib.util.find_spec("handlers.events") is not None:  # the teacher side exists
        assert len(clara_chat.texts()) > clara_before

    # cancellation, with confirmation; everyone is told in their language
    await coord.tap("⬅️ Back to the event")
    await coord.tap("🚫 Cancel event")
    await coord.tap("⬅️ No")
    assert "Seats taken" in coord.last.plain_text
    await coord.tap("🚫 Cancel event")
    await coord.tap("✅ Yes, cancel")
    assert "3 participants will be notified" in coord.last.plain_text
    assert "has been cancelled" in teacher.last.plain_text
    async with running.app.sessionmaker() as session:
        stored = await session.get(Event, event_id)
        assert stored is not None and stored.status == "cancelled"
        actions = list(await session.scalars(select(AuditEntry.action)))
        assert "event_created" in actions and "event_cancelled" in actions
    emu.assert_no_violations()


async def test_check_in_qr_is_a_png_with_the_code(running: Running) -> None:
    muni, school, _, _ = await _places(running)
    coord = await coordinator(running, 8311, muni, school.id)
    async with running.app.sessionmaker() as session:
        start = datetime.now(UTC) + timedelta(days=3)
        event = await Repo(session).events.add_event(
            Event(
                kind="webinar",
                title="Digital tools",
                municipality_id=muni,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                online_url="https://meet.example.org/x",
                capacity=10,
                checkin_code="K7M2QX",
            )
        )
        await session.commit()
        event_id = event.id
    await coord.send("/myevents")
    await coord.tap_data(EventAdminCb(action="card", event=event_id).pack())
    assert "meet.example.org" in coord.last.plain_text
    await coord.tap("🔳 Check-in QR")
    photo = coord.last
    assert photo.photo is not None and photo.photo.startswith(b"\x89PNG")
    assert "/checkin K7M2QX" in photo.plain_text


async def test_coordinator_creates_a_site_with_modules(running: Running) -> None:
    muni, school, _, _ = await _places(running)
    coord = await coordinator(running, 8321, muni, school.id)
    await coord.send("/newsite")
    await coord.send("Formative assessment lab")
    await coord.send("Formative assessment in primary school")
    await coord.tap_data(NewSiteCb(action="school", value=str(school.id)).pack())
    await coord.tap("Done")  # nothing chosen yet
    assert any("at least one competency" in p for p in coord.popups())
    await coord.tap_data(NewSiteCb(action="comp", value="assessment").pack())
    await coord.tap("Done")
    await coord.send("-")
    await coord.send("Petrova Maria, +7 900 000-00-00")
    await coord.send("Lesson study — 6\nno hours here")
    assert "Line 2" in coord.last.plain_text
    await coord.send("Lesson study — 6\nFeedback that works | 8")
    summary = coord.last.plain_text
    assert "Lesson study — 6" in summary and school.name in summary
    await coord.tap("✅ Create")
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        municipality = await repo.reference.municipality(muni)
        assert municipality is not None
        site = await repo.events.site_by_code(f"site-{municipality.code}-1")
        assert site is not None and site.school_id == school.id
        assert site.competencies == ["assessment"] and site.description == ""
        assert site.modules == [
            {"title": "Lesson study", "hours": 6},
            {"title": "Feedback that works", "hours": 8},
        ]
    assert f"site-{municipality.code}-1" in coord.last.plain_text


async def test_teachers_do_not_get_the_coordinator_commands(running: Running) -> None:
    muni, school, _, _ = await _places(running)
    teacher = running.chat(8331, lang="en")
    await register(teacher, running.emu, municipality_id=muni, school_id=school.id)
    for command in ("/newevent", "/newsite", "/myevents"):
        await teacher.send(command)
        assert "did not understand" in teacher.last.plain_text


async def _event_in_ten_days(running: Running, municipality_id: int) -> tuple[int, datetime]:
    """A published seminar with its reminder and feedback jobs, as /newevent leaves it."""
    tz = ZoneInfo("Europe/Moscow")
    day = (datetime.now(tz) + timedelta(days=10)).date()
    start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=tz).astimezone(UTC)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        event = await repo.events.add_event(
            Event(
                kind="seminar",
                title="Formative assessment in maths",
                municipality_id=municipality_id,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                place="School No. 1, Lenina 5",
                capacity=10,
                checkin_code="AB12CD",
            )
        )
        # a job of the kind events had before reminders were planned per seat (migration 0006)
        await repo.jobs.schedule(
            JobKind.EVENT_REMINDER, start - timedelta(hours=24), event_id=event.id
        )
        await repo.jobs.schedule(
            JobKind.FEEDBACK_REQUEST, start + timedelta(hours=2) + FEEDBACK_AFTER, event_id=event.id
        )
        await session.commit()
        return event.id, start


async def test_coordinator_edits_title_time_and_place(running: Running) -> None:
    emu = running.emu
    tz = ZoneInfo("Europe/Moscow")
    muni, school, _, _ = await _places(running)
    coord = await coordinator(running, 8341, muni, school.id)
    teacher = running.chat(8342, lang="en", first_name="Anna")
    await register(teacher, emu, municipality_id=muni, school_id=school.id)
    event_id, start = await _event_in_ten_days(running, muni)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        anna = await repo.users.by_telegram_id(8342)
        assert anna is not None
        await repo.events.sign_up(event_id, anna.id, datetime.now(UTC), eligible=True)
        await session.commit()

    await coord.send("/myevents")
    await coord.tap_data(EventAdminCb(action="card", event=event_id).pack())
    await coord.tap("✏️ Edit")
    assert "what would you like to change" in coord.last.plain_text

    # ✖️ Cancel goes back to the card, nothing changed
    await coord.tap("Description")
    await coord.tap("✖️ Cancel")
    assert "Seats taken: 1 of 10" in coord.last.plain_text

    # the title: a too short one is asked again; the teacher is not bothered with it
    teacher_before = len(teacher.texts())
    await coord.tap("✏️ Edit")
    await coord.tap("Title")
    await coord.send("Hi")
    assert "3 to 200 characters" in coord.last.plain_text
    await coord.send("Assessment for learning")
    assert "Saved" in coord.last.plain_text
    assert "Assessment for learning" in coord.last.plain_text
    assert len(teacher.texts()) == teacher_before

    # start and end: bad answers are asked again; the reminder moves; the teacher is told
    new_day = (start.astimezone(tz) + timedelta(days=2)).date()
    await coord.tap("✏️ Edit")
    await coord.tap("Start and end")
    await coord.send("the day after tomorrow")
    assert "could not read this date" in coord.last.plain_text
    await coord.send("01.01.2020 10:00")
    assert "already passed" in coord.last.plain_text
    await coord.send(f"{new_day:%d.%m.%Y} 11:00")
    assert "When does it end" in coord.last.plain_text
    await coord.send("10:30")
    assert "must be after the start" in coord.last.plain_text
    await coord.send("13:00")
    card = coord.last.plain_text
    assert "1 participant will be notified" in card and f"{new_day:%d.%m.%Y}, 11:00–13:00" in card
    notice = teacher.last.plain_text
    assert "has changed" in notice and f"{new_day:%d.%m.%Y}, 11:00–13:00" in notice
    assert f"{start.astimezone(tz):%d.%m.%Y}, 10:00–12:00" in notice  # what it was

    new_start = datetime(new_day.year, new_day.month, new_day.day, 11, 0, tzinfo=tz)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        stored = await session.get(Event, event_id)
        assert stored is not None and stored.title == "Assessment for learning"
        assert stored.starts_at == new_start.astimezone(UTC)
        assert stored.ends_at == (new_start + timedelta(hours=2)).astimezone(UTC)
        reminders = await repo.jobs.pending("event_reminder")
        assert reminders == []  # the old-style job is closed; seats plan their reminders
        feedback = await repo.jobs.pending("feedback_request")
        assert [j.run_at for j in feedback] == [stored.ends_at + FEEDBACK_AFTER]

    # the place becomes a link
    await coord.tap("✏️ Edit")
    await coord.tap("Place or link")
    await coord.send("ab")
    assert "3 to 300 characters" in coord.last.plain_text
    await coord.send("https://meet.example.org/assessment")
    assert "1 participant will be notified" in coord.last.plain_text
    assert "meet.example.org/assessment" in coord.last.plain_text
    assert "New place: https://meet.example.org/assessment" in teacher.last.plain_text
    async with running.app.sessionmaker() as session:
        stored = await session.get(Event, event_id)
        assert stored is not None
        assert (stored.place, stored.online_url) == ("", "https://meet.example.org/assessment")
        edits = list(
            await session.scalars(
                select(AuditEntry.details)
                .where(AuditEntry.action == "event_edited")
                .order_by(AuditEntry.id)
            )
        )
        assert [sorted(d["fields"]) for d in edits] == [
            ["title"],
            ["ends_at", "starts_at"],
            ["online_url", "place"],
        ]
    emu.assert_no_violations()


async def test_a_foreign_coordinator_cannot_edit_the_event(running: Running) -> None:
    emu = running.emu
    muni, _, other_muni, other_school = await _places(running)
    event_id, _start = await _event_in_ten_days(running, muni)
    stranger = await coordinator(running, 8351, other_muni, other_school.id)
    await stranger.send("/myevents")
    own = stranger.last.message_id
    for forged in (
        EventAdminCb(action="edit", event=event_id).pack(),
        EventEditCb(field="title", event=event_id).pack(),
    ):
        await stranger.run(functools.partial(emu.forge_callback, stranger.user, own, forged))
    assert sum("cannot manage this event" in p for p in stranger.popups()) == 2
    await stranger.send("Hijacked title")  # no edit form was opened for them
    async with running.app.sessionmaker() as session:
        stored = await session.get(Event, event_id)
        assert stored is not None and stored.title == "Formative assessment in maths"
        actions = list(await session.scalars(select(AuditEntry.action)))
        assert "event_edited" not in actions


async def test_coordinator_edits_the_modules_of_a_site(running: Running) -> None:
    muni, school, other_muni, _ = await _places(running)
    coord = await coordinator(running, 8361, muni, school.id)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        for code, municipality, title in (
            ("site-edit-1", muni, "Formative assessment lab"),
            ("site-edit-2", other_muni, "A site elsewhere"),
        ):
            await repo.events.add_site(
                Site(
                    code=code,
                    municipality_id=municipality,
                    school_id=school.id if municipality == muni else None,
                    title=title,
                    topic="Assessment in primary school",
                    competencies=["assessment"],
                    contact="Petrova Maria, +7 900 000-00-00",
                    modules=[{"title": "Lesson study", "hours": 6}],
                )
            )
        await session.commit()

    await coord.send("/mysites")
    assert "Internship sites (1)" in coord.last.plain_text
    assert [b["text"] for b in coord.last.all_inline_buttons] == ["Formative assessment lab"]
    await coord.tap("Formative assessment lab")
    card = coord.last.plain_text
    assert "Lesson study — 6" in card and school.name in card and "Upcoming sessions: 0" in card
    await coord.tap("✏️ Modules")
    await coord.send("Lesson study — 4\nno hours here")
    assert "Line 2" in coord.last.plain_text
    await coord.send("Lesson study — 4\nCoaching that works | 10")
    card = coord.last.plain_text
    assert "Saved" in card and "Programme (14 hours)" in card
    assert "Lesson study — 4" in card and "Coaching that works — 10" in card
    async with running.app.sessionmaker() as session:
        site = await Repo(session).events.site_by_code("site-edit-1")
        assert site is not None and site.modules == [
            {"title": "Lesson study", "hours": 4},
            {"title": "Coaching that works", "hours": 10},
        ]
        details = list(
            await session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == "site_edited")
            )
        )
        assert details == [{"site_id": site.id, "fields": ["modules"]}]

    # the other one-answer forms: a bad answer is asked again, «-» removes the description
    await coord.tap("✏️ Title")
    await coord.send("Hi")
    assert "3 to 200 characters" in coord.last.plain_text
    await coord.send("Lab of <formative> assessment & feedback")
    assert "Saved" in coord.last.plain_text
    await coord.tap("✏️ Contact")
    await coord.send("Ivanova A. P., +7 900 000-00-00")
    await coord.tap("✏️ Description")
    await coord.send("-")
    async with running.app.sessionmaker() as session:
        site = await Repo(session).events.site_by_code("site-edit-1")
        assert site is not None
        assert site.title == "Lab of <formative> assessment & feedback"
        assert site.contact == "Ivanova A. P., +7 900 000-00-00" and site.description == ""
    assert "Lab of &lt;formative&gt; assessment &amp; feedback" in (coord.last.text or "")
    running.emu.assert_no_violations()


async def test_coordinator_edits_description_and_registration_deadline(running: Running) -> None:
    """The two one-answer forms the place and title tests do not reach: «-» removes the
    description, a deadline after the start is asked again, «-» reopens registration until
    the start; nobody signed up is bothered with either change."""
    tz = ZoneInfo("Europe/Moscow")
    muni, school, _, _ = await _places(running)
    coord = await coordinator(running, 8351, muni, school.id)
    event_id, start = await _event_in_ten_days(running, muni)

    async def stored() -> Event:
        async with running.app.sessionmaker() as session:
            event = await session.get(Event, event_id)
            assert event is not None
            return event

    await coord.send("/myevents")
    await coord.tap_data(EventAdminCb(action="card", event=event_id).pack())
    await coord.tap("✏️ Edit")
    await coord.tap("Description")
    await coord.send("Bring <b>your</b> lesson plans & rubrics")
    assert "Saved" in coord.last.plain_text
    assert (await stored()).description == "Bring <b>your</b> lesson plans & rubrics"
    await coord.tap("✏️ Edit")
    await coord.tap("Description")
    await coord.send("-")
    assert (await stored()).description == ""

    local = start.astimezone(tz)
    await coord.tap("✏️ Edit")
    await coord.tap("Registration deadline")
    await coord.send(f"{local + timedelta(days=1):%d.%m.%Y %H:%M}")
    assert "must not be later than the start" in coord.last.plain_text
    await coord.send(f"{local - timedelta(days=1):%d.%m.%Y} 18:00")
    assert "Saved" in coord.last.plain_text
    deadline = (await stored()).registration_deadline
    assert deadline is not None and deadline.astimezone(tz).hour == 18
    await coord.tap("✏️ Edit")
    await coord.tap("Registration deadline")
    await coord.send("-")
    assert (await stored()).registration_deadline is None
    running.emu.assert_no_violations()
