"""The broadcast audience in SQL (`db.repositories.audience`) picks exactly the teachers the
domain rule (`domain.broadcasts.matches`) picks, on SQLite and PostgreSQL, for every filter
alone and in combination, inside a municipality's scope and the region's."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Attempt, Event, Registration, Route
from db.repo import Repo
from db.repositories import audience
from domain.broadcasts import (
    EventGroup,
    Filters,
    Scope,
    Teacher,
    is_young_specialist,
    matches,
    within,
)
from domain.events import EventStatus, RegStatus
from tests.sample import load_sample_events

Maker = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Person:
    user_id: int
    facts: Teacher


def test_the_seeds_young_teacher_is_under_35_and_in_the_first_three_years() -> None:
    assert is_young_specialist("under_35", 0) and is_young_specialist("under_35", 3)
    assert not is_young_specialist("under_35", 4)
    assert not is_young_specialist("35_plus", 1)
    assert not is_young_specialist("under_35", None) and not is_young_specialist(None, 1)


def test_filters_survive_json_and_refuse_forgeries() -> None:
    filters = Filters(
        municipality_ids=(3, 1),
        subjects=("math",),
        young=True,
        deficit="assessment",
        event_id=7,
        event_group=EventGroup.NO_SHOWS,
    )
    assert Filters.from_json(filters.to_json()) == Filters(
        municipality_ids=(1, 3),
        subjects=("math",),
        young=True,
        deficit="assessment",
        event_id=7,
        event_group=EventGroup.NO_SHOWS,
    )
    for forged in (
        {"municipality_ids": ["1"]},
        {"school_ids": 5},
        {"positions": [1]},
        {"event_id": "7"},
        {"deficit": 3},
        {"event_group": "everyone"},
    ):
        with pytest.raises(ValueError):
            Filters.from_json(forged)
    assert Filters().toggled("positions", "teacher").toggled("positions", "teacher") == Filters()
    assert within(Filters(municipality_ids=(1,)), Scope(frozenset({1, 2})))
    assert not within(Filters(municipality_ids=(3,)), Scope(frozenset({1, 2})))
    assert within(Filters(municipality_ids=(3,)), Scope(None))


async def _people(sessionmaker: Maker) -> tuple[list[Person], int, list[int], list[int]]:
    """Teachers of every kind the filters tell apart; (people, event id, municipalities,
    schools of the first municipality)."""
    events = await load_sample_events(sessionmaker)
    event_id = next(iter(events.values())).id
    people: list[Person] = []
    async with sessionmaker() as session:
        repo = Repo(session)
        munis = [m.id for m in (await repo.reference.municipalities())[:2]]
        schools = [s.id for s in (await repo.reference.schools(munis[0]))[:2]]
        other_school = (await repo.reference.schools(munis[1]))[0].id
        framework = await repo.frameworks.active()
        assert framework is not None
        combos = itertools.product(
            [(munis[0], schools[0]), (munis[0], schools[1]), (munis[1], other_school)],
            [("teacher", ["math"]), ("deputy_head", ["math", "informatics"]), ("teacher", [])],
            [("under_35", 2), ("under_35", 6), ("35_plus", 1)],
        )
        for n, ((muni, school), (position, subjects), (band, years)) in enumerate(combos):
            user, _ = await repo.users.get_or_create(6000 + n, "ru")
            await repo.users.set_consent(user, "given", "1.0", NOW)
            await repo.users.set_fields(
                user,
                full_name=f"Учитель {n}",
                municipality_id=muni,
                school_id=school,
                position_code=position,
                experience_years=years,
                age_band=band,
            )
            await repo.users.set_subjects(user, subjects)
            await repo.users.complete_profile(user, NOW)
            deficits: list[str] = []
            if n % 3 == 0:  # finished: a deficit now; an older attempt had another one
                for i, found in enumerate((["digital"], ["assessment"] if n % 2 else [])):
                    session.add(
                        Attempt(
                            user_id=user.id,
                            framework_version=framework.version,
                            started_at=NOW - timedelta(days=10 - i),
                            finished_at=NOW - timedelta(days=9 - i),
                            result={
                                "framework_version": framework.version,
                                "scores": [{"code": "assessment", "score": 40}],
                                "deficits": found,
                                "strengths": [],
                            },
                        )
                    )
                deficits = ["assessment"] if n % 2 else []
            elif n % 3 == 1:  # started and left: not assessed
                session.add(
                    Attempt(user_id=user.id, framework_version=framework.version, started_at=NOW)
                )
            has_route = n % 4 == 0
            if has_route:
                session.add(Route(user_id=user.id, pace="normal", status="active"))
            group = None
            status = {0: RegStatus.CONFIRMED, 1: RegStatus.ATTENDED, 2: RegStatus.WAITLISTED}.get(
                n % 5
            )
            if status is not None:
                session.add(
                    Registration(
                        event_id=event_id,
                        user_id=user.id,
                        status=status.value,
                        queue_no=n + 1,
                        attended_at=NOW if status is RegStatus.ATTENDED else None,
                    )
                )
                group = (
                    EventGroup.WAITLIST
                    if status is RegStatus.WAITLISTED
                    else EventGroup.PARTICIPANTS
                )
            people.append(
                Person(
                    user.id,
                    Teacher(
                        municipality_id=muni,
                        school_id=school,
                        position=position,
                        subjects=subjects,
                        age_band=band,
                        experience_years=years,
                        deficits=deficits,
                        assessed=n % 3 == 0,
                        has_route=has_route,
                        event_group=group,
                    ),
                )
            )
        # somebody who cannot be written to: no consent
        await repo.users.get_or_create(6999, "ru")
        await session.commit()
    return people, event_id, munis, schools


async def _ids(session: AsyncSession, filters: Filters, scope: Scope) -> set[int]:
    return set(await session.scalars(audience.recipients(filters, scope)))


async def test_the_sql_audience_is_the_domain_rule(sessionmaker: Maker) -> None:
    people, event_id, munis, schools = await _people(sessionmaker)
    filters = [
        Filters(),
        Filters(municipality_ids=(munis[1],)),
        Filters(school_ids=(schools[1],)),
        Filters(positions=("deputy_head",)),
        Filters(subjects=("informatics",)),
        Filters(subjects=("math", "physics")),
        Filters(age_bands=("35_plus",)),
        Filters(young=True),
        Filters(deficit="assessment"),
        Filters(deficit="digital"),  # only in an older attempt: nobody has it now
        Filters(no_assessment=True),
        Filters(no_route=True),
        Filters(event_id=event_id),
        Filters(event_id=event_id, event_group=EventGroup.WAITLIST),
        Filters(young=True, no_route=True, positions=("teacher",), subjects=("math",)),
        Filters(deficit="assessment", municipality_ids=(munis[0],), no_route=True),
    ]
    scopes = [
        Scope(None),
        Scope(frozenset({munis[0]})),
        Scope(frozenset({munis[0], munis[1]})),
        # a school methodist's: the school, whatever the filters name
        Scope(frozenset({munis[0]}), frozenset({schools[0]})),
    ]
    async with sessionmaker() as session:
        for f, scope in itertools.product(filters, scopes):
            expected = {p.user_id for p in people if matches(f, scope, p.facts)}
            assert await _ids(session, f, scope) == expected, (f, scope)
            total, muted = (await session.execute(audience.count(f, scope))).one()
            assert (total, muted) == (len(expected), 0)
        # a municipality outside the scope yields nobody, not the municipality
        outside = Filters(municipality_ids=(munis[1],))
        assert await _ids(session, outside, scopes[1]) == set()
        # a school scope never reaches another school, even one the filters name
        school_scope = scopes[3]
        assert await _ids(session, Filters(school_ids=(schools[1],)), school_scope) == set()
        only_school = await _ids(session, Filters(), school_scope)
        assert only_school and only_school == {
            p.user_id for p in people if p.facts.school_id == schools[0]
        }
        # someone who muted news is counted apart
        first = min(p.user_id for p in people)
        user = await Repo(session).users.get(first)
        assert user is not None
        user.muted = ["news"]
        await session.flush()
        assert tuple((await session.execute(audience.count(Filters(), scopes[0]))).one()) == (
            len(people),
            1,
        )


async def test_no_shows_are_counted_once_the_event_is_over(sessionmaker: Maker) -> None:
    people, event_id, _, _ = await _people(sessionmaker)
    no_shows = Filters(event_id=event_id, event_group=EventGroup.NO_SHOWS)
    async with sessionmaker() as session:
        assert await _ids(session, no_shows, Scope(None)) == set()
        event = await session.get(Event, event_id)
        assert event is not None
        event.status = EventStatus.COMPLETED.value
        await session.flush()
        confirmed = {
            p.user_id
            for n, p in enumerate(people)
            if n % 5 == 0  # confirmed and never checked in
        }
        assert await _ids(session, no_shows, Scope(None)) == confirmed
