"""Sign-ups under concurrency and the waitlist, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import SAMPLE_REFERENCE, import_reference
from db.models import Event, User
from db.repo import Repo
from db.types import utcnow
from domain.events import Decision, Refusal, RegStatus

Maker = async_sessionmaker[AsyncSession]


async def _setup(sessionmaker: Maker, users: int, capacity: int) -> tuple[int, list[int]]:
    async with sessionmaker() as session:
        repo = Repo(session)
        await import_reference(repo, SAMPLE_REFERENCE)
        muni = (await repo.reference.municipalities())[0]
        ids = []
        for n in range(users):
            user = User(telegram_id=10_000 + n, language="ru", role="teacher", consent="given")
            session.add(user)
            await session.flush()
            ids.append(user.id)
        now = utcnow()
        event = await repo.events.add_event(
            Event(
                kind="masterclass",
                title="Мастер-класс",
                municipality_id=muni.id,
                starts_at=now + timedelta(days=3),
                ends_at=now + timedelta(days=3, hours=2),
                place="МБОУ СОШ № 1",
                capacity=capacity,
                checkin_code="ABCDEF",
            )
        )
        await session.commit()
        return event.id, ids


async def _sign_up(sessionmaker: Maker, event_id: int, user_id: int) -> tuple[str, int | None]:
    async with sessionmaker() as session:
        result = await Repo(session).events.sign_up(event_id, user_id, utcnow(), eligible=True)
        await session.commit()
        return str(result.outcome), result.position


async def test_fifty_concurrent_sign_ups_for_ten_seats(sessionmaker: Maker) -> None:
    event_id, users = await _setup(sessionmaker, 50, 10)
    results = await asyncio.gather(*(_sign_up(sessionmaker, event_id, u) for u in users))
    outcomes = [r[0] for r in results]
    assert outcomes.count(Decision.CONFIRM) == 10 and outcomes.count(Decision.WAITLIST) == 40
    async with sessionmaker() as session:
        regs = await Repo(session).events.participants(event_id)
    confirmed = [r for r in regs if r.status == RegStatus.CONFIRMED.value]
    waitlisted = [r for r in regs if r.status == RegStatus.WAITLISTED.value]
    assert len(confirmed) == 10 and len(waitlisted) == 40
    # the queue is one strict order: every confirmed came before every waitlisted,
    # and the waitlist positions reported to users are 1..40 in queue order
    assert max(r.queue_no for r in confirmed) < min(r.queue_no for r in waitlisted)
    assert sorted(r.queue_no for r in regs) == list(range(1, 51))
    positions = sorted(p for o, p in results if o == Decision.WAITLIST and p is not None)
    assert positions == list(range(1, 41))


async def test_repeated_taps_cancel_promote_claim_and_expire(sessionmaker: Maker) -> None:
    event_id, (a, b, c) = await _setup(sessionmaker, 3, 1)
    assert (await _sign_up(sessionmaker, event_id, a))[0] == Decision.CONFIRM
    assert await _sign_up(sessionmaker, event_id, b) == (Decision.WAITLIST, 1)
    assert await _sign_up(sessionmaker, event_id, c) == (Decision.WAITLIST, 2)
    async with sessionmaker() as session:  # a double tap changes nothing
        again = await Repo(session).events.sign_up(event_id, b, utcnow(), eligible=True)
        assert again.repeated and again.position == 1
    async with sessionmaker() as session:
        repo = Repo(session)
        reg_a = await repo.events.registration(event_id, a)
        assert reg_a is not None
        await repo.events.cancel(reg_a)
        offered = await repo.events.promote(event_id, utcnow())
        await session.commit()
    assert [r.user_id for r in offered] == [b]
    async with sessionmaker() as session:
        repo = Repo(session)
        assert await repo.events.seats_taken(event_id) == 1  # the offer holds the seat
        assert await repo.events.promote(event_id, utcnow()) == []  # nobody else is offered
        # b lets the offer lapse; the next in line (c) is offered
        lapsed = await repo.events.expire_offer(offered[0].id, utcnow() + timedelta(days=1))
        assert lapsed is not None and lapsed.status == RegStatus.CANCELLED.value
        nxt = await repo.events.promote(event_id, utcnow())
        assert [r.user_id for r in nxt] == [c]
        assert await repo.events.claim(nxt[0], utcnow())
        assert not await repo.events.claim(nxt[0], utcnow())  # only once
        await session.commit()
        reg_c = await repo.events.registration(event_id, c)
        assert reg_c is not None and reg_c.status == RegStatus.CONFIRMED.value


async def test_cancelled_event_takes_nobody(sessionmaker: Maker) -> None:
    event_id, (a, b) = await _setup(sessionmaker, 2, 5)
    await _sign_up(sessionmaker, event_id, a)
    async with sessionmaker() as session:
        repo = Repo(session)
        event = await repo.events.get(event_id)
        assert event is not None
        notify = await repo.events.cancel_event(event)
        await session.commit()
    assert [r.user_id for r in notify] == [a]
    assert (await _sign_up(sessionmaker, event_id, b))[0] == Refusal.CANCELLED
