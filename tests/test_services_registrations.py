"""The seat use cases (services/registrations.py) on SQLite and PostgreSQL with the sample
events, without aiogram: each change and the messages it causes are written in one unit of
work — a rollback takes both back, a commit keeps both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import User
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from domain.events import RegStatus
from domain.schedule import JobKind
from services import registrations as service
from services.registrations import Cancelled, CancelRefusal, OfferOutcome
from tests.sample import load_sample_events

Maker = async_sessionmaker[AsyncSession]
MC = SAMPLE_EVENT_CODES[0]  # 3 seats


async def _full_event(sessionmaker: Maker) -> tuple[int, list[User]]:
    """The 3-seat sample master-class, full, with two teachers waiting."""
    event_id = (await load_sample_events(sessionmaker))[MC].id
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        repo = Repo(session)
        users = []
        for tg in range(7101, 7106):
            user, _ = await repo.users.get_or_create(tg, "ru" if tg % 2 else "en")
            await session.flush()
            users.append(user)
            await service.sign_up(repo, event_id, user.id, now)
        await session.commit()
    return event_id, users


async def _state(sessionmaker: Maker, event_id: int, user: User) -> str:
    async with sessionmaker() as session:
        reg = await Repo(session).events.registration(event_id, user.id)
        assert reg is not None
        return reg.status


async def _queued(sessionmaker: Maker, user: User) -> list[str]:
    async with sessionmaker() as session:
        return [row.kind for row in await Repo(session).outbox.of_user(user.id)]


async def test_a_cancelled_seat_is_offered_to_the_first_in_line_in_the_same_unit_of_work(
    sessionmaker: Maker,
) -> None:
    event_id, users = await _full_event(sessionmaker)
    first_waiting = users[3]
    now = datetime.now(UTC)
    # rolled back: neither the cancellation nor the offer nor its message stays
    async with sessionmaker() as session:
        done = await service.cancel_registration(Repo(session), event_id, users[0], now)
        assert done == Cancelled(offered=1)
        await session.rollback()
    assert await _state(sessionmaker, event_id, users[0]) == RegStatus.CONFIRMED.value
    assert await _state(sessionmaker, event_id, first_waiting) == RegStatus.WAITLISTED.value
    assert await _queued(sessionmaker, first_waiting) == []
    # committed: all three stand together, with the offer's expiry job
    async with sessionmaker() as session:
        repo = Repo(session)
        assert await service.cancel_registration(repo, event_id, users[0], now) == Cancelled(1)
        await session.commit()
        jobs = await repo.jobs.pending(JobKind.OFFER_EXPIRE)
    assert await _state(sessionmaker, event_id, users[0]) == RegStatus.CANCELLED.value
    assert await _state(sessionmaker, event_id, first_waiting) == RegStatus.OFFERED.value
    assert await _queued(sessionmaker, first_waiting) == ["seat_offered"]
    assert len(jobs) == 1
    # a second tap finds nothing to cancel; a waiting teacher's cancellation offers nothing
    async with sessionmaker() as session:
        repo = Repo(session)
        again = await service.cancel_registration(repo, event_id, users[0], now)
        assert again is CancelRefusal.NOT_ACTIVE
        assert await service.cancel_registration(repo, event_id, users[4], now) == Cancelled(0)
        await session.commit()


async def test_an_offer_is_taken_declined_or_lapses_to_the_next(sessionmaker: Maker) -> None:
    event_id, users = await _full_event(sessionmaker)
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        repo = Repo(session)
        await service.cancel_registration(repo, event_id, users[0], now)
        await service.cancel_registration(repo, event_id, users[1], now)
        await session.commit()
    offered = [users[3], users[4]]
    async with sessionmaker() as session:
        repo = Repo(session)
        regs = [await repo.events.registration(event_id, u.id) for u in offered]
        assert [r.status for r in regs if r] == ["offered", "offered"]
        reg_ids = [r.id for r in regs if r]
        # somebody else's button is refused
        assert await service.take_offer(repo, reg_ids[0], users[2].id, now) == (
            OfferOutcome.NOT_YOURS
        )
        assert await service.take_offer(repo, reg_ids[0], offered[0].id, now) == (
            OfferOutcome.TAKEN
        )
        assert await service.decline_offer(repo, reg_ids[1], offered[1].id, now) == (
            OfferOutcome.DECLINED
        )
        await session.commit()
    assert await _state(sessionmaker, event_id, offered[0]) == RegStatus.CONFIRMED.value
    assert await _state(sessionmaker, event_id, offered[1]) == RegStatus.CANCELLED.value

    # an offer nobody takes lapses when its job runs: its holder is told, the next is offered
    async with sessionmaker() as session:
        repo = Repo(session)
        await service.cancel_registration(repo, event_id, offered[0], now)
        await session.commit()
    async with sessionmaker() as session:
        repo = Repo(session)
        nobody_waits = await repo.events.registration(event_id, offered[0].id)
        assert nobody_waits is not None and nobody_waits.status == "cancelled"
        # fill the three seats again, and one more teacher waits; a seat freed goes to her
        for user in (users[1], users[0], users[4]):
            await service.sign_up(repo, event_id, user.id, now)
        await service.cancel_registration(repo, event_id, users[2], now)
        await session.commit()
        reg = await repo.events.registration(event_id, users[4].id)
        assert reg is not None and reg.status == "offered" and reg.offer_expires_at is not None
        later = reg.offer_expires_at + timedelta(minutes=1)
    async with sessionmaker() as session:
        repo = Repo(session)
        assert await service.expire_offer(repo, reg.id, later)
        assert not await service.expire_offer(repo, reg.id, later)  # once
        await session.commit()
    assert await _state(sessionmaker, event_id, users[4]) == RegStatus.CANCELLED.value
    assert (await _queued(sessionmaker, users[4]))[-1] == "offer_expired"
    # too late to take it now
    async with sessionmaker() as session:
        assert await service.take_offer(Repo(session), reg.id, users[4].id, later) in (
            OfferOutcome.EXPIRED,
            OfferOutcome.EVENT_OVER,
        )
