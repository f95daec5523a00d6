"""Reminders as outbox rows (services/reminders.py, the outbox repository) on SQLite and
PostgreSQL with the sample events: planned with the confirmed seat, withdrawn or moved by
every change in the same unit of work, deferred by quiet hours and collapsed, and a seat offered
in the recipient's quiet hours gets its claim window from their morning."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from db.models import OutboxMessage, User
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from db.repositories.outbox import OutboxState
from domain.events import OFFER_WINDOW
from domain.notices import Notice, NoticeKind
from domain.reminders import COLLAPSE_MAX, Category, Policy
from services import events as event_services
from services import registrations, reminders
from tests.conftest import make_settings
from tests.sample import load_sample_events

Maker = async_sessionmaker[AsyncSession]
MC = SAMPLE_EVENT_CODES[0]  # 3 seats, in two days at 15:00 Moscow
MSK = ZoneInfo("Europe/Moscow")
POLICY = Policy(default_quiet="21:00-08:00", default_tz=MSK)
DAY, HOUR = timedelta(hours=24), timedelta(hours=1)


async def _users(session: AsyncSession, *tg_ids: int) -> list[User]:
    repo = Repo(session, POLICY)
    users = []
    for tg in tg_ids:
        user, _ = await repo.users.get_or_create(tg, "en")
        users.append(user)
    await session.flush()
    return users


async def _reminders(session: AsyncSession, user: User) -> list[tuple[datetime | None, int]]:
    rows = await Repo(session).outbox.pending_of(user.id, [NoticeKind.EVENT_REMINDER])
    return [(row.due_at, int(row.payload["event_id"])) for row in rows]


async def test_a_seat_plans_its_reminders_and_every_change_withdraws_or_moves_them(
    sessionmaker: Maker,
) -> None:
    event = (await load_sample_events(sessionmaker))[MC]
    start = event.starts_at
    now = start - timedelta(days=2)
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        anna, boris, clara, dmitry = await _users(session, 7201, 7202, 7203, 7204)
        for user in (anna, boris, clara, dmitry):
            await registrations.sign_up(repo, event.id, user.id, now)
        # rolled back: the seats and their reminders go together
        await session.rollback()
    async with sessionmaker() as session:
        assert await _reminders(session, (await _users(session, 7201))[0]) == []

    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        anna, boris, clara, dmitry = await _users(session, 7201, 7202, 7203, 7204)
        for user in (anna, boris, clara, dmitry):
            await registrations.sign_up(repo, event.id, user.id, now)
        await registrations.sign_up(repo, event.id, anna.id, now)  # a repeated tap: no more rows
        await session.commit()
        # three seats: a day and an hour before each; the waitlisted one gets none
        for user in (anna, boris, clara):
            assert await _reminders(session, user) == [
                (start - DAY, event.id),
                (start - HOUR, event.id),
            ]
        assert await _reminders(session, dmitry) == []

        # Anna cancels: hers are withdrawn; Dmitry is offered her seat, takes it, gets his
        assert await registrations.cancel_registration(repo, event.id, anna, now) == (
            registrations.Cancelled(offered=1)
        )
        assert await _reminders(session, anna) == []
        reg = await repo.events.registration(event.id, dmitry.id)
        assert reg is not None
        assert await registrations.take_offer(repo, reg.id, dmitry.id, now) is (
            registrations.OfferOutcome.TAKEN
        )
        assert await _reminders(session, dmitry) == [
            (start - DAY, event.id),
            (start - HOUR, event.id),
        ]
        await session.commit()

        # the event moves three hours later: everyone's reminders follow it
        later = start + timedelta(hours=3)
        done = await event_services.change_event(
            repo, event.id, {"starts_at": later, "ends_at": later + timedelta(hours=2)}, now
        )
        assert isinstance(done, event_services.Done)
        for user in (boris, clara, dmitry):
            assert await _reminders(session, user) == [
                (later - DAY, event.id),
                (later - HOUR, event.id),
            ]
        # ...and back: the released keys let the first plan stand again
        done = await event_services.change_event(
            repo, event.id, {"starts_at": start, "ends_at": start + timedelta(hours=2)}, now
        )
        assert isinstance(done, event_services.Done)
        assert await _reminders(session, boris) == [
            (start - DAY, event.id),
            (start - HOUR, event.id),
        ]
        await session.commit()

        # muting events withdraws Boris's; switching them back on plans them again
        assert await reminders.mute(repo, boris.id, Category.EVENTS)
        assert not await reminders.mute(repo, boris.id, Category.EVENTS)
        assert await _reminders(session, boris) == []
        assert await reminders.unmute(repo, boris.id, Category.EVENTS, now)
        assert await _reminders(session, boris) == [
            (start - DAY, event.id),
            (start - HOUR, event.id),
        ]
        await session.commit()

        # the event is cancelled: nothing is left to remind of
        assert isinstance(
            await event_services.cancel_event(repo, event.id, now), event_services.Done
        )
        for user in (anna, boris, clara, dmitry):
            assert await _reminders(session, user) == []
        await session.commit()


async def test_a_late_sign_up_plans_only_the_reminders_still_ahead(sessionmaker: Maker) -> None:
    event = (await load_sample_events(sessionmaker))[MC]
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        [anna] = await _users(session, 7211)
        await registrations.sign_up(repo, event.id, anna.id, event.starts_at - timedelta(hours=5))
        assert await _reminders(session, anna) == [(event.starts_at - HOUR, event.id)]


async def _claimed(session: AsyncSession, worker: str, now: datetime) -> list[int]:
    return await Repo(session).outbox.claim(worker, now, timedelta(minutes=1), 100)


async def test_deferred_rows_of_one_kind_collapse_into_one_up_to_the_limit(
    sessionmaker: Maker,
) -> None:
    now = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)  # 23:00 in Moscow
    morning = datetime(2026, 12, 4, 5, 0, tzinfo=UTC)
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        anna, boris = await _users(session, 7221, 7222)
        notices = [
            Notice(anna.id, NoticeKind.EVENT_CHANGED, {"event_id": n})
            for n in range(COLLAPSE_MAX + 2)
        ]
        notices += [
            Notice(anna.id, NoticeKind.ROUTE_COMMENT, {"text": "a comment"}),
            Notice(boris.id, NoticeKind.EVENT_CHANGED, {"event_id": 99}),
        ]
        await repo.outbox.add(notices, now)
        await session.commit()
    async with sessionmaker() as session:
        repo = Repo(session)
        ids = await _claimed(session, "w1", now)
        assert len(ids) == COLLAPSE_MAX + 4
        kinds = {row.id: row.kind for row in await repo.outbox.of_user(anna.id)}
        for row_id in ids:
            await repo.outbox.defer(
                row_id, "w1", morning, collapse=kinds.get(row_id) == NoticeKind.EVENT_CHANGED.value
            )
        await session.commit()
    async with sessionmaker() as session:
        repo = Repo(session)
        rows: list[OutboxMessage] = await repo.outbox.of_user(anna.id)
        pending = [r for r in rows if r.state == OutboxState.PENDING.value]
        changed = [r for r in pending if r.kind == NoticeKind.EVENT_CHANGED.value]
        # five in one row, the next two in a second; the comment is not collapsible
        assert sorted(len(r.payload.get("items", [r.payload])) for r in changed) == [
            2,
            COLLAPSE_MAX,
        ]
        assert sum(r.kind == NoticeKind.ROUTE_COMMENT.value for r in pending) == 1
        assert all(r.due_at == morning and r.claimed_by is None for r in pending)
        collapsed = [r for r in rows if r.state == OutboxState.CANCELLED.value]
        assert len(collapsed) == COLLAPSE_MAX and all(
            (r.last_error or "").startswith("collapsed into #") for r in collapsed
        )
        # Boris's row is his own
        [boris_row] = await repo.outbox.of_user(boris.id)
        assert boris_row.payload == {"event_id": 99} and boris_row.due_at == morning
        # nothing is due before the morning; everything is due then
        assert await repo.outbox.waiting(morning - timedelta(seconds=1)) == 0
        assert await repo.outbox.waiting(morning) == 4


@pytest.mark.parametrize("zone", ["Europe/Moscow", "Asia/Yekaterinburg"])
async def test_a_seat_offered_at_night_can_be_claimed_for_the_full_window_from_the_morning(
    sessionmaker: Maker, zone: str
) -> None:
    event = (await load_sample_events(sessionmaker))[MC]
    tz = ZoneInfo(zone)
    # 22:00 Moscow, two days before: quiet hours in both zones
    night = datetime.combine(
        (event.starts_at - timedelta(days=2)).astimezone(MSK).date(), time(22), MSK
    ).astimezone(UTC)
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        users = await _users(session, 7231, 7232, 7233, 7234)
        users[3].timezone = zone
        for user in users:
            await registrations.sign_up(repo, event.id, user.id, night - timedelta(days=1))
        await registrations.cancel_registration(repo, event.id, users[0], night)
        reg = await repo.events.registration(event.id, users[3].id)
        assert reg is not None and reg.offer_expires_at is not None
        local = night.astimezone(tz)  # 22:00 in Moscow, already 00:00 in Yekaterinburg
        wake = local.date() + timedelta(days=1 if local.hour >= 21 else 0)
        morning = datetime.combine(wake, time(8), tz).astimezone(UTC)
        assert reg.offer_expires_at == morning + OFFER_WINDOW
        [job] = await repo.jobs.pending("offer_expire")
        assert job.run_at == reg.offer_expires_at


def test_the_settings_build_the_policy() -> None:
    settings: Settings = make_settings(
        "sqlite+aiosqlite://",
        quiet_hours="22:00-07:00",
        reminder_lead_minutes="1440, 120",
        reminder_unfinished_days="3,10",
        timezone="Asia/Yekaterinburg",
    )
    policy = settings.reminders
    assert policy.event_leads == (DAY, 2 * HOUR)
    assert policy.unfinished_days == (3, 10)
    assert policy.default_quiet == "22:00-07:00" and policy.default_tz == ZoneInfo(
        "Asia/Yekaterinburg"
    )
    for bad in (
        {"quiet_hours": "late"},
        {"reminder_lead_minutes": "0"},
        {"reminder_lead_minutes": "x"},
    ):
        with pytest.raises(ValueError):
            make_settings("sqlite+aiosqlite://", **bad)
