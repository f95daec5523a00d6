"""The statistics charts: PNG images of a predictable size, Cyrillic labels drawn (a missing
glyph is a warning, and warnings fail the tests), a heatmap with empty cells, bad input
refused; and the three charts of a report built in the reader's language."""

from __future__ import annotations

import struct

import pytest

from tests.stats_report import NAMES, TRICKY_SCHOOL, sample_report
from tests.unit.test_stats_text import language
from ui.files.stats_charts import deficit_heatmap, indicator_bars, trend_lines
from ui.stats import report_charts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def test_indicator_bars_against_targets() -> None:
    png = indicator_bars(
        [
            "Прошли диагностику",
            "Прошли курсы",
            "Молодые педагоги с поддержкой",
            "Завершили маршрут",
        ],
        [0.45, 0.2, 0.75, None],
        [None, 0.3, 0.7, None],
        title="Показатели · Неделя 23–29 ноября 2026",
        target_label="цель",
    )
    width, height = _size(png)
    assert width == 900 and 400 < height < 700


def test_a_heatmap_with_empty_cells() -> None:
    png = deficit_heatmap(
        ["Предмет и методика", "Цифровая среда", "Оценивание"],
        [TRICKY_SCHOOL, "Гимназия №2", "=cmd"],
        [[0.5, 0.2, None], [0.75, 0.8, None], [0.0, 1.0, None]],
        title="Дефициты по школам",
    )
    width, height = _size(png)
    assert width >= 900 and height > 300


def test_a_trend_line_with_gaps() -> None:
    png = trend_lines(
        ["02.11", "09.11", "16.11", "23.11"],
        [("Прошли диагностику", [0.1, 0.2, None, 0.45]), ("Прошли курсы", [0.0, 0.1, 0.15, 0.2])],
        title="Последние 4 недели",
    )
    assert _size(png) == (900, 672)


@pytest.mark.parametrize(
    "call",
    [
        lambda: indicator_bars(["a"], [1.5], [None], title="t", target_label="x"),
        lambda: indicator_bars([], [], [], title="t", target_label="x"),
        lambda: deficit_heatmap(["a"], ["b", "c"], [[0.1]], title="t"),
        lambda: deficit_heatmap([], ["b"], [], title="t"),
        lambda: deficit_heatmap([f"r{i}" for i in range(21)], ["b"], [[0.1]] * 21, title="t"),
        lambda: trend_lines(["w"], [("a", [0.1, 0.2])], title="t"),
        lambda: trend_lines(["w"], [("a", [float("nan")])], title="t"),
    ],
)
def test_bad_input_is_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]


def test_the_charts_of_a_report() -> None:
    with language("ru"):
        specs = report_charts(sample_report(trend=True), names=NAMES, locale="ru", by_school=True)
    assert [s.filename for s in specs] == ["indicators.png", "deficits.png", "trend.png"]
    assert specs[0].caption == "🎯 Показатели и их целевые значения"
    assert [s.title for s in specs] == [
        "Показатели · Неделя 23–29 ноября 2026",
        "Дефициты по школам · Неделя 23–29 ноября 2026",
        "Последние недели: 8",
    ]
    for spec in specs:  # drawn outside the language context, as in the worker thread
        assert spec.draw()[:8] == PNG_SIGNATURE
    # no trend asked for, no one diagnosed: the indicator bars only
    report = sample_report()
    empty = type(report.deficits)([], [], {})
    with language("en"):
        specs = report_charts(
            type(report)(report.period, None, 0, report.indicators, [], report.activity, empty),
            names={},
            locale="en",
            by_school=False,
        )
    assert [s.filename for s in specs] == ["indicators.png"]
