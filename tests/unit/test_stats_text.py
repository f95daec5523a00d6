"""The `/stats` summary and the digest's text: the period, the indicators with "n of N",
targets and changes in points, the sorted breakdown, the activity and the three deficit
suggestions; in Russian and English, every typed name escaped, within one message."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

import pytest

from bot.app import load_i18n
from devtools.emulator.formatting import parse_formatted
from domain.stats import BreakdownRow, Indicator, IndicatorCode, Period, PeriodKind
from tests.conftest import make_settings
from tests.stats_report import NAMES, TRICKY_SCHOOL, sample_report
from ui.formatting import TEXT_LIMIT
from ui.stats import pct, period_text, points_text, sorted_breakdown, stats_text

C = IndicatorCode


@contextmanager
def language(code: str) -> Iterator[None]:
    i18n = load_i18n(make_settings("sqlite+aiosqlite://"))
    with i18n.context(), i18n.use_locale(code):
        yield


def _text(locale: str, **kwargs: object) -> str:
    with language(locale):
        options: dict[str, object] = {
            "scope": "Волгодонск",
            "locale": locale,
            "by_school": True,
            "names": NAMES,
        }
        options.update(kwargs)
        report = options.pop("report", sample_report())
        return stats_text(report, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "day", "ru", "en"),
    [
        (
            PeriodKind.WEEK,
            date(2026, 11, 25),
            "Неделя 23–29 ноября 2026",
            "Week 23–29 November 2026",
        ),
        (
            PeriodKind.WEEK,
            date(2026, 12, 1),
            "Неделя 30 ноября – 6 декабря 2026",
            "Week 30 November – 6 December 2026",
        ),
        (
            PeriodKind.WEEK,
            date(2026, 1, 1),
            "Неделя 29 декабря 2025 – 4 января 2026",
            "Week 29 December 2025 – 4 January 2026",
        ),
        (PeriodKind.MONTH, date(2026, 11, 25), "Ноябрь 2026", "November 2026"),
        (
            PeriodKind.QUARTER,
            date(2026, 11, 25),
            "IV квартал 2026 (октябрь – декабрь)",
            "Quarter IV 2026 (October – December)",
        ),
        (PeriodKind.YEAR, date(2026, 11, 25), "2026/27 учебный год", "School year 2026/27"),
    ],
)
def test_the_period_reads_in_both_languages(kind: PeriodKind, day: date, ru: str, en: str) -> None:
    period = Period.containing(kind, day)
    with language("ru"):
        assert period_text(period, "ru") == ru
    with language("en"):
        assert period_text(period, "en") == en


def test_shares_and_changes_are_rounded_half_up() -> None:
    with language("en"):
        assert pct(54 / 120) == "45%"
        assert pct(0.125) == "13%"
        assert pct(None) == "—"
        assert points_text(0.05) == "▲ 5 pp"
        assert points_text(-0.025) == "▼ 3 pp"
        assert points_text(0.0) == "= 0 pp"
        assert points_text(None) == ""


def test_the_russian_summary() -> None:
    text = _text("ru")
    plain = parse_formatted(text, "HTML").text  # valid Telegram HTML
    assert plain.startswith("📊 Статистика · Неделя 23–29 ноября 2026")
    assert "Охват: Волгодонск · педагогов: 120" in plain
    # share, "n of N", no target: ▫️; the change against the previous period in points
    assert "▫️ Прошли диагностику: 45% (54 из 120) · ▲ 5 п.п." in plain
    # a target: met ✅ / missed ⚠️
    assert "⚠️ Прошли курсы: 20% (24 из 120) · цель 30% · = 0 п.п." in plain
    assert "✅ Молодые педагоги с поддержкой: 75% (15 из 20) · цель 70%" in plain
    # no denominator: no share
    assert "Завершили маршрут: — (0 из 0)" in plain
    # the breakdown, sorted by the indicator: 75%, 40%, 13%, then the school without teachers
    lines = plain.splitlines()
    start = lines.index("🏫 По школам · по показателю «Прошли диагностику»")
    assert lines[start + 1 : start + 5] == [
        f"1. {TRICKY_SCHOOL} — 75% (30/40)",
        "2. Гимназия №2 — 40% (20/50)",
        "3. =cmd|' /C calc'!A0 — 13% (4/30)",
        "4. Школа без педагогов — — (0/0)",
    ]
    assert "Новых педагогов: 7" in plain
    assert "Самооценок начато: 12, завершено: 9" in plain
    assert "Маршрутов создано: 5, шагов выполнено: 17" in plain
    assert (
        "• Мастер-класс: 3 мероприятия, записей 40, пришли 30, не пришли 10 (25%), ⭐ 4,5 (20)"
        in plain
    )
    assert "• Стажировка: 1 мероприятие, записей 12, пришли 12, не пришли 0 (0%)" in plain
    assert "Рассылок: 2, доставлено: 150" in plain
    assert (
        "📌 Запланируйте ещё 2 мастер-класса по «Цифровая среда»: "
        "45 педагогов с дефицитом, 12 мест впереди" in plain
    )
    assert (
        "📌 Запланируйте ещё 1 мастер-класс по «Оценивание»: "
        "25 педагогов с дефицитом, 10 мест впереди" in plain
    )
    assert "✅ «Предмет и методика»: 15 педагогов с дефицитом, 60 мест впереди — хватает" in plain
    assert "digital" not in plain  # the competency's name, never its code


def test_the_english_summary() -> None:
    text = _text("en", sort=C.DIAGNOSED, by_school=False, scope="the whole region")
    plain = parse_formatted(text, "HTML").text
    assert plain.startswith("📊 Statistics · Week 23–29 November 2026")
    assert "▫️ Diagnosed: 45% (54 of 120) · ▲ 5 pp" in plain
    assert "🗺 By municipality · sorted by «Diagnosed»" in plain
    assert (
        "• Master-class: 3 events held, sign-ups 40, attended 30, no-shows 10 (25%), ⭐ 4.5 (20)"
        in plain
    )
    assert "📌 Plan 2 more master-classes on «Цифровая среда»: 45 teachers" in plain
    for russian in ("Охват", "Прошли", "педагогов:", "Неделя", "Рассылок", "Запланируйте"):
        assert russian not in plain


def test_typed_names_are_escaped() -> None:
    text = _text("ru")
    assert "<b>СОШ</b>" not in text
    assert 'МБОУ &lt;b&gt;СОШ&lt;/b&gt; №1 &amp; "Лицей"' in text
    evil = sample_report()
    suggestion = replace(evil.deficits.suggestions[0], competency="x")
    evil = replace(evil, deficits=replace(evil.deficits, suggestions=[suggestion]))
    text = _text("en", report=evil, names={"x": "<i>Оценка</i> & co"}, scope="<b>Город</b>")
    assert "&lt;i&gt;Оценка&lt;/i&gt; &amp; co" in text and "&lt;b&gt;Город&lt;/b&gt;" in text
    parse_formatted(text, "HTML")


def test_a_huge_breakdown_stays_within_one_message() -> None:
    many = [
        BreakdownRow(
            n,
            f"Муниципальное бюджетное общеобразовательное учреждение «Школа № {n}» <&>" * 3,
            100,
            {C.DIAGNOSED: Indicator(C.DIAGNOSED, n % 100, 100)},
        )
        for n in range(500)
    ]
    text = _text("ru", report=replace(sample_report(), breakdown=many))
    assert len(text.encode("utf-16-le")) // 2 <= TEXT_LIMIT
    plain = parse_formatted(text, "HTML").text
    assert "… и ещё 490 в таблице" in plain


def test_the_breakdown_sorts_by_the_chosen_indicator() -> None:
    rows = [
        BreakdownRow(1, "Б", 10, {C.ROUTED: Indicator(C.ROUTED, 1, 10)}),
        BreakdownRow(2, "А", 10, {C.ROUTED: Indicator(C.ROUTED, 5, 10)}),
        BreakdownRow(3, "В", 10, {}),
        BreakdownRow(4, "Г", 10, {C.ROUTED: Indicator(C.ROUTED, 1, 10)}),
    ]
    assert [r.name for r in sorted_breakdown(rows, C.ROUTED)] == ["А", "Б", "Г", "В"]
