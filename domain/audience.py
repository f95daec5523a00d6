"""Who something is for: one model for an event (who may sign up), a route step template
(which teachers it suits) and, later, a broadcast (who gets it) and a statistic (whom it
counts). An empty criterion means everyone.

The SQL form of the same rule lives next to the queries that need it
(`db.repositories.events` for the teacher's listing); a test checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum


class Experience(StrEnum):
    """Teaching experience a route step suits (framework.yaml: `audience: young`)."""

    ALL = "all"
    #: a young teacher: under 35 or up to 3 years of experience (`domain.profile.is_young_teacher`)
    YOUNG = "young"
    EXPERIENCED = "experienced"


@dataclass(frozen=True, slots=True)
class Member:
    """The facts about one teacher an audience is checked against."""

    municipality_id: int | None
    position: str | None = None
    subjects: Collection[str] = ()
    school_id: int | None = None
    young: bool | None = None


@dataclass(frozen=True, slots=True)
class Audience:
    """A municipality (None = the whole region), optionally schools, positions, subjects and
    an experience band; an empty criterion means everyone."""

    municipality_id: int | None = None
    positions: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    school_ids: tuple[int, ...] = ()
    experience: Experience = Experience.ALL


def includes(audience: Audience, member: Member) -> bool:
    if audience.municipality_id is not None and audience.municipality_id != member.municipality_id:
        return False
    if audience.school_ids and member.school_id not in audience.school_ids:
        return False
    if audience.positions and member.position not in audience.positions:
        return False
    if audience.subjects and not set(audience.subjects) & set(member.subjects):
        return False
    if audience.experience is Experience.YOUNG:
        return member.young is True
    if audience.experience is Experience.EXPERIENCED:
        return member.young is False
    return True


def eligible(
    audience: Audience,
    municipality_id: int | None,
    position: str | None,
    subjects: Collection[str],
) -> bool:
    """May a teacher of this municipality, position and subjects sign up for the event?"""
    return includes(audience, Member(municipality_id, position, subjects))


def suits(experience: Experience, *, young: bool) -> bool:
    """Does a route step meant for `experience` suit this teacher?"""
    return includes(Audience(experience=experience), Member(None, young=young))
