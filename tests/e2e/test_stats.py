"""`/stats` with real numbers through the real bot: a Russian-speaking methodist opens the
week's statistics of her municipality (counted from teachers who registered through the bot,
one of whom finished a self-assessment), pages to the previous week, gets the workbook and the
charts, and on Monday at 09:00 her time receives the digest of the week; a teacher gets none
of it, whatever they send."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from db.models import Event, School
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from domain.roles import Role
from domain.stats import Period, PeriodKind
from scheduler.runner import plan_stats_digests
from tests.e2e.conftest import Running
from tests.e2e.flows import coordinator, register
from tests.sample import load_sample_events
from tests.sample_teacher import answer_all
from tests.staffing import make_staff
from ui.callbacks.stats import StatsAction, StatsCb


async def test_a_methodist_reads_the_weeks_numbers_and_gets_the_monday_digest(
    running: Running,
) -> None:
    app, emu, clock = running.app, running.emu, running.clock
    tz = app.settings.tz
    event: Event = (await load_sample_events(app.sessionmaker))[SAMPLE_EVENT_CODES[0]]
    async with app.sessionmaker() as session:
        school = await session.scalar(
            select(School).where(School.municipality_id == event.municipality_id)
        )
    assert school is not None
    marina = await coordinator(
        running, 8981, event.municipality_id, school.id, lang="ru", first_name="Марина"
    )
    # three young teachers (under 35, two years of work); one finishes a self-assessment
    teachers = [running.chat(8990 + n, lang="en", first_name=f"T{n}") for n in range(3)]
    for chat in teachers:
        await register(chat, emu, municipality_id=event.municipality_id, school_id=school.id)
    async with app.sessionmaker() as session:
        repo = Repo(session)
        diagnosed = await repo.users.by_telegram_id(teachers[0].user.id)
        assert diagnosed is not None
        await answer_all(repo, diagnosed.id, now=clock.now())
        await session.commit()

    # the week: 4 registered people (the methodist's own profile counts), 1 diagnosed; the
    # young specialists are the three teachers, none of them yet in a form of support
    screen = await marina.send("/stats")
    text = screen.plain_text
    week = Period.containing(PeriodKind.WEEK, clock.now().astimezone(tz).date())
    assert "Неделя" in text, text
    assert "(1 из 4)" in text and "25%" in text, text
    assert "(0 из 3)" in text, text  # young specialists in support, of the young ones

    # the previous week: nobody had registered yet
    await marina.tap("◀")
    assert "(1 из 4)" not in marina.last.plain_text, marina.last.plain_text

    # the workbook of this week: a file named by the period, the indicators as numbers
    await marina.send("/stats")
    await marina.tap("📥 Excel")
    [document] = [m for m in emu.sent_to(marina.user.id) if m.document is not None]
    assert document.document is not None
    name, data = document.document
    assert name == f"stats_{week.start.isoformat()}_{week.last_day.isoformat()}.xlsx", name
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes is not None
    numbers = [
        row for row in sheet.iter_rows(min_row=2, values_only=True) if row and 4 in row and 1 in row
    ]
    assert numbers, list(sheet.iter_rows(values_only=True))

    # the charts: three images
    before = sum(1 for m in emu.sent_to(marina.user.id) if m.kind == "photo")
    await marina.tap("📊 Графики")
    photos = [m for m in emu.sent_to(marina.user.id) if m.kind == "photo"]
    assert len(photos) - before == 3

    # Monday 09:00 her time: the digest of the week that ended
    assert await plan_stats_digests(app.sessionmaker, clock, policy=app.settings.reminders) >= 1
    monday = datetime.combine(week.end, time(9, 0), tz)
    clock.set(monday - timedelta(minutes=1))
    await app.tick()
    assert not [m for m in emu.sent_to(marina.user.id) if "(1 из 4)" in m.plain_text][1:]
    clock.set(monday + timedelta(seconds=30))
    await app.tick()
    digests = [m for m in emu.sent_to(marina.user.id) if "(1 из 4)" in m.plain_text]
    assert len(digests) == 2, [m.plain_text[:80] for m in emu.sent_to(marina.user.id)]
    assert [b["text"] for b in digests[-1].all_inline_buttons][:2] == [
        "📊 Открыть /stats",
        "📥 Excel",
    ]

    # a teacher: /stats is not theirs and a forged button computes nothing
    teacher = teachers[1]
    reply = await teacher.send("/stats")
    assert "(1 из 4)" not in reply.plain_text and "indicator" not in reply.plain_text.lower()
    forged = StatsCb(action=StatsAction.XLSX, kind=PeriodKind.WEEK, day=20261123).pack()
    last = teacher.last.message_id
    await teacher.run(lambda: emu.forge_callback(teacher.user, last, forged))
    assert all(m.document is None for m in emu.sent_to(teacher.user.id))


async def test_a_school_methodist_sees_only_their_school(running: Running) -> None:
    """Two schools of one municipality: the school methodist of the first counts its people
    only, and the breakdown names no other school."""
    app, emu = running.app, running.emu
    event: Event = (await load_sample_events(app.sessionmaker))[SAMPLE_EVENT_CODES[0]]
    async with app.sessionmaker() as session:
        schools = list(
            await session.scalars(
                select(School)
                .where(School.municipality_id == event.municipality_id)
                .order_by(School.id)
                .limit(2)
            )
        )
    ours, theirs = schools
    nina = running.chat(8995, lang="ru", first_name="Нина")
    await register(
        nina,
        emu,
        municipality_id=event.municipality_id,
        school_id=ours.id,
        position="deputy_head",
        age="35_plus",
        years="20",
    )
    for n, school in enumerate([ours, theirs, theirs]):
        chat = running.chat(8996 + n, lang="en", first_name=f"S{n}")
        await register(chat, emu, municipality_id=event.municipality_id, school_id=school.id)
    async with app.sessionmaker() as session:
        repo = Repo(session)
        row = await repo.users.by_telegram_id(nina.user.id)
        assert row is not None
        await make_staff(repo, row, Role.SCHOOL_METHODIST, school_id=ours.id)
        await session.commit()
    app.dp["user_cache"].invalidate(nina.user.id)

    text = (await nina.send("/stats")).plain_text
    assert f"Охват: {ours.short_name} · педагогов: 2" in text, text  # Нина and S0
    assert theirs.short_name not in text
    assert "(0 из 2)" in text, text  # nobody of the two is diagnosed yet
