"""Roles and what each may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    TEACHER = "teacher"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANK = {Role.TEACHER: 0, Role.COORDINATOR: 1, Role.ADMIN: 2}


def effective_role(
    stored: str,
    telegram_id: int | None,
    admin_ids: frozenset[int],
    *,
    staff_municipality_id: int | None,
) -> Role:
    """ADMIN_IDS always make an admin; otherwise the stored role (unknown values → teacher).

    A coordinator acts only within the municipality an administrator assigned: without that
    assignment they have a teacher's powers. The user's own profile never enters here.
    """
    if telegram_id is not None and telegram_id in admin_ids:
        return Role.ADMIN
    try:
        role = Role(stored)
    except ValueError:
        return Role.TEACHER
    if role is Role.COORDINATOR and staff_municipality_id is None:
        return Role.TEACHER
    return role


def staff_scope(role: Role, staff_municipality_id: int | None) -> int | None:
    """The municipality whose data a staff member sees; None means every one (admins).

    Only for a role that passed `effective_role`: a coordinator always has an assignment.
    """
    if role is Role.ADMIN:
        return None
    if staff_municipality_id is None:
        raise PermissionError("a coordinator without an assigned municipality")
    return staff_municipality_id
