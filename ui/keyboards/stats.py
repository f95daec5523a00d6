"""The keyboard under `/stats`: ◀ ▶ periods, the period kinds, the breakdown's sort,
📊 charts and 📥 the workbook; and the two buttons under the Monday digest."""

from __future__ import annotations

from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from domain.stats import IndicatorCode, Period, PeriodKind
from ui.callbacks.stats import StatsAction, StatsCb
from ui.keyboards.common import button
from ui.stats import indicator_label, kind_name

__all__ = ["day_code", "digest_keyboard", "next_sort", "stats_keyboard"]


def day_code(day: date) -> int:
    """A day as the yyyymmdd number callback data carries."""
    return day.year * 10000 + day.month * 100 + day.day


def next_sort(sort: IndicatorCode, codes: list[IndicatorCode]) -> IndicatorCode:
    """The indicator after `sort` among those the report has (cycling)."""
    if not codes:
        return sort
    if sort not in codes:
        return codes[0]
    return codes[(codes.index(sort) + 1) % len(codes)]


def stats_keyboard(
    period: Period,
    sort: IndicatorCode,
    *,
    codes: list[IndicatorCode],
    has_next: bool,
    has_previous: bool = True,
) -> InlineKeyboardMarkup:
    def show(day: date, kind: PeriodKind = period.kind, by: IndicatorCode = sort) -> StatsCb:
        return StatsCb(action=StatsAction.SHOW, kind=kind, day=day_code(day), sort=by)

    nav: list[InlineKeyboardButton] = []
    if has_previous:
        nav.append(button("◀", show(period.shift(-1).start)))
    if has_next:
        nav.append(button("▶", show(period.shift(1).start)))
    kinds = [
        button(("• " if kind is period.kind else "") + kind_name(kind), show(period.start, kind))
        for kind in PeriodKind
    ]
    following = next_sort(sort, codes)
    rows = [
        nav,
        kinds[:2],
        kinds[2:],
        [
            button(
                _("↕ Sort: {indicator}").format(indicator=indicator_label(following)),
                show(period.start, by=following),
            )
        ],
        [
            button(
                _("📊 Charts"),
                StatsCb(
                    action=StatsAction.CHARTS,
                    kind=period.kind,
                    day=day_code(period.start),
                    sort=sort,
                ),
            ),
            button(
                _("📥 Excel"),
                StatsCb(
                    action=StatsAction.XLSX, kind=period.kind, day=day_code(period.start), sort=sort
                ),
            ),
        ],
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def digest_keyboard(period: Period) -> InlineKeyboardMarkup:
    """Under the Monday digest: open `/stats` on that week, or its workbook."""
    day = day_code(period.start)
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(
                    _("📊 Open /stats"),
                    StatsCb(action=StatsAction.SHOW, kind=period.kind, day=day, fresh=True),
                ),
                button(_("📥 Excel"), StatsCb(action=StatsAction.XLSX, kind=period.kind, day=day)),
            ]
        ]
    )
