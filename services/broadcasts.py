"""Broadcast use cases: the audience size, create (now or at a time), start, stop, cancel, the
report. Every one checks the staff member's role and scope on the server.

A broadcast's copies are outbox rows (`db.repositories.broadcasts.BroadcastRepo.start`), so
the sender delivers them apart from update handling, within Telegram's limits, skipping
teachers who switched "news from methodists" off, and a crash neither loses nor repeats one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from db.models import Broadcast, User
from db.repo import Repo
from db.repositories.broadcasts import ref_of
from domain.broadcasts import PROGRESS_EVERY, BroadcastState, Filters, Progress, Scope, within
from domain.notices import Notice, NoticeKind
from domain.roles import Role
from domain.schedule import JobKind

__all__ = [
    "Draft",
    "Refusal",
    "Report",
    "audience_size",
    "cancel",
    "create",
    "finish_if_done",
    "finish_unwatched",
    "history",
    "opened",
    "replace_message",
    "report",
    "reschedule",
    "scope_for",
    "start",
    "stop",
]


class Refusal(StrEnum):
    NOT_STAFF = "not_staff"
    #: a municipality, school or event outside the sender's scope
    OUT_OF_SCOPE = "out_of_scope"
    NOT_FOUND = "not_found"
    #: started, finished or cancelled already
    NOT_NOW = "not_now"
    #: the chosen time has passed
    PAST = "past"
    BAD_URL = "bad_url"
    #: "send now" to filters that match nobody
    EMPTY = "empty"


async def scope_for(repo: Repo, staff: User, role: Role) -> Scope | None:
    """Where a staff member may broadcast: an administrator the region, a coordinator their
    assigned municipalities (or the region), a school methodist their school; nobody else
    anywhere (None)."""
    return await repo.staff.scope(staff, role)


@dataclass(frozen=True, slots=True)
class Draft:
    """What the wizard collected."""

    source_chat_id: int
    source_message_id: int
    content_kind: str
    preview: str
    filters: Filters = field(default_factory=Filters)
    event_id: int | None = None
    url: str | None = None
    url_label: str | None = None
    #: None: now
    scheduled_at: datetime | None = None


async def _check_filters(repo: Repo, filters: Filters, scope: Scope) -> Refusal | None:
    if not within(filters, scope):
        return Refusal.OUT_OF_SCOPE
    for school_id in filters.school_ids:
        school = await repo.reference.school(school_id)
        if school is None or not scope.allows(school.municipality_id, school.id):
            return Refusal.OUT_OF_SCOPE
    if filters.event_id is not None:
        event = await repo.events.get(filters.event_id)
        if not await repo.staff.event_allowed(scope, event):
            return Refusal.OUT_OF_SCOPE
    return None


async def audience_size(
    repo: Repo, staff: User, role: Role, filters: Filters
) -> tuple[int, int] | Refusal:
    """(recipients, of them muted "news from methodists") — the wizard's live count."""
    scope = await scope_for(repo, staff, role)
    if scope is None:
        return Refusal.NOT_STAFF
    refused = await _check_filters(repo, filters, scope)
    if refused is not None:
        return refused
    return await repo.broadcasts.audience_size(filters, scope)


async def create(
    repo: Repo, staff: User, role: Role, draft: Draft, now: datetime
) -> Broadcast | Refusal:
    """Save the broadcast; start it now, or schedule its start."""
    scope = await scope_for(repo, staff, role)
    if scope is None:
        return Refusal.NOT_STAFF
    refused = await _check_filters(repo, draft.filters, scope)
    if refused is not None:
        return refused
    buttons: dict[str, Any] = {}
    if draft.event_id is not None:
        event = await repo.events.get(draft.event_id)
        if event is None or not await repo.staff.event_allowed(scope, event):
            return Refusal.OUT_OF_SCOPE
        buttons["event_id"] = event.id
    if draft.url is not None:
        if not draft.url.startswith(("https://", "http://")) or len(draft.url) > 500:
            return Refusal.BAD_URL
        buttons |= {"url": draft.url, "url_label": (draft.url_label or "")[:64]}
    if draft.scheduled_at is not None and draft.scheduled_at <= now:
        return Refusal.PAST
    if draft.scheduled_at is None:
        # "now" to nobody is refused. A scheduled one is not: its recipients are resolved at
        # its start (teachers may register or sign up meanwhile); if nobody matches then, it
        # ends as done with 0 and its author is told (`start`). The wizard offers neither
        # button while the audience is empty.
        total, _muted = await repo.broadcasts.audience_size(draft.filters, scope)
        if total == 0:
            return Refusal.EMPTY
    broadcast = await repo.broadcasts.add(
        Broadcast(
            author_user_id=staff.id,
            scope=scope.to_json(),
            filters=draft.filters.to_json(),
            source_chat_id=draft.source_chat_id,
            source_message_id=draft.source_message_id,
            content_kind=draft.content_kind,
            preview=draft.preview[:500],
            buttons=buttons,
            state=BroadcastState.SCHEDULED.value,
            scheduled_at=draft.scheduled_at,
            total=0,
            created_at=now,
        )
    )
    await repo.audit.record(
        "broadcast_created",
        actor=staff,
        broadcast_id=broadcast.id,
        scheduled_at=draft.scheduled_at.isoformat() if draft.scheduled_at else None,
    )
    if draft.scheduled_at is None:
        await start(repo, broadcast.id, now)
    else:
        await repo.jobs.schedule(
            JobKind.BROADCAST_START, draft.scheduled_at, broadcast_id=broadcast.id
        )
    return broadcast


async def start(repo: Repo, broadcast_id: int, now: datetime, *, announce: bool = False) -> int:
    """A broadcast starts (now, or by its job): every recipient gets one outbox row, in this
    transaction. How many (0 if it was started or cancelled meanwhile). With `announce` (a
    scheduled one, started by its job) the author is told, and that message then shows the
    progress."""
    if announce:
        # the job of a time that was changed since (`reschedule` closes it; this is the guard)
        planned = await repo.broadcasts.get(broadcast_id)
        if planned is not None and planned.scheduled_at is not None and planned.scheduled_at > now:
            return 0
    if not await repo.broadcasts.move_state(
        broadcast_id, [BroadcastState.SCHEDULED], BroadcastState.SENDING, started_at=now
    ):
        return 0
    broadcast = await repo.broadcasts.get(broadcast_id)
    assert broadcast is not None
    await repo.session.refresh(broadcast)
    total = await repo.broadcasts.start(broadcast, now)
    broadcast.total = total
    if total == 0:
        broadcast.state, broadcast.finished_at = BroadcastState.DONE.value, now
    repo.outbox.added += total
    await repo.session.flush()
    if announce and broadcast.author_user_id is not None:
        kind = NoticeKind.BROADCAST_STARTED if total else NoticeKind.BROADCAST_DONE
        await repo.outbox.add(
            [Notice(broadcast.author_user_id, kind, {"broadcast_id": broadcast.id})], now
        )
    return total


def _progress_notice(broadcast: Broadcast, due: datetime | None) -> Notice:
    assert broadcast.author_user_id is not None
    return Notice(
        broadcast.author_user_id,
        NoticeKind.BROADCAST_PROGRESS,
        {"broadcast_id": broadcast.id},
        due_at=due,
        ref=ref_of(broadcast.id) + ":progress",
    )


async def attach_progress(repo: Repo, broadcast_id: int, message_id: int, now: datetime) -> bool:
    """Message `message_id` in the author's chat shows the broadcast's progress from now on
    (edited every `PROGRESS_EVERY` until it ends, then it shows the report)."""
    broadcast = await repo.broadcasts.get(broadcast_id)
    if broadcast is None or broadcast.author_user_id is None:
        return False
    broadcast.progress_message_id = message_id
    await repo.session.flush()
    await repo.outbox.add([_progress_notice(broadcast, now + PROGRESS_EVERY)], now)
    return True


async def show_progress(
    repo: Repo, staff: User, role: Role, broadcast_id: int, message_id: int, now: datetime
) -> bool:
    """The wizard's "send now" answer becomes the live progress message (its own author's)."""
    broadcast = await _own(repo, staff, role, broadcast_id)
    if isinstance(broadcast, Refusal) or broadcast.author_user_id != staff.id:
        return False
    return await attach_progress(repo, broadcast_id, message_id, now)


async def progress_sent(repo: Repo, broadcast_id: int, now: datetime) -> None:
    """The progress message was updated: the next update, or the end."""
    broadcast = await repo.broadcasts.get(broadcast_id)
    if broadcast is None or broadcast.author_user_id is None:
        return
    if broadcast.state != BroadcastState.SENDING.value:
        return  # the last update showed the report
    if await finish_if_done(repo, broadcast_id, now):
        await repo.outbox.add([_progress_notice(broadcast, None)], now)  # the report
        return
    await repo.outbox.add([_progress_notice(broadcast, now + PROGRESS_EVERY)], now)


async def _own(repo: Repo, staff: User, role: Role, broadcast_id: int) -> Broadcast | Refusal:
    scope = await scope_for(repo, staff, role)
    if scope is None:
        return Refusal.NOT_STAFF
    broadcast = await repo.broadcasts.get(broadcast_id)
    if broadcast is None:
        return Refusal.NOT_FOUND
    if role is not Role.ADMIN and broadcast.author_user_id != staff.id:
        return Refusal.NOT_FOUND
    return broadcast


async def stop(
    repo: Repo, staff: User, role: Role, broadcast_id: int, now: datetime
) -> Progress | Refusal:
    """⏸ Stop: what has not gone out is not sent; the report stays."""
    broadcast = await _own(repo, staff, role, broadcast_id)
    if isinstance(broadcast, Refusal):
        return broadcast
    if not await repo.broadcasts.move_state(
        broadcast.id, [BroadcastState.SENDING], BroadcastState.STOPPED, finished_at=now
    ):
        return Refusal.NOT_NOW
    await repo.outbox.cancel_ref(
        ref_of(broadcast.id), "stopped by its author", kinds=[NoticeKind.BROADCAST]
    )
    if broadcast.progress_message_id is not None and broadcast.author_user_id is not None:
        await repo.outbox.add([_progress_notice(broadcast, None)], now)  # shows the report
    await repo.audit.record("broadcast_stopped", actor=staff, broadcast_id=broadcast.id)
    await repo.session.refresh(broadcast)
    return await repo.broadcasts.progress(broadcast)


async def cancel(
    repo: Repo, staff: User, role: Role, broadcast_id: int, now: datetime
) -> Broadcast | Refusal:
    """A scheduled broadcast is cancelled before it starts."""
    broadcast = await _own(repo, staff, role, broadcast_id)
    if isinstance(broadcast, Refusal):
        return broadcast
    if not await repo.broadcasts.move_state(
        broadcast.id, [BroadcastState.SCHEDULED], BroadcastState.CANCELLED, finished_at=now
    ):
        return Refusal.NOT_NOW
    await repo.audit.record("broadcast_cancelled", actor=staff, broadcast_id=broadcast.id)
    await repo.session.refresh(broadcast)
    return broadcast


@dataclass(frozen=True, slots=True)
class Report:
    broadcast: Broadcast
    progress: Progress
    #: (reason, how many), most frequent first
    failures: list[tuple[str, int]]
    #: (opened the event, signed up for it within 7 days), when it had an event button
    reach: tuple[int, int] | None


async def report(repo: Repo, staff: User, role: Role, broadcast_id: int) -> Report | Refusal:
    broadcast = await _own(repo, staff, role, broadcast_id)
    if isinstance(broadcast, Refusal):
        return broadcast
    progress = await repo.broadcasts.progress(broadcast)
    event_id = broadcast.buttons.get("event_id")
    reach = await repo.broadcasts.reach(broadcast, int(event_id)) if event_id is not None else None
    return Report(broadcast, progress, await repo.broadcasts.failures(broadcast.id), reach)


async def finish_if_done(repo: Repo, broadcast_id: int, now: datetime) -> bool:
    """Mark a sending broadcast done once none of its rows waits; True if it just ended."""
    broadcast = await repo.broadcasts.get(broadcast_id)
    if broadcast is None or broadcast.state != BroadcastState.SENDING.value:
        return False
    if (await repo.broadcasts.progress(broadcast)).left > 0:
        return False
    return await repo.broadcasts.move_state(
        broadcast_id, [BroadcastState.SENDING], BroadcastState.DONE, finished_at=now
    )


async def finish_unwatched(repo: Repo, now: datetime) -> int:
    """End the broadcasts that have sent everything but whose progress no message follows
    (the scheduler's tick; a followed one ends with its last progress update); how many."""
    ended = 0
    for broadcast_id in await repo.broadcasts.unwatched_sending():
        ended += await finish_if_done(repo, broadcast_id, now)
    return ended


async def opened(repo: Repo, user_id: int, broadcast_id: int, event_id: int, now: datetime) -> bool:
    """A recipient opened the broadcast's event: counted once for its report. Callback data is
    not trusted: only a recipient of that broadcast, for the broadcast's own event, counts."""
    broadcast = await repo.broadcasts.get(broadcast_id)
    if broadcast is None or broadcast.buttons.get("event_id") != event_id:
        return False
    if not await repo.broadcasts.is_recipient(broadcast_id, user_id):
        return False
    return await repo.broadcasts.click(broadcast_id, user_id, now)


HISTORY_PAGE = 8


@dataclass(frozen=True, slots=True)
class History:
    """A page of `/broadcasts`: the scheduled ones (soonest first) on the first page, then the
    rest, newest first, with how many each delivered."""

    scheduled: list[Broadcast]
    past: list[Broadcast]
    delivered: dict[int, int]
    page: int
    pages: int


async def history(repo: Repo, staff: User, role: Role, page: int) -> History | Refusal:
    """An administrator sees everyone's broadcasts, a coordinator their own."""
    if await scope_for(repo, staff, role) is None:
        return Refusal.NOT_STAFF
    author = None if role is Role.ADMIN else staff.id
    scheduled = await repo.broadcasts.scheduled(author) if page == 0 else []
    total = await repo.broadcasts.count_past(author)
    pages = max(1, -(-total // HISTORY_PAGE))
    page = min(max(page, 0), pages - 1)
    past = await repo.broadcasts.past(author, HISTORY_PAGE, page * HISTORY_PAGE)
    delivered = await repo.broadcasts.delivered([b.id for b in past])
    return History(scheduled, past, delivered, page, pages)


async def _scheduled_own(
    repo: Repo, staff: User, role: Role, broadcast_id: int
) -> Broadcast | Refusal:
    broadcast = await _own(repo, staff, role, broadcast_id)
    if isinstance(broadcast, Refusal):
        return broadcast
    if broadcast.state != BroadcastState.SCHEDULED.value:
        return Refusal.NOT_NOW
    return broadcast


async def reschedule(
    repo: Repo, staff: User, role: Role, broadcast_id: int, at: datetime, now: datetime
) -> Broadcast | Refusal:
    """A scheduled broadcast starts at another time (until it has started)."""
    broadcast = await _scheduled_own(repo, staff, role, broadcast_id)
    if isinstance(broadcast, Refusal):
        return broadcast
    if at <= now:
        return Refusal.PAST
    broadcast.scheduled_at = at
    for job in await repo.jobs.pending(JobKind.BROADCAST_START.value):
        if job.payload.get("broadcast_id") == broadcast.id:
            job.done_at = now
    await repo.jobs.schedule(JobKind.BROADCAST_START, at, broadcast_id=broadcast.id)
    await repo.audit.record(
        "broadcast_rescheduled", actor=staff, broadcast_id=broadcast.id, scheduled_at=at.isoformat()
    )
    return broadcast


async def replace_message(
    repo: Repo,
    staff: User,
    role: Role,
    broadcast_id: int,
    source: tuple[int, int],
    content_kind: str,
    preview: str,
) -> Broadcast | Refusal:
    """A scheduled broadcast will copy another message of its author's chat (`source`:
    chat id, message id) instead; its buttons, audience and time stay."""
    broadcast = await _scheduled_own(repo, staff, role, broadcast_id)
    if isinstance(broadcast, Refusal):
        return broadcast
    if broadcast.author_user_id != staff.id:
        return Refusal.NOT_FOUND  # a message of someone else's chat cannot be theirs
    broadcast.source_chat_id, broadcast.source_message_id = source
    broadcast.content_kind, broadcast.preview = content_kind, preview[:500]
    await repo.audit.record("broadcast_edited", actor=staff, broadcast_id=broadcast.id)
    return broadcast
