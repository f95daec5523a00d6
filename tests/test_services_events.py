"""The event use cases (services.events) on SQLite and PostgreSQL, with the sample events: the
card and the import share them, so the rules hold whichever way a change arrives."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.imports import import_file
from db.models import Event
from db.reference.sample_events import SAMPLE_EVENT_CODES, sample_events_csv
from db.repo import Repo
from domain.event_import import Err
from domain.events import EventStatus, RegStatus
from domain.schedule import FEEDBACK_AFTER
from services import events as services
from tests.sample import load_sample_events

TZ = ZoneInfo("Europe/Moscow")
MC = SAMPLE_EVENT_CODES[0]  # 3 seats


def _only(code: str, capacity: str) -> bytes:
    now = datetime.now(UTC)
    rows = list(
        csv.reader(
            io.StringIO(sample_events_csv(now.astimezone(TZ).date()).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    header = rows[0]
    row = next(r for r in rows if r[0] == code)
    row[header.index("capacity")] = capacity
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerows([header, row])
    return out.getvalue().encode("utf-8")


async def _jobs(repo: Repo, kind: str, event_id: int) -> list[datetime]:
    return [j.run_at for j in await repo.jobs.pending(kind) if j.payload["event_id"] == event_id]


async def test_event_rules_are_shared_by_the_card_and_the_import(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event_id = (await load_sample_events(sessionmaker))[MC].id
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        repo = Repo(session)
        users = []
        for tg in range(7001, 7005):
            user, _ = await repo.users.get_or_create(tg, "ru")
            await session.flush()
            users.append(user)
            await repo.events.sign_up(event_id, user.id, now, eligible=True)
        await session.commit()

    async with sessionmaker() as session:
        repo = Repo(session)
        refused = await services.change_capacity(repo, event_id, 2, now)
        assert refused == services.Refused(services.Refusal.BELOW_TAKEN, seats_taken=3)
        outcome = await import_file(
            repo, _only(MC, "2"), "e.csv", allowed_municipalities=None, actor=None, tz=TZ, now=now
        )
        assert not outcome.ok and outcome.notices == ()
        (problem,) = outcome.reports[0].errors
        assert (problem.code, problem.column, problem.param("n")) == (
            Err.BELOW_SEATS_TAKEN,
            "capacity",
            3,
        )
        await session.commit()
        assert (await repo.events.get(event_id)).capacity == 3  # type: ignore[union-attr]

        outcome = await import_file(
            repo, _only(MC, "4"), "e.csv", allowed_municipalities=None, actor=None, tz=TZ, now=now
        )
        assert outcome.ok and [n.kind for n in outcome.notices] == [
            services.NoticeKind.SEAT_OFFERED
        ]
        offer = outcome.notices[0]
        assert offer.user_id == users[3].id
        reg = await repo.events.registration_by_id(int(offer.get("reg_id", 0)))
        assert reg is not None and reg.status == RegStatus.OFFERED.value
        assert [j.payload for j in await repo.jobs.pending("offer_expire")] == [{"reg_id": reg.id}]
        await session.commit()

    async with sessionmaker() as session:
        repo = Repo(session)
        event = await repo.events.get(event_id)
        assert event is not None
        starts = event.starts_at + timedelta(days=3)
        done = await services.change_event(
            repo, event_id, {"starts_at": starts, "ends_at": starts + timedelta(hours=2)}, now
        )
        assert isinstance(done, services.Done)
        assert set(done.changed) == {"starts_at", "ends_at"}
        assert {n.user_id for n in done.notices} == {u.id for u in users}
        assert all(n.kind is services.NoticeKind.EVENT_CHANGED for n in done.notices)
        # reminders are outbox rows per confirmed seat now, not a job (tests/test_reminders.py)
        assert await _jobs(repo, "event_reminder", event_id) == []
        assert await _jobs(repo, "feedback_request", event_id) == [
            starts + timedelta(hours=2) + FEEDBACK_AFTER
        ]
        cancelled = await services.cancel_event(repo, event_id, now)
        assert isinstance(cancelled, services.Done) and len(cancelled.notices) == 4
        assert await _jobs(repo, "event_reminder", event_id) == []
        assert await _jobs(repo, "feedback_request", event_id) == []
        assert await services.cancel_event(repo, event_id, now) == services.Refused(
            services.Refusal.CANCELLED
        )
        await session.commit()

    async with sessionmaker() as session:
        repo = Repo(session)
        outcome = await import_file(
            repo, _only(MC, "4"), "e.csv", allowed_municipalities=None, actor=None, tz=TZ, now=now
        )
        assert not outcome.ok
        assert [p.code for p in outcome.reports[0].errors] == [Err.EVENT_CANCELLED]
        await session.commit()
        event = await session.get(Event, event_id)
        assert event is not None and event.status == EventStatus.CANCELLED.value
