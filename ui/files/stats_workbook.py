"""The XLSX workbook of a statistics report: a sheet per table, raw numbers.

Shares are numbers with a percent format (not "45%" text), counts are integers, the header
row is bold and frozen, the columns are wide enough to read. Every text cell (a school named
"=cmd", an event title) is stored as text with Excel's quote prefix when a spreadsheet could
run it as a formula: the rule of `ui.files.tables` (`safe_text`), applied cell by cell.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from aiogram.utils.i18n import gettext as _

from domain.stats import Indicator, Period, StatsReport
from ui.files.tables import safe_cell, safe_text
from ui.stats import indicator_label, period_text, sorted_breakdown
from ui.texts import kind_label

__all__ = ["PERCENT", "workbook_bytes", "workbook_name"]

PERCENT = "0.0%"
_WIDTH_MIN, _WIDTH_MAX = 8, 60


def workbook_name(period: Period) -> str:
    """ "stats_2026-11-23_2026-11-29.xlsx": the period's first and last day."""
    return f"stats_{period.start.isoformat()}_{period.last_day.isoformat()}.xlsx"


Cell = tuple[object, str | None]  # (value, number format)


def _share_cells(indicator: Indicator | None) -> list[Cell]:
    if indicator is None:
        return [(None, PERCENT), (None, None), (None, None)]
    return [
        (indicator.share, PERCENT),
        (indicator.numerator, None),
        (indicator.denominator, None),
    ]


def _sheet(
    workbook: Any, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title=title[:31])
    widths = [len(text) for text in header]
    bold = Font(bold=True)
    all_rows: list[Sequence[Cell]] = [[(text, None) for text in header], *rows]
    for row_number, row in enumerate(all_rows, start=1):
        for column, (value, number_format) in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"  # never a formula, whatever it starts with
                if safe_text(value) != value:
                    cell.quotePrefix = True
                shown = len(value)
            else:
                cell.value = safe_cell(value)
                shown = 8 if number_format == PERCENT else len(str(value or ""))
            if number_format is not None and value is not None:
                cell.number_format = number_format
            if row_number == 1:
                cell.font = bold
            if column > len(widths):
                widths.append(0)
            widths[column - 1] = max(widths[column - 1], shown)
    sheet.freeze_panes = "A2"
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(
            _WIDTH_MAX, max(_WIDTH_MIN, width + 2)
        )


def workbook_bytes(
    report: StatsReport,
    *,
    scope: str,
    locale: str,
    names: Mapping[str, str],
    by_school: bool,
) -> bytes:
    """The workbook: indicators, breakdown, activity, activity by event kind, feedback per
    event, the deficit map, the seat suggestions and the trend (when the report has one)."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    codes = [i.code for i in report.indicators]
    share_header = [_("Share"), _("Numerator"), _("Denominator")]

    _sheet(
        workbook,
        _("Indicators"),
        [
            _("Indicator"),
            _("Share"),
            _("Numerator"),
            _("Denominator"),
            _("Target"),
            _("Previous share"),
            _("Change"),
        ],
        [
            [
                (indicator_label(i.code), None),
                *_share_cells(i),
                (i.target, PERCENT),
                (i.previous.share if i.previous is not None else None, PERCENT),
                (i.change, PERCENT),
            ]
            for i in report.indicators
        ]
        + [
            [(_("Period"), None), (period_text(report.period, locale), None)],
            [(_("Scope"), None), (scope, None)],
            [(_("Teachers"), None), (report.teachers, None)],
        ],
    )

    header = [_("School") if by_school else _("Municipality"), _("Teachers")]
    for code in codes:
        header += [f"{indicator_label(code)}: {part}" for part in share_header]
    _sheet(
        workbook,
        _("Breakdown"),
        header,
        [
            [
                (row.name, None),
                (row.teachers, None),
                *(cell for code in codes for cell in _share_cells(row.indicators.get(code))),
            ]
            for row in sorted_breakdown(report.breakdown, codes[0])
        ]
        if codes
        else [[(row.name, None), (row.teachers, None)] for row in report.breakdown],
    )

    a = report.activity
    _sheet(
        workbook,
        _("Activity"),
        [_("Measure"), _("Value")],
        [
            [(_("New teachers"), None), (a.new_teachers, None)],
            [(_("Self-assessments started"), None), (a.assessments_started, None)],
            [(_("Self-assessments finished"), None), (a.assessments_finished, None)],
            [(_("Routes created"), None), (a.routes_created, None)],
            [(_("Route steps completed"), None), (a.steps_completed, None)],
            [(_("Broadcasts sent"), None), (a.broadcasts_sent, None)],
            [(_("Broadcast copies delivered"), None), (a.broadcast_reach, None)],
        ],
    )
    _sheet(
        workbook,
        _("By event kind"),
        [
            _("Event kind"),
            _("Events"),
            _("Sign-ups"),
            _("Attended"),
            _("No-shows"),
            _("No-show rate"),
            _("Ratings"),
            _("Average rating"),
        ],
        [
            [
                (kind_label(k.kind), None),
                (k.events, None),
                (k.signups, None),
                (k.attended, None),
                (k.no_shows, None),
                (k.no_show_rate, PERCENT),
                (k.ratings, None),
                (k.average_rating, "0.00"),
            ]
            for k in a.by_kind
        ],
    )
    _sheet(
        workbook,
        _("Feedback"),
        [_("Event id"), _("Event"), _("Event kind"), _("Ratings"), _("Average rating")],
        [
            [
                (f.event_id, None),
                (f.title, None),
                (kind_label(f.kind), None),
                (f.ratings, None),
                (f.average_rating, "0.00"),
            ]
            for f in a.feedback
        ],
    )
    deficits = report.deficits
    _sheet(
        workbook,
        _("Deficits"),
        [
            _("Competency"),
            _("School") if by_school else _("Municipality"),
            _("With the deficit"),
            _("Diagnosed"),
            _("Share"),
        ],
        [
            [
                (names.get(code, code), None),
                (column, None),
                (deficits.cells.get((code, cid), (0, 0))[0], None),
                (deficits.cells.get((code, cid), (0, 0))[1], None),
                (deficits.share(code, cid), PERCENT),
            ]
            for code in deficits.competencies
            for cid, column in deficits.columns
        ],
    )
    _sheet(
        workbook,
        _("Seats to plan"),
        [_("Competency"), _("Teachers with the deficit"), _("Upcoming seats"), _("Events needed")],
        [
            [
                (names.get(s.competency, s.competency), None),
                (s.teachers, None),
                (s.upcoming_seats, None),
                (s.events_needed, None),
            ]
            for s in deficits.suggestions
        ],
    )
    trend_header = [_("Week from"), _("Week to")]
    for code in codes:
        trend_header += [f"{indicator_label(code)}: {part}" for part in share_header]
    _sheet(
        workbook,
        _("Trend"),
        trend_header,
        [
            [
                (point.period.start, "yyyy-mm-dd"),
                (point.period.last_day, "yyyy-mm-dd"),
                *(cell for code in codes for cell in _share_cells(point.indicators.get(code))),
            ]
            for point in report.trend
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
