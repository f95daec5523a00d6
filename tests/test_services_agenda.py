"""The coordinator's agenda and summary (services.agenda, outbox.render_staff) on SQLite and
PostgreSQL: which rows the import and the event use cases plan, in whose zone, and what the
aggregate queries count."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import load_i18n
from db.models import Event, OutboxMessage, Registration
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from domain.events import RegStatus
from domain.notices import NoticeKind
from outbox.render import render
from outbox.render_staff import average_text
from outbox.rendered import RenderContext
from services import events as services
from services.agenda import plan_user_agenda
from tests.conftest import make_settings
from tests.sample import load_sample_events

MOSCOW = ZoneInfo("Europe/Moscow")
EKB = ZoneInfo("Asia/Yekaterinburg")
STAFF = (NoticeKind.STAFF_AGENDA.value, NoticeKind.STAFF_SUMMARY.value)


def at(day: date, hh: int, mm: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=tz).astimezone(UTC)


async def _staff(session: AsyncSession, tg_id: int, zone: str) -> int:
    user, _ = await Repo(session).users.get_or_create(tg_id, "en")
    user.role, user.timezone = "coordinator", zone
    await session.flush()
    return user.id


async def _rows(session: AsyncSession, user_id: int | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind.in_(STAFF))
    if user_id is not None:
        query = query.where(OutboxMessage.user_id == user_id)
    return list(await session.scalars(query.order_by(OutboxMessage.due_at)))


async def _render(
    repo: Repo, kind: NoticeKind, day: date, tz: ZoneInfo, now: datetime, user_id: int
) -> str | None:
    i18n = load_i18n(make_settings("sqlite+aiosqlite://"))
    payload: Mapping[str, Any] = {"day": day.isoformat()}
    with i18n.context(), i18n.use_locale("en"):
        rendered = await render(kind, RenderContext(repo, tz, now, "en", user_id), payload)
    return None if rendered is None else rendered.text


async def test_events_without_an_organiser_plan_no_agenda(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await load_sample_events(sessionmaker)  # imported from the command line: no organiser
    async with sessionmaker() as session:
        assert await _rows(session) == []


async def test_the_import_plans_one_agenda_per_day_for_the_organiser(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        olga = await _staff(session, 6001, "Europe/Moscow")
        await session.commit()
    events = await load_sample_events(sessionmaker, organiser_id=olga)
    days = sorted({e.starts_at.astimezone(MOSCOW).date() for e in events.values()})
    assert len(days) == 3 < len(events)  # five events on three days
    async with sessionmaker() as session:
        rows = await _rows(session, olga)
    agenda = [(r.key, r.ref, r.payload, r.due_at) for r in rows if r.kind == "staff_agenda"]
    assert agenda == [
        (
            f"agenda:{olga}:{day.isoformat()}",
            f"agenda:{olga}:{day.isoformat()}",
            {"day": day.isoformat()},
            at(day, 8, 0, MOSCOW),
        )
        for day in days
    ]
    summary = [(r.key, r.due_at) for r in rows if r.kind == "staff_summary"]
    assert summary == [
        (f"summary:{olga}:{day.isoformat()}", at(day + timedelta(days=1), 10, 0, MOSCOW))
        for day in days
    ]


async def test_an_event_at_2330_in_moscow_is_the_next_day_in_yekaterinburg(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    sample = await load_sample_events(sessionmaker)
    muni = sample[SAMPLE_EVENT_CODES[0]].municipality_id
    day = datetime.now(MOSCOW).date() + timedelta(days=3)
    start = at(day, 23, 30, MOSCOW)  # = 01:30 the next day in Yekaterinburg
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await _staff(session, 6101, "Europe/Moscow")
        yuri = await _staff(session, 6102, "Asia/Yekaterinburg")
        for organiser, code in ((olga, "late-msk"), (yuri, "late-ekb")):
            event = Event(
                code=code,
                kind="seminar",
                title=f"Late seminar <{code}>",
                municipality_id=muni,
                starts_at=start,
                ends_at=start + timedelta(minutes=25),
                place="Online",
                capacity=10,
                checkin_code=code[-3:].upper() + "123",
                organiser_id=organiser,
            )
            await services.create_event(repo, event, now)
        await session.commit()
    nxt = day + timedelta(days=1)
    async with sessionmaker() as session:
        rows = {
            u: [(r.kind, r.payload["day"], r.due_at) for r in await _rows(session, u)]
            for u in (olga, yuri)
        }
    assert rows[olga] == [
        ("staff_agenda", day.isoformat(), at(day, 8, 0, MOSCOW)),
        ("staff_summary", day.isoformat(), at(nxt, 10, 0, MOSCOW)),
    ]
    assert rows[yuri] == [
        ("staff_agenda", nxt.isoformat(), at(nxt, 8, 0, EKB)),
        ("staff_summary", nxt.isoformat(), at(nxt + timedelta(days=1), 10, 0, EKB)),
    ]
    async with sessionmaker() as session:
        repo = Repo(session)
        agenda = await _render(repo, NoticeKind.STAFF_AGENDA, nxt, EKB, at(nxt, 8, 0, EKB), yuri)
        assert agenda is not None
        assert agenda.splitlines()[:2] == [
            f"📋 <b>Your events today, {nxt:%d.%m.%Y}</b>",
            "",
        ]
        assert agenda.splitlines()[2] == "1. 01:30–01:55 · <b>Late seminar &lt;late-ekb&gt;</b>"
        # Yuri's evening before has nothing; Olga's day is the Moscow one
        assert (
            await _render(repo, NoticeKind.STAFF_AGENDA, day, EKB, at(day, 8, 0, EKB), yuri) is None
        )
        msk = await _render(repo, NoticeKind.STAFF_AGENDA, day, MOSCOW, at(day, 8, 0, MOSCOW), olga)
        assert msk is not None and "1. 23:30–23:55 · <b>Late seminar &lt;late-msk&gt;</b>" in msk
        later = at(nxt + timedelta(days=1), 10, 0, EKB)
        summary = await _render(repo, NoticeKind.STAFF_SUMMARY, nxt, EKB, later, yuri)
        assert summary is not None and summary.startswith(f"📊 <b>Yesterday, {nxt:%d.%m.%Y}</b>")
        assert await _render(repo, NoticeKind.STAFF_SUMMARY, day, EKB, later, yuri) is None


async def test_summary_counts_come_from_one_query_per_message(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """Hand-computed: the master-class had 3 seats and a waitlist; 2 attended (rated 5 and 2),
    1 never came, 1 cancelled, the waitlisted one stayed waiting."""
    events = await load_sample_events(sessionmaker)
    event = events[SAMPLE_EVENT_CODES[0]]
    day = event.starts_at.astimezone(MOSCOW).date()
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await _staff(session, 6201, "Europe/Moscow")
        row = await session.get(Event, event.id)
        assert row is not None
        row.organiser_id = olga
        statuses = [
            (RegStatus.ATTENDED, 5),
            (RegStatus.ATTENDED, 2),
            (RegStatus.CONFIRMED, None),
            (RegStatus.CANCELLED, None),
            (RegStatus.WAITLISTED, None),
        ]
        for n, (status, rating) in enumerate(statuses, start=1):
            user, _ = await repo.users.get_or_create(6210 + n, "en")
            await session.flush()
            session.add(
                Registration(
                    event_id=event.id,
                    user_id=user.id,
                    status=status.value,
                    queue_no=n,
                    feedback_rating=rating,
                    feedback_at=event.ends_at if rating else None,
                )
            )
        await session.commit()
        since, until = at(day, 0, 0, MOSCOW), at(day + timedelta(days=1), 0, 0, MOSCOW)
        [agenda] = await repo.events.organiser_day(olga, since, until)
        assert (agenda.event.id, agenda.seats_taken, agenda.waitlist) == (event.id, 3, 1)
        [tally] = await repo.events.organiser_tally(olga, since, until)
        assert (tally.attended, tally.no_shows, tally.feedback, tally.rating_sum) == (2, 1, 2, 7)
        assert await repo.events.organiser_day(olga, until, until + timedelta(days=1)) == []
        # what a category switched back on or a new zone plans (services.reminders.PLANNERS)
        await plan_user_agenda(repo, olga, event.starts_at - timedelta(days=1))
        await session.commit()
        kinds = [(r.kind, r.payload["day"], r.state) for r in await _rows(session, olga)]
        assert kinds == [
            ("staff_agenda", day.isoformat(), "pending"),
            ("staff_summary", day.isoformat(), "pending"),
        ]
    # 7 / 2 = 3.5; 17 / 4 = 4.25 is rounded half up; the Russian decimal comma
    assert average_text(7, 2, "en") == "3.5"
    assert average_text(17, 4, "en") == "4.3" and average_text(17, 4, "ru") == "4,3"
    assert average_text(13, 3, "en") == "4.3" and average_text(0, 0, "en") == "—"
