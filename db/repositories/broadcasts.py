"""Broadcasts and their recipients' outbox rows.

`start` turns a broadcast's audience into outbox rows with one INSERT … SELECT (the audience
query of `db.repositories.audience`, streamed by the database, not a query per recipient), in
the transaction that marks it started: a crash before the commit leaves it as it was, after
it every recipient has exactly one row (`key` = broadcast and user), so nothing is lost or sent
twice. `progress` reads where the rows stand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    String,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, BroadcastClick, OutboxMessage, Registration
from db.repositories import audience
from db.repositories.outbox import OutboxState, _rowcount
from domain.broadcasts import BroadcastState, Filters, Progress, Scope
from domain.notices import NoticeKind

#: how a cancelled row's reason tells why (outbox.sender, OutboxRepo.block_user)
BLOCKED_PREFIX = "the recipient blocked the bot"
MUTED_PREFIX = "muted"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def ref_of(broadcast_id: int) -> str:
    return f"broadcast:{broadcast_id}"


def scope_of(broadcast: Broadcast) -> Scope:
    return Scope.from_json(broadcast.scope)


class BroadcastRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, broadcast: Broadcast) -> Broadcast:
        self.session.add(broadcast)
        await self.session.flush()
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self.session.get(Broadcast, broadcast_id)

    async def scheduled(self, author_id: int | None) -> list[Broadcast]:
        """Broadcasts waiting for their time (of one author; None: everyone's), soonest first."""
        query = select(Broadcast).where(Broadcast.state == BroadcastState.SCHEDULED.value)
        if author_id is not None:
            query = query.where(Broadcast.author_user_id == author_id)
        return list(
            await self.session.scalars(query.order_by(Broadcast.scheduled_at, Broadcast.id))
        )

    def _past(self, author_id: int | None) -> Any:
        query = select(Broadcast).where(Broadcast.state != BroadcastState.SCHEDULED.value)
        if author_id is not None:
            query = query.where(Broadcast.author_user_id == author_id)
        return query

    async def count_past(self, author_id: int | None) -> int:
        query = self._past(author_id).with_only_columns(func.count(Broadcast.id))
        return int(await self.session.scalar(query) or 0)

    async def past(self, author_id: int | None, limit: int, offset: int) -> list[Broadcast]:
        """Started, finished, stopped or cancelled broadcasts, newest first."""
        query = self._past(author_id).order_by(
            func.coalesce(Broadcast.started_at, Broadcast.created_at).desc(), Broadcast.id.desc()
        )
        return list(await self.session.scalars(query.limit(limit).offset(offset)))

    async def delivered(self, broadcast_ids: Sequence[int]) -> dict[int, int]:
        """How many copies each of these broadcasts delivered (one query)."""
        if not broadcast_ids:
            return {}
        refs = {ref_of(b): b for b in broadcast_ids}
        rows = await self.session.execute(
            select(OutboxMessage.ref, func.count())
            .where(
                OutboxMessage.ref.in_(list(refs)),
                OutboxMessage.state == OutboxState.SENT.value,
                OutboxMessage.kind == NoticeKind.BROADCAST.value,
            )
            .group_by(OutboxMessage.ref)
        )
        counts = {refs[str(ref)]: int(n) for ref, n in rows.tuples()}
        return {b: counts.get(b, 0) for b in broadcast_ids}

    async def unwatched_sending(self) -> list[int]:
        """Sending broadcasts whose progress no pending message follows (sent without one,
        its author gone or unreachable): `services.broadcasts.finish_unwatched` ends them."""
        watched = select(OutboxMessage.id).where(
            OutboxMessage.ref
            == literal("broadcast:", String) + cast(Broadcast.id, String) + literal(":progress"),
            OutboxMessage.state == OutboxState.PENDING.value,
        )
        return list(
            await self.session.scalars(
                select(Broadcast.id).where(
                    Broadcast.state == BroadcastState.SENDING.value, ~watched.exists()
                )
            )
        )

    async def move_state(
        self,
        broadcast_id: int,
        source: Sequence[BroadcastState],
        target: BroadcastState,
        **values: object,
    ) -> bool:
        """Change the state if it is one of `source` (a conditional UPDATE: two taps, two
        processes or a retried job change it once)."""
        result = await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.state.in_([s.value for s in source]))
            .values(state=target.value, **values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) > 0

    async def audience_size(self, filters: Filters, scope: Scope) -> tuple[int, int]:
        """(recipients, of them muted news)."""
        total, muted = (await self.session.execute(audience.count(filters, scope))).one()
        return int(total), int(muted)

    async def start(self, broadcast: Broadcast, now: datetime) -> int:
        """Queue one outbox row per recipient; how many."""
        filters = Filters.from_json(broadcast.filters)
        chosen = audience.recipients(filters, scope_of(broadcast)).subquery()
        rows = select(
            chosen.c.id,
            literal(NoticeKind.BROADCAST.value, String),
            literal({"broadcast_id": broadcast.id}, JSON),
            literal(f"bc:{broadcast.id}:", String) + cast(chosen.c.id, String),
            literal(ref_of(broadcast.id), String),
            literal(OutboxState.PENDING.value, String),
            literal(0, Integer),
            literal(now, OutboxMessage.created_at.type),
        )
        result = await self.session.execute(
            insert(OutboxMessage).from_select(
                [
                    OutboxMessage.user_id,
                    OutboxMessage.kind,
                    OutboxMessage.payload,
                    OutboxMessage.key,
                    OutboxMessage.ref,
                    OutboxMessage.state,
                    OutboxMessage.attempts,
                    OutboxMessage.created_at,
                ],
                rows,
            )
        )
        return _rowcount(result)

    async def progress(self, broadcast: Broadcast) -> Progress:
        """Where its rows stand: sent, failed, the blocked and the muted apart."""
        reason = func.coalesce(OutboxMessage.last_error, "")
        done = OutboxMessage.state.in_([OutboxState.FAILED.value, OutboxState.CANCELLED.value])
        kind = case(
            (done & (reason.startswith(BLOCKED_PREFIX) | reason.contains("Forbidden")), "blocked"),
            (
                OutboxMessage.state == OutboxState.CANCELLED.value,
                case((reason.startswith(MUTED_PREFIX), "muted"), else_="dropped"),
            ),
            else_=OutboxMessage.state,
        )
        rows = await self.session.execute(
            select(kind, func.count())
            .where(OutboxMessage.ref == ref_of(broadcast.id))
            .group_by(kind)
        )
        counts = {str(name): int(n) for name, n in rows.all()}
        return Progress(
            total=broadcast.total,
            sent=int(counts.get(OutboxState.SENT.value, 0)),
            failed=int(counts.get(OutboxState.FAILED.value, 0)),
            blocked=int(counts.get("blocked", 0)),
            muted=int(counts.get("muted", 0)),
            dropped=int(counts.get("dropped", 0)),
        )

    async def failures(self, broadcast_id: int, limit: int = 20) -> list[tuple[str, int]]:
        """Why rows failed, most frequent first (the report's "reasons")."""
        rows = await self.session.execute(
            select(OutboxMessage.last_error, func.count())
            .where(
                OutboxMessage.ref == ref_of(broadcast_id),
                OutboxMessage.state == OutboxState.FAILED.value,
            )
            .group_by(OutboxMessage.last_error)
            .order_by(func.count().desc())
            .limit(limit)
        )
        return [(str(error or "?"), int(n)) for error, n in rows.tuples()]

    async def click(self, broadcast_id: int, user_id: int, now: datetime) -> bool:
        """A recipient opened the broadcast's event; False if they had already."""
        if await self.session.get(BroadcastClick, (broadcast_id, user_id)) is not None:
            return False
        self.session.add(BroadcastClick(broadcast_id=broadcast_id, user_id=user_id, at=now))
        await self.session.flush()
        return True

    async def reach(
        self, broadcast: Broadcast, event_id: int, within_days: int = 7
    ) -> tuple[int, int]:
        """(recipients who opened the event, recipients who signed up for it within
        `within_days` of the start)."""
        opened = await self.session.scalar(
            select(func.count()).where(BroadcastClick.broadcast_id == broadcast.id)
        )
        signed = 0
        if broadcast.started_at is not None:
            until = broadcast.started_at + timedelta(days=within_days)
            signed = int(
                await self.session.scalar(
                    select(func.count(Registration.id)).where(
                        Registration.event_id == event_id,
                        Registration.created_at >= broadcast.started_at,
                        Registration.created_at <= until,
                        Registration.user_id.in_(
                            select(OutboxMessage.user_id).where(
                                OutboxMessage.ref == ref_of(broadcast.id),
                                OutboxMessage.state == OutboxState.SENT.value,
                            )
                        ),
                    )
                )
                or 0
            )
        return int(opened or 0), signed

    async def is_recipient(self, broadcast_id: int, user_id: int) -> bool:
        found = await self.session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.ref == ref_of(broadcast_id), OutboxMessage.user_id == user_id
            )
        )
        return found is not None

    async def export_of(self, user_id: int) -> dict[str, Any]:
        """/mydata: the broadcasts the person sent and the broadcast events they opened."""
        sent = await self.session.scalars(
            select(Broadcast).where(Broadcast.author_user_id == user_id).order_by(Broadcast.id)
        )
        opened = await self.session.scalars(
            select(BroadcastClick)
            .where(BroadcastClick.user_id == user_id)
            .order_by(BroadcastClick.broadcast_id)
        )
        return {
            "broadcasts_sent": [
                {
                    "id": b.id,
                    "text": b.preview,
                    "from_chat": b.source_chat_id,
                    "state": b.state,
                    "created_at": _iso(b.created_at),
                    "scheduled_at": _iso(b.scheduled_at),
                    "started_at": _iso(b.started_at),
                    "finished_at": _iso(b.finished_at),
                }
                for b in sent
            ],
            "broadcast_events_opened": [
                {"broadcast_id": c.broadcast_id, "at": _iso(c.at)} for c in opened
            ],
        }

    async def forget_person(self, user_id: int, now: datetime) -> None:
        """/deleteme: their broadcasts stay in the service's history, unsigned and without
        their text; the copies not yet sent are withdrawn (each copied a message of their own
        chat, which is gone); what they opened is forgotten."""
        authored = list(
            await self.session.scalars(
                select(Broadcast.id).where(Broadcast.author_user_id == user_id)
            )
        )
        if authored:
            await self.session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.ref.in_([ref_of(b) for b in authored]),
                    OutboxMessage.state == OutboxState.PENDING.value,
                )
                .values(
                    state=OutboxState.CANCELLED.value, last_error="its author erased their data"
                )
            )
            await self.session.execute(
                update(Broadcast)
                .where(
                    Broadcast.id.in_(authored),
                    Broadcast.state.in_(
                        [BroadcastState.SCHEDULED.value, BroadcastState.SENDING.value]
                    ),
                )
                .values(state=BroadcastState.STOPPED.value, finished_at=now)
            )
            await self.session.execute(
                update(Broadcast)
                .where(Broadcast.id.in_(authored))
                .values(author_user_id=None, source_chat_id=0, preview="")
            )
        await self.session.execute(delete(BroadcastClick).where(BroadcastClick.user_id == user_id))

    async def recipients_of(self, broadcast_id: int) -> list[int]:
        return list(
            await self.session.scalars(
                select(OutboxMessage.user_id)
                .where(OutboxMessage.ref == ref_of(broadcast_id))
                .order_by(OutboxMessage.user_id)
            )
        )


__all__ = ["BLOCKED_PREFIX", "MUTED_PREFIX", "BroadcastRepo", "ref_of", "scope_of"]
