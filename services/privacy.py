"""The data subject's rights (152-FZ): erasure that also releases the person's seats.

`erase_user` runs in the caller's unit of work. It cancels the person's upcoming
registrations through the same path as a teacher's own cancellation
(`RegistrationRepo.cancel`, then `services.registrations.offer_freed_seats`: the offers and
their expiry jobs are queued in the same transaction) and erases the personal data
(`PersonalDataRepo.erase`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.models import User
from db.repo import Repo
from domain.events import EventStatus, RegStatus
from services.registrations import offer_freed_seats


@dataclass(frozen=True, slots=True)
class Erasure:
    #: registrations that got a freed seat offered (first in line; their offers are queued)
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
            offered += [n.get("reg_id") for n in await offer_freed_seats(repo, reg.event_id, now)]
    await repo.audit.record("data_erased", actor=user, registrations_cancelled=cancelled)
    await repo.users.erase(user, now)
    return Erasure(offered=tuple(offered), cancelled=cancelled)
