"""Registrations: seats, waitlist and offers (sign-up, cancel, promote, claim, expiry, all under
the event lock of `db.repositories.events`), cancelling an event, attendance and feedback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from db.models import AuditEntry, Event, Registration, User
from db.repositories.events import EventRepo, facts_of
from domain.attendance import Completion
from domain.events import (
    Decision,
    EventStatus,
    Refusal,
    RegStatus,
    can_claim,
    offer_expiry,
    signup_decision,
    to_offer,
)
from domain.route import StepStatus

SEAT_STATUSES = tuple(s.value for s in RegStatus if s.holds_seat)


@dataclass(frozen=True, slots=True)
class SignUp:
    outcome: Decision | Refusal
    registration: Registration | None
    #: place in the waitlist (1 = next), when waitlisted
    position: int | None = None
    #: True when the user was already registered (a repeated tap): nothing changed
    repeated: bool = False


class RegistrationRepo(EventRepo):
    """Seats of events: an `EventRepo` for its lock and its events."""

    # ------------------------------------------------------------------ reading

    async def seats_taken(self, event_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.event_id == event_id, Registration.status.in_(SEAT_STATUSES))
        )
        return int(count or 0)

    async def seats_taken_many(self, event_ids: Sequence[int]) -> dict[int, int]:
        rows = await self.session.execute(
            select(Registration.event_id, func.count())
            .where(Registration.event_id.in_(event_ids), Registration.status.in_(SEAT_STATUSES))
            .group_by(Registration.event_id)
        )
        return {event_id: int(count) for event_id, count in rows.tuples()}

    async def registration(self, event_id: int, user_id: int) -> Registration | None:
        reg: Registration | None = await self.session.scalar(
            select(Registration).where(
                Registration.event_id == event_id, Registration.user_id == user_id
            )
        )
        return reg

    async def registration_by_id(self, reg_id: int) -> Registration | None:
        reg: Registration | None = await self.session.scalar(
            select(Registration)
            .where(Registration.id == reg_id)
            .options(selectinload(Registration.event), selectinload(Registration.user))
        )
        return reg

    async def statuses_of(self, user_id: int, event_ids: Sequence[int]) -> dict[int, RegStatus]:
        rows = await self.session.execute(
            select(Registration.event_id, Registration.status).where(
                Registration.user_id == user_id, Registration.event_id.in_(event_ids)
            )
        )
        return {event_id: RegStatus(status) for event_id, status in rows.tuples()}

    async def waitlist_position(self, reg: Registration) -> int:
        ahead = await self.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.event_id == reg.event_id,
                Registration.status == RegStatus.WAITLISTED.value,
                Registration.queue_no < reg.queue_no,
            )
        )
        return int(ahead or 0) + 1

    async def of_user(self, user_id: int) -> list[Registration]:
        return list(
            await self.session.scalars(
                select(Registration)
                .join(Event, Event.id == Registration.event_id)
                .where(
                    Registration.user_id == user_id,
                    Registration.status != RegStatus.CANCELLED.value,
                )
                .order_by(Event.starts_at)
                .options(selectinload(Registration.event))
            )
        )

    async def participants(self, event_id: int) -> list[Registration]:
        return list(
            await self.session.scalars(
                select(Registration)
                .where(Registration.event_id == event_id)
                .order_by(Registration.queue_no)
                .options(selectinload(Registration.user))
            )
        )

    # ------------------------------------------------------------------ seats (under the lock)
    async def _next_queue_no(self, event_id: int) -> int:
        top = await self.session.scalar(
            select(func.max(Registration.queue_no)).where(Registration.event_id == event_id)
        )
        return int(top or 0) + 1

    async def sign_up(
        self, event_id: int, user_id: int, now: datetime, *, eligible: bool
    ) -> SignUp:
        event = await self._lock(event_id)
        if event is None:
            return SignUp(Refusal.CANCELLED, None)
        reg = await self.registration(event_id, user_id)
        if reg is not None and RegStatus(reg.status).active:
            current = RegStatus(reg.status)
            outcome = Decision.WAITLIST if current is RegStatus.WAITLISTED else Decision.CONFIRM
            position = (
                await self.waitlist_position(reg) if current is RegStatus.WAITLISTED else None
            )
            return SignUp(outcome, reg, position, repeated=True)
        decision = signup_decision(
            facts_of(event), await self.seats_taken(event_id), now, eligible=eligible
        )
        if isinstance(decision, Refusal):
            return SignUp(decision, reg)
        status = RegStatus.CONFIRMED if decision is Decision.CONFIRM else RegStatus.WAITLISTED
        queue_no = await self._next_queue_no(event_id)
        if reg is None:
            reg = Registration(
                event_id=event_id, user_id=user_id, status=status.value, queue_no=queue_no
            )
            self.session.add(reg)
        else:  # signing up again after a cancellation: to the end of the queue
            reg.status, reg.queue_no, reg.offer_expires_at = status.value, queue_no, None
        await self.session.flush()
        position = await self.waitlist_position(reg) if status is RegStatus.WAITLISTED else None
        return SignUp(decision, reg, position)

    async def promote(self, event_id: int, now: datetime) -> list[Registration]:
        """Offer free seats to the first in the waitlist; the offered registrations."""
        event = await self._lock(event_id)
        if event is None or event.status != EventStatus.SCHEDULED.value or event.starts_at <= now:
            return []
        waitlist = list(
            await self.session.scalars(
                select(Registration)
                .where(
                    Registration.event_id == event_id,
                    Registration.status == RegStatus.WAITLISTED.value,
                )
                .order_by(Registration.queue_no)
                .options(selectinload(Registration.user), selectinload(Registration.event))
            )
        )
        chosen = set(
            to_offer(event.capacity, await self.seats_taken(event_id), [r.id for r in waitlist])
        )
        offered = [r for r in waitlist if r.id in chosen]
        for reg in offered:
            reg.status = RegStatus.OFFERED.value
            reg.offer_expires_at = offer_expiry(now, event.starts_at)
        await self.session.flush()
        return offered

    async def set_capacity(self, event_id: int, capacity: int) -> bool:
        """Change the number of seats under the lock; never below the seats taken (False).
        New seats are offered by the caller (`services.registrations.offer_freed_seats`)."""
        event = await self._lock(event_id)
        if event is None or capacity < await self.seats_taken(event_id):
            return False
        event.capacity = capacity
        await self.session.flush()
        return True

    async def cancel(self, reg: Registration) -> None:
        await self._lock(reg.event_id)
        reg.status, reg.offer_expires_at = RegStatus.CANCELLED.value, None
        await self.session.flush()

    async def claim(self, reg: Registration, now: datetime) -> bool:
        """The offered seat is taken if the offer still stands."""
        event = await self._lock(reg.event_id)
        await self.session.refresh(reg)
        if event is None or not can_claim(
            facts_of(event), RegStatus(reg.status), reg.offer_expires_at, now
        ):
            return False
        reg.status, reg.offer_expires_at = RegStatus.CONFIRMED.value, None
        await self.session.flush()
        return True

    async def expire_offer(self, reg_id: int, now: datetime) -> Registration | None:
        """An unclaimed offer lapses: the registration is cancelled (the caller promotes)."""
        reg = await self.registration_by_id(reg_id)
        if reg is None:
            return None
        await self._lock(reg.event_id)
        await self.session.refresh(reg)
        if reg.status != RegStatus.OFFERED.value or (
            reg.offer_expires_at and reg.offer_expires_at > now
        ):
            return None
        reg.status, reg.offer_expires_at = RegStatus.CANCELLED.value, None
        await self.session.flush()
        return reg

    async def mark_attended(self, reg: Registration, now: datetime, attended: bool = True) -> None:
        await self._lock(reg.event_id)
        reg.status = RegStatus.ATTENDED.value if attended else RegStatus.CONFIRMED.value
        reg.attended_at = now if attended else None
        await self.session.flush()

    #: the audit action that links a registration to the route step its attendance completed
    STEP_COMPLETED = "route_step_by_event"

    async def record_completion(self, reg: Registration, completion: Completion) -> None:
        """Remember which route step this registration's attendance completed, its status
        before and the evidence left, so that unticking the attendance can undo it."""
        self.session.add(
            AuditEntry(
                action=self.STEP_COMPLETED,
                target_user_id=reg.user_id,
                details={
                    "event_id": reg.event_id,
                    "registration_id": reg.id,
                    "step_id": completion.step_id,
                    "previous": completion.previous.value,
                    "evidence": completion.evidence,
                },
            )
        )
        await self.session.flush()

    async def last_completion(self, reg: Registration) -> Completion | None:
        """The route step the registration's attendance completed most recently, if any."""
        rows = await self.session.scalars(
            select(AuditEntry.details)
            .where(
                AuditEntry.action == self.STEP_COMPLETED,
                AuditEntry.target_user_id == reg.user_id,
            )
            .order_by(AuditEntry.id.desc())
        )
        for details in rows:
            if details.get("registration_id") == reg.id:
                return Completion(
                    step_id=int(details["step_id"]),
                    previous=StepStatus(str(details["previous"])),
                    evidence=str(details["evidence"]),
                )
        return None

    async def set_feedback(
        self, reg: Registration, rating: int, comment: str | None, now: datetime
    ) -> bool:
        """Feedback is taken once."""
        if reg.feedback_at is not None:
            return False
        reg.feedback_rating, reg.feedback_comment, reg.feedback_at = rating, comment, now
        await self.session.flush()
        return True

    async def cancel_event(self, event: Event) -> list[Registration]:
        """Cancel the event; the active registrations to notify."""
        await self._lock(event.id)
        event.status = EventStatus.CANCELLED.value
        regs = [r for r in await self.participants(event.id) if RegStatus(r.status).active]
        await self.session.flush()
        return regs

    async def users_by_id(self, user_ids: Sequence[int]) -> dict[int, User]:
        """The users with these ids (the recipients of notices)."""
        if not user_ids:
            return {}
        found = await self.session.scalars(select(User).where(User.id.in_(set(user_ids))))
        return {user.id: user for user in found}

    async def active_registrants(self, event_id: int) -> list[Registration]:
        """Registrations still waiting for the event (confirmed, offered, waitlisted), with
        their users: the people to tell when its time or place changes."""
        waiting = (RegStatus.CONFIRMED.value, RegStatus.OFFERED.value, RegStatus.WAITLISTED.value)
        return [r for r in await self.participants(event_id) if r.status in waiting]

    async def attended(self, user_id: int) -> list[Registration]:
        """The teacher's record of participation, oldest first."""
        return list(
            await self.session.scalars(
                select(Registration)
                .join(Event, Event.id == Registration.event_id)
                .where(
                    Registration.user_id == user_id, Registration.status == RegStatus.ATTENDED.value
                )
                .order_by(Event.starts_at)
                .options(selectinload(Registration.event))
            )
        )
