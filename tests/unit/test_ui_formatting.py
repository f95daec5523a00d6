"""One formatter per thing shown: an event's time reads the same on the teacher's card, the
coordinator's card, a notice and the check-in poster."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.i18n import LOCALES_DIR, CatalogI18n
from ui.formatting import date_text, day_label, h, moment_text, start_text, when_text

ROOT = Path(__file__).resolve().parents[2]
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def ru() -> Iterator[None]:
    i18n = CatalogI18n(path=LOCALES_DIR, default_locale="ru")
    with i18n.context(), i18n.use_locale("ru"):
        yield


def test_when_text_in_the_local_zone() -> None:
    start = datetime(2026, 12, 12, 7, 0, tzinfo=UTC)
    assert when_text(start, datetime(2026, 12, 12, 9, 30, tzinfo=UTC), MSK) == (
        "12.12.2026, 10:00–12:30"
    )
    assert when_text(start, datetime(2026, 12, 13, 9, 0, tzinfo=UTC), MSK) == (
        "12.12.2026 10:00 – 13.12.2026 12:00"
    )


def test_when_text_says_today_and_tomorrow_in_the_local_zone(ru: None) -> None:
    start = datetime(2026, 12, 12, 15, 0, tzinfo=UTC)  # 18:00 in Moscow
    end = datetime(2026, 12, 12, 17, 0, tzinfo=UTC)
    same_day = datetime(2026, 12, 12, 6, 0, tzinfo=UTC)
    day_before = datetime(2026, 12, 11, 20, 0, tzinfo=UTC)
    # 22:00 UTC on the 11th is already the 12th in Moscow: "today", not "tomorrow"
    late_evening = datetime(2026, 12, 11, 22, 0, tzinfo=UTC)
    assert when_text(start, end, MSK, same_day) == "сегодня в 18:00–20:00 (12.12.2026)"
    assert when_text(start, end, MSK, day_before) == "завтра в 18:00–20:00 (12.12.2026)"
    assert when_text(start, end, MSK, late_evening).startswith("сегодня")
    far = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    assert when_text(start, end, MSK, far) == "12.12.2026, 18:00–20:00"
    assert start_text(start, MSK, far) == "12.12 18:00"
    assert day_label(start, MSK, same_day) == "сегодня"


def test_dates_and_moments_in_the_local_zone() -> None:
    late = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # already 2027 in Moscow
    assert date_text(late, MSK) == "01.01.2027"
    assert date_text(date(2026, 3, 5)) == "05.03.2026"
    assert moment_text(late, MSK) == "01.01 01:30"


def test_h_escapes_markup_but_not_quotes() -> None:
    assert h('<b>«Оценка & "рубрики"»</b>') == '&lt;b&gt;«Оценка &amp; "рубрики"»&lt;/b&gt;'


def _definitions() -> Counter[str]:
    names: Counter[str] = Counter()
    for package in ("bot", "handlers", "scheduler", "services", "domain", "ui"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef):
                    names[node.name] += 1
    return names


@pytest.mark.parametrize(
    "name",
    [
        "h",
        "when_text",
        "start_text",
        "day_label",
        "date_text",
        "kind_label",
        "split_html",
        "button",
        "pager_row",
        "feedback_keyboard",
    ],
)
def test_each_formatter_is_defined_once(name: str) -> None:
    assert _definitions()[name] == 1
