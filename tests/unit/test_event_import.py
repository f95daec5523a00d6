"""Import of internship sites and events from CSV/XLSX: reading, validation, templates."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from domain.event_import import (
    EVENT_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    ROW_NUMBER_KEY,
    SITE_COLUMNS,
    EventDraft,
    ImportContext,
    ImportFormatError,
    RowReport,
    SiteDraft,
    TemplateScope,
    codes_csv,
    events_template_csv,
    events_template_xlsx,
    read_table,
    sites_template_csv,
    sites_template_xlsx,
    validate_events,
    validate_sites,
)

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)

CTX = ImportContext(
    municipalities=frozenset({"timashevsky", "volgodonsk"}),
    schools={
        "timashevsky_sosh_2": "timashevsky",
        "volgodonsk_gymn_1": "volgodonsk",
    },
    sites={"tim-old-site": "timashevsky", "vdn-old-site": "volgodonsk"},
    events=frozenset({"tim-old-event"}),
    competencies=frozenset({"functional_literacy", "subject_methodical", "digital", "assessment"}),
    positions=frozenset({"teacher", "deputy_head"}),
    subjects=frozenset({"math", "russian"}),
    allowed_municipalities=None,
    tz=MSK,
    now=NOW,
)
TIM_COORDINATOR = replace(CTX, allowed_municipalities=frozenset({"timashevsky"}))

SITE_ROW = {
    "code": "tim-new-site",
    "municipality": "timashevsky",
    "school": "timashevsky_sosh_2",
    "title": "Функциональная грамотность",
    "topic": "Читательская грамотность 5–9 классы",
    "competencies": "functional_literacy, subject_methodical",
    "description": "Открытые уроки и практикумы",
    "contact": "Иванова О. П., +7 861 304-12-34",
    "modules": "Читательская грамотность|8; Банк заданий|16",
}

EVENT_ROW = {
    "code": "tim-new-event",
    "kind": "стажировка",
    "title": "Стажировка по функциональной грамотности",
    "description": "",
    "competencies": "functional_literacy",
    "site": "tim-old-site",
    "municipality": "timashevsky",
    "positions": "teacher",
    "subjects": "math, russian",
    "starts_at": "15.10.2026 10:00",
    "ends_at": "15.10.2026 15:00",
    "place": "ст. Днепровская, ул. Ленина, 34",
    "online_url": "",
    "capacity": "25",
    "registration_deadline": "",
}


def site(**changes: str) -> dict[str, str]:
    return {**SITE_ROW, **changes}


def event(**changes: str) -> dict[str, str]:
    return {**EVENT_ROW, **changes}


def csv_bytes(
    rows: Sequence[Sequence[str]], delimiter: str = ";", encoding: str = "utf-8-sig"
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[Any]], extra_sheet: bool = False) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    if extra_sheet:
        workbook.create_sheet("other").append(["ignored"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def as_table(rows: Sequence[dict[str, str]]) -> list[list[str]]:
    header = list(rows[0])
    return [header, *[[row[name] for name in header] for row in rows]]


def only_errors(reports: Sequence[RowReport]) -> list[str]:
    return [str(error) for report in reports for error in report.errors]


def event_errors(row: dict[str, str], ctx: ImportContext = CTX) -> list[str]:
    return only_errors(validate_events([row], ctx).reports)


def site_errors(row: dict[str, str], ctx: ImportContext = CTX) -> list[str]:
    return only_errors(validate_sites([row], ctx).reports)


# ---------------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [(";", "utf-8-sig"), (",", "utf-8-sig"), (";", "utf-8"), (";", "cp1251"), (",", "cp1251")],
)
def test_csv_delimiters_and_encodings(delimiter: str, encoding: str) -> None:
    data = csv_bytes(
        [
            [" Code ", "TITLE", "modules"],
            ["tim-1", "Семинар «Ёлка», часть 1; итоги", "Модуль A|8; Модуль B|4"],
            ["", "", ""],
            ["tim-2", "Многострочный\nтекст", ""],
        ],
        delimiter,
        encoding,
    )
    assert read_table(data, "Площадки.CSV") == [
        {
            "code": "tim-1",
            "title": "Семинар «Ёлка», часть 1; итоги",
            "modules": "Модуль A|8; Модуль B|4",
            ROW_NUMBER_KEY: "2",
        },
        # the empty row 3 is skipped, the row number still points at the spreadsheet row
        {"code": "tim-2", "title": "Многострочный\nтекст", "modules": "", ROW_NUMBER_KEY: "4"},
    ]


def test_csv_short_rows_are_padded_and_trailing_empty_columns_ignored() -> None:
    data = b"code;title;;\r\nx1\r\n"
    assert read_table(data, "a.csv") == [{"code": "x1", "title": "", ROW_NUMBER_KEY: "2"}]


def test_xlsx_round_trip_with_real_dates_and_numbers() -> None:
    data = xlsx_bytes(
        [
            ["Code", " starts_at ", "capacity", "day", "note"],
            ["ev-1", datetime(2026, 10, 15, 10, 0), 20.0, date(2026, 10, 1), None],
            [None, None, None, None, None],
            ["ev-2", datetime(2026, 10, 16, 9, 30), 7, date(2026, 10, 2), "  текст  "],
            ["ev-3", "15.10.2026 10:00", 2.5, None, True],
        ],
        extra_sheet=True,
    )
    assert read_table(data, "events.xlsx") == [
        {
            "code": "ev-1",
            "starts_at": "15.10.2026 10:00",
            "capacity": "20",
            "day": "01.10.2026",
            "note": "",
            ROW_NUMBER_KEY: "2",
        },
        {
            "code": "ev-2",
            "starts_at": "16.10.2026 09:30",
            "capacity": "7",
            "day": "02.10.2026",
            "note": "текст",
            ROW_NUMBER_KEY: "4",
        },
        {
            "code": "ev-3",
            "starts_at": "15.10.2026 10:00",
            "capacity": "2.5",
            "day": "",
            "note": "TRUE",
            ROW_NUMBER_KEY: "5",
        },
    ]


def test_xlsx_events_validate_end_to_end() -> None:
    header = list(EVENT_ROW)
    values: list[Any] = [EVENT_ROW[name] for name in header]
    values[header.index("starts_at")] = datetime(2026, 10, 15, 10, 0)
    values[header.index("ends_at")] = datetime(2026, 10, 15, 15, 0)
    values[header.index("capacity")] = 25
    result = validate_events(read_table(xlsx_bytes([header, values]), "e.xlsx"), CTX)
    assert result.ok, result.reports
    (draft,) = result.drafts
    assert draft.starts_at == datetime(2026, 10, 15, 7, 0, tzinfo=UTC)
    assert draft.capacity == 25


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.csv", "the file is empty"),
        (b"\r\n;;\r\n  ;  \r\n", "a.csv", "the file is empty"),
        (b"code;title\r\n", "a.csv", "no data rows"),
        (b"code;title\r\n;\r\n", "a.csv", "no data rows"),
        (b"%PDF-1.4 ...", "plan.pdf", "unsupported file type"),
        (b"code\nx", "table.xls", "unsupported file type"),
        (b"\x98\x98\x98", "a.csv", "not a text file"),
        (b"code\x00;title\r\n", "a.csv", "not a CSV text file"),
        (b"\xff\xfec\x00o\x00d\x00e\x00", "a.csv", "not a CSV text file"),
        (b"PK\x03\x04 rest of a zip", "a.csv", "Excel (.xlsx) file"),
        (b"not a zip at all", "a.xlsx", "not a readable XLSX file"),
        (b"PK\x03\x04broken", "a.xlsx", "not a readable XLSX file"),
        (b"x" * (2 * 1024 * 1024 + 1), "a.csv", "larger than 2 MB"),
        (b"code;code\r\nx;y\r\n", "a.csv", "repeated column(s): code"),
        (b"code;\r\nx;y\r\n", "a.csv", "row 2: a value in column B"),
        (b"code;title\r\nx;y;z\r\n", "a.csv", "row 2: a value in column C"),
    ],
)
def test_unusable_files(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(ImportFormatError, match=re.escape(message)):
        read_table(data, filename)


def test_xlsx_header_only_and_empty_workbook() -> None:
    with pytest.raises(ImportFormatError, match="no data rows"):
        read_table(xlsx_bytes([["code", "title"]]), "a.xlsx")
    with pytest.raises(ImportFormatError, match="the file is empty"):
        read_table(xlsx_bytes([]), "a.xlsx")


def test_row_limit() -> None:
    rows = [["code"], *[[f"c{i}"] for i in range(MAX_ROWS)]]
    assert len(read_table(csv_bytes(rows), "a.csv")) == MAX_ROWS
    with pytest.raises(ImportFormatError, match="more than 1000 data rows"):
        read_table(csv_bytes([*rows, ["one-more"]]), "a.csv")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from(["a.csv", "b.xlsx", "c.CSV"]))
def test_read_table_raises_only_import_format_error(data: bytes, filename: str) -> None:
    try:
        rows = read_table(data, filename)
    except ImportFormatError:
        return
    assert rows
    assert all(isinstance(v, str) for row in rows for v in row.values())


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@given(
    st.lists(
        st.lists(
            st.text(st.characters(codec="cp1251", exclude_characters="\x00"), max_size=8),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from([";", ","]),
    st.sampled_from(["utf-8-sig", "cp1251"]),
)
def test_csv_values_survive_any_text(rows: list[list[str]], delimiter: str, encoding: str) -> None:
    header = ["alpha", "beta", "gamma"]
    expected = [dict(zip(header, [v.strip() for v in row], strict=True)) for row in rows]
    expected = [row for row in expected if any(row.values())]
    data = csv_bytes([header, *rows], delimiter, encoding)
    if encoding == "cp1251":
        # a few cp1251 byte pairs ("В¤") are valid UTF-8 too; real Russian text is not
        assume(data.isascii() or not _is_utf8(data))
    if not expected:
        with pytest.raises(ImportFormatError, match="no data rows"):
            read_table(data, "a.csv")
        return
    result = read_table(data, "a.csv")
    assert [{k: v for k, v in row.items() if k != ROW_NUMBER_KEY} for row in result] == expected


# ---------------------------------------------------------------------------------- templates

TEMPLATE_CTX = replace(
    CTX,
    now=datetime.now(UTC),
    sites={},
    competencies=frozenset({"functional_literacy", "subject_methodical", "digital", "assessment"}),
)
SCOPE = TemplateScope(
    municipality="timashevsky",
    municipalities=(("timashevsky", "Тимашевский район"), ("volgodonsk", "г. Волгодонск")),
    schools=(
        ("timashevsky_sosh_2", "МБОУ СОШ № 2", "timashevsky"),
        ("volgodonsk_gymn_1", "МБОУ «Гимназия № 1»", "volgodonsk"),
    ),
    sites=(),
    competencies=tuple((code, code) for code in sorted(TEMPLATE_CTX.competencies)),
    positions=(("teacher", "учитель"), ("deputy_head", "заместитель директора")),
    subjects=(("math", "математика"), ("russian", "русский язык")),
)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_templates_are_importable(kind: str) -> None:
    sites_data = sites_template_csv(SCOPE) if kind == "csv" else sites_template_xlsx(SCOPE)
    sites = validate_sites(read_table(sites_data, f"sites.{kind}"), TEMPLATE_CTX)
    assert sites.ok, sites.reports
    assert sites.created == 2
    assert {draft.municipality for draft in sites.drafts} == {"timashevsky"}
    assert {draft.school for draft in sites.drafts} == {"timashevsky_sosh_2"}
    today = date.today()
    events_data = (
        events_template_csv(SCOPE, today) if kind == "csv" else events_template_xlsx(SCOPE, today)
    )
    events = validate_events(read_table(events_data, f"events.{kind}"), TEMPLATE_CTX)
    assert events.ok, events.reports
    assert events.created == 2
    assert {draft.kind for draft in events.drafts} == {"internship", "webinar"}
    assert {draft.municipality for draft in events.drafts} == {"timashevsky"}


def test_templates_are_for_the_scope_and_avoid_taken_codes() -> None:
    vdn = replace(
        SCOPE,
        municipality="volgodonsk",
        municipalities=(("volgodonsk", "г. Волгодонск"),),
        schools=(("volgodonsk_gymn_1", "МБОУ «Гимназия № 1»", "volgodonsk"),),
        sites=(("vdn-site", "Площадка", "volgodonsk"),),
        taken_codes=frozenset({"volgodonsk-event-1", "vdn-site"}),
    )
    ctx = replace(
        TEMPLATE_CTX,
        allowed_municipalities=frozenset({"volgodonsk"}),
        sites={"vdn-site": "volgodonsk"},
        events=frozenset({"volgodonsk-event-1"}),
    )
    events = validate_events(read_table(events_template_csv(vdn, date.today()), "e.csv"), ctx)
    assert events.ok, events.reports
    assert [d.code for d in events.drafts] == ["volgodonsk-event-2", "volgodonsk-event-3"]
    assert events.drafts[0].site == "vdn-site"
    sites = validate_sites(read_table(sites_template_xlsx(vdn), "s.xlsx"), ctx)
    assert sites.ok, sites.reports
    codes = list(csv.reader(io.StringIO(codes_csv(vdn).decode("utf-8-sig")), delimiter=";"))
    assert codes[0] == ["column", "code", "name"]
    listed = {(row[0], row[1]) for row in codes[1:]}
    assert {("municipality", "volgodonsk"), ("school", "volgodonsk_gymn_1")} <= listed
    assert {("site", "vdn-site"), ("kind", "webinar"), ("positions", "teacher")} <= listed
    assert {("subjects", "math"), ("competencies", "digital")} <= listed
    assert ("municipality", "timashevsky") not in listed
    sheet = load_workbook(io.BytesIO(events_template_xlsx(vdn, date.today()))).worksheets[1]
    assert sheet.title == "Коды"
    assert ("kind", "internship") in {(r[0], r[1]) for r in sheet.iter_rows(values_only=True)}


def test_template_formats() -> None:
    data = sites_template_csv(SCOPE)
    assert data.startswith(b"\xef\xbb\xbf")
    header = data[3:].decode().splitlines()[0]
    assert header == ";".join(name for name, _, _ in SITE_COLUMNS)
    assert len(data.decode("utf-8-sig").splitlines()) == 3
    assert read_table(events_template_csv(SCOPE, date(2027, 1, 1)), "e.csv")[0]["starts_at"] == (
        "31.01.2027 10:00"
    )
    assert read_table(sites_template_csv(SCOPE), "s.csv") == read_table(
        sites_template_xlsx(SCOPE), "s.xlsx"
    )
    today = date(2027, 1, 1)
    assert read_table(events_template_csv(SCOPE, today), "e.csv") == read_table(
        events_template_xlsx(SCOPE, today), "e.xlsx"
    )

    workbook = load_workbook(io.BytesIO(events_template_xlsx(SCOPE, today)))
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]] == [name for name, _, _ in EVENT_COLUMNS]
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["C"].width > 12
    assert isinstance(sheet["J2"].value, datetime)  # starts_at is a real date-time cell
    instructions = workbook.worksheets[2]
    assert instructions["A1"].value == "Столбец"
    assert [
        row[0].value for row in instructions.iter_rows(min_row=2, max_row=len(EVENT_COLUMNS) + 1)
    ] == [name for name, _, _ in EVENT_COLUMNS]
    assert all(help_text for _, _, help_text in (*SITE_COLUMNS, *EVENT_COLUMNS))


# ---------------------------------------------------------------------------------- columns


def test_unknown_and_missing_columns() -> None:
    with pytest.raises(ImportFormatError, match="unknown column\\(s\\): colour, size"):
        validate_sites([{**SITE_ROW, "size": "", "colour": ""}], CTX)
    without = {k: v for k, v in SITE_ROW.items() if k not in ("title", "modules")}
    with pytest.raises(ImportFormatError, match="missing column\\(s\\): title, modules"):
        validate_sites([without], CTX)
    with pytest.raises(ImportFormatError, match="missing column\\(s\\): capacity"):
        validate_events([{k: v for k, v in EVENT_ROW.items() if k != "capacity"}], CTX)


def test_optional_columns_may_be_absent() -> None:
    minimal = {name: EVENT_ROW[name] for name, required, _ in EVENT_COLUMNS if required}
    result = validate_events([{**minimal, "place": "Актовый зал"}], CTX)
    assert result.ok, result.reports
    assert result.drafts[0].municipality is None  # no municipality column: the whole region
    minimal_site = {name: SITE_ROW[name] for name, required, _ in SITE_COLUMNS if required}
    assert validate_sites([minimal_site], CTX).drafts[0].school is None


# ---------------------------------------------------------------------------------- sites


def test_valid_site_draft() -> None:
    result = validate_sites(
        [site(code="TIM-New-Site", competencies="digital;assessment,digital")], CTX
    )
    assert result.ok
    assert result.reports == (RowReport(row=2, key="tim-new-site", action="create", errors=()),)
    assert result.drafts == (
        SiteDraft(
            code="tim-new-site",
            municipality="timashevsky",
            school="timashevsky_sosh_2",
            title="Функциональная грамотность",
            topic="Читательская грамотность 5–9 классы",
            competencies=("digital", "assessment"),
            description="Открытые уроки и практикумы",
            contact="Иванова О. П., +7 861 304-12-34",
            modules=(("Читательская грамотность", 8), ("Банк заданий", 16)),
        ),
    )


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code": ""}, "code: must not be empty"),
        ({"code": "x"}, "code: use 2–32 characters: latin letters a-z, digits, _ or -"),
        ({"code": "площадка"}, "code: use 2–32 characters: latin letters a-z, digits, _ or -"),
        ({"code": "a" * 33}, "code: use 2–32 characters: latin letters a-z, digits, _ or -"),
        ({"municipality": ""}, "municipality: must not be empty"),
        ({"municipality": "moscow"}, "municipality: unknown code moscow"),
        ({"school": "nowhere_1"}, "school: unknown code nowhere_1"),
        (
            {"school": "volgodonsk_gymn_1"},
            "school: volgodonsk_gymn_1 belongs to volgodonsk, not timashevsky",
        ),
        ({"title": ""}, "title: must not be empty"),
        ({"title": "т" * 201}, "title: must be at most 200 characters (now 201)"),
        ({"topic": "  "}, "topic: must not be empty"),
        ({"topic": "т" * 201}, "topic: must be at most 200 characters (now 201)"),
        ({"competencies": ""}, "competencies: at least one code is required"),
        ({"competencies": "digital, magic, chess"}, "competencies: unknown code(s): magic, chess"),
        ({"description": "д" * 2001}, "description: must be at most 2000 characters (now 2001)"),
        ({"contact": "к" * 201}, "contact: must be at most 200 characters (now 201)"),
        ({"contact": "bell\x07"}, "contact: contains control characters"),
        ({"modules": ""}, "modules: at least one module is required, as Title|hours"),
        ({"modules": "Модуль без часов"}, "modules: «Модуль без часов» must look like Title|hours"),
        ({"modules": "|8"}, "modules: «|8» must look like Title|hours"),
        ({"modules": "A|8; B|0"}, "modules: hours of «B» must be a whole number from 1 to 200"),
        ({"modules": "A|201"}, "modules: hours of «A» must be a whole number from 1 to 200"),
        ({"modules": "A|8.5"}, "modules: hours of «A» must be a whole number from 1 to 200"),
        ({"modules": "м" * 201 + "|8"}, "modules: a module title must be at most 200 characters"),
    ],
)
def test_site_rules(changes: dict[str, str], error: str) -> None:
    result = validate_sites([site(**changes)], CTX)
    assert not result.ok
    assert result.drafts == ()
    assert result.reports[0].action == "reject"
    assert [str(e) for e in result.reports[0].errors] == [error]


def test_site_texts_are_normalized() -> None:
    result = validate_sites(
        [site(title="  Два   пробела\nи перенос ", description="Строка 1\r\nСтрока 2")], CTX
    )
    assert result.drafts[0].title == "Два пробела и перенос"
    assert result.drafts[0].description == "Строка 1\nСтрока 2"


def test_site_modules_accept_bars_in_titles_and_newlines() -> None:
    result = validate_sites([site(modules="Модуль 1|вводный|4\nМодуль 2 | 12 ;")], CTX)
    assert result.drafts[0].modules == (("Модуль 1|вводный", 4), ("Модуль 2", 12))


def test_site_update_vs_create() -> None:
    result = validate_sites(
        [site(code="tim-old-site"), site(code="tim-new-1"), site(code="tim-new-2")], CTX
    )
    assert [r.action for r in result.reports] == ["update", "create", "create"]
    assert (result.created, result.updated, result.rejected) == (2, 1, 0)


# ---------------------------------------------------------------------------------- events


def test_valid_event_draft_and_timezone() -> None:
    result = validate_events([event(registration_deadline="2026-10-14 18:00")], CTX)
    assert result.ok, result.reports
    assert result.drafts == (
        EventDraft(
            code="tim-new-event",
            kind="internship",
            title="Стажировка по функциональной грамотности",
            description="",
            competencies=("functional_literacy",),
            site="tim-old-site",
            municipality="timashevsky",
            positions=("teacher",),
            subjects=("math", "russian"),
            starts_at=datetime(2026, 10, 15, 7, 0, tzinfo=UTC),  # 10:00 Moscow
            ends_at=datetime(2026, 10, 15, 12, 0, tzinfo=UTC),
            place="ст. Днепровская, ул. Ленина, 34",
            online_url="",
            capacity=25,
            registration_deadline=datetime(2026, 10, 14, 15, 0, tzinfo=UTC),
        ),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15.10.2026 10:00", datetime(2026, 10, 15, 7, 0, tzinfo=UTC)),
        ("5.1.2027 9:05", datetime(2027, 1, 5, 6, 5, tzinfo=UTC)),
        ("2026-10-15 10:00", datetime(2026, 10, 15, 7, 0, tzinfo=UTC)),
        ("2026-10-15T10:00:30", datetime(2026, 10, 15, 7, 0, 30, tzinfo=UTC)),
    ],
)
def test_date_formats(value: str, expected: datetime) -> None:
    result = validate_events([event(starts_at=value, ends_at="31.12.2027 10:00")], CTX)
    assert result.drafts[0].starts_at == expected


def test_other_timezone_and_clock_change() -> None:
    berlin = replace(CTX, tz=ZoneInfo("Europe/Berlin"))
    result = validate_events([event(starts_at="15.10.2026 10:00")], berlin)
    assert result.drafts[0].starts_at == datetime(2026, 10, 15, 8, 0, tzinfo=UTC)
    assert event_errors(event(starts_at="28.03.2027 02:30"), berlin) == [
        "starts_at: 28.03.2027 02:30 does not exist in Europe/Berlin (the clocks change)"
    ]


@pytest.mark.parametrize(
    "kind",
    ["internship", "Стажировка", "СТАЖИРОВКА", "masterclass", "Мастер-класс", "мастер класс",
     "seminar", "Семинар", "webinar", "Вебинар", "open_lesson", "Открытый урок", "open-lesson",
     "workshop", "Мастерская", "Педагогическая мастерская"],
)  # fmt: skip
def test_event_kinds(kind: str) -> None:
    result = validate_events([event(kind=kind)], CTX)
    assert result.ok, result.reports
    assert result.drafts[0].kind in {
        "internship", "masterclass", "seminar", "webinar", "open_lesson", "workshop"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code": "bad code"}, "code: use 2–32 characters: latin letters a-z, digits, _ or -"),
        ({"kind": ""}, "kind: must not be empty"),
        (
            {"kind": "лекция"},
            "kind: unknown kind «лекция»; use one of: internship, masterclass, seminar, "
            "webinar, open_lesson, workshop",
        ),
        ({"title": ""}, "title: must not be empty"),
        ({"title": "т" * 201}, "title: must be at most 200 characters (now 201)"),
        ({"description": "д" * 2001}, "description: must be at most 2000 characters (now 2001)"),
        ({"competencies": "magic"}, "competencies: unknown code(s): magic"),
        ({"site": "no-such-site"}, "site: unknown code no-such-site"),
        ({"municipality": "moscow"}, "municipality: unknown code moscow"),
        ({"positions": "teacher, janitor"}, "positions: unknown code(s): janitor"),
        ({"subjects": "astrology"}, "subjects: unknown code(s): astrology"),
        ({"starts_at": ""}, "starts_at: must not be empty"),
        ({"starts_at": "15/10/2026 10:00"}, "starts_at: use the format DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00"),
        ({"starts_at": "завтра"}, "starts_at: use the format DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00"),
        ({"starts_at": "15.10.2026"}, "starts_at: add the time: DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00"),
        ({"starts_at": "31.02.2026 10:00"}, "starts_at: no such date or time: 31.02.2026 10:00"),
        ({"starts_at": "15.10.2026 25:00"}, "starts_at: no such date or time: 15.10.2026 25:00"),
        ({"ends_at": ""}, "ends_at: must not be empty"),
        ({"ends_at": "15.10.2026 09:00"}, "ends_at: must be after starts_at"),
        ({"ends_at": "15.10.2026 10:00"}, "ends_at: must be after starts_at"),
        ({"registration_deadline": "15.10.2026 10:01"}, "registration_deadline: must not be later than starts_at"),
        ({"registration_deadline": "14.10"}, "registration_deadline: use the format DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00"),
        ({"place": ""}, "place: fill in place, online_url or both"),
        ({"place": "", "online_url": "vk.com/metod"}, "online_url: must be a link starting with https:// or http://"),
        ({"online_url": "ftp://files.example.ru"}, "online_url: must be a link starting with https:// or http://"),
        ({"online_url": "https://exa mple.ru"}, "online_url: must be a link starting with https:// or http://"),
        ({"online_url": "javascript:alert(1)"}, "online_url: must be a link starting with https:// or http://"),
        ({"online_url": "https://e.ru/" + "x" * 500}, "online_url: must be at most 500 characters"),
        ({"place": "п" * 301}, "place: must be at most 300 characters (now 301)"),
        ({"capacity": ""}, "capacity: must be a whole number from 1 to 10000"),
        ({"capacity": "0"}, "capacity: must be a whole number from 1 to 10000"),
        ({"capacity": "10001"}, "capacity: must be a whole number from 1 to 10000"),
        ({"capacity": "-5"}, "capacity: must be a whole number from 1 to 10000"),
        ({"capacity": "25.5"}, "capacity: must be a whole number from 1 to 10000"),
        ({"capacity": "много"}, "capacity: must be a whole number from 1 to 10000"),
    ],
)  # fmt: skip
def test_event_rules(changes: dict[str, str], error: str) -> None:
    result = validate_events([event(**changes)], CTX)
    assert not result.ok
    assert result.drafts == ()
    assert [str(e) for e in result.reports[0].errors] == [error]


def test_start_must_be_in_the_future() -> None:
    assert event_errors(event(starts_at="01.09.2026 12:00", ends_at="01.09.2026 13:00")) == [
        "starts_at: must be in the future"
    ]  # 12:00 Moscow = 09:00 UTC = ctx.now
    assert event_errors(event(starts_at="01.09.2026 12:01", ends_at="01.09.2026 13:00")) == []


def test_event_values_are_lenient_where_safe() -> None:
    result = validate_events(
        [
            event(
                code="Tim-Ev-2",
                site="TIM-OLD-SITE",
                municipality=" Timashevsky ",
                positions="teacher;deputy_head",
                capacity="1 000",
                place="",
                online_url="https://vk.com/metod",
            )
        ],
        CTX,
    )
    assert result.ok, result.reports
    draft = result.drafts[0]
    assert (draft.code, draft.site, draft.municipality) == (
        "tim-ev-2",
        "tim-old-site",
        "timashevsky",
    )
    assert draft.positions == ("teacher", "deputy_head")
    assert draft.capacity == 1000
    assert draft.registration_deadline is None


@pytest.mark.parametrize("word", ["", "region", "Край", "ОБЛАСТЬ", "регион"])
def test_region_wide_events(word: str) -> None:
    result = validate_events([event(municipality=word, site="")], CTX)
    assert result.ok, result.reports
    assert result.drafts[0].municipality is None


def test_event_site_from_the_same_import() -> None:
    row = event(site="tim-new-site")
    assert event_errors(row) == ["site: unknown code tim-new-site"]
    result = validate_events([row], CTX, site_municipality={"tim-new-site": "timashevsky"})
    assert result.ok
    assert result.drafts[0].site == "tim-new-site"


def test_event_update_vs_create() -> None:
    result = validate_events([event(code="tim-old-event"), event(code="tim-new-event")], CTX)
    assert [r.action for r in result.reports] == ["update", "create"]
    assert (result.created, result.updated, result.rejected) == (1, 1, 0)


# ---------------------------------------------------------------------------------- all rows


def test_all_or_nothing() -> None:
    rows = [event(code="ev-1"), event(code="ev-2", capacity="0"), event(code="ev-3")]
    result = validate_events(rows, CTX)
    assert not result.ok
    assert result.drafts == ()
    assert [(r.row, r.key, r.action) for r in result.reports] == [
        (2, "ev-1", "create"),
        (3, "ev-2", "reject"),
        (4, "ev-3", "create"),
    ]
    assert (result.created, result.updated, result.rejected) == (2, 0, 1)
    assert validate_events([rows[0], rows[2]], CTX).ok


def test_every_error_of_a_row_is_reported() -> None:
    errors = event_errors(event(kind="лекция", capacity="0", place=""))
    assert [error.split(":")[0] for error in errors] == ["kind", "place", "capacity"]


def test_repeated_codes() -> None:
    result = validate_sites(
        [site(code="tim-a"), site(code="tim-b"), site(code="TIM-A"), site(code="tim-a")], CTX
    )
    assert [tuple(map(str, r.errors)) for r in result.reports] == [
        ("code: repeated in rows 4, 5",),
        (),
        ("code: repeated in rows 2, 5",),
        ("code: repeated in rows 2, 4",),
    ]
    assert result.rejected == 3


def test_reports_use_spreadsheet_row_numbers() -> None:
    table = as_table([event(code="ev-1"), event(code="ev-2", capacity="x")])
    table.insert(2, [""] * len(table[0]))  # an empty spreadsheet row 3
    rows = read_table(csv_bytes(table), "e.csv")
    result = validate_events(rows, CTX)
    assert [(r.row, r.action) for r in result.reports] == [(2, "create"), (4, "reject")]


# ---------------------------------------------------------------------------------- permissions


def test_coordinator_imports_only_for_own_municipality() -> None:
    assert validate_sites([site()], TIM_COORDINATOR).ok
    assert site_errors(
        site(municipality="volgodonsk", school="volgodonsk_gymn_1"), TIM_COORDINATOR
    ) == ["municipality: you can import only for timashevsky"]
    # an existing site of another municipality cannot be taken over by its code
    assert site_errors(site(code="vdn-old-site"), TIM_COORDINATOR) == [
        "code: site vdn-old-site belongs to volgodonsk; you can import only for timashevsky"
    ]
    assert validate_sites([site(code="vdn-old-site")], CTX).reports[0].action == "update"


def test_coordinator_event_permissions() -> None:
    assert validate_events([event()], TIM_COORDINATOR).ok
    assert event_errors(event(municipality="volgodonsk", site=""), TIM_COORDINATOR) == [
        "municipality: you can import only for timashevsky"
    ]
    assert event_errors(
        event(municipality="timashevsky", site="vdn-old-site"), TIM_COORDINATOR
    ) == ["site: vdn-old-site belongs to volgodonsk; you can import only for timashevsky"]
    assert event_errors(event(municipality="край", site=""), TIM_COORDINATOR) == [
        "municipality: only an administrator can import region-wide events; "
        "you can import only for timashevsky"
    ]
    # a site defined in the same import counts with its own municipality
    assert event_errors(event(site="vdn-new-site"), TIM_COORDINATOR) == [
        "site: unknown code vdn-new-site"
    ]
    result = validate_events(
        [event(site="vdn-new-site")],
        TIM_COORDINATOR,
        site_municipality={"vdn-new-site": "volgodonsk"},
    )
    assert only_errors(result.reports) == [
        "site: vdn-new-site belongs to volgodonsk; you can import only for timashevsky"
    ]


def test_coordinator_of_several_or_no_municipalities() -> None:
    both = replace(CTX, allowed_municipalities=frozenset({"volgodonsk", "timashevsky"}))
    assert validate_events([event(municipality="volgodonsk")], both).ok
    assert event_errors(event(municipality="", site=""), both) == [
        "municipality: only an administrator can import region-wide events; "
        "you can import only for timashevsky, volgodonsk"
    ]
    nobody = replace(CTX, allowed_municipalities=frozenset())
    assert site_errors(site(), nobody) == ["municipality: you have no municipality to import for"]


# ---------------------------------------------------------------------------------- hostile files


SITES_XLSX = sites_template_xlsx(SCOPE)  # once: the bytes hold a timestamp


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_corrupted_xlsx_raises_only_import_format_error(data: st.DataObject) -> None:
    original = bytearray(SITES_XLSX)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    with contextlib.suppress(ImportFormatError):
        read_table(bytes(original), "sites.xlsx")


def test_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "привет")
    with pytest.raises(ImportFormatError, match="not a readable XLSX file"):
        read_table(buffer.getvalue(), "a.xlsx")


def test_zip_bomb_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"0" * (65 * 1024 * 1024))
    assert len(buffer.getvalue()) < MAX_FILE_BYTES
    with pytest.raises(ImportFormatError, match="too large when unpacked"):
        read_table(buffer.getvalue(), "a.xlsx")


def test_xlsx_with_data_far_below_is_refused() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code"])
    sheet.append(["x1"])
    sheet.cell(row=20_001, column=1, value="far away")
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(ImportFormatError, match="more than 20000 rows"):
        read_table(buffer.getvalue(), "a.xlsx")
