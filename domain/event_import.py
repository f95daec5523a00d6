"""Bulk import of internship sites and events from a CSV or XLSX file (pure: no bot, no DB).

`read_table` turns the uploaded bytes into rows (`ImportFormatError` when the file itself is
unusable); `validate_sites` / `validate_events` check every row against an `ImportContext`
and return a report per row plus drafts, all-or-nothing: drafts are returned only when every
row is valid. Every problem is a `Problem`: an `Err` code, the column and the values its
text needs; `str()` gives English (command line), `handlers.event_import` the user's language.

The templates (`*_template_csv`, `*_template_xlsx`, `codes_csv`) are generated from
`SITE_COLUMNS` / `EVENT_COLUMNS` for a `TemplateScope`: the valid codes of the user's scope
(a «Коды» sheet, or the companion codes CSV) and example rows for their municipality that
import cleanly when sent back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeAlias, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_KINDS",
    "KIND_NAMES",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "ROW_NUMBER_KEY",
    "SITE_COLUMNS",
    "Err",
    "EventDraft",
    "ImportContext",
    "ImportFormatError",
    "ImportResult",
    "Problem",
    "RowReport",
    "SiteDraft",
    "TemplateScope",
    "codes_csv",
    "events_template_csv",
    "events_template_xlsx",
    "read_table",
    "sites_template_csv",
    "sites_template_xlsx",
    "validate_events",
    "validate_sites",
]

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000
# `read_table` stores the spreadsheet row number of each data row under this key (it is not a
# valid column name), so reports point at the right row even when empty rows were skipped.
ROW_NUMBER_KEY = "#row"

_MAX_COLUMNS = 64  # columns read from an XLSX sheet
_MAX_SHEET_ROWS = 20_000  # physical rows scanned in an XLSX sheet (empty ones included)
_MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # an XLSX is a zip: refuse zip bombs
_DATE_ONLY_FORMAT = "%d.%m.%Y"
_DATETIME_FORMAT = "%d.%m.%Y %H:%M"


# ---------------------------------------------------------------------------------- problems


class Err(StrEnum):
    """What can be wrong with an import file or one of its rows. The user sees each in their
    language: `handlers.event_import` has the translatable text of every code; `ENGLISH` here
    is the text for the command line and logs (a test keeps the two in step)."""

    # the file (ImportFormatError)
    FILE_EMPTY = "file_empty"
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE = "file_type"
    XLSX_AS_CSV = "xlsx_as_csv"
    NOT_TEXT = "not_text"
    NOT_CSV_TEXT = "not_csv_text"
    BAD_CSV = "bad_csv"
    BAD_XLSX = "bad_xlsx"
    XLSX_UNPACKED_TOO_LARGE = "xlsx_unpacked_too_large"
    XLSX_NO_SHEETS = "xlsx_no_sheets"
    SHEET_TOO_LONG = "sheet_too_long"
    REPEATED_COLUMNS = "repeated_columns"
    TOO_MANY_ROWS = "too_many_rows"
    VALUE_WITHOUT_HEADER = "value_without_header"
    NO_DATA_ROWS = "no_data_rows"
    UNKNOWN_COLUMNS = "unknown_columns"
    MISSING_COLUMNS = "missing_columns"
    # a cell
    REQUIRED = "required"
    CONTROL_CHARACTERS = "control_characters"
    TOO_LONG = "too_long"
    URL_TOO_LONG = "url_too_long"
    BAD_CODE = "bad_code"
    CODES_REQUIRED = "codes_required"
    UNKNOWN_CODES = "unknown_codes"
    UNKNOWN_CODE = "unknown_code"
    WHOLE_NUMBER = "whole_number"
    DATE_FORMAT = "date_format"
    DATE_WITHOUT_TIME = "date_without_time"
    NO_SUCH_DATE = "no_such_date"
    CLOCK_CHANGE = "clock_change"
    REPEATED_IN_ROW = "repeated_in_row"
    REPEATED_IN_ROWS = "repeated_in_rows"
    ONLY_FOR = "only_for"
    NO_SCOPE = "no_scope"
    SITE_OF_OTHER = "site_of_other"
    SITE_CODE_OF_OTHER = "site_code_of_other"
    SCHOOL_OF_OTHER = "school_of_other"
    MODULES_REQUIRED = "modules_required"
    MODULE_FORMAT = "module_format"
    MODULE_TITLE_TOO_LONG = "module_title_too_long"
    MODULE_HOURS = "module_hours"
    UNKNOWN_KIND = "unknown_kind"
    REGION_ADMIN_ONLY = "region_admin_only"
    NOT_IN_FUTURE = "not_in_future"
    END_BEFORE_START = "end_before_start"
    DEADLINE_AFTER_START = "deadline_after_start"
    PLACE_OR_URL = "place_or_url"
    BAD_URL = "bad_url"
    # the event rules (bot.imports, services.events)
    EVENT_OF_OTHER = "event_of_other"
    EVENT_CANCELLED = "event_cancelled"
    EVENT_OVER = "event_over"
    BELOW_SEATS_TAKEN = "below_seats_taken"


#: English text of every problem, `str.format` placeholders filled from its params; a pair is
#: (singular, plural) chosen by the param `n`
ENGLISH: dict[Err, str | tuple[str, str]] = {
    Err.FILE_EMPTY: "the file is empty",
    Err.FILE_TOO_LARGE: "the file is larger than 2 MB",
    Err.FILE_TYPE: "unsupported file type: send a .csv or .xlsx file",
    Err.XLSX_AS_CSV: "this is an Excel (.xlsx) file: send it with the .xlsx extension",
    Err.NOT_TEXT: "not a text file in UTF-8 or Windows-1251",
    Err.NOT_CSV_TEXT: "not a CSV text file (save it from Excel as «CSV UTF-8»)",
    Err.BAD_CSV: "not a readable CSV file: {detail}",
    Err.BAD_XLSX: "not a readable XLSX file",
    Err.XLSX_UNPACKED_TOO_LARGE: "the XLSX file is too large when unpacked",
    Err.XLSX_NO_SHEETS: "the XLSX file has no worksheets",
    Err.SHEET_TOO_LONG: "the sheet has more than {max} rows; delete the empty rows below the data",
    Err.REPEATED_COLUMNS: "repeated column(s): {columns}",
    Err.TOO_MANY_ROWS: "more than {max} data rows: split the file",
    Err.VALUE_WITHOUT_HEADER: "row {row}: a value in column {column}, which has no header (check the delimiter and the quotes)",
    Err.NO_DATA_ROWS: "no data rows",
    Err.UNKNOWN_COLUMNS: "unknown column(s): {columns}",
    Err.MISSING_COLUMNS: "missing column(s): {columns}",
    Err.REQUIRED: "must not be empty",
    Err.CONTROL_CHARACTERS: "contains control characters",
    Err.TOO_LONG: "must be at most {max} characters (now {length})",
    Err.URL_TOO_LONG: "must be at most {max} characters",
    Err.BAD_CODE: "use 2–32 characters: latin letters a-z, digits, _ or -",
    Err.CODES_REQUIRED: "at least one code is required",
    Err.UNKNOWN_CODES: "unknown code(s): {codes}",
    Err.UNKNOWN_CODE: "unknown code {code}",
    Err.WHOLE_NUMBER: "must be a whole number from {low} to {high}",
    Err.DATE_FORMAT: "use the format DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00",
    Err.DATE_WITHOUT_TIME: "add the time: DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00",
    Err.NO_SUCH_DATE: "no such date or time: {value}",
    Err.CLOCK_CHANGE: "{value} does not exist in {zone} (the clocks change)",
    Err.REPEATED_IN_ROW: "repeated in row {rows}",
    Err.REPEATED_IN_ROWS: "repeated in rows {rows}",
    Err.ONLY_FOR: "you can import only for {allowed}",
    Err.NO_SCOPE: "you have no municipality to import for",
    Err.SITE_OF_OTHER: "{site} belongs to {owner}; {scope}",
    Err.SITE_CODE_OF_OTHER: "site {site} belongs to {owner}; {scope}",
    Err.SCHOOL_OF_OTHER: "{school} belongs to {owner}, not {municipality}",
    Err.MODULES_REQUIRED: "at least one module is required, as Title|hours",
    Err.MODULE_FORMAT: "«{part}» must look like Title|hours",
    Err.MODULE_TITLE_TOO_LONG: "a module title must be at most {max} characters",
    Err.MODULE_HOURS: "hours of «{title}» must be a whole number from 1 to {max}",
    Err.UNKNOWN_KIND: "unknown kind «{kind}»; use one of: {kinds}",
    Err.REGION_ADMIN_ONLY: "only an administrator can import region-wide events; {scope}",
    Err.NOT_IN_FUTURE: "must be in the future",
    Err.END_BEFORE_START: "must be after starts_at",
    Err.DEADLINE_AFTER_START: "must not be later than starts_at",
    Err.PLACE_OR_URL: "fill in place, online_url or both",
    Err.BAD_URL: "must be a link starting with https:// or http://",
    Err.EVENT_OF_OTHER: "belongs to an event of {owner}",
    Err.EVENT_CANCELLED: "this event is cancelled: an import cannot schedule it again; give a new event a new code",
    Err.EVENT_OVER: "this event has taken place: it cannot be changed any more",
    Err.BELOW_SEATS_TAKEN: (
        "{n} seat is already taken: the capacity cannot be lower",
        "{n} seats are already taken: the capacity cannot be lower",
    ),
}

Param: TypeAlias = "str | int | Problem"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: a code, the column it concerns ("" for the whole file) and the values
    its text needs (a value may itself be a problem, rendered the same way)."""

    code: Err
    column: str = ""
    params: tuple[tuple[str, Param], ...] = ()

    @classmethod
    def of(cls, code: Err, column: str = "", /, **params: Param) -> Problem:
        return cls(code, column, tuple(params.items()))

    def render(self, text: Callable[[Problem], str]) -> str:
        """The message, with `text(problem)` giving the (translated) template of each code."""
        values = {
            name: value.render(text) if isinstance(value, Problem) else value
            for name, value in self.params
        }
        message = text(self).format(**values)
        return f"{self.column}: {message}" if self.column else message

    def param(self, name: str) -> Param | None:
        return next((value for key, value in self.params if key == name), None)

    def __str__(self) -> str:
        return self.render(english)


def english(problem: Problem) -> str:
    template = ENGLISH[problem.code]
    if isinstance(template, tuple):
        return template[0] if problem.param("n") == 1 else template[1]
    return template


class ImportFormatError(ValueError):
    """The file itself is unusable (type, encoding, size, header); `problem` says why."""

    def __init__(self, code: Err, /, **params: Param) -> None:
        self.problem = Problem.of(code, **params)
        super().__init__(str(self.problem))


# ---------------------------------------------------------------------------------- columns

Column = tuple[str, bool, str]  # (name, required, help text in Russian)

SITE_COLUMNS: tuple[Column, ...] = (
    (
        "code",
        True,
        "Код площадки: 2–32 символа, латинские строчные буквы, цифры, _ или -. Строка с уже существующим кодом обновляет площадку.",
    ),
    ("municipality", True, "Код муниципалитета из справочника (например, timashevsky)."),
    (
        "school",
        False,
        "Код образовательной организации из справочника; она должна относиться к указанному муниципалитету.",
    ),
    ("title", True, "Название площадки, до 200 символов."),
    ("topic", True, "Тема (направление) площадки, до 200 символов."),
    (
        "competencies",
        True,
        "Коды компетенций через запятую (не меньше одной), например: functional_literacy, subject_methodical.",
    ),
    ("description", False, "Описание для педагогов, до 2000 символов."),
    ("contact", False, "Контактное лицо и телефон или e-mail, до 200 символов."),
    (
        "modules",
        True,
        "Модули программы через точку с запятой, у каждого название и часы через |: «Название|8; Название|16». Часы — целое число от 1 до 200.",
    ),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    (
        "code",
        True,
        "Код мероприятия: 2–32 символа, латинские строчные буквы, цифры, _ или -. Строка с уже существующим кодом обновляет мероприятие.",
    ),
    (
        "kind",
        True,
        "Вид: стажировка, мастер-класс, семинар, вебинар, открытый урок, мастерская (или internship, masterclass, seminar, webinar, open_lesson, workshop).",
    ),
    ("title", True, "Название мероприятия, до 200 символов."),
    ("description", False, "Описание для педагогов, до 2000 символов."),
    ("competencies", False, "Коды компетенций через запятую; можно оставить пустым."),
    ("site", False, "Код стажировочной площадки (существующей или из того же импорта площадок)."),
    (
        "municipality",
        False,
        "Код муниципалитета, для педагогов которого проводится мероприятие; «край», «область» или пусто — для всего региона (только администратор).",
    ),
    (
        "positions",
        False,
        "Коды должностей через запятую (например, teacher, deputy_head); пусто — для всех.",
    ),
    (
        "subjects",
        False,
        "Коды предметов через запятую (например, math, russian); пусто — для всех.",
    ),
    (
        "starts_at",
        True,
        "Начало: ДД.ММ.ГГГГ ЧЧ:ММ по местному времени, например 15.10.2026 10:00. Должно быть в будущем.",
    ),
    ("ends_at", True, "Окончание: ДД.ММ.ГГГГ ЧЧ:ММ, позже начала."),
    ("place", False, "Адрес проведения. Нужно заполнить адрес, ссылку или оба поля."),
    (
        "online_url",
        False,
        "Ссылка на трансляцию или вебинарную комнату, начинается с https:// или http://.",
    ),
    ("capacity", True, "Число мест: целое число от 1 до 10000."),
    (
        "registration_deadline",
        False,
        "Окончание записи: ДД.ММ.ГГГГ ЧЧ:ММ, не позже начала; пусто — запись до начала.",
    ),
)

EVENT_KINDS: tuple[str, ...] = (
    "internship",
    "masterclass",
    "seminar",
    "webinar",
    "open_lesson",
    "workshop",
)

# Keys are normalized by `_kind_key` (lower case, "-" and "_" as spaces, single spaces).
_KIND_ALIASES: dict[str, str] = {
    "internship": "internship",
    "masterclass": "masterclass",
    "master class": "masterclass",
    "seminar": "seminar",
    "webinar": "webinar",
    "open lesson": "open_lesson",
    "workshop": "workshop",
    "стажировка": "internship",
    "мастер класс": "masterclass",
    "мастеркласс": "masterclass",
    "семинар": "seminar",
    "вебинар": "webinar",
    "открытый урок": "open_lesson",
    "мастерская": "workshop",
    "педагогическая мастерская": "workshop",
}

_REGION_WORDS = frozenset({"", "region", "край", "область", "регион"})

_CODE_RE = re.compile(r"^[a-z0-9_-]{2,32}$")
_WHOLE_RE = re.compile(r"^\d{1,9}$")
_DMY_RE = re.compile(
    r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)
_ISO_RE = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)

_TITLE_MAX = 200
_TOPIC_MAX = 200
_DESCRIPTION_MAX = 2000
_CONTACT_MAX = 200
_PLACE_MAX = 300
_URL_MAX = 500
_MODULE_TITLE_MAX = 200
_MODULE_HOURS_MAX = 200
_CAPACITY_MAX = 10_000


# ---------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ImportContext:
    municipalities: frozenset[str]
    schools: Mapping[str, str]  # school code -> municipality code
    sites: Mapping[str, str]  # existing site code -> municipality code
    events: frozenset[str]  # existing event codes
    competencies: frozenset[str]
    positions: frozenset[str]
    subjects: frozenset[str]
    allowed_municipalities: frozenset[str] | None  # None = administrator (any municipality)
    tz: ZoneInfo
    now: datetime  # aware


@dataclass(frozen=True)
class RowReport:
    row: int  # spreadsheet row number: the header is row 1
    key: str  # the row's code as typed (lower-cased)
    action: str  # "create" | "update" | "reject"
    errors: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class SiteDraft:
    code: str
    municipality: str
    school: str | None
    title: str
    topic: str
    competencies: tuple[str, ...]
    description: str
    contact: str
    modules: tuple[tuple[str, int], ...]  # (module title, hours)


@dataclass(frozen=True)
class EventDraft:
    code: str
    kind: str
    title: str
    description: str
    competencies: tuple[str, ...]
    site: str | None
    municipality: str | None  # None = the whole region
    positions: tuple[str, ...]
    subjects: tuple[str, ...]
    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC
    place: str
    online_url: str
    capacity: int
    registration_deadline: datetime | None = None  # aware, UTC; None = until the start


T = TypeVar("T")


@dataclass(frozen=True)
class ImportResult(Generic[T]):
    reports: tuple[RowReport, ...]
    drafts: tuple[T, ...]  # empty unless every row is valid

    @property
    def ok(self) -> bool:
        return all(r.action != "reject" for r in self.reports)

    @property
    def created(self) -> int:
        return sum(r.action == "create" for r in self.reports)

    @property
    def updated(self) -> int:
        return sum(r.action == "update" for r in self.reports)

    @property
    def rejected(self) -> int:
        return sum(r.action == "reject" for r in self.reports)


# ---------------------------------------------------------------------------------- reading


def read_table(data: bytes, filename: str) -> list[dict[str, str]]:
    """Rows of the first sheet of an .xlsx or of a .csv as {column: value} (all strings).

    Keys are the header cells (stripped, lower-cased); values are stripped, "" when empty;
    fully empty rows are skipped. Each row also carries its spreadsheet row number under
    `ROW_NUMBER_KEY`. Raises `ImportFormatError` (and nothing else) for unusable files.
    """
    if not data:
        raise ImportFormatError(Err.FILE_EMPTY)
    if len(data) > MAX_FILE_BYTES:
        raise ImportFormatError(Err.FILE_TOO_LARGE)
    name = filename.strip().lower()
    if name.endswith(".xlsx"):
        raw_rows = _xlsx_rows(data)
    elif name.endswith(".csv"):
        raw_rows = _csv_rows(data)
    else:
        raise ImportFormatError(Err.FILE_TYPE)
    return _to_dicts(raw_rows)


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    if data.startswith(b"PK\x03\x04"):
        raise ImportFormatError(Err.XLSX_AS_CSV)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1251")
        except UnicodeDecodeError:
            raise ImportFormatError(Err.NOT_TEXT) from None
    if "\x00" in text:
        raise ImportFormatError(Err.NOT_CSV_TEXT)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise ImportFormatError(Err.BAD_CSV, detail=str(exc)) from None

    return rows()


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    # Importing here keeps openpyxl off the start-up path of everything that imports `domain`.
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise ImportFormatError(Err.BAD_XLSX) from None
    if unzipped > _MAX_UNZIPPED_BYTES:
        raise ImportFormatError(Err.XLSX_UNPACKED_TOO_LARGE)
    rows: list[tuple[int, list[str]]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not workbook.worksheets:
                    raise ImportFormatError(Err.XLSX_NO_SHEETS)
                sheet = workbook.worksheets[0]
                cells: Iterable[Sequence[Any]] = sheet.iter_rows(min_row=1, max_col=_MAX_COLUMNS)
                for number, row in enumerate(cells, start=1):
                    if number > _MAX_SHEET_ROWS:
                        raise ImportFormatError(Err.SHEET_TOO_LONG, max=_MAX_SHEET_ROWS)
                    rows.append((number, [_cell_text(cell) for cell in row]))
            finally:
                workbook.close()
    except ImportFormatError:
        raise
    except Exception:  # openpyxl raises many kinds of errors on broken files
        raise ImportFormatError(Err.BAD_XLSX) from None
    return iter(rows)


def _cell_text(cell: Any) -> str:
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, datetime):
        number_format = str(getattr(cell, "number_format", "") or "").lower()
        if value.time() == time(0) and "h" not in number_format:
            return value.strftime(_DATE_ONLY_FORMAT)
        return value.strftime(_DATETIME_FORMAT)
    if isinstance(value, date):
        return value.strftime(_DATE_ONLY_FORMAT)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _to_dicts(raw_rows: Iterator[tuple[int, list[str]]]) -> list[dict[str, str]]:
    header: list[str] | None = None
    result: list[dict[str, str]] = []
    for number, raw in raw_rows:
        values = [value.strip() for value in raw]
        if not any(values):
            continue
        if header is None:
            header = [value.lower() for value in values]
            while header and not header[-1]:
                header.pop()
            repeated = sorted({h for h in header if h and header.count(h) > 1})
            if repeated:
                raise ImportFormatError(Err.REPEATED_COLUMNS, columns=", ".join(repeated))
            continue
        if len(result) >= MAX_ROWS:
            raise ImportFormatError(Err.TOO_MANY_ROWS, max=MAX_ROWS)
        row: dict[str, str] = {}
        for index, value in enumerate(values):
            name = header[index] if index < len(header) else ""
            if name:
                row[name] = value
            elif value:
                raise ImportFormatError(
                    Err.VALUE_WITHOUT_HEADER, row=number, column=_column_letter(index)
                )
        for name in header:
            if name:
                row.setdefault(name, "")
        row[ROW_NUMBER_KEY] = str(number)
        result.append(row)
    if header is None:
        raise ImportFormatError(Err.FILE_EMPTY)
    if not result:
        raise ImportFormatError(Err.NO_DATA_ROWS)
    return result


# ---------------------------------------------------------------------------------- checking


def _check_columns(rows: list[dict[str, str]], columns: tuple[Column, ...]) -> None:
    known = {name for name, _, _ in columns}
    present: set[str] = set()
    for row in rows:
        present.update(key for key in row if key != ROW_NUMBER_KEY)
    unknown = [name for name in sorted(present) if name not in known]
    if unknown:
        raise ImportFormatError(Err.UNKNOWN_COLUMNS, columns=", ".join(unknown))
    missing = [name for name, required, _ in columns if required and name not in present]
    if missing:
        raise ImportFormatError(Err.MISSING_COLUMNS, columns=", ".join(missing))


def _row_number(row: Mapping[str, str], index: int) -> int:
    value = row.get(ROW_NUMBER_KEY, "")
    return int(value) if value.isdigit() else index + 2


def _only_for(allowed: frozenset[str]) -> Problem:
    if not allowed:
        return Problem.of(Err.NO_SCOPE)
    return Problem.of(Err.ONLY_FOR, allowed=", ".join(sorted(allowed)))


class _Row:
    """One row being checked: reads cells and collects the problems of its cells."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw
        self.errors: list[Problem] = []

    def error(self, column: str, code: Err, /, **params: Param) -> None:
        self.errors.append(Problem.of(code, column, **params))

    def cell(self, column: str) -> str:
        return self.raw.get(column, "").strip()

    def text(self, column: str, max_len: int, *, required: bool, multiline: bool = False) -> str:
        value = self.cell(column)
        if multiline:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        else:
            value = " ".join(value.split())
        if not value:
            if required:
                self.error(column, Err.REQUIRED)
            return ""
        if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
            self.error(column, Err.CONTROL_CHARACTERS)
        if len(value) > max_len:
            self.error(column, Err.TOO_LONG, max=max_len, length=len(value))
        return value

    def code(self, column: str, *, required: bool) -> str:
        value = self.cell(column).lower()
        if not value:
            if required:
                self.error(column, Err.REQUIRED)
        elif not _CODE_RE.fullmatch(value):
            self.error(column, Err.BAD_CODE)
        return value

    def codes(self, column: str, known: frozenset[str], *, required: bool) -> tuple[str, ...]:
        parts = re.split(r"[,;\n]", self.cell(column).lower())
        values = tuple(dict.fromkeys(part.strip() for part in parts if part.strip()))
        if not values:
            if required:
                self.error(column, Err.CODES_REQUIRED)
            return ()
        unknown = [value for value in values if value not in known]
        if unknown:
            self.error(column, Err.UNKNOWN_CODES, codes=", ".join(unknown))
        return values

    def whole(self, column: str, lo: int, hi: int) -> int:
        value = self.cell(column).replace(" ", "").replace("\u00a0", "")
        if not _WHOLE_RE.fullmatch(value) or not lo <= int(value) <= hi:
            self.error(column, Err.WHOLE_NUMBER, low=lo, high=hi)
            return 0
        return int(value)

    def moment(self, column: str, tz: ZoneInfo, *, required: bool) -> datetime | None:
        """A local "DD.MM.YYYY HH:MM" (or "YYYY-MM-DD HH:MM") in `tz`, returned in UTC."""
        value = " ".join(self.cell(column).split())
        if not value:
            if required:
                self.error(column, Err.REQUIRED)
            return None
        match = _DMY_RE.fullmatch(value) or _ISO_RE.fullmatch(value)
        if match is None:
            self.error(column, Err.DATE_FORMAT)
            return None
        if match["H"] is None:
            self.error(column, Err.DATE_WITHOUT_TIME)
            return None
        try:
            naive = datetime(
                int(match["y"]),
                int(match["m"]),
                int(match["d"]),
                int(match["H"]),
                int(match["M"]),
                int(match["S"] or 0),
            )
        except ValueError:
            self.error(column, Err.NO_SUCH_DATE, value=value)
            return None
        local = naive.replace(tzinfo=tz)
        moment = local.astimezone(UTC)
        if moment.astimezone(tz).replace(tzinfo=None) != naive:
            self.error(column, Err.CLOCK_CHANGE, value=value, zone=tz.key)
            return None
        return moment


def _duplicates(
    codes: Sequence[str], numbers: Sequence[int], rows: Sequence[_Row], column: str = "code"
) -> None:
    seen: dict[str, list[int]] = {}
    for code, number in zip(codes, numbers, strict=True):
        if code:
            seen.setdefault(code, []).append(number)
    for code, number, row in zip(codes, numbers, rows, strict=True):
        others = [n for n in seen.get(code, ()) if n != number]
        if others:
            code = Err.REPEATED_IN_ROW if len(others) == 1 else Err.REPEATED_IN_ROWS
            row.error(column, code, rows=", ".join(map(str, others)))


R = TypeVar("R")


def _validate(
    rows: list[dict[str, str]],
    columns: tuple[Column, ...],
    existing: Callable[[str], bool],
    check: Callable[[_Row], R],
) -> ImportResult[R]:
    _check_columns(rows, columns)
    checked = [_Row(raw) for raw in rows]
    drafts = [check(row) for row in checked]
    codes = [row.cell("code").lower() for row in checked]
    numbers = [_row_number(raw, index) for index, raw in enumerate(rows)]
    _duplicates(codes, numbers, checked)
    reports = tuple(
        RowReport(
            row=number,
            key=code,
            action="reject" if row.errors else ("update" if existing(code) else "create"),
            errors=tuple(row.errors),
        )
        for code, number, row in zip(codes, numbers, checked, strict=True)
    )
    ok = all(report.action != "reject" for report in reports)
    return ImportResult(reports=reports, drafts=tuple(drafts) if ok else ())


def validate_sites(rows: list[dict[str, str]], ctx: ImportContext) -> ImportResult[SiteDraft]:
    """Check site rows; raises `ImportFormatError` for unknown or missing columns."""

    def check(row: _Row) -> SiteDraft:
        code = row.code("code", required=True)
        allowed = ctx.allowed_municipalities
        owner = ctx.sites.get(code)
        if allowed is not None and owner is not None and owner not in allowed:
            row.error(
                "code", Err.SITE_CODE_OF_OTHER, site=code, owner=owner, scope=_only_for(allowed)
            )
        municipality = row.cell("municipality").lower()
        if not municipality:
            row.error("municipality", Err.REQUIRED)
        elif municipality not in ctx.municipalities:
            row.error("municipality", Err.UNKNOWN_CODE, code=municipality)
        elif allowed is not None and municipality not in allowed:
            row.errors.append(replace(_only_for(allowed), column="municipality"))
        school = row.cell("school").lower() or None
        if school is not None:
            school_municipality = ctx.schools.get(school)
            if school_municipality is None:
                row.error("school", Err.UNKNOWN_CODE, code=school)
            elif municipality in ctx.municipalities and school_municipality != municipality:
                row.error(
                    "school",
                    Err.SCHOOL_OF_OTHER,
                    school=school,
                    owner=school_municipality,
                    municipality=municipality,
                )
        title = row.text("title", _TITLE_MAX, required=True)
        topic = row.text("topic", _TOPIC_MAX, required=True)
        competencies = row.codes("competencies", ctx.competencies, required=True)
        description = row.text("description", _DESCRIPTION_MAX, required=False, multiline=True)
        contact = row.text("contact", _CONTACT_MAX, required=False)
        modules = _modules(row)
        return SiteDraft(
            code=code,
            municipality=municipality,
            school=school,
            title=title,
            topic=topic,
            competencies=competencies,
            description=description,
            contact=contact,
            modules=modules,
        )

    return _validate(rows, SITE_COLUMNS, lambda code: code in ctx.sites, check)


def _modules(row: _Row) -> tuple[tuple[str, int], ...]:
    value = row.cell("modules")
    parts = [part.strip() for part in re.split(r"[;\n]", value) if part.strip()]
    if not parts:
        row.error("modules", Err.MODULES_REQUIRED)
        return ()
    modules: list[tuple[str, int]] = []
    for part in parts:
        title, bar, hours = part.rpartition("|")
        title = " ".join(title.split())
        hours = hours.strip()
        if not bar or not title:
            row.error("modules", Err.MODULE_FORMAT, part=part)
        elif len(title) > _MODULE_TITLE_MAX:
            row.error("modules", Err.MODULE_TITLE_TOO_LONG, max=_MODULE_TITLE_MAX)
        elif not _WHOLE_RE.fullmatch(hours) or not 1 <= int(hours) <= _MODULE_HOURS_MAX:
            row.error("modules", Err.MODULE_HOURS, title=title, max=_MODULE_HOURS_MAX)
        else:
            modules.append((title, int(hours)))
    return tuple(modules)


def validate_events(
    rows: list[dict[str, str]],
    ctx: ImportContext,
    site_municipality: Mapping[str, str] | None = None,
) -> ImportResult[EventDraft]:
    """Check event rows; raises `ImportFormatError` for unknown or missing columns.

    `site_municipality` maps the codes of sites defined in the same import to their
    municipality, so events may refer to sites that do not exist yet.
    """
    new_sites: Mapping[str, str] = site_municipality or {}

    def check(row: _Row) -> EventDraft:
        allowed = ctx.allowed_municipalities
        code = row.code("code", required=True)
        kind_raw = row.cell("kind")
        kind = _KIND_ALIASES.get(_kind_key(kind_raw), "")
        if not kind_raw:
            row.error("kind", Err.REQUIRED)
        elif not kind:
            row.error("kind", Err.UNKNOWN_KIND, kind=kind_raw, kinds=", ".join(EVENT_KINDS))
        title = row.text("title", _TITLE_MAX, required=True)
        description = row.text("description", _DESCRIPTION_MAX, required=False, multiline=True)
        competencies = row.codes("competencies", ctx.competencies, required=False)

        site = row.cell("site").lower() or None
        if site is not None:
            site_owner = new_sites.get(site) or ctx.sites.get(site)
            if site_owner is None:
                row.error("site", Err.UNKNOWN_CODE, code=site)
            elif allowed is not None and site_owner not in allowed:
                row.error(
                    "site",
                    Err.SITE_OF_OTHER,
                    site=site,
                    owner=site_owner,
                    scope=_only_for(allowed),
                )

        municipality_raw = row.cell("municipality").lower()
        municipality: str | None = None
        if municipality_raw in _REGION_WORDS:
            if allowed is not None:
                row.error("municipality", Err.REGION_ADMIN_ONLY, scope=_only_for(allowed))
        elif municipality_raw not in ctx.municipalities:
            row.error("municipality", Err.UNKNOWN_CODE, code=municipality_raw)
        else:
            municipality = municipality_raw
            if allowed is not None and municipality not in allowed:
                row.errors.append(replace(_only_for(allowed), column="municipality"))

        positions = row.codes("positions", ctx.positions, required=False)
        subjects = row.codes("subjects", ctx.subjects, required=False)

        starts_at = row.moment("starts_at", ctx.tz, required=True)
        ends_at = row.moment("ends_at", ctx.tz, required=True)
        if starts_at is not None and starts_at <= ctx.now:
            row.error("starts_at", Err.NOT_IN_FUTURE)
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            row.error("ends_at", Err.END_BEFORE_START)
        deadline = row.moment("registration_deadline", ctx.tz, required=False)
        if deadline is not None and starts_at is not None and deadline > starts_at:
            row.error("registration_deadline", Err.DEADLINE_AFTER_START)

        place = row.text("place", _PLACE_MAX, required=False)
        online_url = row.cell("online_url")
        if online_url:
            if len(online_url) > _URL_MAX:
                row.error("online_url", Err.URL_TOO_LONG, max=_URL_MAX)
            elif not _is_web_url(online_url):
                row.error("online_url", Err.BAD_URL)
        elif not place:
            row.error("place", Err.PLACE_OR_URL)
        capacity = row.whole("capacity", 1, _CAPACITY_MAX)

        epoch = datetime.min.replace(tzinfo=UTC)
        return EventDraft(
            code=code,
            kind=kind,
            title=title,
            description=description,
            competencies=competencies,
            site=site,
            municipality=municipality,
            positions=positions,
            subjects=subjects,
            starts_at=starts_at or epoch,
            ends_at=ends_at or epoch,
            place=place,
            online_url=online_url,
            capacity=capacity,
            registration_deadline=deadline,
        )

    return _validate(rows, EVENT_COLUMNS, lambda code: code in ctx.events, check)


def _kind_key(value: str) -> str:
    return " ".join(value.lower().replace("-", " ").replace("_", " ").split())


def _is_web_url(value: str) -> bool:
    if any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host) and "." in (host or "")


# ---------------------------------------------------------------------------------- templates

CodeRow = tuple[str, str]  # (code, name)

#: the Russian name of each kind, as the template's examples and the codes list write it
KIND_NAMES: dict[str, str] = {
    "internship": "стажировка",
    "masterclass": "мастер-класс",
    "seminar": "семинар",
    "webinar": "вебинар",
    "open_lesson": "открытый урок",
    "workshop": "мастерская",
}


@dataclass(frozen=True)
class TemplateScope:
    """What the templates of one coordinator (or administrator) show: the valid codes of their
    scope, and example rows for `municipality` that import cleanly when sent back unchanged."""

    municipality: str  # the municipality of the example rows
    municipalities: tuple[CodeRow, ...]  # those the user may import for
    schools: tuple[tuple[str, str, str], ...]  # (code, name, municipality code), in scope
    sites: tuple[tuple[str, str, str], ...]  # existing sites (code, title, municipality code)
    competencies: tuple[CodeRow, ...]
    positions: tuple[CodeRow, ...]
    subjects: tuple[CodeRow, ...]
    taken_codes: frozenset[str] = frozenset()  # existing site and event codes: not for examples


def _free_codes(scope: TemplateScope, stem: str, count: int) -> list[str]:
    """`count` example codes "<municipality>-<stem>-<n>" that no site or event has yet."""
    prefix = re.sub(r"[^a-z0-9_-]+", "-", scope.municipality.lower()).strip("-")[:20] or "my"
    found: list[str] = []
    number = 1
    while len(found) < count:
        code = f"{prefix}-{stem}-{number}"
        if code not in scope.taken_codes:
            found.append(code)
        number += 1
    return found


def _pick(items: Sequence[str], start: int, count: int) -> str:
    """`count` items from `start` (wrapping round), comma-separated; "" when there are none."""
    if not items:
        return ""
    chosen = [items[(start + k) % len(items)] for k in range(min(count, len(items)))]
    return ", ".join(dict.fromkeys(chosen))


def _site_examples(scope: TemplateScope) -> tuple[tuple[str, ...], ...]:
    schools = [code for code, _, muni in scope.schools if muni == scope.municipality]
    competencies = [code for code, _ in scope.competencies]
    first, second = _free_codes(scope, "site", 2)
    return (
        (
            first,
            scope.municipality,
            schools[0] if schools else "",
            "Стажировочная площадка «Функциональная грамотность на уроке»",
            "Формирование и оценка функциональной грамотности обучающихся 5–9 классов",
            _pick(competencies, 0, 2),
            "Модульная программа стажировочной площадки: открытые уроки, разбор заданий "
            "PISA-типа, составление банка заданий по предмету.",
            "Иванова Ольга Петровна, заместитель директора, +7 861 304-12-34",
            "Читательская грамотность на уроках любого предмета|8; "
            "Математическая грамотность: задания PISA-типа|8; "
            "Банк заданий и оценка результатов|16",
        ),
        (
            second,
            scope.municipality,
            schools[1] if len(schools) > 1 else (schools[0] if schools else ""),
            "Цифровая образовательная среда школы",
            "Использование ФГИС «Моя школа» и цифровых ресурсов на уроке",
            _pick(competencies, 2, 2),
            "Площадка муниципальной системы научно-методического сопровождения педагогов: "
            "практикумы по цифровым инструментам и формирующему оцениванию.",
            "Петров Сергей Андреевич, методист, metod@example.ru",
            "Цифровые сервисы ФГИС «Моя школа»|6; Формирующее оценивание с цифровыми инструментами|10",
        ),
    )


def _event_examples(scope: TemplateScope, today: date) -> tuple[tuple[str, ...], ...]:
    day = today + timedelta(days=30)
    later = day + timedelta(days=7)
    deadline = day - timedelta(days=3)

    def at(d: date, hh: int, mm: int = 0) -> str:
        return datetime.combine(d, time(hh, mm)).strftime(_DATETIME_FORMAT)

    sites = [code for code, _, muni in scope.sites if muni == scope.municipality]
    competencies = [code for code, _ in scope.competencies]
    positions = [code for code, _ in scope.positions]
    teacher = "teacher" if "teacher" in positions else _pick(positions, 0, 1)
    subjects = [code for code, _ in scope.subjects]
    first, second = _free_codes(scope, "event", 2)
    return (
        (
            first,
            KIND_NAMES["internship"],
            "Стажировка «Функциональная грамотность на уроке»",
            "Открытые уроки в 6 и 8 классах, разбор заданий PISA-типа, практикум по "
            "составлению заданий для своего предмета.",
            _pick(competencies, 0, 2),
            sites[0] if sites else "",
            scope.municipality,
            teacher,
            _pick(subjects, 0, 2),
            at(day, 10),
            at(day, 15),
            "ул. Ленина, 34, актовый зал",
            "",
            "25",
            at(deadline, 18),
        ),
        (
            second,
            KIND_NAMES["webinar"],
            "Вебинар «ФГИС „Моя школа“: библиотека цифрового образовательного контента»",
            "Как найти и встроить в урок материалы библиотеки ЦОК; ответы на вопросы.",
            _pick(competencies, 2, 1),
            "",
            scope.municipality,
            teacher,
            "",
            at(later, 15),
            at(later, 16, 30),
            "",
            "https://vk.com/metod",
            "300",
            "",
        ),
    )


CODES_HEADER = ("column", "code", "name")


def _code_rows(scope: TemplateScope, events: bool | None) -> list[tuple[str, str, str]]:
    """The codes list: which column a code goes in, the code, and what it means; for the
    events template (True), the sites template (False) or both (None)."""
    rows: list[tuple[str, str, str]] = []
    rows += [("municipality", code, name) for code, name in scope.municipalities]
    if events is not True:
        rows += [("school", code, name) for code, name, _ in scope.schools]
    rows += [("site", code, title) for code, title, _ in scope.sites]
    rows += [("competencies", code, name) for code, name in scope.competencies]
    if events is not False:
        rows += [("kind", code, name) for code, name in KIND_NAMES.items()]
        rows += [("positions", code, name) for code, name in scope.positions]
        rows += [("subjects", code, name) for code, name in scope.subjects]
    return rows


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_bytes(
    columns: tuple[Column, ...],
    examples: Iterable[Sequence[str]],
    title: str,
    codes: Sequence[tuple[str, str, str]],
    convert: Callable[[str, str], Any] = lambda name, value: value,
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    names = [name for name, _, _ in columns]
    sheet.append(names)
    rows = [list(example) for example in examples]
    for example in rows:
        sheet.append([convert(name, value) for name, value in zip(names, example, strict=True)])
    bold = Font(bold=True)
    for index, name in enumerate(names, start=1):
        sheet.cell(row=1, column=index).font = bold
        longest = max([len(name), *(len(example[index - 1]) for example in rows)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 12), 60)
        for row_number in range(2, len(rows) + 2):
            cell = sheet.cell(row=row_number, column=index)
            if isinstance(cell.value, datetime):
                cell.number_format = "DD.MM.YYYY HH:MM"
    sheet.freeze_panes = "A2"

    # the second sheet: the valid codes (the import reads only the first sheet)
    codes_sheet = workbook.create_sheet("Коды")
    codes_sheet.append(["Столбец", "Код", "Что означает"])
    for row in codes:
        codes_sheet.append(list(row))
    for cell in codes_sheet[1]:
        cell.font = bold
    codes_sheet.column_dimensions["A"].width = 16
    codes_sheet.column_dimensions["B"].width = 32
    codes_sheet.column_dimensions["C"].width = 80
    codes_sheet.freeze_panes = "A2"

    help_sheet = workbook.create_sheet("Инструкция")
    help_sheet.append(["Столбец", "Обязательный", "Что заполнять"])
    for name, required, help_text in columns:
        help_sheet.append([name, "да" if required else "нет", help_text])
    help_sheet.append([])
    help_sheet.append(["", "", "Допустимые коды — на листе «Коды»."])
    for cell in help_sheet[1]:
        cell.font = bold
    help_sheet.column_dimensions["A"].width = 24
    help_sheet.column_dimensions["B"].width = 14
    help_sheet.column_dimensions["C"].width = 100
    for (cell,) in help_sheet.iter_rows(min_row=2, min_col=3, max_col=3):
        cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _event_cell(name: str, value: str) -> Any:
    if name in ("starts_at", "ends_at", "registration_deadline") and value:
        return datetime.strptime(value, _DATETIME_FORMAT)
    if name == "capacity" and value.isdigit():
        return int(value)
    return value


def sites_template_csv(scope: TemplateScope) -> bytes:
    """The header and two example rows for `scope.municipality`; UTF-8 with BOM and ';'
    (what Excel in Russia opens). The valid codes go in a companion file: `codes_csv`."""
    return _csv_bytes([name for name, _, _ in SITE_COLUMNS], _site_examples(scope))


def events_template_csv(scope: TemplateScope, today: date) -> bytes:
    """Like `sites_template_csv`; the example dates are 30 and 37 days after `today` (the
    caller's day in the service zone: the domain never reads the clock)."""
    return _csv_bytes([name for name, _, _ in EVENT_COLUMNS], _event_examples(scope, today))


def codes_csv(scope: TemplateScope) -> bytes:
    """The valid codes for both templates (column, code, name): the CSV templates' companion."""
    return _csv_bytes(CODES_HEADER, _code_rows(scope, events=None))


def sites_template_xlsx(scope: TemplateScope) -> bytes:
    """The same rows as the CSV template, with a bold header, the «Коды» sheet (the valid
    codes) and the «Инструкция» sheet."""
    return _xlsx_bytes(
        SITE_COLUMNS, _site_examples(scope), "Площадки", _code_rows(scope, events=False)
    )


def events_template_xlsx(scope: TemplateScope, today: date) -> bytes:
    """The same rows as the CSV template; dates are real date-time cells, capacity a number."""
    return _xlsx_bytes(
        EVENT_COLUMNS,
        _event_examples(scope, today),
        "Мероприятия",
        _code_rows(scope, events=True),
        _event_cell,
    )
