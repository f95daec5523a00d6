"""Role filter: re-reads the role and the staff scope from the database, never trusts cached
or client data. Handlers behind it get `staff` (the row), `role` (effective) and `scope`
(`domain.scope.Scope`: where they act)."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from core.usercache import UserContext
from db.repo import Repo
from domain.roles import Role, effective_role

ROLE_VALUES = frozenset(r.value for r in Role)


class RoleFilter(Filter):
    def __init__(self, minimum: Role) -> None:
        self.minimum = minimum

    async def __call__(self, event: TelegramObject, **data: Any) -> bool | dict[str, Any]:
        ctx: UserContext | None = data.get("user")
        repo: Repo | None = data.get("repo")
        if ctx is None or repo is None:
            return False
        row = await repo.users.get(ctx.id)
        if row is None or row.telegram_id is None:
            return False
        stored = Role(row.role) if row.role in ROLE_VALUES else Role.TEACHER
        scope = await repo.staff.scope(row, stored) if stored.scoped else None
        role = effective_role(
            row.role,
            row.telegram_id,
            data.get("admin_ids", frozenset()),
            has_scope=scope is not None,
        )
        if not role.at_least(self.minimum):
            return False
        return {"staff": row, "role": role, "scope": await repo.staff.scope(row, role)}
