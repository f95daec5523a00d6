"""Small helpers the event screens share: labels, dates, seats, the audience check."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from db.models import Event, Registration, User
from db.repo import Repo
from domain.assessment import AssessmentResult
from domain.audience import Audience, eligible
from domain.events import CANCEL_BEFORE, RegStatus, days_ahead, free_seats


def kind_label(kind: str) -> str:
    return {
        "internship": _("Internship session"),
        "masterclass": _("Master-class"),
        "seminar": _("Seminar"),
        "webinar": _("Webinar"),
        "open_lesson": _("Open lesson"),
        "workshop": _("Pedagogical workshop"),
    }.get(kind, kind)


def _relative(starts_at: datetime, tz: ZoneInfo, now: datetime | None) -> str | None:
    """ "today at 18:00" / "tomorrow at 10:00" in the service zone, else None."""
    if now is None:
        return None
    time = starts_at.astimezone(tz).strftime("%H:%M")
    days = days_ahead(starts_at, now, tz)
    if days == 0:
        return _("today at {time}").format(time=time)
    if days == 1:
        return _("tomorrow at {time}").format(time=time)
    return None


def when_text(event: Event, tz: ZoneInfo, now: datetime | None = None) -> str:
    """ "05.12.2026, 15:00–17:00"; with `now`, today's and tomorrow's events say so first:
    "today at 18:00–20:00 (29.11.2026)"."""
    start, end = event.starts_at.astimezone(tz), event.ends_at.astimezone(tz)
    relative = _relative(event.starts_at, tz, now)
    if relative is not None:
        if start.date() == end.date():
            return f"{relative}–{end:%H:%M} ({start:%d.%m.%Y})"
        return f"{relative} – {end:%d.%m.%Y %H:%M}"
    if start.date() == end.date():
        return f"{start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}"
    return f"{start:%d.%m.%Y %H:%M} – {end:%d.%m.%Y %H:%M}"


def start_text(starts_at: datetime, tz: ZoneInfo, now: datetime) -> str:
    """A list line's start: "today at 18:00", "tomorrow at 10:00" or "05.12 15:00"."""
    return _relative(starts_at, tz, now) or starts_at.astimezone(tz).strftime("%d.%m %H:%M")


def day_label(starts_at: datetime, tz: ZoneInfo, now: datetime) -> str:
    """A button's day: "today", "tomorrow" or "05.12"."""
    days = days_ahead(starts_at, now, tz)
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    return starts_at.astimezone(tz).strftime("%d.%m")


def cancel_rule_text() -> str:
    n = int(CANCEL_BEFORE.total_seconds() // 3600)
    return ngettext(
        "A registration can be cancelled no later than {n} hour before the start.",
        "A registration can be cancelled no later than {n} hours before the start.",
        n,
    ).format(n=n)


def seats_text(capacity: int, taken: int) -> str:
    left = free_seats(capacity, taken)
    if left == 0:
        return _("no seats left: the waitlist is open")
    return ngettext("{n} seat left of {total}", "{n} seats left of {total}", left).format(
        n=left, total=capacity
    )


def status_text(reg: Registration | None, position: int | None, tz: ZoneInfo) -> str:
    if reg is None or reg.status == RegStatus.CANCELLED.value:
        return ""
    status = RegStatus(reg.status)
    if status is RegStatus.WAITLISTED:
        return _("🕒 You are number {n} on the waitlist").format(n=position or "?")
    if status is RegStatus.OFFERED and reg.offer_expires_at:
        return _("🎟 A seat is offered to you until {time}").format(
            time=reg.offer_expires_at.astimezone(tz).strftime("%d.%m %H:%M")
        )
    if status is RegStatus.ATTENDED:
        return _("✅ You attended")
    return _("✅ You are registered")


def audience_of(event: Event) -> Audience:
    return Audience(
        municipality_id=None if event.region_wide else event.municipality_id,
        positions=tuple(event.positions or ()),
        subjects=tuple(event.subjects or ()),
    )


async def user_eligible(repo: Repo, user: User, event: Event) -> bool:
    subjects = await repo.users.subject_codes(user.id)
    return eligible(audience_of(event), user.municipality_id, user.position_code, subjects)


async def interests(repo: Repo, user_id: int) -> tuple[set[str], set[str]]:
    """The teacher's deficits (latest self-assessment) and active route competencies."""
    finished = [a for a in await repo.assessments.finished(user_id) if a.result]
    deficits = (
        set(AssessmentResult.from_json(finished[-1].result).deficits)
        if finished and finished[-1].result
        else set()
    )
    route = await repo.routes.active(user_id)
    in_route = {s.competency for s in route.steps} if route else set()
    return deficits, in_route


async def own_event(query: CallbackQuery, repo: Repo, user: User, event_id: int) -> Event | None:
    event = await repo.events.get(event_id)
    if event is None or not await user_eligible(repo, user, event):
        await query.answer(_("This event is not available to you."), show_alert=True)
        return None
    return event
