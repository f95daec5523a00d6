"""The audit log: who did what to whom (roles, consent, erasure)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, User


class AuditRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        action: str,
        *,
        actor: User | None = None,
        target: User | None = None,
        **details: Any,
    ) -> None:
        self.session.add(
            AuditEntry(
                action=action,
                actor_user_id=actor.id if actor else None,
                target_user_id=target.id if target else None,
                details=details,
            )
        )

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        return list(
            await self.session.scalars(
                select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
            )
        )
