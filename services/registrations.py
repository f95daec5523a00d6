"""Seat use cases: sign up, cancel, take or decline an offered seat, let an offer lapse.

The one place where "a seat frees up → the first in line is offered it → they are told" is
written (`offer_freed_seats`): a teacher's cancellation, a declined or lapsed offer, a larger
capacity (`services.events`) and an erasure (`services.privacy`) all end here. Each function
runs in the caller's unit of work under the event's row lock and never commits; the notices
it produces are written to the outbox in that same transaction and leave after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from db.models import Registration, User
from db.repo import Repo
from db.repositories.events import facts_of
from db.repositories.registrations import SignUp
from domain.events import (
    Decision,
    EventStatus,
    RegStatus,
    can_cancel,
    cancel_too_late,
    offer_expiry,
)
from domain.notices import Notice, NoticeKind
from domain.schedule import JobKind
from services import reminders

__all__ = [
    "CancelRefusal",
    "Cancelled",
    "OfferOutcome",
    "cancel_registration",
    "decline_offer",
    "expire_offer",
    "offer_freed_seats",
    "offer_notice",
    "sign_up",
    "take_offer",
]


def offer_notice(reg: Registration) -> Notice:
    """The message that gives `reg` its offered seat (queued once per offer)."""
    assert reg.offer_expires_at is not None
    return Notice(
        reg.user_id,
        NoticeKind.SEAT_OFFERED,
        {"reg_id": reg.id, "event_id": reg.event_id},
        key=f"offer:{reg.id}:{reg.offer_expires_at.isoformat()}",
    )


async def offer_freed_seats(repo: Repo, event_id: int, now: datetime) -> list[Notice]:
    """Offer the event's free seats to the first in its waitlist, schedule each offer's
    expiry and queue the offers; the notices queued."""
    notices = []
    for reg in await repo.events.promote(event_id, now):
        # an offer made in the recipient's quiet hours reaches them when those end: the
        # window to claim it starts then (never later than the event allows)
        prefs = repo.policy.preferences(reg.user.timezone, reg.user.quiet_hours, reg.user.muted)
        if prefs.quiet is not None and reg.event.starts_at - now > repo.policy.urgent_within:
            opens = prefs.quiet.ends_after(now, prefs.tz)
            if opens > now:
                reg.offer_expires_at = offer_expiry(opens, reg.event.starts_at)
        assert reg.offer_expires_at is not None
        await repo.jobs.schedule(JobKind.OFFER_EXPIRE, reg.offer_expires_at, reg_id=reg.id)
        notices.append(offer_notice(reg))
    await repo.outbox.add(notices, now)
    return notices


async def sign_up(repo: Repo, event_id: int, user_id: int, now: datetime) -> SignUp:
    """A seat if there is one, else a place in the waitlist (a repeated tap changes nothing).
    A confirmed seat plans its reminders."""
    result = await repo.events.sign_up(event_id, user_id, now, eligible=True)
    if (
        result.registration is not None
        and not result.repeated
        and result.outcome is Decision.CONFIRM
    ):
        event = await repo.events.get(event_id)
        if event is not None:
            await reminders.plan_event_reminders(repo, event, [result.registration], now)
    return result


class CancelRefusal(StrEnum):
    NOT_FOUND = "not_found"
    #: the cancellation window has closed (see `domain.events.cancel_too_late`)
    TOO_LATE = "too_late"
    #: cancelled already, attended, or the event is over
    NOT_ACTIVE = "not_active"


@dataclass(frozen=True, slots=True)
class Cancelled:
    #: the seats offered to the waitlist because of it
    offered: int


async def cancel_registration(
    repo: Repo, event_id: int, user: User, now: datetime
) -> Cancelled | CancelRefusal:
    """The teacher's own cancellation; a seat they held goes to the next in line."""
    event = await repo.events.lock(event_id)
    reg = await repo.events.registration(event_id, user.id) if event else None
    if event is None or reg is None:
        return CancelRefusal.NOT_FOUND
    await repo.session.refresh(reg)
    status = RegStatus(reg.status)
    if not can_cancel(facts_of(event), status, now):
        late = cancel_too_late(facts_of(event), status, now)
        return CancelRefusal.TOO_LATE if late else CancelRefusal.NOT_ACTIVE
    await repo.events.cancel(reg)
    await reminders.cancel_event_reminders(
        repo, event_id, "the registration was cancelled", user_id=user.id
    )
    await repo.audit.record("registration_cancelled", actor=user, event_id=event_id)
    offered = await offer_freed_seats(repo, event_id, now) if status.holds_seat else []
    return Cancelled(len(offered))


class OfferOutcome(StrEnum):
    TAKEN = "taken"
    DECLINED = "declined"
    EXPIRED = "expired"
    EVENT_CANCELLED = "event_cancelled"
    #: started or taken place
    EVENT_OVER = "event_over"
    NOT_YOURS = "not_yours"


async def _open_offer(
    repo: Repo, reg_id: int, user_id: int, now: datetime
) -> Registration | OfferOutcome:
    """The user's own registration, under the event lock, if its event can still be joined;
    else why not."""
    reg = await repo.events.registration_by_id(reg_id)
    if reg is None or reg.user_id != user_id:
        return OfferOutcome.NOT_YOURS
    event = await repo.events.lock(reg.event_id)
    await repo.session.refresh(reg)
    if event is None or event.status == EventStatus.CANCELLED.value:
        return OfferOutcome.EVENT_CANCELLED
    if event.status != EventStatus.SCHEDULED.value or event.starts_at <= now:
        return OfferOutcome.EVENT_OVER
    return reg


async def take_offer(repo: Repo, reg_id: int, user_id: int, now: datetime) -> OfferOutcome:
    """Take the offered seat if the offer still stands (checked under the event lock)."""
    reg = await _open_offer(repo, reg_id, user_id, now)
    if isinstance(reg, OfferOutcome):
        return reg
    if not await repo.events.claim(reg, now):
        return OfferOutcome.EXPIRED
    event = await repo.events.get(reg.event_id)
    if event is not None:
        await reminders.plan_event_reminders(repo, event, [reg], now)
    return OfferOutcome.TAKEN


async def decline_offer(repo: Repo, reg_id: int, user_id: int, now: datetime) -> OfferOutcome:
    """Give the offered seat up: it goes to the next in line at once."""
    reg = await _open_offer(repo, reg_id, user_id, now)
    if isinstance(reg, OfferOutcome):
        return reg
    if reg.status == RegStatus.OFFERED.value:
        await repo.events.cancel(reg)
        await offer_freed_seats(repo, reg.event_id, now)
    return OfferOutcome.DECLINED


async def expire_offer(repo: Repo, reg_id: int, now: datetime) -> bool:
    """The `offer_expire` job: an unclaimed offer lapses, its holder is told, and the seat is
    offered to the next in line. False when the offer was claimed, declined or cancelled
    meanwhile (nothing to do)."""
    lapsed = await repo.events.expire_offer(reg_id, now)
    if lapsed is None:
        return False
    if lapsed.event.status != EventStatus.SCHEDULED.value:
        return True  # the event was cancelled: its registrants were told so
    await repo.outbox.add(
        [Notice(lapsed.user_id, NoticeKind.OFFER_EXPIRED, {"event_id": lapsed.event_id})], now
    )
    await offer_freed_seats(repo, lapsed.event_id, now)
    return True
