"""The data subject's rights (152-FZ): erasure that also releases the person's seats.

`erase_user` runs in the caller's unit of work. It cancels the person's upcoming
registrations through the same path as a teacher's own cancellation
(`RegistrationRepo.cancel`, then `RegistrationRepo.promote`), schedules the expiry of every
offer it makes, and erases the personal data (`PersonalDataRepo.erase`). It returns the
offered registrations: the caller tells those people after the commit
(`handlers.events.notify_offer`), so nobody waits on Telegram under a lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.models import User
from db.repo import Repo
from domain.events import EventStatus, RegStatus


@dataclass(frozen=True, slots=True)
class Erasure:
    #: registrations that got a freed seat offered (first in line): to notify after commit
    offered: tuple[int, ...]
    #: how many of the person's registrations were cancelled
    cancelled: int


async def erase_user(repo: Repo, user: User, now: datetime) -> Erasure:
    """Release the person's seats and places in line, then erase their personal data."""
    offered: list[int] = []
    cancelled = 0
    for reg in await repo.events.of_user(user.id):
        event = reg.event
        if (
            not RegStatus(reg.status).active
            or reg.status == RegStatus.ATTENDED.value
            or event.status != EventStatus.SCHEDULED.value
            or event.starts_at <= now
        ):
            continue  # past participation stays as an anonymous record
        held_seat = RegStatus(reg.status).holds_seat
        await repo.events.cancel(reg)
        cancelled += 1
        if held_seat:
            for promoted in await repo.events.promote(reg.event_id, now):
                assert promoted.offer_expires_at is not None
                await repo.jobs.schedule(
                    "offer_expire", promoted.offer_expires_at, reg_id=promoted.id
                )
                offered.append(promoted.id)
    await repo.audit.record("data_erased", actor=user, registrations_cancelled=cancelled)
    await repo.users.erase(user)
    return Erasure(offered=tuple(offered), cancelled=cancelled)
