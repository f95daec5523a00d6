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


def effective_role(stored: str, telegram_id: int | None, admin_ids: frozenset[int]) -> Role:
    """ADMIN_IDS always make an admin; otherwise the stored role (unknown values → teacher)."""
    if telegram_id is not None and telegram_id in admin_ids:
        return Role.ADMIN
    try:
        return Role(stored)
    except ValueError:
        return Role.TEACHER
