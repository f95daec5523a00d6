"""The /newevent and /newsite wizards with the shipped sample data: an event created at a
sample internship site takes sign-ups; ⬅️ Back on every step keeps the answers given."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db.models import Event, Municipality, Registration, School, Site
from db.repo import Repo
from handlers.event_admin import NewEventCb
from handlers.events import EvAct
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import register
from tests.sample import load_sample_events


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


async def _coordinator(running: Running, tg_id: int, municipality_id: int, school_id: int) -> Chat:
    from domain.roles import Role

    chat = running.chat(tg_id, lang="en", first_name="Olga")
    await register(
        chat,
        running.emu,
        municipality_id=municipality_id,
        school_id=school_id,
        position="methodist",
        age="35_plus",
        years="20",
    )
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        row = await repo.users.by_telegram_id(tg_id)
        assert row is not None
        await repo.users.set_role(row, Role.COORDINATOR)
        await session.commit()
    running.app.dp["user_cache"].invalidate(tg_id)
    return chat


def _day(days: int) -> datetime:
    tz = ZoneInfo("Europe/Moscow")
    day = (datetime.now(tz) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=tz)


async def test_an_event_created_at_a_sample_site_takes_sign_ups(running: Running) -> None:
    emu = running.emu
    muni, school, site = await _volgodonsk(running)
    coord = await _coordinator(running, 8401, muni, school.id)
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
