"""A hand-built statistics report for the presentation's tests (`domain.stats` only): the
numbers are chosen, not counted, so each text, chart and sheet can be checked exactly."""

from __future__ import annotations

from datetime import date

from domain.stats import (
    Activity,
    BreakdownRow,
    DeficitMap,
    EventFeedback,
    Indicator,
    IndicatorCode,
    KindActivity,
    Period,
    PeriodKind,
    SeatSuggestion,
    StatsReport,
    TrendPoint,
)

WEEK = Period.containing(PeriodKind.WEEK, date(2026, 11, 25))  # 23–29 November 2026
#: a school name a teacher typed: markup, an ampersand, quotes
TRICKY_SCHOOL = 'МБОУ <b>СОШ</b> №1 & "Лицей"'
#: a school name a spreadsheet would run as a formula
FORMULA_SCHOOL = "=cmd|' /C calc'!A0"
#: codes of the shipped framework; `NAMES` are its short names (`Competency.short`)
COMPETENCIES = ("subject_methodical", "digital", "assessment")
NAMES = {
    "subject_methodical": "Предмет и методика",
    "digital": "Цифровая среда",
    "assessment": "Оценивание",
}
C = IndicatorCode


def _indicators(scale: int = 0) -> dict[IndicatorCode, Indicator]:
    return {
        C.DIAGNOSED: Indicator(C.DIAGNOSED, 54 + scale, 120),
        C.ROUTED: Indicator(C.ROUTED, 30 + scale, 120),
        C.COURSES: Indicator(C.COURSES, 24, 120, target=0.3),
        C.YOUNG_SUPPORTED: Indicator(C.YOUNG_SUPPORTED, 15, 20, target=0.7),
        C.ATTENDED: Indicator(C.ATTENDED, 40, 120),
        C.ROUTE_DONE: Indicator(C.ROUTE_DONE, 0, 0),
    }


def sample_report(*, trend: bool = False, period: Period = WEEK) -> StatsReport:
    previous = _indicators(-6)
    now = _indicators()
    indicators = [
        Indicator(i.code, i.numerator, i.denominator, i.target, previous[i.code])
        for i in now.values()
    ]
    breakdown = [
        BreakdownRow(1, TRICKY_SCHOOL, 40, {C.DIAGNOSED: Indicator(C.DIAGNOSED, 30, 40)}),
        BreakdownRow(2, "Гимназия №2", 50, {C.DIAGNOSED: Indicator(C.DIAGNOSED, 20, 50)}),
        BreakdownRow(3, FORMULA_SCHOOL, 30, {C.DIAGNOSED: Indicator(C.DIAGNOSED, 4, 30)}),
        BreakdownRow(4, "Школа без педагогов", 0, {C.DIAGNOSED: Indicator(C.DIAGNOSED, 0, 0)}),
    ]
    activity = Activity(
        new_teachers=7,
        assessments_started=12,
        assessments_finished=9,
        routes_created=5,
        steps_completed=17,
        by_kind=[
            KindActivity("masterclass", 3, 40, 30, 10, 20, 4.45),
            KindActivity("internship", 1, 12, 12, 0, 0, None),
        ],
        feedback=[
            EventFeedback(11, "Мастер-класс <b>«Кейс»</b> & разбор", "masterclass", 20, 4.45),
            EventFeedback(12, '=HYPERLINK("x")', "internship", 0, None),
        ],
        broadcasts_sent=2,
        broadcast_reach=150,
    )
    deficits = DeficitMap(
        competencies=list(COMPETENCIES),
        columns=[(1, TRICKY_SCHOOL), (2, "Гимназия №2"), (3, FORMULA_SCHOOL)],
        cells={
            ("subject_methodical", 1): (10, 20),
            ("subject_methodical", 2): (5, 25),
            ("digital", 1): (15, 20),
            ("digital", 2): (20, 25),
            ("assessment", 1): (0, 20),
            ("assessment", 2): (25, 25),
            # column 3: nobody diagnosed, every cell empty
        },
        suggestions=[
            SeatSuggestion("digital", 45, 12, 2),
            SeatSuggestion("assessment", 25, 10, 1),
            SeatSuggestion("subject_methodical", 15, 60, 0),
        ],
    )
    points = []
    if trend:
        for back in range(7, -1, -1):
            week = period.shift(-back)
            points.append(
                TrendPoint(
                    week,
                    {
                        code: Indicator(code, max(0, i.numerator - back), i.denominator)
                        for code, i in now.items()
                    },
                )
            )
    return StatsReport(
        period=period,
        municipality_ids=frozenset({1}),
        teachers=120,
        indicators=indicators,
        breakdown=breakdown,
        activity=activity,
        deficits=deficits,
        trend=points,
        by_school=True,
    )
