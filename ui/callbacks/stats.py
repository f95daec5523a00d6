"""Callback data of `/stats`: the period, the breakdown's sort, the charts and the workbook.

Nothing here is trusted: `kind` and `sort` are enums (a forged value does not match the
filter), and `day` is read by `handlers.stats.period_of`, which keeps it within the periods a
staff member may page through (never the future, at most `MAX_YEARS_BACK` years back).
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from domain.stats import IndicatorCode, PeriodKind

__all__ = ["StatsAction", "StatsCb"]


class StatsAction(StrEnum):
    #: the summary text of the period (◀ ▶, a kind button, a sort button)
    SHOW = "show"
    #: the three chart images
    CHARTS = "charts"
    #: the XLSX workbook
    XLSX = "xlsx"


class StatsCb(CallbackData, prefix="sts"):
    action: StatsAction
    kind: PeriodKind = PeriodKind.WEEK
    #: a day of the period as yyyymmdd (0: the current period)
    day: int = 0
    #: the indicator the breakdown is sorted by
    sort: IndicatorCode = IndicatorCode.DIAGNOSED
    #: open the screen as a new message, leaving the one with the button as it is (the digest)
    fresh: bool = False
