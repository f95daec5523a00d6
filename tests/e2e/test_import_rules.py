"""A re-imported file goes through the same event rules as the event card (services.events):
capacity below the seats taken is refused, raised capacity offers seats to the waitlist, a
moved start moves the reminder and feedback jobs and tells the registrants, a cancelled event
is not scheduled again. The templates are for the coordinator's own municipality and import
back unchanged; import problems reach a Russian coordinator in Russian."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from db.models import Event, Municipality, Site
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE, sample_events_csv
from db.repo import Repo
from domain.events import EventStatus, RegStatus
from domain.notices import NoticeKind
from domain.roles import Role
from domain.schedule import FEEDBACK_AFTER
from services import events as services
from services import registrations
from tests.e2e.conftest import Chat, Running
from tests.sample import load_sample_events
from tests.staffing import make_staff

TZ = ZoneInfo("Europe/Moscow")
MC, INTERN = SAMPLE_EVENT_CODES[0], SAMPLE_EVENT_CODES[1]  # Volgodonsk, 3 and 25 seats


async def _coordinator(running: Running, tg_id: int, muni_code: str, lang: str) -> Chat:
    chat = running.chat(tg_id, lang=lang, first_name="Olga")
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        muni = await session.scalar(select(Municipality).where(Municipality.code == muni_code))
        assert muni is not None
        user, _ = await repo.users.get_or_create(tg_id, lang)
        await repo.users.set_fields(user, full_name="Olga Metodist", municipality_id=muni.id)
        await repo.users.set_consent(user, "given", "1", running.clock.now())
        await make_staff(repo, user, Role.COORDINATOR, muni.id)
        await session.commit()
    running.emu.add_user(chat.user)
    running.app.dp["user_cache"].invalidate(tg_id)
    return chat


def _volgodonsk_rows(today: date) -> tuple[list[str], list[list[str]]]:
    """The shipped sample events file, only the Volgodonsk rows (the coordinator's own)."""
    rows = list(
        csv.reader(io.StringIO(sample_events_csv(today).decode("utf-8-sig")), delimiter=";")
    )
    header = rows[0]
    return header, [r for r in rows[1:] if r[header.index("municipality")] == "volgodonsk"]


def _file(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([header, *rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _set(header: list[str], rows: list[list[str]], code: str, **values: str) -> None:
    row = next(r for r in rows if r[0] == code)
    for name, value in values.items():
        row[header.index(name)] = value


async def _send(chat: Chat, running: Running, name: str, data: bytes) -> str:
    await chat.run(lambda: running.emu.send_document(chat.user, name, data))
    return chat.last.plain_text


async def test_reimport_goes_through_the_event_rules(running: Running) -> None:
    emu = running.emu
    events = await load_sample_events(running.app.sessionmaker)
    mc_id, intern_id = events[MC].id, events[INTERN].id
    coord = await _coordinator(running, 8601, "volgodonsk", "en")
    teachers = [running.chat(8610 + n, lang="en", first_name=f"T{n}") for n in range(4)]
    now = datetime.now(UTC)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        for chat in teachers:
            emu.add_user(chat.user)
            user, _ = await repo.users.get_or_create(chat.user.id, "en")
            await session.flush()
            await repo.events.sign_up(mc_id, user.id, now, eligible=True)  # 3 seats, 1 waits
            if chat is teachers[0]:
                await registrations.sign_up(repo, intern_id, user.id, now)
                first_id = user.id
        await session.commit()
        old_reminders = {
            row.due_at
            for row in await repo.outbox.pending_of(first_id, [NoticeKind.EVENT_REMINDER])
        }
        assert len(old_reminders) == 2  # a day and an hour before
    waiting = teachers[3]
    today = now.astimezone(TZ).date()
    header, rows = _volgodonsk_rows(today)

    # 1. capacity below the seats taken: the row is rejected with the reason, nothing changes
    _set(header, rows, MC, capacity="2")
    _set(header, rows, INTERN, title="A new title that must not be saved")
    report = await _send(coord, running, "events.csv", _file(header, rows))
    assert "Nothing was imported" in report, report
    assert "capacity: 3 seats are already taken: the capacity cannot be lower" in report
    async with running.app.sessionmaker() as session:
        mc = await session.get(Event, mc_id)
        intern = await session.get(Event, intern_id)
        assert mc is not None and intern is not None
        assert mc.capacity == 3 and intern.title != "A new title that must not be saved"

    # 2. raised capacity: the first in the waitlist is offered the seat (and told so)
    header, rows = _volgodonsk_rows(today)
    _set(header, rows, MC, capacity="4")
    report = await _send(coord, running, "events.csv", _file(header, rows))
    assert "0 created, 3 updated" in report and "1 participant will be notified" in report, report
    assert any("A seat has freed up" in text for text in waiting.texts()), waiting.texts()
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        regs = {r.user_id: r for r in await repo.events.participants(mc_id)}
        waiting_user = await repo.users.by_telegram_id(waiting.user.id)
        assert waiting_user is not None
        offered = regs[waiting_user.id]
        assert offered.status == RegStatus.OFFERED.value
        expiries = [
            j for j in await repo.jobs.pending("offer_expire") if j.payload["reg_id"] == offered.id
        ]
        assert len(expiries) == 1  # scheduled once, by the use case

    # 3. a moved start: the reminder and feedback request follow, registrants are told
    start = datetime.combine(today + timedelta(days=8), datetime.min.time()).replace(hour=11)
    _set(
        header,
        rows,
        INTERN,
        starts_at=start.strftime("%d.%m.%Y %H:%M"),
        ends_at=(start + timedelta(hours=3)).strftime("%d.%m.%Y %H:%M"),
        registration_deadline="",
    )
    report = await _send(coord, running, "events.csv", _file(header, rows))
    assert "0 created, 3 updated" in report, report
    assert "1 participant will be notified" in report, report  # teachers[0], registered there
    new_start = start.replace(tzinfo=TZ).astimezone(UTC)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        reminders = await repo.outbox.pending_of(first_id, [NoticeKind.EVENT_REMINDER])
        feedback = [
            j
            for j in await repo.jobs.pending("feedback_request")
            if j.payload["event_id"] == intern_id
        ]
        # the seat's reminders moved with the event
        assert [r.due_at for r in reminders] == [
            new_start - timedelta(hours=24),
            new_start - timedelta(hours=1),
        ]
        assert not old_reminders & {r.due_at for r in reminders}
        assert [j.run_at for j in feedback] == [new_start + timedelta(hours=3) + FEEDBACK_AFTER]
    moved = [t for t in teachers[0].texts() if "has changed" in t]
    assert moved and "New time" in moved[-1], teachers[0].texts()
    assert not any("has changed" in t for t in teachers[1].texts())  # not registered there

    # 4. a cancelled event in a file is rejected with a clear reason, and stays cancelled
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        done = await services.cancel_event(repo, mc_id, datetime.now(UTC))
        assert isinstance(done, services.Done) and len(done.notices) == 4
        await session.commit()
    report = await _send(coord, running, "events.csv", _file(header, rows))
    assert "Nothing was imported" in report
    assert "cannot schedule it again" in report, report
    async with running.app.sessionmaker() as session:
        mc = await session.get(Event, mc_id)
        assert mc is not None and mc.status == EventStatus.CANCELLED.value
        assert mc.title == TRICKY_TITLE
        pending = await Repo(session).jobs.pending("event_reminder")
        assert not [j for j in pending if j.payload["event_id"] == mc_id]


async def test_templates_of_a_coordinator_import_back_unchanged(running: Running) -> None:
    emu = running.emu
    await load_sample_events(running.app.sessionmaker)
    coord = await _coordinator(running, 8701, "volgodonsk", "ru")
    await coord.send("/template")
    files = {m.document[0]: m.document[1] for m in emu.chat(8701) if m.document}
    assert {
        "events-template.xlsx",
        "events-template.csv",
        "sites-template.xlsx",
        "sites-template.csv",
        "codes.csv",
    } <= set(files)
    codes = list(csv.reader(io.StringIO(files["codes.csv"].decode("utf-8-sig")), delimiter=";"))
    listed = {(row[0], row[1]) for row in codes[1:]}
    assert ("municipality", "volgodonsk") in listed and ("site", "vdn-gymn1-assess") in listed
    assert ("municipality", "timashevsky") not in listed  # only the coordinator's scope
    assert ("site", "tim-sosh2-funclit") not in listed
    assert {"school", "competencies", "kind", "positions", "subjects"} <= {r[0] for r in codes}
    sheet = load_workbook(io.BytesIO(files["events-template.xlsx"])).worksheets[1]
    assert sheet.title == "Коды"
    assert ("site", "vdn-gymn1-assess") in {(r[0], r[1]) for r in sheet.iter_rows(values_only=True)}

    for name in ("sites-template.csv", "sites-template.xlsx"):
        report = await _send(coord, running, name, files[name])
        assert "Импортированы" in report or "✅" in report, report
        assert "❌" not in report, report
    report = await _send(coord, running, "events-template.xlsx", files["events-template.xlsx"])
    assert report.startswith("✅") and "2" in report, report
    report = await _send(coord, running, "events-template.csv", files["events-template.csv"])
    assert report.startswith("✅"), report
    async with running.app.sessionmaker() as session:
        vdn = await session.scalar(select(Municipality).where(Municipality.code == "volgodonsk"))
        assert vdn is not None
        created = (
            await session.scalars(select(Event).where(Event.code.like("volgodonsk-event-%")))
        ).all()
        assert len(created) == 2 and {e.municipality_id for e in created} == {vdn.id}
        assert any(e.site_id is not None for e in created)  # uses an existing site of theirs
        sites = (
            await session.scalars(select(Site).where(Site.code.like("volgodonsk-site-%")))
        ).all()
        assert sites and {s.municipality_id for s in sites} == {vdn.id}


async def test_import_problems_are_in_the_users_language(running: Running) -> None:
    await load_sample_events(running.app.sessionmaker)
    coord = await _coordinator(running, 8801, "volgodonsk", "ru")
    unreadable = await _send(coord, running, "events.xlsx", b"not a zip at all")
    assert "Не удалось прочитать" in unreadable or "не удалось" in unreadable.lower(), unreadable
    assert "not a readable" not in unreadable and "XLSX" in unreadable

    today = datetime.now(TZ).date()
    header, rows = _volgodonsk_rows(today)
    _set(header, rows, MC, capacity="0", kind="лекция", site="tim-sosh2-funclit")
    _set(header, rows, INTERN, starts_at="31.02.2030 10:00")
    report = await _send(coord, running, "events.csv", _file(header, rows))
    assert "❌" in report
    for english in ("must be", "unknown kind", "belongs to", "no such date", "Nothing was"):
        assert english not in report, report
    assert "capacity:" in report and "лекция" in report and "31.02.2030 10:00" in report
    assert "tim-sosh2-funclit" in report

    bad_columns = await _send(coord, running, "events.csv", b"code;colour\r\nx1;red\r\n")
    assert "colour" in bad_columns and "unknown column" not in bad_columns, bad_columns
