"""Monitoring numbers (issue #11) on SQLite and PostgreSQL, against values computed by hand.

One small world (two municipalities, three schools, eleven people, nine events, four
broadcasts), the week Monday 16 – Sunday 22 November 2026 in Moscow time (UTC+3): it starts
2026-11-15 21:00 UTC and ends 2026-11-22 21:00 UTC; the previous week ends where it starts.
Every number asserted below is derived in the comments next to the people and events.

People (A = Alpha, B = Beta; S1a, S1b in Alpha, S2a in Beta; young = under 35 AND ≤ 3 years):
* anna (A/S1a, young): an old self-assessment (1 Nov, deficit d) and a newer one (10 Nov,
  deficits a, b); a route from it (10 Nov, active), its "learn" step done with a certificate
  file on 18 Nov.
* boris (A/S1a, 35+): self-assessment started Sunday 15 Nov 23:00 Moscow (previous week),
  finished Monday 16 Nov 11:00 (this week), deficit b; an external diagnosis of 14 Nov (d),
  earlier than it; attended master-class E1 (rating 4).
* vera (A/S1b, under 35 but 6 years: young by OR, not AND): self-assessment 10 Nov (a), an
  external diagnosis of 17 Nov (c) which is later; a no-show at E1.
* galina (A/S1b, 35+ with 1 year: young by OR, not AND): only an external diagnosis of 20 Nov
  (a); signed up for the cancelled E2; attended seminar E4 (rating 3).
* dmitry (A/S1b, young): moved from Beta to Alpha; attended internship E3 in Beta on 10 Nov.
* eve (A/S1a): erased her data; her attendance and rating 5 at E1 stay as anonymous rows.
* fedor (A/S1a, young): registered this week; self-assessment, route and its completion this
  week: learn step done with typed evidence only (no course), mentoring step done, practice
  skipped.
* olga (A/S1a, 35+): the coordinator of Alpha, with a teacher's profile (staff count).
* ira (A/S1b, young at exactly 3 years): an unfinished self-assessment started this week; a
  no-show at seminar E4; a seat at workshop E9 (started, not yet closed).
* gleb (A/S1a): registered after the week (Monday 23 Nov 01:00 Moscow).
* pavel (B/S2a, young): self-assessment 10 Nov (b) and an external diagnosis the same day (c:
  the self-assessment wins), route 10 Nov replaced by a new one on
  18 Nov; waitlisted at E1.
* a user who never consented (A): never counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.models import (
    Attempt,
    Broadcast,
    Event,
    ExternalDiagnosis,
    Municipality,
    OutboxMessage,
    Registration,
    Route,
    RouteStep,
    School,
    StaffScope,
    User,
)
from db.repo import Repo
from db.repositories import stats_milestones as milestones
from domain.broadcasts import Scope
from domain.roles import Role
from domain.stats import Indicator, IndicatorCode, Period, PeriodKind, StatsReport
from services import stats as service
from tests.framework_doc import framework_doc

Maker = async_sessionmaker[AsyncSession]
MOSCOW = ZoneInfo("Europe/Moscow")
WEEK = Period.containing(PeriodKind.WEEK, date(2026, 11, 18))
#: Sunday noon: E9 has started, E5 and E6 are ahead
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
SINCE = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
PREV = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)  # in the previous week
THIS = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # in this week

D = IndicatorCode


@pytest.fixture(params=["raw", "refreshed"])
def refreshed(request: pytest.FixtureRequest) -> bool:
    """Every number twice: computed from the raw rows (every user's milestones stale, as
    right after a write) and read from refreshed milestones (`stats_milestones`)."""
    return bool(request.param == "refreshed")


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@dataclass
class World:
    alpha: int
    beta: int
    s1a: int
    s1b: int
    s2a: int
    olga: int
    anna: int


async def _world(sessionmaker: Maker, refreshed: bool = False) -> World:
    async with sessionmaker() as session:
        repo = Repo(session)
        await repo.frameworks.add(framework_doc())  # comp_a … comp_d
        alpha = Municipality(
            code="alpha", name_ru="Альфа", name_en="Alpha", region_ru="Р", region_en="R"
        )
        beta = Municipality(
            code="beta", name_ru="Бета", name_en="Beta", region_ru="Р", region_en="R"
        )
        session.add_all([alpha, beta])
        await session.flush()

        def school(code: str, muni: Municipality) -> School:
            return School(
                code=code, municipality_id=muni.id, name=code, name_key=code, short_name=code
            )

        s1a, s1b, s2a = school("S1a", alpha), school("S1b", alpha), school("S2a", beta)
        session.add_all([s1a, s1b, s2a])
        await session.flush()
        tg = iter(range(7000, 7100))

        def person(
            s: School,
            *,
            young: tuple[str, int] = ("under_35", 2),
            since: datetime = SINCE,
            **extra: Any,
        ) -> User:
            values: dict[str, Any] = {
                "telegram_id": next(tg),
                "language": "ru",
                "consent": "given",
                "full_name": "x",
                "municipality_id": s.municipality_id,
                "school_id": s.id,
                "age_band": young[0],
                "experience_years": young[1],
                "profile_completed_at": since,
            }
            values.update(extra)
            user = User(**values)
            session.add(user)
            return user

        old = ("35_plus", 15)
        anna = person(s1a)
        boris = person(s1a, young=old)
        vera = person(s1b, young=("under_35", 6))
        galina = person(s1b, young=("35_plus", 1))
        dmitry = person(s1b, young=("under_35", 1))
        eve = person(
            s1a,
            telegram_id=None,
            consent="withdrawn",
            full_name=None,
            school_id=None,
            erased_at=PREV,
        )
        fedor = person(s1a, young=("under_35", 0), since=at(15, 22))  # Mon 01:00 Moscow
        olga = person(s1a, young=old, role="coordinator")
        ira = person(s1b, young=("under_35", 3))
        person(s1a, young=old, since=at(22, 22))  # Mon 23 Nov 01:00 Moscow
        pavel = person(s2a)
        person(s1a, consent="none", profile_completed_at=None)
        await session.flush()
        session.add(StaffScope(user_id=olga.id, municipality_id=alpha.id))  # Alpha's methodist

        def attempt(
            user: User, started: datetime, finished: datetime | None, *deficits: str
        ) -> Attempt:
            row = Attempt(
                user_id=user.id,
                framework_version="t1",
                started_at=started,
                finished_at=finished,
                result={"deficits": list(deficits)} if finished else None,
            )
            session.add(row)
            return row

        attempt(anna, at(1), at(1, 12), "comp_d")
        anna_attempt = attempt(anna, PREV, PREV, "comp_a", "comp_b")
        attempt(boris, at(15, 20), at(16, 8), "comp_b")
        attempt(vera, PREV, PREV, "comp_a")
        fedor_attempt = attempt(fedor, THIS, THIS, "comp_a")
        attempt(ira, THIS, None)
        pavel_attempt = attempt(pavel, PREV, PREV, "comp_b")
        attempt(eve, PREV, PREV, "comp_a")
        await session.flush()
        session.add_all(
            [
                ExternalDiagnosis(
                    user_id=boris.id,
                    diagnosed_on=date(2026, 11, 14),
                    source="ЦНППМ",
                    deficits=["comp_d"],
                ),
                ExternalDiagnosis(
                    user_id=vera.id,
                    diagnosed_on=date(2026, 11, 17),
                    source="ЦНППМ",
                    deficits=["comp_c"],
                ),
                # the same day as his self-assessment: the self-assessment wins
                ExternalDiagnosis(
                    user_id=pavel.id,
                    diagnosed_on=date(2026, 11, 10),
                    source="ЦНППМ",
                    deficits=["comp_c"],
                ),
                ExternalDiagnosis(
                    user_id=galina.id,
                    diagnosed_on=date(2026, 11, 20),
                    source="ЦНППМ",
                    deficits=["comp_a"],
                ),
            ]
        )

        def route(
            user: User,
            attempt_row: Attempt | None,
            created: datetime,
            steps: list[tuple[str, str, str | None, datetime | None]],
            *,
            status: str = "active",
            completed: datetime | None = None,
        ) -> Route:
            row = Route(
                user_id=user.id,
                attempt_id=attempt_row.id if attempt_row else None,
                pace="normal",
                status=status,
                created_at=created,
                completed_at=completed,
            )
            row.steps = [
                RouteStep(
                    position=n,
                    competency="comp_a",
                    number=n,
                    kind=kind,
                    content={},
                    target_date=date(2026, 12, 1),
                    status=step_status,
                    evidence_file_id=file_id,
                    evidence_text="done",
                    completed_at=done_at,
                )
                for n, (kind, step_status, file_id, done_at) in enumerate(steps, start=1)
            ]
            session.add(row)
            return row

        route(
            anna,
            anna_attempt,
            PREV,
            [("learn", "done", "cert-file", THIS), ("practice", "planned", None, None)],
        )
        route(
            fedor,
            fedor_attempt,
            THIS,
            [
                ("learn", "done", None, THIS),
                ("mentoring", "done", None, THIS),
                ("practice", "skipped", None, THIS),
            ],
            status="completed",
            completed=THIS,
        )
        route(pavel, pavel_attempt, PREV, [("learn", "planned", None, None)], status="archived")
        route(pavel, pavel_attempt, THIS, [("learn", "planned", None, None)])

        def ev(
            kind: str,
            muni: Municipality,
            starts: datetime,
            status: str,
            capacity: int = 10,
            competencies: tuple[str, ...] = ("comp_a",),
            region_wide: bool = False,
        ) -> Event:
            row = Event(
                kind=kind,
                title=f"{kind} {starts:%d}",
                municipality_id=muni.id,
                starts_at=starts,
                ends_at=starts,
                capacity=capacity,
                competencies=list(competencies),
                region_wide=region_wide,
                status=status,
                checkin_code="x",
            )
            session.add(row)
            return row

        e1 = ev("masterclass", alpha, THIS, "completed")
        e2 = ev("seminar", alpha, THIS, "cancelled")
        e3 = ev("internship", beta, PREV, "completed")
        e4 = ev("seminar", alpha, at(20), "completed", capacity=5)
        e5 = ev("masterclass", alpha, at(28), "scheduled", capacity=2)
        e6 = ev("seminar", beta, at(1, month=12), "scheduled", 1, ("comp_b",), region_wide=True)
        e7 = ev("seminar", beta, at(2, month=12), "scheduled", 50)
        ev("seminar", alpha, at(2, month=12), "cancelled", 40)
        e9 = ev("workshop", alpha, at(22, 8), "scheduled", 40)
        await session.flush()
        queue = iter(range(1, 1000))

        def reg(
            e: Event,
            user: User,
            status: str,
            attended: datetime | None = None,
            rating: int | None = None,
        ) -> None:
            session.add(
                Registration(
                    event_id=e.id,
                    user_id=user.id,
                    status=status,
                    queue_no=next(queue),
                    attended_at=attended,
                    feedback_rating=rating,
                )
            )

        reg(e1, boris, "attended", THIS, 4)
        reg(e1, vera, "confirmed")
        reg(e1, eve, "attended", THIS, 5)
        reg(e1, pavel, "waitlisted")
        reg(e1, ira, "cancelled")
        reg(e2, galina, "confirmed")
        reg(e3, dmitry, "attended", PREV)
        reg(e4, galina, "attended", at(20), 3)
        reg(e4, ira, "confirmed")
        reg(e9, ira, "confirmed")
        reg(e5, boris, "confirmed")
        reg(e6, vera, "offered")
        reg(e7, pavel, "confirmed")

        def broadcast(scope: list[int] | None, started: datetime) -> Broadcast:
            row = Broadcast(
                author_user_id=olga.id,
                scope=scope,
                filters={},
                source_chat_id=1,
                source_message_id=1,
                content_kind="text",
                state="done",
                started_at=started,
            )
            session.add(row)
            return row

        broadcasts = [
            (broadcast([alpha.id], THIS), 2, 1),
            (broadcast(None, THIS), 3, 0),
            (broadcast([beta.id], THIS), 1, 0),
            (broadcast([alpha.id], PREV), 4, 0),
        ]
        await session.flush()
        people = [anna, boris, vera, galina, dmitry, fedor, olga, ira]
        n = 0
        for row, sent, failed in broadcasts:
            for state in ["sent"] * sent + ["failed"] * failed:
                session.add(
                    OutboxMessage(
                        user_id=people[n % len(people)].id,
                        kind="broadcast",
                        payload={},
                        key=f"k{n}",
                        ref=f"broadcast:{row.id}",
                        state=state,
                    )
                )
                n += 1
        await session.commit()
    if refreshed:  # as the scheduler's tick leaves it (small chunks: several claims)
        async with sessionmaker() as session:
            while await milestones.refresh(session, limit=4):
                await session.commit()
            assert await milestones.stale_count(session) == 0
    return World(alpha.id, beta.id, s1a.id, s1b.id, s2a.id, olga.id, anna.id)


def _table(indicators: list[Indicator] | dict[IndicatorCode, Indicator]) -> dict[str, Any]:
    """code -> (numerator, denominator, previous numerator, previous denominator)."""
    items = indicators.values() if isinstance(indicators, dict) else indicators
    return {
        i.code.value: (
            i.numerator,
            i.denominator,
            *((i.previous.numerator, i.previous.denominator) if i.previous else ()),
        )
        for i in items
    }


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


#: Alpha as its coordinator sees it this week (Moscow): see the module docstring
ALPHA = {
    # anna, boris, vera, galina, fedor / before the week anna, vera, boris (external 14 Nov)
    "diagnosed": (5, 8, 3, 7),
    # anna, fedor / anna
    "routed": (2, 8, 1, 7),
    # anna's certificate on 18 Nov (fedor's typed evidence does not count)
    "courses": (1, 8, 0, 7),
    # of anna, dmitry, fedor, ira: anna (route), dmitry (internship), fedor (mentoring step)
    # / of anna, dmitry, ira: anna, dmitry
    "young_supported": (3, 4, 2, 3),
    # boris (master-class E1), dmitry (internship E3; the seminar E4 does not count)
    "attended": (2, 8, 1, 7),
    "route_done": (1, 8, 0, 7),
}


async def test_a_coordinator_gets_their_municipality_by_school(
    sessionmaker: Maker, engine: AsyncEngine, refreshed: bool
) -> None:
    world = await _world(sessionmaker, refreshed)
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await repo.users.get(world.olga)
        assert olga is not None
        # the framework's document is read once per process (its version every time)
        await repo.frameworks.active()
        with _statements(engine) as seen:
            report = await service.report(
                repo, olga, Role.COORDINATOR, WEEK, MOSCOW, trend_weeks=2, now=NOW
            )
        assert isinstance(report, StatsReport)
        # her staff scope, municipalities (scope), indicators (every moment and school at
        # once), activity, events, broadcasts, the framework, the deficit map, the upcoming seats
        assert len(seen) == 9, seen

    assert report.municipality_ids == frozenset({world.alpha})
    assert report.teachers == 8
    assert _table(report.indicators) == ALPHA
    targets = {i.code: i.target for i in report.indicators}
    assert targets == {
        D.DIAGNOSED: None,
        D.ROUTED: None,
        D.COURSES: 0.30,
        D.YOUNG_SUPPORTED: 0.70,
        D.ATTENDED: None,
        D.ROUTE_DONE: None,
    }
    young = next(i for i in report.indicators if i.code is D.YOUNG_SUPPORTED)
    assert young.meets_target is True and young.change == pytest.approx(3 / 4 - 2 / 3)

    assert [(r.id, r.name, r.teachers) for r in report.breakdown] == [
        (world.s1a, "S1a", 4),
        (world.s1b, "S1b", 4),
    ]
    assert _table(report.breakdown[0].indicators) == {
        "diagnosed": (3, 4, 2, 3),
        "routed": (2, 4, 1, 3),
        "courses": (1, 4, 0, 3),
        "young_supported": (2, 2, 1, 1),
        "attended": (1, 4, 0, 3),
        "route_done": (1, 4, 0, 3),
    }
    assert _table(report.breakdown[1].indicators) == {
        "diagnosed": (2, 4, 1, 4),
        "routed": (0, 4, 0, 4),
        "courses": (0, 4, 0, 4),
        "young_supported": (1, 2, 1, 2),
        "attended": (1, 4, 1, 4),
        "route_done": (0, 4, 0, 4),
    }

    activity = report.activity
    assert (
        activity.new_teachers,
        activity.assessments_started,
        activity.assessments_finished,
        activity.routes_created,
        activity.steps_completed,
    ) == (1, 2, 2, 1, 3)
    assert [
        (k.kind, k.events, k.signups, k.attended, k.no_shows, k.ratings, k.average_rating)
        for k in activity.by_kind
    ] == [
        ("masterclass", 1, 3, 2, 1, 2, 4.5),
        ("seminar", 1, 2, 1, 1, 1, 3.0),
        ("workshop", 1, 1, 0, 0, 0, None),
    ]
    assert [(f.kind, f.ratings, f.average_rating) for f in activity.feedback] == [
        ("masterclass", 2, 4.5),
        ("seminar", 1, 3.0),
        ("workshop", 0, None),
    ]
    assert (activity.broadcasts_sent, activity.broadcast_reach) == (1, 2)

    deficits = report.deficits
    assert deficits.competencies == ["comp_a", "comp_b", "comp_c", "comp_d"]
    assert deficits.columns == [(world.s1a, "S1a"), (world.s1b, "S1b")]
    assert deficits.cells == {
        ("comp_a", world.s1a): (2, 3),
        ("comp_b", world.s1a): (2, 3),
        ("comp_c", world.s1a): (0, 3),
        ("comp_d", world.s1a): (0, 3),
        ("comp_a", world.s1b): (1, 2),
        ("comp_b", world.s1b): (0, 2),
        ("comp_c", world.s1b): (1, 2),
        ("comp_d", world.s1b): (0, 2),
    }
    assert [
        (s.competency, s.teachers, s.upcoming_seats, s.events_needed) for s in deficits.suggestions
    ] == [("comp_a", 3, 1, 1), ("comp_b", 2, 0, 2), ("comp_c", 1, 0, 1)]

    # the trend: the previous week (as of its end, against the week before) and this one
    assert [p.period for p in report.trend] == [WEEK.previous(), WEEK]
    assert _table(report.trend[1].indicators) == ALPHA
    assert _table(report.trend[0].indicators) == {
        "diagnosed": (3, 7, 1, 7),
        "routed": (1, 7, 0, 7),
        "courses": (0, 7, 0, 7),
        "young_supported": (2, 3, 0, 3),
        "attended": (1, 7, 0, 7),
        "route_done": (0, 7, 0, 7),
    }


async def test_an_administrator_gets_the_region_by_municipality(
    sessionmaker: Maker, engine: AsyncEngine, refreshed: bool
) -> None:
    world = await _world(sessionmaker, refreshed)
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await repo.users.get(world.olga)
        assert olga is not None
        # the framework's document is read once per process (its version every time)
        await repo.frameworks.active()
        with _statements(engine) as seen:
            report = await service.report(repo, olga, Role.ADMIN, WEEK, MOSCOW, now=NOW)
        assert isinstance(report, StatsReport)
        assert len(seen) == 7, seen  # the region needs no list of municipalities

    assert report.municipality_ids is None
    assert report.teachers == 9
    assert _table(report.indicators) == {
        "diagnosed": (6, 9, 4, 8),
        "routed": (3, 9, 2, 8),
        "courses": (1, 9, 0, 8),
        "young_supported": (4, 5, 3, 4),
        "attended": (2, 9, 1, 8),
        "route_done": (1, 9, 0, 8),
    }
    # dmitry moved to Alpha: he counts there; pavel's first route was active before the
    # week, his second one now
    assert [(r.id, r.name, r.teachers) for r in report.breakdown] == [
        (world.alpha, "Альфа", 8),
        (world.beta, "Бета", 1),
    ]
    assert _table(report.breakdown[0].indicators) == ALPHA
    assert _table(report.breakdown[1].indicators) == {
        "diagnosed": (1, 1, 1, 1),
        "routed": (1, 1, 1, 1),
        "courses": (0, 1, 0, 1),
        "young_supported": (1, 1, 1, 1),
        "attended": (0, 1, 0, 1),
        "route_done": (0, 1, 0, 1),
    }
    activity = report.activity
    assert (
        activity.new_teachers,
        activity.assessments_started,
        activity.assessments_finished,
        activity.routes_created,
        activity.steps_completed,
    ) == (1, 2, 2, 2, 3)
    assert [(k.kind, k.events, k.signups) for k in activity.by_kind] == [
        ("masterclass", 1, 3),
        ("seminar", 1, 2),
        ("workshop", 1, 1),
    ]
    assert (activity.broadcasts_sent, activity.broadcast_reach) == (3, 6)
    deficits = report.deficits
    assert deficits.columns == [(world.alpha, "Альфа"), (world.beta, "Бета")]
    assert deficits.cells[("comp_b", world.beta)] == (1, 1)
    assert deficits.cells[("comp_c", world.beta)] == (0, 1)
    assert deficits.cells[("comp_a", world.alpha)] == (3, 5)
    assert deficits.cells[("comp_c", world.alpha)] == (1, 5)
    assert [
        (s.competency, s.teachers, s.upcoming_seats, s.events_needed) for s in deficits.suggestions
    ] == [("comp_a", 3, 50, 0), ("comp_b", 3, 0, 3), ("comp_c", 1, 0, 1)]
    assert report.trend == []

    # English names on request
    async with sessionmaker() as session:
        english = await service.report_for_scope(
            Repo(session), Scope(None), WEEK, MOSCOW, by_school=False, locale="en", now=NOW
        )
    assert [r.name for r in english.breakdown] == ["Alpha", "Beta"]


async def test_the_week_bounds_follow_the_time_zone(sessionmaker: Maker, refreshed: bool) -> None:
    """fedor registered Sunday 22:00 UTC = Monday 01:00 Moscow; gleb a week later."""
    world = await _world(sessionmaker, refreshed)
    async with sessionmaker() as session:
        repo = Repo(session)
        scope = Scope(frozenset({world.alpha}))
        moscow = await service.report_for_scope(repo, scope, WEEK, MOSCOW, by_school=True, now=NOW)
        utc = await service.report_for_scope(repo, scope, WEEK, UTC, by_school=True, now=NOW)
    young = {r.code: r for r in utc.indicators}[D.YOUNG_SUPPORTED]
    assert (moscow.teachers, moscow.activity.new_teachers) == (8, 1)  # fedor
    assert (utc.teachers, utc.activity.new_teachers) == (9, 1)  # gleb
    assert young.previous is not None
    assert (young.previous.numerator, young.previous.denominator) == (2, 4)  # fedor was there


async def test_only_staff_get_statistics(sessionmaker: Maker) -> None:
    world = await _world(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        anna = await repo.users.get(world.anna)
        olga = await repo.users.get(world.olga)
        assert anna is not None and olga is not None
        assert await service.report(repo, anna, Role.TEACHER, WEEK, MOSCOW) is (
            service.Refusal.NOT_STAFF
        )
        # a coordinator's power is their staff assignment, never what they claim
        assert await service.report(repo, olga, Role.TEACHER, WEEK, MOSCOW) is (
            service.Refusal.NOT_STAFF
        )
        anna.role = "coordinator"  # no municipality assigned
        assert await service.report(repo, anna, Role.COORDINATOR, WEEK, MOSCOW) is (
            service.Refusal.NOT_STAFF
        )


async def test_an_administrator_looks_at_one_municipality(
    sessionmaker: Maker, refreshed: bool
) -> None:
    """One municipality by municipality: its row equals the totals, as the coordinator's."""
    world = await _world(sessionmaker, refreshed)
    async with sessionmaker() as session:
        report = await service.report_for_scope(
            Repo(session), Scope(frozenset({world.alpha})), WEEK, MOSCOW, by_school=False, now=NOW
        )
    assert [(r.id, r.name, r.teachers) for r in report.breakdown] == [(world.alpha, "Альфа", 8)]
    assert _table(report.breakdown[0].indicators) == ALPHA == _table(report.indicators)
    assert report.deficits.columns == [(world.alpha, "Альфа")]
    assert report.deficits.cells[("comp_a", world.alpha)] == (3, 5)
