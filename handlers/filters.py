"""Role filter: re-reads the role from the database, never trusts cached or client data."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from core.usercache import UserContext
from db.repo import Repo
from domain.roles import Role, effective_role


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
        role = effective_role(
            row.role,
            row.telegram_id,
            data.get("admin_ids", frozenset()),
            staff_municipality_id=row.staff_municipality_id,
        )
        if not role.at_least(self.minimum):
            return False
        return {"staff": row, "role": role}
