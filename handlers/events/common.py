"""Small helpers the event screens share: the registration status line and the audience check.
Dates, seats and labels are in `ui.formatting` and `ui.texts`."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from db.models import Event, Registration, User
from db.repo import Repo
from db.repositories.event_views import TeacherFacts
from domain.assessment import AssessmentResult
from domain.audience import Audience, eligible
from domain.events import RegStatus
from ui.formatting import moment_text


def status_text(reg: Registration | None, position: int | None, tz: tzinfo) -> str:
    if reg is None or reg.status == RegStatus.CANCELLED.value:
        return ""
    status = RegStatus(reg.status)
    if status is RegStatus.WAITLISTED:
        return _("🕒 You are number {n} on the waitlist").format(n=position or "?")
    if status is RegStatus.OFFERED and reg.offer_expires_at:
        return _("🎟 A seat is offered to you until {time}").format(
            time=moment_text(reg.offer_expires_at, tz)
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


def facts_eligible(facts: TeacherFacts, event: Event) -> bool:
    """`user_eligible` for a teacher whose facts are read already."""
    return eligible(audience_of(event), facts.municipality_id, facts.position_code, facts.subjects)


def interests(facts: TeacherFacts) -> tuple[set[str], set[str]]:
    """The teacher's deficits (latest self-assessment) and active route competencies."""
    latest = facts.latest_result
    deficits = set(AssessmentResult.from_json(latest).deficits) if latest else set()
    return deficits, set(facts.route_competencies)


def not_available() -> str:
    return _("This event is not available to you.")


async def own_event(query: CallbackQuery, repo: Repo, user: User, event_id: int) -> Event | None:
    event = await repo.events.get(event_id)
    if event is None or not await user_eligible(repo, user, event):
        await query.answer(not_available(), show_alert=True)
        return None
    return event
