"""`/stats` (and "📊 Statistics" under the staff tools): a coordinator's statistics of their
scope, an administrator's of the region, as a short text with ◀ ▶ periods, the period kinds,
the breakdown's sort, 📊 the charts and 📥 the workbook.

The router lets only staff in (`RoleFilter`: school methodists, coordinators, administrators); the numbers come
from `services.stats.report`, which checks the role and the scope again. Callback data is
never trusted: the kind and the sort are enums, the day is kept within the periods one may
page through (`period_of`).

The report function is the dispatcher's `stats_report` when set (a test seam), otherwise
`services.stats.report`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, tzinfo
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.middlewares.offload import OFFLOAD
from core.clock import Clock
from db.models import User
from db.repo import Repo
from domain.roles import Role
from domain.stats import IndicatorCode, Period, PeriodKind, StatsReport
from handlers.common import show
from handlers.filters import RoleFilter
from services import stats as stats_service
from services.digest import competency_names, scope_label
from ui.callbacks.stats import StatsAction, StatsCb
from ui.files.stats_workbook import workbook_bytes, workbook_name
from ui.keyboards.menu import MENU_STATS
from ui.keyboards.stats import stats_keyboard
from ui.stats import report_charts, stats_text

__all__ = ["MAX_YEARS_BACK", "TREND_WEEKS", "make_router", "period_of"]

#: how far back ◀ may go
MAX_YEARS_BACK = 10
#: weeks of the trend chart
TREND_WEEKS = 8

ReportFn = Callable[..., Awaitable[Any]]


def period_of(kind: PeriodKind, day: int, today: date) -> Period | None:
    """The period of `kind` containing the day `day` (yyyymmdd; 0: today), or None when the
    day is no date, lies in a future period or more than `MAX_YEARS_BACK` years back."""
    current = Period.containing(kind, today)
    if day == 0:
        return current
    try:
        parsed = date(day // 10000, day // 100 % 100, day % 100)
    except (ValueError, OverflowError):
        return None
    period = Period.containing(kind, parsed)
    if period.start > current.start or parsed.year < today.year - MAX_YEARS_BACK:
        return None
    return period


def _report_fn(stats_report: ReportFn | None) -> ReportFn:
    if stats_report is not None:
        return stats_report
    return stats_service.report


async def _scope_name(repo: Repo, report: StatsReport, locale: str) -> str:
    return await scope_label(repo, report, locale) or _("the whole region")


async def _report(
    repo: Repo,
    staff: User,
    role: Role,
    period: Period,
    tz: tzinfo,
    stats_report: ReportFn | None,
    *,
    now: datetime,
    trend_weeks: int = 0,
) -> StatsReport | None:
    """`services.stats.report` in the reader's language; `now` (the bot's clock) decides
    which events are upcoming for the seat suggestions."""
    found = await _report_fn(stats_report)(
        repo,
        staff,
        role,
        period,
        tz,
        trend_weeks=trend_weeks,
        locale=get_i18n().current_locale,
        now=now,
    )
    return found if isinstance(found, StatsReport) else None


async def _screen(
    event: Message | CallbackQuery,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    period: Period,
    sort: IndicatorCode,
    now: datetime,
    stats_report: ReportFn | None,
    *,
    fresh: bool = False,
) -> None:
    """The summary with its keyboard: a new message for a command (or a `fresh` button),
    otherwise the message with the button edited in place."""
    today = now.astimezone(tz).date()
    report = await _report(repo, staff, role, period, tz, stats_report, now=now)
    if report is None:
        await show(event, _("Statistics are for coordinators and administrators."))
        return
    locale = get_i18n().current_locale
    text = stats_text(
        report,
        scope=await _scope_name(repo, report, locale),
        locale=locale,
        sort=sort,
        by_school=report.by_school,
        names=await competency_names(repo, locale),
    )
    markup = stats_keyboard(
        period,
        sort,
        codes=[i.code for i in report.indicators],
        has_next=period.start < Period.containing(period.kind, today).start,
        has_previous=period.shift(-1).start.year >= today.year - MAX_YEARS_BACK,
    )
    if fresh and isinstance(event, CallbackQuery) and event.message is not None:
        await event.bot.send_message(event.message.chat.id, text, reply_markup=markup)  # type: ignore[union-attr]
        await event.answer()
        return
    await show(event, text, markup)


async def cmd_stats(
    message: Message,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    clock: Clock,
    stats_report: ReportFn | None = None,
) -> None:
    await state.clear()
    now = clock.now()
    period = Period.containing(PeriodKind.WEEK, now.astimezone(tz).date())
    await _screen(
        message, repo, staff, role, tz, period, IndicatorCode.DIAGNOSED, now, stats_report
    )


async def on_stats(
    query: CallbackQuery,
    callback_data: StatsCb,
    bot: Bot,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    clock: Clock,
    stats_report: ReportFn | None = None,
) -> None:
    now = clock.now()
    period = period_of(callback_data.kind, callback_data.day, now.astimezone(tz).date())
    if period is None:
        await query.answer(_("There are no statistics for that period."), show_alert=True)
        return
    if callback_data.action is StatsAction.SHOW:
        await _screen(
            query,
            repo,
            staff,
            role,
            tz,
            period,
            callback_data.sort,
            now,
            stats_report,
            fresh=callback_data.fresh,
        )
        return
    if not isinstance(query.message, Message):
        await query.answer()
        return
    chat_id = query.message.chat.id
    locale = get_i18n().current_locale
    if callback_data.action is StatsAction.XLSX:
        report = await _report(
            repo, staff, role, period, tz, stats_report, now=now, trend_weeks=TREND_WEEKS
        )
        if report is None:
            await query.answer(
                _("Statistics are for coordinators and administrators."), show_alert=True
            )
            return
        await query.answer(_("Preparing the workbook…"))
        data = workbook_bytes(
            report,
            scope=await _scope_name(repo, report, locale),
            locale=locale,
            names=await competency_names(repo, locale),
            by_school=report.by_school,
        )
        await bot.send_document(
            chat_id,
            BufferedInputFile(data, filename=workbook_name(report.period)),
            caption=_("📥 Statistics workbook"),
        )
        return
    report = await _report(
        repo, staff, role, period, tz, stats_report, now=now, trend_weeks=TREND_WEEKS
    )
    if report is None:
        await query.answer(
            _("Statistics are for coordinators and administrators."), show_alert=True
        )
        return
    await query.answer(_("Drawing the charts…"))
    specs = report_charts(
        report,
        names=await competency_names(repo, locale),
        locale=locale,
        by_school=report.by_school,
    )
    for spec in specs:
        png = await asyncio.to_thread(spec.draw)
        await bot.send_photo(
            chat_id, BufferedInputFile(png, filename=spec.filename), caption=spec.caption
        )


def make_router() -> Router:
    router = Router(name="stats")
    router.message.filter(RoleFilter(Role.SCHOOL_METHODIST))
    router.callback_query.filter(RoleFilter(Role.SCHOOL_METHODIST))
    router.message.register(cmd_stats, Command("stats"), flags=OFFLOAD)
    router.message.register(cmd_stats, F.text == MENU_STATS, flags=OFFLOAD)
    router.callback_query.register(on_stats, StatsCb.filter(), flags=OFFLOAD)
    return router
