"""The bot has one clock (`core.clock`), injected into `BotApp`: moving it moves every screen
that asks "is it too early / too late?" (the teacher's sign-up, check-in, feedback and /my,
the coordinator's wizard), with no module reading the wall clock on its own."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from db.models import Registration, School
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from domain.checkin import checkin_payload
from tests.e2e.conftest import Running
from tests.e2e.flows import coordinator, register
from tests.sample import load_sample_events
from ui.callbacks.events import EvAct, FeedbackCb


async def test_moving_the_one_clock_moves_every_screen(running: Running) -> None:
    app, emu, clock = running.app, running.emu, running.clock
    event = (await load_sample_events(app.sessionmaker))[SAMPLE_EVENT_CODES[0]]
    assert event.title == TRICKY_TITLE and event.checkin_code
    async with app.sessionmaker() as session:
        school = await session.scalar(
            select(School).where(School.municipality_id == event.municipality_id)
        )
    assert school is not None
    anna = running.chat(8701, lang="en", first_name="Anna")
    await register(anna, emu, municipality_id=event.municipality_id, school_id=school.id)

    # two days before the event: the sign-up is open, check-in and feedback are not
    await anna.send(f"/start event_{event.id}")
    await anna.tap("✅ Sign up")
    await anna.tap("✅ Yes, sign me up")
    assert any("You are registered!" in p for p in anna.popups()), emu.dump_chat(8701)
    async with app.sessionmaker() as session:
        reg_id = await session.scalar(
            select(Registration.id).where(Registration.event_id == event.id)
        )
    assert reg_id is not None
    await anna.send("/my")
    assert "Upcoming" in anna.last.plain_text and "Past" not in anna.last.plain_text
    await anna.send(f"/start {checkin_payload(event.id, event.checkin_code)}")  # the QR link
    assert "is open from an hour before the start" in anna.last.plain_text
    await anna.run(
        lambda: emu.forge_callback(
            anna.user, anna.last.message_id, FeedbackCb(reg=reg_id, rating=5).pack()
        )
    )
    assert anna.popups()[-1] == "Feedback opens after the event ends."

    # ten minutes after the start, by the bot's clock (the wall clock still says two days before)
    clock.set(event.starts_at + timedelta(minutes=10))
    late = running.chat(8702, lang="en", first_name="Boris")
    await register(late, emu, municipality_id=event.municipality_id, school_id=school.id)
    card = await late.send(f"/start event_{event.id}")
    assert "today at 15:00" in card.plain_text  # the card's "today" is the clock's day
    assert "✅ Sign up" not in [b["text"] for b in card.all_inline_buttons]
    await late.run(
        lambda: emu.forge_callback(
            late.user, card.message_id, EvAct(action="join", event=event.id).pack()
        )
    )
    assert late.popups()[-1] == "This event has already started."
    await anna.send(f"/checkin {event.checkin_code}")
    assert "You are checked in" in anna.last.plain_text, emu.dump_chat(8701)

    # the coordinator's wizard: a start that is still ahead by the wall clock has passed
    olga = await coordinator(running, 8703, event.municipality_id, school.id)
    await olga.send("/newevent")
    await olga.tap("Internship session")
    await olga.send("Formative assessment: rubrics in practice")
    await olga.send("-")
    await olga.send(
        f"{(event.starts_at - timedelta(days=1)).astimezone(app.settings.tz):%d.%m.%Y %H:%M}"
    )
    assert "This moment has already passed" in olga.last.plain_text

    # an hour after the end: feedback opens, and /my lists the event as past
    clock.set(event.ends_at + timedelta(hours=1))
    await anna.send("/my")
    assert "Past" in anna.last.plain_text and "Upcoming" not in anna.last.plain_text
    assert f"{TRICKY_TITLE} — attended" in anna.last.plain_text
    await anna.run(
        lambda: emu.forge_callback(
            anna.user, anna.last.message_id, FeedbackCb(reg=reg_id, rating=5).pack()
        )
    )
    assert "Anything to add?" in anna.last.plain_text, emu.dump_chat(8701)
    async with app.sessionmaker() as session:
        reg = await session.get(Registration, reg_id)
    assert reg is not None and reg.feedback_rating == 5 and reg.attended_at is not None
    assert reg.attended_at == event.starts_at + timedelta(minutes=10)  # the clock's time, stored
