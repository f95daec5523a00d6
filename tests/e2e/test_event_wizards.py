"""The /newevent and /newsite wizards and the message to participants, with the shipped sample
data: an event created at a sample internship site takes sign-ups; ⬅️ Back on every step keeps
the answers given; a message to participants is previewed exactly as they will get it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db.models import AuditEntry, Event, Municipality, Registration, School, Site
from db.reference.sample_events import TRICKY_TITLE
from db.repo import Repo
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import coordinator, register
from tests.sample import load_sample_events
from ui.callbacks.event_admin import EventAdminCb, NewEventCb, NewSiteCb
from ui.callbacks.events import EvAct


async def _volgodonsk(running: Running) -> tuple[int, School, Site]:
    """The municipality of the sample site «Формирующее оценивание», a school, the site."""
    await load_sample_events(running.app.sessionmaker)
    async with running.app.sessionmaker() as session:
        site = await Repo(session).events.site_by_code("vdn-gymn1-assess")
        assert site is not None
        muni = await session.get(Municipality, site.municipality_id)
        assert muni is not None
        school = (await Repo(session).reference.schools(muni.id))[0]
        return muni.id, school, site


def _day(days: int) -> datetime:
    tz = ZoneInfo("Europe/Moscow")
    day = (datetime.now(tz) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=tz)


async def test_an_event_created_at_a_sample_site_takes_sign_ups(running: Running) -> None:
    emu = running.emu
    muni, school, site = await _volgodonsk(running)
    coord = await coordinator(running, 8401, muni, school.id)
    teacher = running.chat(8402, lang="en", first_name="Anna")
    await register(teacher, emu, municipality_id=muni, school_id=school.id)

    start = _day(12)
    await coord.send("/newevent")
    await coord.tap("Internship session")
    await coord.send("Formative assessment: rubrics in practice")
    await coord.send("-")
    await coord.send(f"{start:%d.%m.%Y %H:%M}")
    await coord.send("13:00")
    await coord.send("Gymnasium No. 1, room 12")
    await coord.send("5")
    await coord.tap_data(NewEventCb(action="comp", value="assessment").pack())
    await coord.tap("Done")
    await coord.tap_data(NewEventCb(action="site", value=str(site.id)).pack())
    assert site.title in coord.last.plain_text  # the summary names the site
    await coord.tap("✅ Publish")
    assert "Published" in coord.last.plain_text

    async with running.app.sessionmaker() as session:
        event = await session.scalar(
            select(Event).where(Event.title == "Formative assessment: rubrics in practice")
        )
        assert event is not None and event.site_id == site.id and event.municipality_id == muni
        event_id = event.id

    await teacher.send("/events")
    await teacher.tap_data(EvAct(action="card", event=event_id).pack())
    assert site.title in teacher.last.plain_text
    await teacher.tap_data(EvAct(action="signup", event=event_id).pack())
    await teacher.tap_data(EvAct(action="join", event=event_id).pack())
    assert any("You are registered" in p for p in teacher.popups()), emu.dump_chat(8402)
    async with running.app.sessionmaker() as session:
        regs = list(
            await session.scalars(select(Registration).where(Registration.event_id == event_id))
        )
        assert [r.status for r in regs] == ["confirmed"]
    emu.assert_no_violations()


def _texts(chat: Chat) -> list[str]:
    return [str(b.get("text")) for b in chat.last.all_inline_buttons]


def _has_nav(chat: Chat, *, back: bool = True) -> None:
    texts = _texts(chat)
    assert "✖️ Cancel" in texts, chat.last.describe()
    assert ("⬅️ Back" in texts) is back, chat.last.describe()


async def test_new_event_back_on_every_step_keeps_the_answers(running: Running) -> None:
    emu = running.emu
    muni, school, site = await _volgodonsk(running)
    coord = await coordinator(running, 8411, muni, school.id)
    start, later = _day(12), _day(13)

    await coord.send("/newevent")
    _has_nav(coord, back=False)  # the first step has nowhere to go back to
    await coord.tap("Master-class")
    _has_nav(coord)
    await coord.tap("⬅️ Back")
    assert "What kind of event" in coord.last.plain_text
    assert "✅ Master-class" in _texts(coord)  # the answer is kept and shown
    await coord.tap("➡️ Keep")
    assert "title of the event" in coord.last.plain_text
    title_question = coord.last.message_id
    await coord.send(TRICKY_TITLE)  # the sample title with <b>, &, quotes and an emoji
    _has_nav(coord)
    await coord.tap("⬅️ Back")
    assert "title of the event" in coord.last.plain_text
    assert f"Now: {TRICKY_TITLE}\n" in coord.last.plain_text
    await coord.tap("➡️ Keep")
    assert "description" in coord.last.plain_text

    # every question has Back and Cancel, the re-asks for bad answers too
    for answer, check in (
        ("-", "When does it start"),
        ("someday", "could not read this date"),
        (f"{start:%d.%m.%Y %H:%M}", "When does it end"),
        ("12:30", "Where?"),
        ("Gymnasium No. 1, room 12", "How many seats"),
        ("0", "whole number from 1 to 10000"),
        ("5", "competencies"),
    ):
        await coord.send(answer)
        assert check in coord.last.plain_text, coord.last.describe()
        _has_nav(coord)
    await coord.tap_data(NewEventCb(action="comp", value="assessment").pack())
    _has_nav(coord)
    await coord.tap("Done")
    _has_nav(coord)
    await coord.tap_data(NewEventCb(action="site", value=str(site.id)).pack())
    assert "Check the event before publishing" in coord.last.plain_text
    _has_nav(coord)

    # back from the summary, step by step: every answer is still there
    await coord.tap("⬅️ Back")
    assert any(t.startswith("✅ ") and site.title[:20] in t for t in _texts(coord))
    await coord.tap("⬅️ Back")
    assert any(t.startswith("✅ ") for t in _texts(coord))  # the competency stays marked
    await coord.tap("⬅️ Back")
    assert "How many seats" in coord.last.plain_text and "Now: 5" in coord.last.plain_text
    await coord.tap("⬅️ Back")
    assert "Now: Gymnasium No. 1, room 12" in coord.last.plain_text
    await coord.tap("⬅️ Back")
    assert f"{start:%d.%m.%Y}, 10:00–12:30" in coord.last.plain_text
    await coord.tap("⬅️ Back")
    assert f"Now: {start:%d.%m.%Y %H:%M}" in coord.last.plain_text

    # a new start asks for the end again (it may be a time on the start's day); the rest is kept
    await coord.send(f"{later:%d.%m.%Y %H:%M}")
    assert "When does it end" in coord.last.plain_text and "➡️ Keep" not in _texts(coord)
    await coord.send("13:00")
    for _step in ("place", "seats"):
        await coord.tap("➡️ Keep")
    await coord.tap("Done")
    await coord.tap("➡️ Keep")  # the site
    summary = coord.last.plain_text
    assert TRICKY_TITLE in summary and f"{later:%d.%m.%Y}, 10:00–13:00" in summary
    assert site.title in summary and "Seats: 5" in summary

    # a Back button left on an older message cannot move the wizard
    stale = NewEventCb(action="back", value="title").pack()
    await coord.run(lambda: emu.press_button(coord.user, title_question, stale))
    assert any("out of date" in p for p in coord.popups())
    assert "Check the event before publishing" in coord.last.plain_text

    await coord.tap("✅ Publish")
    async with running.app.sessionmaker() as session:
        event = await session.scalar(  # not the sample event of that title (it has a code)
            select(Event).where(Event.title == TRICKY_TITLE, Event.code.is_(None))
        )
        assert event is not None and event.kind == "masterclass" and event.site_id == site.id
        assert event.starts_at == later.astimezone(UTC) and event.capacity == 5
        assert event.ends_at == (later + timedelta(hours=3)).astimezone(UTC)
        assert event.competencies == ["assessment"] and event.place == "Gymnasium No. 1, room 12"
    emu.assert_no_violations()


async def test_new_site_back_keeps_the_answers_and_cancel_saves_nothing(running: Running) -> None:
    muni, school, _site = await _volgodonsk(running)
    coord = await coordinator(running, 8421, muni, school.id)
    await coord.send("/newsite")
    _has_nav(coord, back=False)
    await coord.send("Формирующее оценивание & обратная связь")
    _has_nav(coord)
    await coord.tap("⬅️ Back")
    assert "Now: «Формирующее оценивание & обратная связь»" in coord.last.plain_text
    await coord.tap("➡️ Keep")
    await coord.send("Critical thinking in grades 5–9")
    await coord.tap_data(NewSiteCb(action="school", value=str(school.id)).pack())
    await coord.tap_data(NewSiteCb(action="comp", value="assessment").pack())
    await coord.tap("⬅️ Back")
    assert any(t.startswith("✅ ") for t in _texts(coord))  # the school stays chosen
    await coord.tap("➡️ Keep")
    assert any(t.startswith("✅ ") for t in _texts(coord))  # and the competency marked
    await coord.tap("Done")
    for answer in ("-", "Petrova Maria, +7 900 000-00-00", "Lesson study — 6\nRubrics | 8"):
        _has_nav(coord)
        await coord.send(answer)
    assert "Check the site before creating it" in coord.last.plain_text
    await coord.tap("⬅️ Back")
    assert "• Lesson study — 6" in coord.last.plain_text  # the programme is kept
    await coord.tap("⬅️ Back")
    assert "Now: Petrova Maria" in coord.last.plain_text
    await coord.tap("✖️ Cancel")
    assert "Nothing was saved" in coord.last.plain_text
    async with running.app.sessionmaker() as session:
        titles = list(await session.scalars(select(Site.title)))
        assert "Формирующее оценивание & обратная связь" not in titles
    running.emu.assert_no_violations()


async def test_message_to_participants_is_previewed_and_sent_as_typed(running: Running) -> None:
    """✉️ Message participants: a preview of exactly what they get, ✏️ Edit, ✖️ Cancel and
    ✅ Send; the coordinator's text is escaped, so `<b>`, `&` and quotes arrive as typed."""
    emu = running.emu
    events = await load_sample_events(running.app.sessionmaker)
    sample = events["vdn-assess-mc-1"]  # the master-class titled TRICKY_TITLE
    assert sample.title == TRICKY_TITLE
    muni, school, _site = await _volgodonsk(running)
    coord = await coordinator(running, 8431, muni, school.id)
    teacher = running.chat(8432, lang="en", first_name="Anna")
    await register(teacher, emu, municipality_id=muni, school_id=school.id)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        anna = await repo.users.by_telegram_id(8432)
        assert anna is not None
        result = await repo.events.sign_up(sample.id, anna.id, datetime.now(UTC), eligible=True)
        assert result.registration is not None
        await session.commit()

    typed = 'Bring <b>your</b> plans & "rubrics" — room <12>'
    await coord.send("/myevents")
    await coord.tap_data(EventAdminCb(action="card", event=sample.id).pack())
    await coord.tap("✉️ Message participants")
    await coord.send("first draft")
    await coord.tap("✏️ Edit")
    await coord.send(typed)
    preview = emu.chat(coord.user.id)[-2]
    assert "Send it to 1 participant?" in coord.last.plain_text
    assert [b["text"] for b in coord.last.all_inline_buttons] == [
        "✅ Send",
        "✏️ Edit",
        "✖️ Cancel",
    ]
    before = len(teacher.texts())
    await coord.tap("✅ Send")
    assert "on its way to 1 participant" in coord.last.plain_text
    got = teacher.last
    assert len(teacher.texts()) == before + 1
    assert got.text == preview.text  # exactly what the preview showed
    assert got.plain_text == f"✉️ {TRICKY_TITLE}:\n\n{typed}"  # no markup taken from the text
    assert "&lt;b&gt;your&lt;/b&gt;" in (got.text or "")
    assert not any("first draft" in t for t in teacher.texts())

    # a second message, cancelled at the preview: nothing goes out
    await coord.tap("⬅️ Back to the event")
    await coord.tap("✉️ Message participants")
    await coord.send("Never mind")
    await coord.tap("✖️ Cancel")
    assert "Cancelled" in coord.last.plain_text
    assert len(teacher.texts()) == before + 1
    async with running.app.sessionmaker() as session:
        sent = list(
            await session.scalars(
                select(AuditEntry.details).where(AuditEntry.action == "event_message")
            )
        )
        assert sent == [{"event_id": sample.id, "recipients": 1}]
    emu.assert_no_violations()


async def test_message_to_an_event_with_no_participants_is_not_offered(running: Running) -> None:
    """With nobody signed up there is no one to write to: a pop-up says so, no prompt opens."""
    events = await load_sample_events(running.app.sessionmaker)
    sample = events["vdn-assess-intern-1"]
    muni, school, _site = await _volgodonsk(running)
    coord = await coordinator(running, 8441, muni, school.id)
    await coord.send("/myevents")
    await coord.tap_data(EventAdminCb(action="card", event=sample.id).pack())
    card = coord.last.plain_text
    await coord.tap("✉️ Message participants")
    assert "no one to message" in coord.popups()[-1]
    assert coord.last.plain_text == card  # no prompt was opened
