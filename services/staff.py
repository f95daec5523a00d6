"""Staff roles: an administrator (the /grant command or the CLI) makes someone a coordinator
of a municipality, an administrator, or a teacher again. The change is audited and the person
is told, in the same unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from db.models import Municipality, User
from db.repo import Repo
from domain.notices import Notice, NoticeKind
from domain.roles import Role


async def set_role(
    repo: Repo,
    target: User,
    role: Role,
    municipality: Municipality | None,
    now: datetime,
    *,
    actor: User | None = None,
    **audit: Any,
) -> None:
    """Give `target` the role (a coordinator serves `municipality`); audited, and a notice
    tells them what they can do now. `audit` adds details to the audit record."""
    previous, previous_scope = target.role, target.staff_municipality_id
    await repo.users.set_role(target, role, municipality.id if municipality else None)
    await repo.audit.record(
        "role_set",
        actor=actor,
        target=target,
        role=role.value,
        previous=previous,
        municipality=municipality.code if municipality else None,
        previous_municipality_id=previous_scope,
        **audit,
    )
    payload = {"role": role.value, "municipality_id": municipality.id if municipality else None}
    await repo.outbox.add([Notice(target.id, NoticeKind.ROLE_CHANGED, payload)], now)
