"""Sign-ups under concurrency and the waitlist, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import SAMPLE_REFERENCE, import_reference
from core.clock import utcnow
from db.models import Event, User
from db.repo import Repo
from db.repositories.teacher_events import TeacherEvents
from domain.audience import Audience, eligible
from domain.events import (
    Decision,
    Refusal,
    RegStatus,
    interest_weights,
    relevance,
)

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


# ------------------------------------------------------------------ the teacher's list in SQL


def _ev(muni: int, title: str, start: datetime, **fields: Any) -> Event:
    return Event(
        kind=fields.pop("kind", "masterclass"),
        title=title,
        municipality_id=muni,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="МБОУ СОШ № 1",
        capacity=20,
        checkin_code="ABCDEF",
        **fields,
    )


async def _two_munis(sessionmaker: Maker) -> tuple[int, int]:
    async with sessionmaker() as session:
        repo = Repo(session)
        await import_reference(repo, SAMPLE_REFERENCE)
        await session.commit()
        munis = await repo.reference.municipalities()
        return munis[0].id, munis[1].id


async def test_teacher_list_is_filtered_and_paged_in_sql(sessionmaker: Maker) -> None:
    """More than 200 upcoming events elsewhere come first in time: the teacher's own later
    events still appear, and the count and the pages are right."""
    mine, other = await _two_munis(sessionmaker)
    now = utcnow()
    async with sessionmaker() as session:
        session.add_all(_ev(other, f"Чужое {n}", now + timedelta(hours=1 + n)) for n in range(205))
        later = now + timedelta(days=20)
        session.add_all(
            [
                _ev(mine, "Свой 1", later + timedelta(hours=1)),
                _ev(mine, "Свой 2 (учителям)", later + timedelta(hours=2), positions=["teacher"]),
                _ev(mine, "Свой 3 (математикам)", later + timedelta(hours=3), subjects=["math"]),
                _ev(other, "Краевой", later + timedelta(hours=4), region_wide=True),
                _ev(mine, "Свой 5", later + timedelta(hours=5), kind="webinar"),
                _ev(mine, "Для завучей", later, positions=["deputy_head"]),
                _ev(mine, "Для физиков", later, subjects=["physics"]),
                _ev(mine, "Отменённое", later, status="cancelled"),
                _ev(mine, "Прошедшее", now - timedelta(days=1)),
            ]
        )
        await session.commit()
    spec = TeacherEvents(now=now, municipality_id=mine, position="teacher", subjects=("math",))
    async with sessionmaker() as session:
        repo = Repo(session)
        first, total = await repo.events.for_teacher(spec, 0, 3)
        second, _ = await repo.events.for_teacher(spec, 1, 3)
        stale, _ = await repo.events.for_teacher(spec, 7, 3)  # clamped to the last page
        webinars, n_webinars = await repo.events.for_teacher(
            replace(spec, kinds=("webinar",)), 0, 6
        )
        own, n_own = await repo.events.for_teacher(replace(spec, organised_by=mine), 0, 6)
        soon, n_soon = await repo.events.for_teacher(
            replace(spec, until=now + timedelta(days=7)), 0, 6
        )
    assert total == 5 and (first.page, first.pages) == (0, 2)
    assert [e.title for e in first.items] == ["Свой 1", "Свой 2 (учителям)", "Свой 3 (математикам)"]
    assert [e.title for e in second.items] == ["Краевой", "Свой 5"] and second.has_prev
    assert stale.page == 1 and [e.title for e in stale.items] == ["Краевой", "Свой 5"]
    assert n_webinars == 1 and [e.title for e in webinars.items] == ["Свой 5"]
    assert n_own == 4 and "Краевой" not in [e.title for e in own.items]
    assert n_soon == 0 and not soon.items


async def test_sql_audience_is_the_domain_rule(sessionmaker: Maker) -> None:
    """`TeacherEvents` selects exactly the events `domain.events.eligible` allows, including
    codes with LIKE wildcards (`_`, `%`) that must not match other codes."""
    mine, other = await _two_munis(sessionmaker)
    now = utcnow()
    audiences = [
        (mine, False, [], []),
        (other, False, [], []),
        (other, True, [], []),
        (mine, False, ["teacher"], []),
        (mine, False, ["deputy_head", "head"], []),
        (mine, False, ["deputyXhead"], []),
        (mine, False, [], ["math"]),
        (mine, False, [], ["math", "physics"]),
        (mine, False, [], ["mathematics"]),
        (mine, False, [], ["a%b"]),
        (other, True, ["teacher"], ["physics"]),
    ]
    async with sessionmaker() as session:
        for n, (muni, region, positions, subjects) in enumerate(audiences):
            session.add(
                _ev(
                    muni,
                    f"E{n}",
                    now + timedelta(days=1, hours=n),
                    region_wide=region,
                    positions=positions,
                    subjects=subjects,
                )
            )
        await session.commit()
        events = list(await session.scalars(select(Event)))
    teachers: list[tuple[int | None, str | None, tuple[str, ...]]] = [
        (mine, "teacher", ("math",)),
        (mine, "deputy_head", ()),
        (other, "teacher", ("physics",)),
        (mine, None, ("axb", "mathematic")),
        (None, "head", ("math",)),
    ]
    for t_muni, t_position, t_subjects in teachers:
        expected = {
            e.title
            for e in events
            if eligible(
                Audience(
                    municipality_id=None if e.region_wide else e.municipality_id,
                    positions=tuple(e.positions),
                    subjects=tuple(e.subjects),
                ),
                t_muni,
                t_position,
                t_subjects,
            )
        }
        spec = TeacherEvents(
            now=now, municipality_id=t_muni, position=t_position, subjects=t_subjects
        )
        async with sessionmaker() as session:
            page, total = await Repo(session).events.for_teacher(spec, 0, 100)
            # the list's statement, built once per shape: the first and the third teacher
            # share one (their own values bound), and it answers the same
            listed, listed_total = await Repo(session).events.teacher_page(spec, 0, 100, 0)
        assert {e.title for e in page.items} == expected and total == len(expected), (
            t_muni,
            t_position,
            t_subjects,
        )
        assert {item.event.title for item in listed.items} == expected == set(
            titles := [e.title for e in page.items]
        ) and listed_total == total, (spec, titles)


async def test_for_me_is_relevant_events_soonest_first(sessionmaker: Maker) -> None:
    """ "For me": only events with a positive relevance (`domain.events.relevance`), and
    among them the soonest first — tonight's master-class on a deficit is not pushed below
    next month's route events."""
    mine, _ = await _two_munis(sessionmaker)
    now = utcnow()
    async with sessionmaker() as session:
        session.add_all(
            [
                _ev(
                    mine,
                    "Через месяц, маршрут",
                    now + timedelta(days=30),
                    competencies=["assessment"],
                ),
                _ev(mine, "Сегодня, дефицит", now + timedelta(hours=3), competencies=["digital"]),
                _ev(
                    mine,
                    "Неделя, маршрут+",
                    now + timedelta(days=7),
                    competencies=["assessment", "digital"],
                ),
                _ev(mine, "Не по теме", now + timedelta(hours=1), competencies=["health"]),
                _ev(mine, "Без компетенций", now + timedelta(hours=2)),
            ]
        )
        await session.commit()
        events = list(await session.scalars(select(Event)))
    deficits, route = {"assessment", "digital"}, {"assessment"}
    weights = interest_weights(deficits, route)
    assert weights == {"assessment": 2, "digital": 1}
    spec = TeacherEvents(
        now=now,
        municipality_id=mine,
        position="teacher",
        weights=weights,
        relevant_only=True,
    )
    async with sessionmaker() as session:
        page, total = await Repo(session).events.for_teacher(spec, 0, 10)
        listed, _ = await Repo(session).events.teacher_page(spec, 0, 10, 0)
        # the same shape (two weighted competencies), other codes bound: other events
        other, _ = await Repo(session).events.teacher_page(
            replace(spec, weights={"health": 1, "digital": 1}), 0, 10, 0
        )
    assert [i.event.title for i in listed.items] == [e.title for e in page.items]
    assert [i.event.title for i in other.items] == [
        "Не по теме",
        "Сегодня, дефицит",
        "Неделя, маршрут+",
    ]
    expected = sorted(
        (e for e in events if relevance(e.competencies, deficits, route) > 0),
        key=lambda e: e.starts_at,
    )
    assert (
        [e.title for e in page.items]
        == [e.title for e in expected]
        == [
            "Сегодня, дефицит",
            "Неделя, маршрут+",
            "Через месяц, маршрут",
        ]
    )
    assert total == 3
