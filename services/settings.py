"""/settings: the user's time zone, quiet hours and reminder categories (no aiogram).

Each use case runs in the caller's unit of work. Values come from callback data, which is
never trusted: anything but a known zone, a offered quiet-hours choice or a category the
user may switch raises `Refused`, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.repo import Repo
from domain.reminders import (
    QUIET_CHOICES,
    STAFF_CATEGORIES,
    TEACHER_CATEGORIES,
    ZONE_KEYS,
    Category,
    QuietHours,
    parse_quiet,
)
from services import reminders

__all__ = [
    "Overview",
    "Refused",
    "categories_for",
    "mute",
    "overview",
    "set_quiet",
    "set_timezone",
    "toggle",
]


class Refused(ValueError):
    """A value the settings do not offer (a forged or outdated button)."""


@dataclass(frozen=True, slots=True)
class Overview:
    #: the zone in effect: the user's choice or the service's (`TIMEZONE`)
    zone_key: str
    #: the quiet hours in effect (None: none)
    quiet: QuietHours | None
    #: the categories shown, in order, and the ones switched off
    categories: tuple[Category, ...]
    muted: frozenset[Category]

    def is_on(self, category: Category) -> bool:
        return category not in self.muted


def categories_for(staff: bool) -> tuple[Category, ...]:
    """What a user may switch: staff (coordinators, admins) also have the agenda."""
    return STAFF_CATEGORIES if staff else TEACHER_CATEGORIES


async def overview(repo: Repo, user_id: int, *, staff: bool) -> Overview:
    user = await repo.users.require(user_id)
    prefs = repo.policy.preferences(user.timezone, user.quiet_hours, user.muted)
    default_key = str(getattr(repo.policy.default_tz, "key", repo.policy.default_tz))
    return Overview(
        zone_key=user.timezone if user.timezone in ZONE_KEYS else default_key,
        quiet=prefs.quiet,
        categories=categories_for(staff),
        muted=prefs.muted,
    )


async def set_timezone(repo: Repo, user_id: int, key: str, now: datetime) -> bool:
    """Switch the user's zone; their reminders planned at a local time of day move with it.
    False if it was that zone already."""
    if key not in ZONE_KEYS:
        raise Refused(f"unknown time zone {key!r}")
    user = await repo.users.require(user_id)
    if user.timezone == key:
        return False
    await repo.users.set_timezone(user, key)
    await repo.session.flush()
    await reminders.replan_user(repo, user_id, now)
    return True


async def set_quiet(repo: Repo, user_id: int, code: str, now: datetime) -> bool:
    """Quiet hours from the offered choices ("" = none). Deferred rows are released at send
    time by the sender's decision, so nothing is replanned here. False if unchanged."""
    if code not in QUIET_CHOICES:
        raise Refused(f"unknown quiet hours {code!r}")
    try:
        quiet = parse_quiet(code)
    except ValueError as exc:  # a bad entry in QUIET_CHOICES
        raise Refused(str(exc)) from exc
    user = await repo.users.require(user_id)
    stored = quiet.code() if quiet is not None else ""
    if user.quiet_hours == stored:
        return False
    user.quiet_hours = stored
    await repo.session.flush()
    return True


async def toggle(repo: Repo, user_id: int, category: str, now: datetime, *, staff: bool) -> bool:
    """Switch a category off if it is on, on if it is off; True if it is on afterwards.
    Pending rows of a switched-off category are withdrawn, switching it on plans them again."""
    allowed = {c.value: c for c in categories_for(staff)}
    chosen = allowed.get(category)
    if chosen is None:
        raise Refused(f"category {category!r} cannot be switched by this user")
    user = await repo.users.require(user_id)
    if chosen.value in (user.muted or []):
        await reminders.unmute(repo, user_id, chosen, now)
        return True
    await reminders.mute(repo, user_id, chosen)
    return False


async def mute(repo: Repo, user_id: int, category: str) -> tuple[Category, bool]:
    """🔕 under a reminder: switch its category off (any category: muting never grants
    anything). The category and False if it was off already."""
    try:
        chosen = Category(category)
    except ValueError as exc:
        raise Refused(f"unknown category {category!r}") from exc
    return chosen, await reminders.mute(repo, user_id, chosen)
