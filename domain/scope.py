"""Where a staff member acts: the one type every staff view, tool and broadcast checks.

A scope is the whole region (administrators, a region coordinator), some municipalities (a
coordinator), or one school (a school methodist: the school and its municipality). It comes
from the staff assignments an administrator made (`staff_scopes`), never from the profile.
Plain Python: no database, no aiogram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.roles import Role


@dataclass(frozen=True, slots=True)
class Scope:
    """Some municipalities (None: every one) and, narrower, some schools (None: every school
    of those municipalities)."""

    municipality_ids: frozenset[int] | None
    school_ids: frozenset[int] | None = None

    @classmethod
    def whole_region(cls) -> Scope:
        return cls(None, None)

    @property
    def region(self) -> bool:
        return self.municipality_ids is None and self.school_ids is None

    def to_json(self) -> list[int] | dict[str, list[int]] | None:
        """The stored form (a broadcast keeps its author's scope): None the region, a list
        of municipality ids, or both lists when schools narrow it."""
        if self.school_ids is None:
            return None if self.municipality_ids is None else sorted(self.municipality_ids)
        return {
            "municipality_ids": sorted(self.municipality_ids or ()),
            "school_ids": sorted(self.school_ids),
        }

    @classmethod
    def from_json(cls, data: object) -> Scope:
        if data is None:
            return cls.whole_region()
        if isinstance(data, list):
            return cls(frozenset(int(v) for v in data))
        if isinstance(data, dict):
            municipalities = data.get("municipality_ids")
            schools = data.get("school_ids")
            return cls(
                None if municipalities is None else frozenset(int(v) for v in municipalities),
                None if schools is None else frozenset(int(v) for v in schools),
            )
        raise ValueError(f"not a stored scope: {data!r}")

    def allows(self, municipality_id: int | None, school_id: int | None = None) -> bool:
        """Is something of this municipality (and, for a school scope, this school) inside?
        Without a school, nothing is inside a school scope."""
        if self.municipality_ids is not None and municipality_id not in self.municipality_ids:
            return False
        return self.school_ids is None or school_id in self.school_ids

    def home_municipality(self, profile_municipality_id: int | None) -> int | None:
        """Where what the staff member creates belongs (events, sites): their one
        municipality; of several, their profile's if it is one of them, else the first; for
        the region, their profile's (None: they must set it)."""
        if self.municipality_ids is None:
            return profile_municipality_id
        if profile_municipality_id in self.municipality_ids:
            return profile_municipality_id
        return min(self.municipality_ids) if self.municipality_ids else None


@dataclass(frozen=True, slots=True)
class Assignment:
    """One staff assignment row: a municipality, a school (with its municipality), or, with
    neither, the whole region."""

    municipality_id: int | None = None
    school_id: int | None = None
    school_municipality_id: int | None = None

    @property
    def region(self) -> bool:
        return self.municipality_id is None and self.school_id is None


def scope_of(role: Role, assignments: Iterable[Assignment]) -> Scope | None:
    """The scope a role with these assignments gives; None: no staff powers at all.

    Administrators see the region whatever is assigned; a coordinator their municipalities or
    the region (a region row wins); a school methodist their school (the first, if several were
    ever stored); a coordinator or methodist without an assignment, nothing (`effective_role`
    then gives them a teacher's powers)."""
    if role is Role.ADMIN:
        return Scope.whole_region()
    rows = list(assignments)
    if role is Role.COORDINATOR:
        if any(a.region for a in rows):
            return Scope.whole_region()
        municipalities = frozenset(a.municipality_id for a in rows if a.municipality_id)
        return Scope(municipalities) if municipalities else None
    if role is Role.SCHOOL_METHODIST:
        schools = sorted(
            (a.school_id, a.school_municipality_id)
            for a in rows
            if a.school_id is not None and a.school_municipality_id is not None
        )
        if not schools:
            return None
        school_id, municipality_id = schools[0]
        return Scope(frozenset({municipality_id}), frozenset({school_id}))
    return None


def fits_role(role: Role, assignments: Iterable[Assignment]) -> bool:
    """Does a role with these assignments act anywhere (the rule `effective_role` applies)?"""
    return role is Role.ADMIN or role is Role.TEACHER or scope_of(role, assignments) is not None


__all__ = ["Assignment", "Scope", "fits_role", "scope_of"]
