"""The external diagnosis file (domain.diagnosis_import): headers in Russian and English,
scores or a deficit list, every problem a row-numbered message in the reader's language, and
the matching of rows to registered teachers."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from core.i18n import LOCALES_DIR, CatalogI18n
from domain.diagnosis_import import (
    ENGLISH,
    Candidate,
    DiagnosisFileError,
    FileIssue,
    Issue,
    Parsed,
    Problem,
    competency_names,
    is_diagnosis_table,
    match,
    parse_rows,
)
from domain.event_import import read_table
from domain.framework import Framework, parse_framework
from handlers.coordinator.diagnoses import problem_text, templates

SHIPPED = Path(__file__).resolve().parents[2] / "domain" / "content" / "framework.yaml"
TODAY = date(2026, 11, 30)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def framework() -> Framework:
    with SHIPPED.open(encoding="utf-8") as fp:
        return parse_framework(yaml.safe_load(fp))


def _parse(framework: Framework, text: str) -> Parsed:
    rows = read_table(("\ufeff" + text).encode("utf-8"), "d.csv")
    return parse_rows(
        rows,
        competency_names(framework),
        order=[c.code for c in framework.competencies],
        threshold=float(framework.settings.deficit_threshold),
        today=TODAY,
    )


def _codes(parsed: Parsed) -> dict[int, list[Issue | FileIssue]]:
    return {r.row: [p.code for p in r.problems] for r in parsed.rejected}


def test_russian_headers_with_scores(framework: Framework) -> None:
    parsed = _parse(
        framework,
        "ФИО;Школа;Дата;Источник;Цифровая (ИКТ-компетентность);оценивание;Макс. балл\n"
        "  Иванова   Анна Петровна ;МБОУ СОШ № 1;12.10.2026;;8;15;20\n",
    )
    assert parsed.rejected == ()
    (draft,) = parsed.drafts
    assert draft.row == 2
    assert draft.teacher.full_name == "Иванова Анна Петровна"
    assert draft.teacher.telegram_id is None and draft.teacher.school == "МБОУ СОШ № 1"
    assert draft.diagnosed_on == date(2026, 10, 12) and draft.source == "ЦНППМ"
    # 8 of 20 = 40 % (below the framework's 60: a deficit); 15 of 20 = 75 %
    assert draft.scores == {"digital": 40.0, "assessment": 75.0}
    assert draft.deficits == ("digital",)


def test_english_headers_with_a_deficit_list(framework: Framework) -> None:
    parsed = _parse(
        framework,
        "teacher_id,date,source,deficits\n"
        '555001,2026-10-12,IRO,"digital; Функциональная грамотность; subject_methodical"\n'
        "555002,01.09.2026,,нет\n",
    )
    assert parsed.rejected == ()
    first, second = parsed.drafts
    assert first.teacher.telegram_id == 555001 and first.source == "IRO"
    # listed in the framework's order, not the file's
    assert first.deficits == ("subject_methodical", "digital", "functional_literacy")
    assert first.scores == {}
    assert second.deficits == () and second.diagnosed_on == date(2026, 9, 1)


def test_every_row_problem_is_reported_with_its_row(framework: Framework) -> None:
    parsed = _parse(
        framework,
        "ID педагога;ФИО;Школа;Дата;Дефициты;Цифровая\n"
        "abc;;;12.10.2026;;\n"  # 2 bad id
        ";;;12.10.2026;;\n"  # 3 no teacher
        ";Петрова Мария;;12.10.2026;;\n"  # 4 no school
        "5;;;31.02.2026;;\n"  # 5 no such date
        "5;;;01.12.2026;;\n"  # 6 future
        "5;;;;;\n"  # 7 no date
        "5;;;12.10.2026;цифровая, астрология;\n"  # 8 unknown competency
        "5;;;12.10.2026;;сто\n"  # 9 not a number
        "5;;;12.10.2026;;101\n",  # 10 above the scale
    )
    assert parsed.drafts == ()
    assert _codes(parsed) == {
        2: [Issue.BAD_ID],
        3: [Issue.NO_TEACHER],
        4: [Issue.NEED_SCHOOL],
        5: [Issue.BAD_DATE],
        6: [Issue.FUTURE_DATE],
        7: [Issue.NO_DATE],
        8: [Issue.UNKNOWN_COMPETENCY],
        9: [Issue.BAD_SCORE],
        10: [Issue.BAD_SCORE],
    }
    unknown = next(r for r in parsed.rejected if r.row == 8).problems[0]
    assert str(unknown) == "unknown competency «астрология»"


def test_a_row_with_no_results_at_all(framework: Framework) -> None:
    parsed = _parse(framework, "teacher_id;date;digital\n5;12.10.2026;\n")
    assert _codes(parsed) == {2: [Issue.NO_RESULTS]}


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("teacher_id;date;digital;astrology", FileIssue.UNKNOWN_COLUMNS),
        ("teacher_id;date;digital;Цифровая среда", FileIssue.SAME_COLUMN),
        ("full_name;date;digital", FileIssue.NO_TEACHER_COLUMNS),
        ("teacher_id;source;digital", FileIssue.NO_DATE_COLUMN),
        ("teacher_id;date;source", FileIssue.NO_RESULT_COLUMNS),
    ],
)
def test_columns_that_make_no_sense_import_nothing(
    framework: Framework, header: str, code: FileIssue
) -> None:
    with pytest.raises(DiagnosisFileError) as caught:
        _parse(framework, header + "\n" + ";".join("1" for _ in header.split(";")) + "\n")
    assert caught.value.problem.code is code


def test_a_diagnosis_file_is_told_apart_from_events_and_sites() -> None:
    assert is_diagnosis_table(["фио", "школа", "дата", "дефициты"])
    assert is_diagnosis_table(["teacher_id", "date", "digital"])
    assert not is_diagnosis_table(["code", "kind", "title", "starts_at"])
    assert not is_diagnosis_table(["code", "municipality", "title", "competencies"])


def _candidate(uid: int, name: str, school: str, muni: int, tid: int | None = None) -> Candidate:
    return Candidate(uid, tid or 1000 + uid, name, school, school[:10], muni)


def test_matching_by_id_or_by_name_and_school(framework: Framework) -> None:
    parsed = _parse(
        framework,
        "ID педагога;ФИО;Школа;Дата;Дефициты\n"
        ";ИВАНОВА Анна Петровна;мбоу сош №1;12.10.2026;digital\n"  # 2 by name (ё/case/spaces)
        "1002;;;12.10.2026;digital\n"  # 3 by id
        ";Сидорова Ольга;МБОУ СОШ № 1;12.10.2026;\n"  # 4 two of them in that school
        ";Никто Никтович;МБОУ СОШ № 1;12.10.2026;\n"  # 5 unknown
        "1004;;;12.10.2026;\n"  # 6 another municipality
        "1001;;;12.10.2026;\n",  # 7 the same teacher, date and source as row 2
    )
    candidates = [
        _candidate(1, "Иванова Анна Пётровна", "МБОУ СОШ № 1", 10),
        _candidate(2, "Петрова Мария", "МБОУ СОШ № 2", 10),
        _candidate(3, "Сидорова Ольга", "МБОУ СОШ № 1", 10),
        _candidate(5, "Сидорова  Ольга", "МБОУ «СОШ № 1»", 10),
        _candidate(4, "Чужая Учительница", "МБОУ СОШ № 1", 20),
    ]
    matched, rejected = match(parsed.drafts, candidates, lambda m: m == 10, {})
    assert [(m.draft.row, m.user_id) for m in matched] == [(2, 1), (3, 2)]
    assert {r.row: [p.code for p in r.problems] for r in rejected} == {
        4: [Issue.AMBIGUOUS],
        5: [Issue.UNKNOWN_TEACHER],
        6: [Issue.OUT_OF_SCOPE],
        7: [Issue.REPEATED],
    }
    # the region (an administrator) sees row 6's teacher
    matched, _ = match(parsed.drafts, candidates, lambda m: True, {})
    assert (6, 4) in [(m.draft.row, m.user_id) for m in matched]


def test_the_templates_read_back_as_diagnosis_files(framework: Framework) -> None:
    for lang in ("ru", "en"):
        for name, data in templates(framework, lang, "12.10.2026"):
            rows = read_table(data, name)
            assert is_diagnosis_table(rows[0].keys()), name
            parsed = parse_rows(
                rows,
                competency_names(framework),
                order=[c.code for c in framework.competencies],
                threshold=60.0,
                today=TODAY,
            )
            assert parsed.rejected == () and len(parsed.drafts) == 1, name


# ---------------------------------------------------------------------- the reader's language


@pytest.fixture(scope="module")
def i18n() -> CatalogI18n:
    return CatalogI18n(path=LOCALES_DIR, default_locale="en")


def _sample(code: Issue | FileIssue) -> Problem:
    names = PLACEHOLDER.findall(ENGLISH[code])
    return Problem(code, tuple((n, 3 if n == "n" else f"<{n}>") for n in names))


@pytest.mark.parametrize("code", [*Issue, *FileIssue])
def test_every_problem_has_a_text_with_its_values(
    code: Issue | FileIssue, i18n: CatalogI18n
) -> None:
    problem = _sample(code)
    for lang in ("en", "ru"):
        with i18n.context(), i18n.use_locale(lang):
            text = problem_text(problem)
        for _name, value in problem.params:
            assert str(value) in text, (lang, text)
