"""Test setup for staff: a role with its scope written as an administrator's grant would
(`services.staff.set_role` does it audited; fixtures need only the result)."""

from __future__ import annotations

from datetime import UTC, datetime

from db.models import User
from db.repo import Repo
from domain.roles import Role
from domain.scope import Assignment


async def make_staff(
    repo: Repo,
    user: User,
    role: Role,
    *municipality_ids: int | None,
    school_id: int | None = None,
    region: bool = False,
) -> None:
    """`role` for `user`: a coordinator of `municipality_ids` (or the region), a school
    methodist of `school_id`."""
    await repo.users.set_role(user, role)
    assignments: list[Assignment] = []
    if region:
        assignments.append(Assignment())
    assignments += [Assignment(municipality_id=m) for m in municipality_ids if m is not None]
    if school_id is not None:
        assignments.append(Assignment(school_id=school_id))
    await repo.staff.replace(user, assignments, None, datetime.now(UTC))
