"""When the route's and the self-assessment's reminders are due: pure rules on top of
`domain.reminders.Policy`.

Every one of these reminders arrives at the policy's `day_time` (10:00) in the recipient's
own zone, never earlier than its rule allows:

* a route nudge on the morning the first open step comes within `step_window_days` of its
  target date, and at most one every `nudge_every_days` days, counted in the recipient's
  calendar days (sent on a Monday morning, the next may come the Monday after, at the same
  hour); a window that opened in the past moves to the next morning;
* "shall we continue?" on the first morning after `stall_days` without progress;
* an unfinished self-assessment on the first morning after `unfinished_days` (2 and 7) since
  it was started: never less than two full days;
* a retake on the first morning after it became possible, so its button always works.

Plain Python: no database, no aiogram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from domain.reminders import Policy, at_local
from domain.route import StepStatus

#: how far "🔄 +1 week" moves a step's target date
POSTPONE_DAYS = 7
#: how many due steps one nudge lists (the rest: "and N more — /route")
NUDGE_MAX_STEPS = 5


def morning_after(moment: datetime, day_time: time, tz: tzinfo) -> datetime:
    """The first `day_time` (local to `tz`) at or after `moment`, in UTC."""
    local = moment.astimezone(tz)
    at = at_local(local.date(), day_time, tz)
    if at < moment:
        at = at_local(local.date() + timedelta(days=1), day_time, tz)
    return at


def local_day(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def nudge_due(
    policy: Policy,
    open_targets: Iterable[date],
    last_nudge: datetime | None,
    now: datetime,
    tz: tzinfo,
) -> datetime | None:
    """When the next route nudge is due (None without open steps): the morning the earliest
    open step enters the window, not before the morning `nudge_every_days` calendar days
    after the last nudge, and never in the past (a morning already gone moves to the next)."""
    targets = list(open_targets)
    if not targets:
        return None
    day = min(targets) - timedelta(days=policy.step_window_days)
    if last_nudge is not None:
        day = max(day, local_day(last_nudge, tz) + timedelta(days=policy.nudge_every_days))
    return max(at_local(day, policy.day_time, tz), morning_after(now, policy.day_time, tz))


def is_open(status: str) -> bool:
    return not StepStatus(status).closed


def due_targets(policy: Policy, targets: Iterable[date], today: date) -> list[date]:
    """The targets a nudge sent `today` lists: near (within the window) or passed."""
    return [target for target in targets if policy.near(target, today)]


def last_progress(created_at: datetime, completions: Iterable[datetime | None]) -> datetime:
    """The route's last progress: the latest step closed, or the route's creation."""
    return max([created_at, *(at for at in completions if at is not None)])


def stall_due(policy: Policy, progress: datetime, now: datetime, tz: tzinfo) -> datetime:
    """The morning after `stall_days` without progress (the next morning if that is gone)."""
    return max(
        morning_after(policy.stall_at(progress), policy.day_time, tz),
        morning_after(now, policy.day_time, tz),
    )


@dataclass(frozen=True, slots=True)
class Planned:
    """One reminder of an unfinished self-assessment: after `days` days, due `at`."""

    days: int
    at: datetime


def unfinished_due(
    policy: Policy, started_at: datetime, now: datetime, tz: tzinfo
) -> list[Planned]:
    """The reminders of an attempt started at `started_at` that are still to come: each on
    the morning after its number of days. When some are overdue already (the category was
    off, the bot was down), only the latest of them is kept, due the next morning: one
    reminder, not a burst."""
    planned = [
        Planned(days, morning_after(at, policy.day_time, tz))
        for days, at in policy.unfinished_at(started_at)
    ]
    ahead = [p for p in planned if p.at >= now]
    gone = [p for p in planned if p.at < now]
    if gone:
        ahead.insert(0, Planned(gone[-1].days, morning_after(now, policy.day_time, tz)))
    return ahead


def retake_due(
    policy: Policy, allowed_at: datetime | None, now: datetime, tz: tzinfo
) -> datetime | None:
    """The morning after a retake became possible (None: it always was: nothing to tell)."""
    if allowed_at is None:
        return None
    return max(
        morning_after(allowed_at, policy.day_time, tz), morning_after(now, policy.day_time, tz)
    )


def postponed(target: date, today: date, days: int = POSTPONE_DAYS) -> date:
    """ "🔄 +1 week": a week after the target date, or after today for an overdue step (a week
    from a date long gone would still be overdue)."""
    return max(target, today) + timedelta(days=days)


__all__ = [
    "NUDGE_MAX_STEPS",
    "POSTPONE_DAYS",
    "Planned",
    "due_targets",
    "is_open",
    "last_progress",
    "local_day",
    "morning_after",
    "nudge_due",
    "postponed",
    "retake_due",
    "stall_due",
    "unfinished_due",
]
