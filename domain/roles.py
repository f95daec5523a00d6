"""Roles and what each may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    TEACHER = "teacher"
    #: a school's methodist or deputy head: staff powers within one school
    SCHOOL_METHODIST = "school_methodist"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank

    @property
    def scoped(self) -> bool:
        """A staff role that acts only within assigned municipalities or a school."""
        return self in (Role.SCHOOL_METHODIST, Role.COORDINATOR)


_RANK = {Role.TEACHER: 0, Role.SCHOOL_METHODIST: 1, Role.COORDINATOR: 2, Role.ADMIN: 3}


def effective_role(
    stored: str,
    telegram_id: int | None,
    admin_ids: frozenset[int],
    *,
    has_scope: bool,
) -> Role:
    """ADMIN_IDS always make an admin; otherwise the stored role (unknown values → teacher).

    A coordinator or school methodist acts only within the scope an administrator assigned
    (`domain.scope`, the `staff_scopes` rows): without one they have a teacher's powers. The
    user's own profile never enters here.
    """
    if telegram_id is not None and telegram_id in admin_ids:
        return Role.ADMIN
    try:
        role = Role(stored)
    except ValueError:
        return Role.TEACHER
    if role.scoped and not has_scope:
        return Role.TEACHER
    return role
