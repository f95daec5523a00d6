"""The Monday statistics digest: every Monday at `Policy.digest_time` (09:00) in each
coordinator's and administrator's own time zone, last week's summary through the outbox.

One row per staff member per Monday (`digest_key`); the week it sums up is in the payload and
the numbers are counted when the row is due (`outbox.render_stats`), so they are never stale.
A row is planned

* by the scheduler's hourly `plan_all` (new staff, zones changed, anyone missed) — the key
  keeps it to one row;
* after one is sent, for the Monday after (`services.followups`);
* again when the AGENDA category is switched back on or the zone changes
  (`services.reminders.PLANNERS`); muting AGENDA withdraws it (the digest is in that category).

Only stored staff roles get one: a coordinator with a municipality assigned, an
administrator (`users.role`). A teacher never does, and a row of someone who lost the role
renders nothing (the renderer checks the role again).

No aiogram here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo

from db.models import User
from db.repo import Repo
from domain.notices import Notice, NoticeKind
from domain.reminders import Category, at_local
from domain.roles import Role, effective_role
from domain.stats import StatsReport

__all__ = [
    "competency_names",
    "digest_due",
    "digest_key",
    "plan_all",
    "plan_digest",
    "plan_user_digest",
    "scope_names",
    "stored_role",
]


def digest_key(user_id: int, monday: date) -> str:
    return f"digest:{user_id}:{monday.isoformat()}"


def digest_due(now: datetime, tz: tzinfo, at: time) -> tuple[date, datetime]:
    """The next Monday (local, in `tz`) whose `at` is after `now`, and that moment in UTC."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    due = at_local(monday, at, tz)
    if due <= now:
        monday += timedelta(days=7)
        due = at_local(monday, at, tz)
    return monday, due


async def stored_role(repo: Repo, user: User) -> Role:
    """The user's role as stored (ADMIN_IDS are not known here): a coordinator or school
    methodist without an assigned scope is a teacher."""
    try:
        role = Role(user.role)
    except ValueError:
        return Role.TEACHER
    has_scope = not role.scoped or await repo.staff.scope(user, role) is not None
    return effective_role(user.role, user.telegram_id, frozenset(), has_scope=has_scope)


async def _wants(repo: Repo, user: User) -> bool:
    return (
        user.erased_at is None
        and user.telegram_id is not None
        and Category.AGENDA.value not in (user.muted or [])
        and (await stored_role(repo, user)).at_least(Role.SCHOOL_METHODIST)
    )


async def plan_digest(repo: Repo, user: User, now: datetime) -> int:
    """Plan the user's next digest (if they are staff and did not mute AGENDA); 1 if a row
    was added, 0 if not (or it is planned already)."""
    if not await _wants(repo, user):
        return 0
    monday, due = digest_due(now, repo.policy.tz(user.timezone), repo.policy.digest_time)
    key = digest_key(user.id, monday)
    notice = Notice(
        user.id,
        NoticeKind.STATS_DIGEST,
        {"week": (monday - timedelta(days=7)).isoformat()},
        due_at=due,
        key=key,
        ref=f"digest:{user.id}",
    )
    return await repo.outbox.add([notice], now)


async def plan_user_digest(repo: Repo, user_id: int, now: datetime) -> int:
    """Plan the user's digest again (a new zone, AGENDA switched back on): the pending row is
    withdrawn first, since a new zone moves its hour."""
    user = await repo.users.get(user_id)
    if user is None:
        return 0
    await repo.outbox.cancel_kinds(user_id, [NoticeKind.STATS_DIGEST], "digest planned again")
    return await plan_digest(repo, user, now)


async def plan_all(repo: Repo, now: datetime) -> int:
    """Every staff member's next digest (the key keeps it to one row each); how many rows
    were added."""
    added = 0
    staff = [Role.SCHOOL_METHODIST, Role.COORDINATOR, Role.ADMIN]
    for user in await repo.users.with_roles(staff):
        added += await plan_digest(repo, user, now)
    return added


# ------------------------------------------------------------------ what the texts name


async def scope_names(repo: Repo, municipality_ids: Iterable[int], locale: str) -> str:
    """The municipalities' names, comma-separated, in the reader's language."""
    wanted = set(municipality_ids)
    names = [m.name(locale) for m in await repo.reference.municipalities() if m.id in wanted]
    return ", ".join(names) or "—"


async def scope_label(repo: Repo, report: StatsReport, locale: str) -> str | None:
    """Whose numbers a report holds: a school, municipalities; None: the whole region."""
    if report.school_ids:
        schools = [await repo.reference.school(school_id) for school_id in report.school_ids]
        return ", ".join(s.short_name for s in schools if s is not None) or "—"
    if report.municipality_ids is None:
        return None
    return await scope_names(repo, report.municipality_ids, locale)


async def competency_names(repo: Repo, locale: str) -> dict[str, str]:
    """The active framework's short names of the competencies (code → name)."""
    framework = await repo.frameworks.active()
    if framework is None:
        return {}
    return {c.code: c.short.text(locale) for c in framework.competencies}
