"""Staff roles: an administrator (/grant, an invite link, /admin or the CLI) makes someone a
coordinator of some municipalities or of the region, a school methodist of one school, an
administrator, or a teacher again. The change is audited with names and the person is told,
in the same unit of work."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from db.models import Municipality, School, StaffInvite, User
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
    notify: bool = True,
    **audit: Any,
) -> None:
    """Give `target` the role and scope of `grant`; audited (with the previous role and
    scope), and a notice tells them what they can do now (unless `notify` is False: they are
    answered directly). `audit` adds details."""
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
    if notify:
        await repo.outbox.add([Notice(target.id, NoticeKind.ROLE_CHANGED, grant.details())], now)


# ------------------------------------------------------------------ invite links

#: how long an invite link works unless the administrator says otherwise
INVITE_TTL = timedelta(days=7)
#: the longest an administrator may make one last
INVITE_TTL_MAX = timedelta(days=30)
#: the deep-link kind of an invite: `start=staff_<code>`
INVITE_KIND = "staff"


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    #: the municipality or school it named is gone
    STALE = "stale"


def _invite_scope(grant: Grant) -> dict[str, Any]:
    if grant.region:
        return {"region": True}
    if grant.school is not None:
        return {"school_id": grant.school.id}
    return {"municipality_ids": [m.id for m in grant.municipalities]}


async def create_invite(
    repo: Repo, actor: User, grant: Grant, now: datetime, ttl: timedelta = INVITE_TTL
) -> StaffInvite:
    """A one-time link for a staff role (coordinator or school methodist) with its scope;
    audited. The code is random (128 bits) and unguessable."""
    if grant.role not in (Role.COORDINATOR, Role.SCHOOL_METHODIST):
        raise GrantError("invites are for coordinators and school methodists")
    invite = await repo.staff.add_invite(
        StaffInvite(
            code=secrets.token_hex(16),
            role=grant.role.value,
            scope=_invite_scope(grant),
            created_by_user_id=actor.id,
            created_at=now,
            expires_at=now + min(ttl, INVITE_TTL_MAX),
        )
    )
    await repo.audit.record(
        "invite_created",
        actor=actor,
        invite_id=invite.id,
        expires_at=invite.expires_at.isoformat(),
        **grant.details(),
    )
    return invite


async def invite_grant(repo: Repo, invite: StaffInvite) -> Grant | None:
    """The role and scope an invite gives (None: what it named is gone)."""
    role = Role(invite.role)
    scope = invite.scope
    try:
        if scope.get("region"):
            return Grant(role, region=True)
        if scope.get("school_id") is not None:
            school = await repo.reference.school(int(scope["school_id"]))
            return Grant(role, school=school) if school is not None else None
        municipalities = [
            await repo.reference.municipality(int(m)) for m in scope.get("municipality_ids", [])
        ]
        found = tuple(m for m in municipalities if m is not None)
        return Grant(role, municipalities=found) if found else None
    except (GrantError, ValueError, TypeError):
        return None


async def check_invite(repo: Repo, code: str, now: datetime) -> StaffInvite | InviteProblem:
    """The invite behind a link, if it can still be used (nothing changes)."""
    invite = await repo.staff.invite(code)
    if invite is None:
        return InviteProblem.UNKNOWN
    if invite.used_at is not None:
        return InviteProblem.USED
    if invite.expires_at <= now:
        return InviteProblem.EXPIRED
    return invite


async def accept_invite(repo: Repo, user: User, code: str, now: datetime) -> Grant | InviteProblem:
    """`user` (onboarded) opens the link: they get its role and scope, once. Audited as the
    inviting administrator's grant; the link is used up even if two people open it at once
    (a conditional update decides)."""
    invite = await check_invite(repo, code, now)
    if isinstance(invite, InviteProblem):
        return invite
    grant = await invite_grant(repo, invite)
    if grant is None:
        return InviteProblem.STALE
    if not await repo.staff.claim_invite(invite.id, user.id, now):
        return InviteProblem.USED
    inviter = await repo.users.get(invite.created_by_user_id) if invite.created_by_user_id else None
    await set_role(
        repo, user, grant, now, actor=inviter, notify=False, via="invite", invite_id=invite.id
    )
    await repo.audit.record("invite_used", actor=user, target=user, invite_id=invite.id)
    return grant


async def scope(repo: Repo, staff: User, role: Role) -> Scope:
    """Where a staff member (past the role filter) acts. Raises PermissionError for someone
    without staff powers: the role filter lets nobody without a scope through."""
    found = await repo.staff.scope(staff, role)
    if found is None:
        raise PermissionError(f"user {staff.id} has no staff scope as {role.value}")
    return found


__all__ = [
    "INVITE_KIND",
    "INVITE_TTL",
    "REGION",
    "Grant",
    "GrantError",
    "InviteProblem",
    "ScopeProblem",
    "accept_invite",
    "check_invite",
    "create_invite",
    "invite_grant",
    "resolve_grant",
    "scope",
    "set_role",
]
