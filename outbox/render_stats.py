"""The Monday statistics digest, rendered when it is due (`services.digest` plans it).

The numbers are counted now, for the week in the payload, in the recipient's zone and
language, with the role they hold now: someone who is no longer staff gets nothing (the row is
cancelled unsent), a coordinator gets their scope, an administrator the region. The text is the
`/stats` summary (`ui.stats.stats_text`) under a digest heading, with "📊 Open /stats" and
"📥 Excel" for that week. Like the agenda, it never breaks quiet hours and the AGENDA 🔕
switches it off.

The report function is `services.stats.report`, imported when first needed; `REPORT` replaces
it in tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any

from aiogram.utils.i18n import gettext as _

from domain.roles import Role
from domain.stats import Period, PeriodKind, StatsReport
from outbox.rendered import RenderContext, Rendered
from services import stats as stats_service
from services.digest import competency_names, scope_label, stored_role
from ui.keyboards.stats import digest_keyboard
from ui.stats import stats_text

__all__ = ["REPORT", "stats_digest"]

ReportFn = Callable[..., Awaitable[Any]]

#: a replacement for `services.stats.report` (tests); None: the real one
REPORT: ReportFn | None = None


def _report_fn() -> ReportFn:
    if REPORT is not None:
        return REPORT
    return stats_service.report


async def stats_digest(ctx: RenderContext, payload: Mapping[str, Any]) -> Rendered | None:
    if ctx.user_id is None:
        return None
    user = await ctx.repo.users.get(ctx.user_id)
    if user is None or user.erased_at is not None:
        return None
    role = await stored_role(ctx.repo, user)
    if not role.at_least(Role.SCHOOL_METHODIST):
        return None  # no longer staff
    period = Period.containing(PeriodKind.WEEK, date.fromisoformat(str(payload["week"])))
    report = await _report_fn()(
        ctx.repo, user, role, period, ctx.tz, locale=ctx.locale, now=ctx.now
    )
    if not isinstance(report, StatsReport):
        return None
    scope = await scope_label(ctx.repo, report, ctx.locale) or _("the whole region")
    text = stats_text(
        report,
        scope=scope,
        locale=ctx.locale,
        by_school=report.by_school,
        names=await competency_names(ctx.repo, ctx.locale),
        heading=_("🗓 <b>Last week</b>"),
    )
    return Rendered(text, digest_keyboard(report.period))
