"""Staff roles: an administrator (/grant, an invite link, /admin or the CLI) makes someone a
coordinator of some municipalities or of the region, a school methodist of one school, an
administrator, or a teacher again. The change is audited with names and the person is told,
in the same unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from db.models import Municipality, School, User
from db.repo import Repo
from domain.notices import Notice, NoticeKind
from domain.roles import Role
from domain.scope import Assignment, Scope


class GrantError(ValueError):
    """The role and the scope do not fit together."""


@dataclass(frozen=True, slots=True)
class Grant:
    """A role with the scope it needs: a coordinator municipalities or the region, a school
    methodist one school, the others nothing."""

    role: Role
    municipalities: tuple[Municipality, ...] = ()
    school: School | None = None
    region: bool = False

    def __post_init__(self) -> None:
        if self.role is Role.COORDINATOR:
            if self.region == bool(self.municipalities) or self.school is not None:
                raise GrantError("a coordinator serves some municipalities or the region")
        elif self.role is Role.SCHOOL_METHODIST:
            if self.school is None or self.municipalities or self.region:
                raise GrantError("a school methodist serves one school")
        elif self.municipalities or self.school is not None or self.region:
            raise GrantError(f"the role {self.role.value} has no scope")

    def assignments(self) -> list[Assignment]:
        if self.region:
            return [Assignment()]
        if self.school is not None:
            return [Assignment(school_id=self.school.id)]
        return [Assignment(municipality_id=m.id) for m in self.municipalities]

    def details(self) -> dict[str, Any]:
        """What the audit log and the notice keep: codes and names, not only ids."""
        details: dict[str, Any] = {"role": self.role.value}
        if self.region:
            details["region"] = True
        if self.municipalities:
            details["municipalities"] = [m.code for m in self.municipalities]
            details["municipality_ids"] = [m.id for m in self.municipalities]
        if self.school is not None:
            details["school_id"] = self.school.id
            details["school"] = self.school.short_name or self.school.name
        return details


class ScopeProblem(StrEnum):
    """Why the words after a role name no scope."""

    #: a coordinator needs municipality codes or "region"
    NEED_MUNICIPALITIES = "need_municipalities"
    UNKNOWN_MUNICIPALITY = "unknown_municipality"
    #: a school methodist needs one school (its id or code)
    NEED_SCHOOL = "need_school"
    UNKNOWN_SCHOOL = "unknown_school"
    #: admins and teachers take no scope
    NO_SCOPE = "no_scope"


#: the word that gives a coordinator the whole region
REGION = "region"


async def resolve_grant(repo: Repo, role: Role, words: list[str]) -> Grant | ScopeProblem:
    """The role with the scope typed after it: a coordinator municipality codes (separated
    by spaces or commas) or `region`; a school methodist a school's id or code; admins and
    teachers nothing."""
    items = [w for word in words for w in word.replace(",", " ").split()]
    if role is Role.COORDINATOR:
        if not items:
            return ScopeProblem.NEED_MUNICIPALITIES
        if [i.lower() for i in items] == [REGION]:
            return Grant(role, region=True)
        found: dict[int, Municipality] = {}
        for code in items:
            municipality = await repo.reference.municipality_by_code(code.lower())
            if municipality is None:
                return ScopeProblem.UNKNOWN_MUNICIPALITY
            found[municipality.id] = municipality
        return Grant(role, municipalities=tuple(found[k] for k in sorted(found)))
    if role is Role.SCHOOL_METHODIST:
        if len(items) != 1:
            return ScopeProblem.NEED_SCHOOL
        school = await repo.reference.school_by_ref(items[0])
        return ScopeProblem.UNKNOWN_SCHOOL if school is None else Grant(role, school=school)
    return ScopeProblem.NO_SCOPE if items else Grant(role)


async def set_role(
    repo: Repo,
    target: User,
    grant: Grant,
    now: datetime,
    *,
    actor: User | None = None,
    **audit: Any,
) -> None:
    """Give `target` the role and scope of `grant`; audited (with the previous role and
    scope), and a notice tells them what they can do now. `audit` adds details."""
    previous = target.role
    before = await repo.staff.assignments(target.id)
    await repo.users.set_role(target, grant.role)
    await repo.staff.replace(target, grant.assignments(), actor, now)
    await repo.audit.record(
        "role_set",
        actor=actor,
        target=target,
        previous=previous,
        previous_scope=[
            {"municipality_id": a.municipality_id, "school_id": a.school_id} for a in before
        ],
        **grant.details(),
        **audit,
    )
    await repo.outbox.add([Notice(target.id, NoticeKind.ROLE_CHANGED, grant.details())], now)


async def scope(repo: Repo, staff: User, role: Role) -> Scope:
    """Where a staff member (past the role filter) acts. Raises PermissionError for someone
    without staff powers: the role filter lets nobody without a scope through."""
    found = await repo.staff.scope(staff, role)
    if found is None:
        raise PermissionError(f"user {staff.id} has no staff scope as {role.value}")
    return found


__all__ = [
    "REGION",
    "Grant",
    "GrantError",
    "ScopeProblem",
    "resolve_grant",
    "scope",
    "set_role",
]
