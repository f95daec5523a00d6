"""The statistics workbook: a sheet per table, the header bold and frozen, numbers stored as
numbers (shares with a percent format), typed names that look like formulas kept as text, the
period in the file name."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook

from domain.stats import Period, PeriodKind
from tests.stats_report import FORMULA_SCHOOL, NAMES, TRICKY_SCHOOL, WEEK, sample_report
from tests.unit.test_stats_text import language
from ui.files.stats_workbook import PERCENT, workbook_bytes, workbook_name


def _book(locale: str = "ru") -> Any:
    with language(locale):
        data = workbook_bytes(
            sample_report(trend=True),
            scope="Волгодонск",
            locale=locale,
            names=NAMES,
            by_school=True,
        )
    return load_workbook(io.BytesIO(data))


def test_the_file_name_carries_the_period() -> None:
    assert workbook_name(WEEK) == "stats_2026-11-23_2026-11-29.xlsx"
    quarter = Period.containing(PeriodKind.QUARTER, date(2026, 11, 25))
    assert workbook_name(quarter) == "stats_2026-10-01_2026-12-31.xlsx"


def test_a_sheet_per_table_with_frozen_bold_headers() -> None:
    book = _book()
    assert book.sheetnames == [
        "Показатели",
        "Разбивка",
        "Активность",
        "По видам мероприятий",
        "Отзывы",
        "Дефициты",
        "Места для планирования",
        "Динамика",
    ]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1] if cell.value is not None)
        assert sheet.column_dimensions["A"].width >= 8
    assert _book("en").sheetnames[0] == "Indicators"


def test_numbers_are_numbers() -> None:
    book = _book()
    indicators = book["Показатели"]
    assert [c.value for c in indicators[1]] == [
        "Показатель",
        "Доля",
        "Числитель",
        "Знаменатель",
        "Цель",
        "Доля в прошлом периоде",
        "Изменение",
    ]
    diagnosed = [c for c in indicators[2]]
    assert diagnosed[0].value == "Прошли диагностику"
    assert diagnosed[1].value == 54 / 120 and diagnosed[1].number_format == PERCENT
    assert diagnosed[1].data_type == "n"
    assert (diagnosed[2].value, diagnosed[3].value) == (54, 120)
    assert diagnosed[5].value == 48 / 120
    assert abs(diagnosed[6].value - 0.05) < 1e-9
    courses = [c.value for c in indicators[4]]
    assert courses[4] == 0.3
    kinds = book["По видам мероприятий"]
    assert [c.value for c in kinds[2]] == ["Мастер-класс", 3, 40, 30, 10, 0.25, 20, 4.45]
    trend = book["Динамика"]
    assert trend.max_row == 9  # the header and eight weeks
    assert trend["A9"].value == datetime(2026, 11, 23)
    assert trend["B9"].value == datetime(2026, 11, 29)
    deficits = book["Дефициты"]
    rows = [[c.value for c in row] for row in deficits.iter_rows(min_row=2)]
    assert ["Цифровая среда", "Гимназия №2", 20, 25, 0.8] in rows
    assert ["Оценивание", FORMULA_SCHOOL, 0, 0, None] in rows  # nobody diagnosed: no share


def test_typed_names_never_become_formulas() -> None:
    book = _book()
    breakdown = book["Разбивка"]
    names = {row[0].value: row[0] for row in breakdown.iter_rows(min_row=2)}
    assert TRICKY_SCHOOL in names
    cell = names[FORMULA_SCHOOL]
    assert cell.data_type == "s" and cell.quotePrefix  # text, shown exactly as typed
    assert not names[TRICKY_SCHOOL].quotePrefix
    feedback = book["Отзывы"]
    title = feedback["B3"]
    assert title.value == '=HYPERLINK("x")' and title.data_type == "s" and title.quotePrefix
    # sorted by the first indicator, like the text
    assert [c.value for c in breakdown[2]][:5] == [TRICKY_SCHOOL, 40, 0.75, 30, 40]
