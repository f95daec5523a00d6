"""Reminders about the route and the self-assessment, planned as outbox rows in the
transaction of whatever changed them.

* `plan_route`: one ROUTE_NUDGE (the open steps near or past their target date, all in one
  message, at most one a week) and one ROUTE_STALLED ("shall we continue?" after
  `stall_days` without progress; its key names the last progress, so one per stall).
* `plan_assessment`: ASSESSMENT_UNFINISHED after 2 and 7 days for the latest attempt left
  unfinished, or one RETAKE_AVAILABLE once the latest finished one may be taken again.
* `postpone_step`: "🔄 +1 week" under a nudge.

Each planner withdraws the user's pending rows of its kinds and plans them afresh from the
database, so calling it after any change (a step closed or postponed, a route built or
replaced, an attempt started or finished, the category switched back on, a new time zone)
leaves exactly the rows that apply. The times are `domain.nudges` (10:00 in the user's zone).
Whether a row is still worth sending is decided again when it is due (`outbox.render_nudges`).

Runs in the caller's unit of work; never commits, never talks to Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from db.models import Route, RouteStep, User
from db.repo import Repo
from domain.assessment import next_attempt_at
from domain.notices import Notice, NoticeKind
from domain.nudges import (
    is_open,
    last_progress,
    local_day,
    nudge_due,
    postponed,
    retake_due,
    stall_due,
    unfinished_due,
)
from domain.reminders import Category

__all__ = [
    "ASSESSMENT_KINDS",
    "ROUTE_KINDS",
    "PostponeRefusal",
    "Postponed",
    "attempt_ref",
    "next_nudge",
    "plan_assessment",
    "plan_route",
    "postpone_step",
    "route_progress",
    "route_ref",
]

ROUTE_KINDS = (NoticeKind.ROUTE_NUDGE, NoticeKind.ROUTE_STALLED)
ASSESSMENT_KINDS = (NoticeKind.ASSESSMENT_UNFINISHED, NoticeKind.RETAKE_AVAILABLE)


def route_ref(route_id: int) -> str:
    return f"route:{route_id}"


def attempt_ref(attempt_id: int) -> str:
    return f"attempt:{attempt_id}"


def route_progress(route: Route) -> datetime:
    """The route's last progress (its steps must be loaded)."""
    return last_progress(route.created_at, (step.completed_at for step in route.steps))


async def _recipient(repo: Repo, user_id: int, category: Category) -> User | None:
    """The user, if they may get reminders of `category` (not erased, not switched off)."""
    user = await repo.users.get(user_id)
    if user is None or user.telegram_id is None or category.value in (user.muted or []):
        return None
    return user


async def plan_route(repo: Repo, user_id: int, now: datetime) -> int:
    """Withdraw the user's pending route reminders and plan them from the active route: the
    next nudge and the stall message. How many rows were added."""
    await repo.outbox.cancel_kinds(user_id, ROUTE_KINDS, "the route changed")
    user = await _recipient(repo, user_id, Category.ROUTE)
    if user is None:
        return 0
    route = await repo.routes.active(user_id)
    if route is None or route.status != "active":
        return 0
    targets = [step.target_date for step in route.steps if is_open(step.status)]
    if not targets:
        return 0
    policy, tz = repo.policy, repo.policy.tz(user.timezone)
    ref = route_ref(route.id)
    notices = []
    last = await repo.outbox.last_sent(user_id, NoticeKind.ROUTE_NUDGE)
    nudge_at = nudge_due(policy, targets, last, now, tz)
    if nudge_at is not None:
        notices.append(
            Notice(
                user_id,
                NoticeKind.ROUTE_NUDGE,
                {"route_id": route.id},
                due_at=nudge_at,
                key=f"nudge:{route.id}:{nudge_at.isoformat()}",
                ref=ref,
            )
        )
    since = route_progress(route)
    notices.append(
        Notice(
            user_id,
            NoticeKind.ROUTE_STALLED,
            {"route_id": route.id, "since": since.isoformat()},
            due_at=stall_due(policy, since, now, tz),
            key=f"stall:{route.id}:{since.isoformat()}",
            ref=ref,
        )
    )
    return await repo.outbox.add(notices, now)


async def next_nudge(repo: Repo, user_id: int, now: datetime) -> None:
    """A nudge was sent (the sender's follow-up, in the transaction that marks it): plan the
    next one, a week later at the earliest."""
    await plan_route(repo, user_id, now)


async def plan_assessment(repo: Repo, user_id: int, now: datetime) -> int:
    """Withdraw the user's pending self-assessment reminders and plan them from the latest
    attempt: unfinished → after 2 and 7 days; finished → when a retake becomes possible."""
    await repo.outbox.cancel_kinds(user_id, ASSESSMENT_KINDS, "the self-assessment changed")
    user = await _recipient(repo, user_id, Category.ASSESSMENT)
    if user is None:
        return 0
    policy, tz = repo.policy, repo.policy.tz(user.timezone)
    notices = []
    open_attempt = await repo.assessments.open_attempt(user_id)
    if open_attempt is not None:
        started = open_attempt.started_at.isoformat()
        # the start time is part of the key: an attempt started over may get the id of the
        # one it replaced (SQLite reuses the highest id), and must be reminded all the same
        notices = [
            Notice(
                user_id,
                NoticeKind.ASSESSMENT_UNFINISHED,
                {"attempt_id": open_attempt.id, "days": planned.days, "started": started},
                due_at=planned.at,
                key=f"unfinished:{open_attempt.id}:{planned.days}:{started}",
                ref=attempt_ref(open_attempt.id),
            )
            for planned in unfinished_due(policy, open_attempt.started_at, now, tz)
        ]
    else:
        finished = await repo.assessments.finished(user_id)
        framework = await repo.frameworks.active()
        if finished and framework is not None and finished[-1].finished_at is not None:
            latest = finished[-1]
            assert latest.finished_at is not None
            allowed = next_attempt_at(latest.finished_at, framework.settings.retake_days)
            due = retake_due(policy, allowed, now, tz)
            if due is not None:
                notices.append(
                    Notice(
                        user_id,
                        NoticeKind.RETAKE_AVAILABLE,
                        {"attempt_id": latest.id},
                        due_at=due,
                        key=f"retake:{latest.id}",
                        ref=attempt_ref(latest.id),
                    )
                )
    return await repo.outbox.add(notices, now) if notices else 0


# ------------------------------------------------------------------ 🔄 +1 week


class PostponeRefusal(StrEnum):
    #: not the user's step of a current route (a forged or old button)
    STALE = "stale"
    #: the step is done or skipped: nothing to move
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Postponed:
    step: RouteStep


async def postpone_step(
    repo: Repo, user_id: int, step_id: int, now: datetime
) -> Postponed | PostponeRefusal:
    """Move an open step's target date a week on (from today if it has passed) and plan the
    route's reminders again."""
    step = await repo.routes.step(step_id)
    if step is None or step.route.user_id != user_id or step.route.status == "archived":
        return PostponeRefusal.STALE
    if not is_open(step.status):
        return PostponeRefusal.CLOSED
    user = await repo.users.require(user_id)
    today = local_day(now, repo.policy.tz(user.timezone))
    step.target_date = postponed(step.target_date, today)
    await repo.session.flush()
    await plan_route(repo, user_id, now)
    return Postponed(step)
