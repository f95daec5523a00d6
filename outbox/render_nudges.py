"""The route's and the self-assessment's reminders, rendered at send time (`outbox.render`
lists them in `RENDERERS` and adds the 🔕 row): each is decided again from what the
database says now, and returns None when there is nothing to tell any more (the steps are
done or moved, progress was made, the attempt finished, a newer one exists).

Step titles come from the route (a methodist's step has the methodist's words): escaped here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from db.models import Route, RouteStep
from domain.assessment import next_attempt_at, progress
from domain.nudges import NUDGE_MAX_STEPS, is_open, local_day
from outbox.rendered import RenderContext, Rendered
from services.nudges import route_progress
from ui.callbacks.assessment import AssessAction, AssessCb
from ui.callbacks.route import NudgeAction, NudgeCb, RouteAction, RouteCb
from ui.formatting import date_text, h
from ui.keyboards.common import button


def _rendered(text: str, rows: list[list[InlineKeyboardButton]]) -> Rendered:
    return Rendered(text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


def _title(step: RouteStep, locale: str) -> str:
    titles = step.content.get("title") or {}
    return h(titles.get("en" if locale == "en" else "ru") or titles.get("ru") or "—")


async def _active_route(ctx: RenderContext, payload: Mapping[str, Any]) -> Route | None:
    """The route the row is about, while it is still active (not completed, not replaced)."""
    route = await ctx.repo.routes.get(int(payload["route_id"]))
    if route is None or route.status != "active":
        return None
    return route


def _open_steps(route: Route) -> list[RouteStep]:
    return sorted(
        (step for step in route.steps if is_open(step.status)),
        key=lambda step: (step.target_date, step.position),
    )


def _by(target: date, today: date) -> str:
    if target < today:
        return _("by {date}, overdue").format(date=date_text(target))
    return _("by {date}").format(date=date_text(target))


async def route_nudge(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    """Every open step near or past its target date, as of the recipient's today: a line and
    a row of buttons each (up to NUDGE_MAX_STEPS); None if none is due any more."""
    route = await _active_route(ctx, payload)
    if route is None:
        return None
    today = local_day(ctx.now, ctx.tz)
    due = [s for s in _open_steps(route) if ctx.repo.policy.near(s.target_date, today)]
    if not due:
        return None
    shown = due[:NUDGE_MAX_STEPS]
    lines = [_("🧭 A gentle reminder about your route. These steps are waiting for you:"), ""]
    rows = []
    for number, step in enumerate(shown, start=1):
        lines.append(
            f"{number}. <b>{_title(step, ctx.locale)}</b> — {_by(step.target_date, today)}"
        )
        rows.append(
            [
                button(
                    _("✅ {n}. Done").format(n=number),
                    NudgeCb(action=NudgeAction.DONE, step=step.id),
                ),
                button(
                    _("🔄 {n}. +1 week").format(n=number),
                    NudgeCb(action=NudgeAction.POSTPONE, step=step.id),
                ),
            ]
        )
    more = len(due) - len(shown)
    if more:
        lines.append(
            ngettext("…and {n} more step: /route", "…and {n} more steps: /route", more).format(
                n=more
            )
        )
    lines += [
        "",
        _(
            "Done already? Mark it. Need more time? Move it by a week: a route is meant to "
            "fit your work, not the other way round."
        ),
    ]
    return _rendered("\n".join(lines), rows)


async def route_stalled(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    """ "Shall we continue?" with the next open step; None if progress was made since the
    row was planned or the route is no longer active."""
    route = await _active_route(ctx, payload)
    if route is None:
        return None
    since = route_progress(route)
    planned = payload.get("since")
    if planned is None or datetime.fromisoformat(str(planned)) != since:
        return None  # progress since the row was planned: its own row is planned
    steps = _open_steps(route)
    if not steps:
        return None
    step = steps[0]
    today = local_day(ctx.now, ctx.tz)
    text = "\n".join(
        [
            _(
                "🧭 Shall we continue your route? Nothing has moved on it since {date}, "
                "and that is all right: one small step is enough to start again."
            ).format(date=date_text(since, ctx.tz)),
            "",
            _("Next step: <b>{title}</b> — {by}").format(
                title=_title(step, ctx.locale), by=_by(step.target_date, today)
            ),
        ]
    )
    return _rendered(
        text,
        [[button(_("▶️ Open the next step"), RouteCb(action=RouteAction.STEP, step=step.id))]],
    )


async def assessment_unfinished(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    """ "You answered N of M statements; continue?"; None if the attempt was finished, started
    over or is not the latest."""
    attempt = await ctx.repo.assessments.get(int(payload["attempt_id"]))
    if attempt is None or attempt.finished_at is not None:
        return None
    started = payload.get("started")
    if started is not None and attempt.started_at.isoformat() != str(started):
        return None  # started over: the new attempt got the old one's id
    latest = await ctx.repo.assessments.open_attempt(attempt.user_id)
    if latest is None or latest.id != attempt.id:
        return None
    framework = await ctx.repo.frameworks.get(attempt.framework_version)
    if framework is None:
        return None
    done = progress(
        framework.statements(attempt.is_manager), await ctx.repo.assessments.answers(attempt.id)
    )
    text = _(
        "📝 Your self-assessment is waiting: you answered {answered} of {total} statements. "
        "Continue where you stopped? Your answers are saved."
    ).format(answered=done.answered, total=done.total)
    return _rendered(
        text,
        [[button(_("▶️ Continue"), AssessCb(action=AssessAction.CONTINUE, attempt=attempt.id))]],
    )


async def retake_available(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    """The self-assessment can be taken again, with the before/after promise; None if a
    newer attempt exists or the retake is not possible yet."""
    attempt = await ctx.repo.assessments.get(int(payload["attempt_id"]))
    if attempt is None or attempt.finished_at is None:
        return None
    if await ctx.repo.assessments.open_attempt(attempt.user_id) is not None:
        return None
    finished = await ctx.repo.assessments.finished(attempt.user_id)
    if not finished or finished[-1].id != attempt.id:
        return None
    framework = await ctx.repo.frameworks.active()
    if framework is None:
        return None
    allowed: datetime | None = next_attempt_at(attempt.finished_at, framework.settings.retake_days)
    if allowed is not None and allowed > ctx.now:
        return None
    text = _(
        "📝 You can take the self-assessment again. Take it and see how your results have "
        "changed since {date}: you will get a before/after comparison."
    ).format(date=date_text(attempt.finished_at, ctx.tz))
    return _rendered(
        text, [[button(_("▶️ Start the self-assessment"), AssessCb(action=AssessAction.START))]]
    )


__all__ = ["assessment_unfinished", "retake_available", "route_nudge", "route_stalled"]
