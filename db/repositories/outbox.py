"""The outbox: messages, claimed safely (the jobs table, the other half of "do this later", is
`db.repositories.jobs`).

* `outbox` — messages. One row per message to one user, written in the transaction of the
  change that caused it; `OutboxRepo.claim` hands due rows to one sender under a lease.

Repositories never commit; the caller's unit of work does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage, User
from domain.notices import Notice, NoticeKind
from domain.reminders import COLLAPSE_MAX


def _rowcount(result: object) -> int:
    """Rows an UPDATE changed (`Result` types it loosely)."""
    return int(getattr(result, "rowcount", 0) or 0)


def payload_items(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The notices a row carries: one, or several collapsed into `items`."""
    items = payload.get("items")
    if isinstance(items, list):
        return [dict(item) for item in items]
    return [dict(payload)]


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    telegram_id: int | None
    language: str
    blocked: bool
    #: the user's own choices (`users.timezone`, `quiet_hours`, `muted`); None: the defaults
    timezone: str | None = None
    quiet_hours: str | None = None
    muted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed outbox row as plain values (the sender holds no ORM object across awaits)."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    recipient: Recipient


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        #: rows added in this unit of work: the unit of work wakes the sender after commit
        self.added = 0

    async def add(self, notices: Iterable[Notice], now: datetime) -> int:
        """Queue the notices in the caller's transaction; a notice whose `key` is queued
        already is skipped. How many rows were added."""
        notices = list(notices)
        keys = [n.key for n in notices if n.key is not None]
        taken: set[str] = set()
        if keys:
            taken = set(
                await self.session.scalars(
                    select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))
                )
            )
        added = 0
        for notice in notices:
            if notice.key is not None:
                if notice.key in taken:
                    continue
                taken.add(notice.key)
            self.session.add(
                OutboxMessage(
                    user_id=notice.user_id,
                    kind=notice.kind.value,
                    payload=dict(notice.payload),
                    key=notice.key,
                    ref=notice.ref,
                    due_at=notice.due_at,
                    state=OutboxState.PENDING.value,
                    attempts=0,
                    created_at=now,
                )
            )
            added += 1
        if added:
            await self.session.flush()
        self.added += added
        return added

    async def claim(self, worker: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
        """Lease up to `limit` due rows to `worker`; their ids, oldest first. Rows another
        sender holds are skipped (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite serialises
        writers, and the conditional UPDATE re-checks the lease either way)."""
        free = or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
        candidates = list(
            await self.session.scalars(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.state == OutboxState.PENDING.value,
                    or_(OutboxMessage.due_at.is_(None), OutboxMessage.due_at <= now),
                    free,
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not candidates:
            return []
        claimed = await self.session.scalars(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(candidates),
                OutboxMessage.state == OutboxState.PENDING.value,
                free,
            )
            .values(claimed_by=worker, claimed_until=now + lease)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(claimed)

    async def load(self, ids: Sequence[int]) -> list[Claimed]:
        rows = await self.session.execute(
            select(
                OutboxMessage,
                User.telegram_id,
                User.language,
                User.blocked_at,
                User.timezone,
                User.quiet_hours,
                User.muted,
            )
            .join(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
        )
        return [
            Claimed(
                row.id,
                row.kind,
                dict(row.payload),
                row.attempts,
                Recipient(
                    row.user_id,
                    telegram_id,
                    language,
                    blocked_at is not None,
                    timezone,
                    quiet,
                    tuple(muted or ()),
                ),
            )
            for row, telegram_id, language, blocked_at, timezone, quiet, muted in rows.tuples()
        ]

    async def _finish(self, row_id: int, worker: str, **values: Any) -> bool:
        """Change a row this worker still holds; False if its lease was lost meanwhile."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                OutboxMessage.claimed_by == worker,
                OutboxMessage.state == OutboxState.PENDING.value,
            )
            .values(claimed_by=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) > 0

    async def mark_sent(self, row_id: int, worker: str, now: datetime) -> bool:
        return await self._finish(row_id, worker, state=OutboxState.SENT.value, sent_at=now)

    async def mark_failed(self, row_id: int, worker: str, error: str, *, attempt: bool) -> bool:
        return await self._finish(
            row_id,
            worker,
            state=OutboxState.FAILED.value,
            last_error=error[:2000],
            attempts=OutboxMessage.attempts + int(attempt),
        )

    async def mark_cancelled(self, row_id: int, worker: str, reason: str) -> bool:
        return await self._finish(
            row_id, worker, state=OutboxState.CANCELLED.value, last_error=reason[:2000]
        )

    async def retry_at(
        self, row_id: int, worker: str, due_at: datetime, error: str, *, attempt: bool
    ) -> bool:
        """Put the row back for a later try; `attempt=False` for Telegram's "retry after"
        (not the message's fault, never counted against it)."""
        return await self._finish(
            row_id,
            worker,
            due_at=due_at,
            last_error=error[:2000],
            attempts=OutboxMessage.attempts + int(attempt),
        )

    async def defer(self, row_id: int, worker: str, until: datetime, *, collapse: bool) -> int:
        """Quiet hours: the row waits until `until`. With `collapse`, it joins a row of the
        same kind already waiting for the same user and moment (up to `COLLAPSE_MAX` items in
        its payload's `items`), so the morning brings one message, not five. The id of the row
        that will carry it."""
        if collapse:
            own = await self.session.get(OutboxMessage, row_id, populate_existing=True)
            if own is not None:
                candidates = await self.session.scalars(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.user_id == own.user_id,
                        OutboxMessage.kind == own.kind,
                        OutboxMessage.id != row_id,
                        OutboxMessage.state == OutboxState.PENDING.value,
                        OutboxMessage.due_at == until,
                        OutboxMessage.claimed_by.is_(None),
                    )
                    .order_by(OutboxMessage.id)
                    .with_for_update()
                    .execution_options(populate_existing=True)
                )
                mine = payload_items(own.payload)
                for target in candidates:
                    items = payload_items(target.payload) + mine
                    if len(items) > COLLAPSE_MAX:
                        continue
                    await self.session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == target.id)
                        .values(payload={"items": items})
                        .execution_options(synchronize_session=False)
                    )
                    await self.mark_cancelled(row_id, worker, f"collapsed into #{target.id}")
                    return target.id
        await self._finish(row_id, worker, due_at=until)
        return row_id

    async def _cancel(self, reason: str, *where: ColumnElement[bool]) -> int:
        """Cancel the pending rows matching `where`; their keys are released, so the same
        reminder can be planned again (an event moved back to its first time)."""
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == OutboxState.PENDING.value, *where)
            .values(
                state=OutboxState.CANCELLED.value,
                key=None,
                claimed_by=None,
                claimed_until=None,
                last_error=reason[:2000],
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def cancel_ref(
        self,
        ref: str,
        reason: str,
        *,
        user_id: int | None = None,
        kinds: Iterable[NoticeKind] | None = None,
    ) -> int:
        """Cancel the pending rows about `ref` (of one user, of some kinds): the thing they
        were about changed."""
        where = [OutboxMessage.ref == ref]
        if user_id is not None:
            where.append(OutboxMessage.user_id == user_id)
        if kinds is not None:
            where.append(OutboxMessage.kind.in_([k.value for k in kinds]))
        return await self._cancel(reason, *where)

    async def cancel_kinds(self, user_id: int, kinds: Iterable[NoticeKind], reason: str) -> int:
        """Cancel the user's pending rows of these kinds (a category switched off)."""
        return await self._cancel(
            reason,
            OutboxMessage.user_id == user_id,
            OutboxMessage.kind.in_([k.value for k in kinds]),
        )

    async def last_sent(self, user_id: int, kind: NoticeKind) -> datetime | None:
        at: datetime | None = await self.session.scalar(
            select(func.max(OutboxMessage.sent_at)).where(
                OutboxMessage.user_id == user_id,
                OutboxMessage.kind == kind.value,
                OutboxMessage.state == OutboxState.SENT.value,
            )
        )
        return at

    async def pending_of(
        self, user_id: int, kinds: Iterable[NoticeKind] | None = None
    ) -> list[OutboxMessage]:
        """The user's pending rows (of some kinds), soonest first (tests, /mydata)."""
        query = select(OutboxMessage).where(
            OutboxMessage.user_id == user_id, OutboxMessage.state == OutboxState.PENDING.value
        )
        if kinds is not None:
            query = query.where(OutboxMessage.kind.in_([k.value for k in kinds]))
        return list(
            await self.session.scalars(query.order_by(OutboxMessage.due_at, OutboxMessage.id))
        )

    async def extend(self, ids: Sequence[int], worker: str, until: datetime) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker)
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )

    async def block_user(self, user_id: int, now: datetime, reason: str) -> int:
        """Telegram said 403: remember it and cancel what was waiting for the user."""
        await self.session.execute(
            update(User)
            .where(User.id == user_id, User.blocked_at.is_(None))
            .values(blocked_at=now)
            .execution_options(synchronize_session=False)
        )
        return await self.cancel_pending(user_id, reason)

    async def cancel_pending(self, user_id: int, reason: str) -> int:
        """Drop what was waiting for the user (blocked the bot, erased their data)."""
        return await self._cancel(reason, OutboxMessage.user_id == user_id)

    async def waiting(self, now: datetime) -> int:
        """Pending rows that are due at `now` (claimed or not)."""
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    OutboxMessage.state == OutboxState.PENDING.value,
                    or_(OutboxMessage.due_at.is_(None), OutboxMessage.due_at <= now),
                )
            )
            or 0
        )

    async def counts(self) -> dict[str, int]:
        """Rows per state (the admins' health check and the tests)."""
        rows = await self.session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        )
        return {state: int(n) for state, n in rows.tuples()}

    async def of_user(self, user_id: int) -> list[OutboxMessage]:
        return list(
            await self.session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.user_id == user_id)
                .order_by(OutboxMessage.id)
            )
        )


__all__ = [
    "Claimed",
    "OutboxRepo",
    "OutboxState",
    "Recipient",
    "payload_items",
]
