"""How a statistics report reads (`/stats` and the Monday digest): a short summary for a
methodist on a phone, in the reader's language.

Built only from `domain.stats` data: the period ("Неделя 23–29 ноября 2026"), the scope, each
indicator as a share with "n of N", its target (✅/⚠️) and its change in points against the
previous period; the breakdown sorted by the chosen indicator; the activity; the three largest
deficits with what to plan. Every name (schools, municipalities, competencies, events) is
escaped; the text stays within one Telegram message (`TEXT_LIMIT`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from domain.stats import (
    BreakdownRow,
    Indicator,
    IndicatorCode,
    KindActivity,
    Period,
    PeriodKind,
    SeatSuggestion,
    StatsReport,
)
from domain.typography import shorten
from ui.files.stats_charts import (
    MAX_HEATMAP_COLUMNS,
    MAX_HEATMAP_ROWS,
    deficit_heatmap,
    indicator_bars,
    trend_lines,
)
from ui.formatting import TEXT_LIMIT, h
from ui.texts import kind_label

__all__ = [
    "BREAKDOWN_SHOWN",
    "ChartSpec",
    "indicator_label",
    "kind_name",
    "pct",
    "period_text",
    "points_text",
    "report_charts",
    "sorted_breakdown",
    "stats_text",
    "suggestion_text",
]

#: rows of the breakdown shown in the text (the workbook has them all)
BREAKDOWN_SHOWN = 10
#: the longest school or municipality name shown in the text
NAME_MAX = 48

_MONTHS_GENITIVE_RU = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_MONTHS_RU = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ROMAN = ("I", "II", "III", "IV")


# ------------------------------------------------------------------ periods


def _day_month(day: date, locale: str) -> str:
    if locale == "ru":
        return f"{day.day} {_MONTHS_GENITIVE_RU[day.month - 1]}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]}"


def _days(start: date, last: date, locale: str) -> str:
    """ "23–29 ноября 2026", "30 ноября – 6 декабря 2026", "29 декабря 2025 – 4 января 2026"."""
    if start.year != last.year:
        return f"{_day_month(start, locale)} {start.year} – {_day_month(last, locale)} {last.year}"
    if start.month != last.month:
        return f"{_day_month(start, locale)} – {_day_month(last, locale)} {last.year}"
    return f"{start.day}–{_day_month(last, locale)} {last.year}"


def _month(day: date, locale: str) -> str:
    name = _MONTHS_RU[day.month - 1] if locale == "ru" else _MONTHS_EN[day.month - 1]
    return name


def period_text(period: Period, locale: str) -> str:
    """The period as a heading: "Неделя 23–29 ноября 2026", "Ноябрь 2026", "IV квартал 2026
    (октябрь – декабрь)", "2026/27 учебный год" (in English: "Week 23–29 November 2026", …)."""
    if period.kind is PeriodKind.WEEK:
        return _("Week {days}").format(days=_days(period.start, period.last_day, locale))
    if period.kind is PeriodKind.MONTH:
        return f"{_month(period.start, locale)} {period.start.year}".capitalize()
    if period.kind is PeriodKind.QUARTER:
        quarter = (period.start.month - 1) // 3
        return _("Quarter {roman} {year} ({first} – {last})").format(
            roman=_ROMAN[quarter],
            year=period.start.year,
            first=_month(period.start, locale),
            last=_month(period.last_day, locale),
        )
    return _("School year {first}/{last}").format(
        first=period.start.year, last=f"{period.last_day.year % 100:02d}"
    )


def kind_name(kind: PeriodKind) -> str:
    """The label of a period kind's button."""
    return {
        PeriodKind.WEEK: _("Week"),
        PeriodKind.MONTH: _("Month"),
        PeriodKind.QUARTER: _("Quarter"),
        PeriodKind.YEAR: _("School year"),
    }[kind]


# ------------------------------------------------------------------ numbers


def indicator_label(code: IndicatorCode) -> str:
    return {
        IndicatorCode.DIAGNOSED: _("Diagnosed"),
        IndicatorCode.ROUTED: _("With an individual route"),
        IndicatorCode.COURSES: _("Completed courses"),
        IndicatorCode.YOUNG_SUPPORTED: _("Young teachers supported"),
        IndicatorCode.ATTENDED: _("Attended a site session or master-class"),
        IndicatorCode.ROUTE_DONE: _("Completed their route"),
    }[code]


def pct(share: float | None) -> str:
    """A share as whole percent, rounded half up ("45%"); "—" when unknown."""
    if share is None:
        return "—"
    value = (Decimal(str(share)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return f"{value}%"


def points_text(change: float | None) -> str:
    """The change in percentage points: "▲ 3 pp", "▼ 2 pp", "= 0 pp"; "" when unknown."""
    if change is None:
        return ""
    points = (Decimal(str(change)) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    sign = "▲" if points > 0 else "▼" if points < 0 else "="
    return _("{sign} {points} pp").format(sign=sign, points=abs(points))


def _decimal(value: float, locale: str) -> str:
    text = str(Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return text.replace(".", ",") if locale == "ru" else text


def _indicator_line(indicator: Indicator) -> str:
    mark = {True: "✅", False: "⚠️", None: "▫️"}[indicator.meets_target]
    line = _("{mark} {label}: <b>{share}</b> ({n} of {total})").format(
        mark=mark,
        label=indicator_label(indicator.code),
        share=pct(indicator.share),
        n=indicator.numerator,
        total=indicator.denominator,
    )
    extras = []
    if indicator.target is not None:
        extras.append(_("target {share}").format(share=pct(indicator.target)))
    change = points_text(indicator.change)
    if change:
        extras.append(change)
    return " · ".join([line, *extras])


# ------------------------------------------------------------------ the breakdown


def sorted_breakdown(rows: Sequence[BreakdownRow], sort: IndicatorCode) -> list[BreakdownRow]:
    """Highest share of the indicator first; rows without it (no denominator) last; then by
    name."""

    def key(row: BreakdownRow) -> tuple[int, float, str]:
        indicator = row.indicators.get(sort)
        share = indicator.share if indicator is not None else None
        return (share is None, -(share or 0.0), row.name.casefold())

    return sorted(rows, key=key)


def _breakdown_block(
    report: StatsReport, sort: IndicatorCode, by_school: bool, limit: int
) -> str | None:
    if not report.breakdown:
        return None
    heading = _("🏫 <b>By school</b>") if by_school else _("🗺 <b>By municipality</b>")
    lines = [heading + " · " + _("sorted by «{indicator}»").format(indicator=indicator_label(sort))]
    rows = sorted_breakdown(report.breakdown, sort)
    for n, row in enumerate(rows[:limit], start=1):
        indicator = row.indicators.get(sort)
        figures = (
            f"{pct(indicator.share)} ({indicator.numerator}/{indicator.denominator})"
            if indicator is not None
            else "—"
        )
        lines.append(f"{n}. {h(shorten(row.name, NAME_MAX))} — {figures}")
    if len(rows) > limit:
        lines.append(_("… and {n} more in the workbook").format(n=len(rows) - limit))
    return "\n".join(lines)


# ------------------------------------------------------------------ activity


def _kind_line(item: KindActivity, locale: str) -> str:
    parts = [
        ngettext("{n} event held", "{n} events held", item.events).format(n=item.events),
        _("sign-ups {n}").format(n=item.signups),
        _("attended {n}").format(n=item.attended),
    ]
    rate = item.no_show_rate
    parts.append(
        _("no-shows {n} ({share})").format(n=item.no_shows, share=pct(rate))
        if rate is not None
        else _("no-shows {n}").format(n=item.no_shows)
    )
    if item.average_rating is not None and item.ratings:
        parts.append(
            _("⭐ {average} ({n})").format(
                average=_decimal(item.average_rating, locale), n=item.ratings
            )
        )
    return f"• {h(kind_label(item.kind))}: " + ", ".join(parts)


def _activity_block(report: StatsReport, locale: str) -> str:
    a = report.activity
    lines = [
        _("📈 <b>Activity</b>"),
        _("New teachers: {n}").format(n=a.new_teachers),
        _("Self-assessments started: {started}, finished: {finished}").format(
            started=a.assessments_started, finished=a.assessments_finished
        ),
        _("Routes created: {routes}, steps completed: {steps}").format(
            routes=a.routes_created, steps=a.steps_completed
        ),
    ]
    lines += [_kind_line(item, locale) for item in a.by_kind]
    if not a.by_kind:
        lines.append(_("No events took place."))
    lines.append(
        _("Broadcasts sent: {n}, delivered: {reach}").format(
            n=a.broadcasts_sent, reach=a.broadcast_reach
        )
    )
    return "\n".join(lines)


# ------------------------------------------------------------------ deficits


def suggestion_text(item: SeatSuggestion, name: str) -> str:
    """ "Plan 2 more master-classes on «…»: 45 teachers with the deficit, 12 seats" (or the
    seats are enough)."""
    people = ngettext(
        "{n} teacher with the deficit", "{n} teachers with the deficit", item.teachers
    ).format(n=item.teachers)
    seats = ngettext("{n} upcoming seat", "{n} upcoming seats", item.upcoming_seats).format(
        n=item.upcoming_seats
    )
    if item.events_needed <= 0:
        return _("✅ «{name}»: {people}, {seats}: enough").format(
            name=h(name), people=people, seats=seats
        )
    plan = ngettext(
        "Plan {n} more master-class on «{name}»",
        "Plan {n} more master-classes on «{name}»",
        item.events_needed,
    ).format(n=item.events_needed, name=h(name))
    return f"📌 {plan}: {people}, {seats}"


def _deficit_block(report: StatsReport, names: Mapping[str, str]) -> str | None:
    suggestions = report.deficits.suggestions[:3]
    if not suggestions:
        return None
    lines = [_("🧩 <b>Largest deficits</b>")]
    lines += [suggestion_text(s, names.get(s.competency, s.competency)) for s in suggestions]
    return "\n".join(lines)


# ------------------------------------------------------------------ the whole text


def stats_text(
    report: StatsReport,
    *,
    scope: str,
    locale: str,
    sort: IndicatorCode = IndicatorCode.DIAGNOSED,
    by_school: bool,
    names: Mapping[str, str],
    heading: str | None = None,
) -> str:
    """The summary of a report in one message. `scope` is the plain name of what the report
    covers (a municipality, "the region"); `names` the display names of the competencies
    (code → name); `heading` replaces the "📊 Statistics" title (the digest's)."""
    title = heading or _("📊 <b>Statistics</b>")
    head = "\n".join(
        [
            f"{title} · {h(period_text(report.period, locale))}",
            _("Scope: {scope} · teachers: {n}").format(scope=h(scope), n=report.teachers),
        ]
    )
    indicators = "\n".join(
        [_("🎯 <b>Indicators</b>"), *(_indicator_line(i) for i in report.indicators)]
    )
    activity = _activity_block(report, locale)
    deficits = _deficit_block(report, names)
    for limit in (BREAKDOWN_SHOWN, 5, 3, 0):
        breakdown = _breakdown_block(report, sort, by_school, limit) if limit else None
        blocks = [head, indicators, breakdown, activity, deficits]
        text = "\n\n".join(block for block in blocks if block)
        if len(text.encode("utf-16-le")) // 2 <= TEXT_LIMIT:
            return text
    return text[: TEXT_LIMIT - 1]  # pragma: no cover - the blocks above are bounded


# ------------------------------------------------------------------ charts


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """A chart ready to draw: every text translated already (the drawing runs in a worker
    thread, where the reader's language is not set)."""

    draw: Callable[[], bytes]
    caption: str
    filename: str
    #: the chart's own title (drawn on it)
    title: str


def _heatmap_axes(
    report: StatsReport,
) -> tuple[list[str], list[tuple[int, str]]]:
    """The competencies (largest deficit first) and the columns (most diagnosed first) the
    heatmap shows, within its size limits."""
    deficits = report.deficits

    def total(code: str) -> tuple[int, int]:
        having = sum(deficits.cells.get((code, cid), (0, 0))[0] for cid, _name in deficits.columns)
        return (-having, deficits.competencies.index(code))

    codes = sorted(deficits.competencies, key=total)[:MAX_HEATMAP_ROWS]
    codes.sort(key=deficits.competencies.index)

    def diagnosed(column: tuple[int, str]) -> tuple[int, str]:
        of = max((deficits.cells.get((c, column[0]), (0, 0))[1] for c in codes), default=0)
        return (-of, column[1].casefold())

    columns = sorted(deficits.columns, key=diagnosed)[:MAX_HEATMAP_COLUMNS]
    return codes, columns


def report_charts(
    report: StatsReport, *, names: Mapping[str, str], locale: str, by_school: bool
) -> list[ChartSpec]:
    """The indicator bars, the deficit heatmap (when anyone is diagnosed) and the trend (when
    the report has one), in that order."""
    period = period_text(report.period, locale)
    specs: list[ChartSpec] = []
    if report.indicators:
        labels = [indicator_label(i.code) for i in report.indicators]
        shares = [i.share for i in report.indicators]
        targets = [i.target for i in report.indicators]
        bars_title = _("Indicators · {period}").format(period=period)
        target = _("target")
        specs.append(
            ChartSpec(
                lambda: indicator_bars(
                    labels, shares, targets, title=bars_title, target_label=target
                ),
                _("🎯 Indicators against their targets"),
                "indicators.png",
                bars_title,
            )
        )
    codes, columns = _heatmap_axes(report)
    if codes and columns:
        rows = [names.get(code, code) for code in codes]
        cols = [name for _cid, name in columns]
        grid = [[report.deficits.share(code, cid) for cid, _name in columns] for code in codes]
        map_title = (
            _("Deficits by school · {period}")
            if by_school
            else _("Deficits by municipality · {period}")
        ).format(period=period)
        specs.append(
            ChartSpec(
                lambda: deficit_heatmap(rows, cols, grid, title=map_title),
                _("🧩 Share of diagnosed teachers with each deficit"),
                "deficits.png",
                map_title,
            )
        )
    if report.trend and report.indicators:
        weeks = [point.period.start.strftime("%d.%m") for point in report.trend]
        series = [
            (
                indicator_label(i.code),
                [
                    point.indicators[i.code].share if i.code in point.indicators else None
                    for point in report.trend
                ],
            )
            for i in report.indicators
        ]
        trend_title = _("The last {n} weeks").format(n=len(weeks))
        specs.append(
            ChartSpec(
                lambda: trend_lines(weeks, series, title=trend_title),
                _("📈 Indicators week by week"),
                "trend.png",
                trend_title,
            )
        )
    return specs
