"""Import of diagnoses made outside the bot (the seeds' «диагностика в ЦНППМ»): pure rules.

The file is read by `domain.event_import.read_table` (CSV or XLSX, size and formula-safe
limits there); this module decides what its columns mean (`layout`), checks every row
(`parse_rows`) and matches the rows to registered teachers (`match`). Nothing here touches
the database or the bot.

Columns (the header row; case, «ё»/«е», spaces, «_» and «-» do not matter):

* the teacher, either ``teacher_id`` / «ID педагога» (the Telegram id shown in /teachers) or
  ``full_name`` / «ФИО» **and** ``school`` / «Школа» (the school's full or short name);
* ``date`` / «Дата» — DD.MM.YYYY or YYYY-MM-DD, not in the future;
* ``source`` / «Источник» — optional, «ЦНППМ» when empty;
* the results, either one column per competency (its code, e.g. ``digital``, or its Russian or
  English name or short name) holding a score from 0 to ``max_score`` / «Макс. балл»
  (optional column, 100 when absent) — a score below the framework's deficit threshold
  (``settings.deficit_threshold``, percent of the scale, 60 in the shipped framework) is a
  deficit — and/or ``deficits`` / «Дефициты»: competency codes or names separated by «;» or
  «,» («нет» or empty: no deficits).

Every row that cannot be imported gets its row number and `Problem`s (codes with values; the
handler words them in the user's language; `str()` gives English for logs and tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from domain.event_import import ROW_NUMBER_KEY
from domain.framework import Framework
from domain.profile import school_key

__all__ = [
    "DEFAULT_SOURCE",
    "Candidate",
    "DiagnosisDraft",
    "DiagnosisFileError",
    "FileIssue",
    "Issue",
    "Layout",
    "Matched",
    "Parsed",
    "Problem",
    "Rejected",
    "TeacherRef",
    "competency_names",
    "is_diagnosis_table",
    "layout",
    "match",
    "normal",
    "parse_rows",
    "person_key",
    "row_number",
]

DEFAULT_SOURCE = "ЦНППМ"
DEFAULT_MAX_SCORE = 100.0
SOURCE_MAX = 200
NAME_MAX = 200

Param = str | int


class Issue(StrEnum):
    """What can be wrong with one row."""

    NO_TEACHER = "no_teacher"
    BAD_ID = "bad_id"
    NEED_SCHOOL = "need_school"
    NAME_TOO_LONG = "name_too_long"
    NO_DATE = "no_date"
    BAD_DATE = "bad_date"
    FUTURE_DATE = "future_date"
    SOURCE_TOO_LONG = "source_too_long"
    BAD_MAX = "bad_max"
    BAD_SCORE = "bad_score"
    UNKNOWN_COMPETENCY = "unknown_competency"
    NO_RESULTS = "no_results"
    UNKNOWN_TEACHER = "unknown_teacher"
    AMBIGUOUS = "ambiguous"
    OUT_OF_SCOPE = "out_of_scope"
    REPEATED = "repeated"


class FileIssue(StrEnum):
    """What can be wrong with the whole file (nothing is imported)."""

    UNKNOWN_COLUMNS = "unknown_columns"
    SAME_COLUMN = "same_column"
    NO_TEACHER_COLUMNS = "no_teacher_columns"
    NO_DATE_COLUMN = "no_date_column"
    NO_RESULT_COLUMNS = "no_result_columns"


#: English texts ({placeholders} from the params), for logs, the CLI and tests
ENGLISH: dict[str, str] = {
    Issue.NO_TEACHER: "no teacher: fill in the id or the full name and the school",
    Issue.BAD_ID: "the id «{value}» is not a number",
    Issue.NEED_SCHOOL: "the school is needed with a full name",
    Issue.NAME_TOO_LONG: "the name is longer than {max} characters",
    Issue.NO_DATE: "no date",
    Issue.BAD_DATE: "«{value}» is not a date: use DD.MM.YYYY",
    Issue.FUTURE_DATE: "the date {value} is in the future",
    Issue.SOURCE_TOO_LONG: "the source is longer than {max} characters",
    Issue.BAD_MAX: "the maximum score «{value}» must be a positive number",
    Issue.BAD_SCORE: "{column}: «{value}» must be a number from 0 to {max}",
    Issue.UNKNOWN_COMPETENCY: "unknown competency «{value}»",
    Issue.NO_RESULTS: "no scores and no deficits",
    Issue.UNKNOWN_TEACHER: "no registered teacher {who}",
    Issue.AMBIGUOUS: "{n} registered teachers match {who}: use the id column",
    Issue.OUT_OF_SCOPE: "{who} is outside your municipality",
    Issue.REPEATED: "the same teacher, date and source as row {row}",
    FileIssue.UNKNOWN_COLUMNS: "unknown column(s): {columns}",
    FileIssue.SAME_COLUMN: "columns {columns} mean the same",
    FileIssue.NO_TEACHER_COLUMNS: "no teacher columns: add teacher_id, or full_name and school",
    FileIssue.NO_DATE_COLUMN: "no date column",
    FileIssue.NO_RESULT_COLUMNS: "no results: add competency score columns or a deficits column",
}


@dataclass(frozen=True, slots=True)
class Problem:
    code: Issue | FileIssue
    params: tuple[tuple[str, Param], ...] = ()

    @classmethod
    def of(cls, code: Issue | FileIssue, /, **params: Param) -> Problem:
        return cls(code, tuple(params.items()))

    def render(self, text: Callable[[Problem], str]) -> str:
        return text(self).format(**dict(self.params))

    def __str__(self) -> str:
        return self.render(lambda p: ENGLISH[p.code])


class DiagnosisFileError(ValueError):
    """The file cannot be a diagnosis import at all (its columns); nothing is imported."""

    def __init__(self, code: FileIssue, /, **params: Param) -> None:
        self.problem = Problem.of(code, **params)
        super().__init__(str(self.problem))


# ---------------------------------------------------------------------------------- columns

_PUNCTUATION = re.compile(r"[.,:;«»\"'()*№/\\]")
_DASHES = re.compile(r"[_\-‐–—]")


def normal(text: str) -> str:
    """A header or a competency name as compared: case, «ё», punctuation and spacing ignored."""
    text = text.casefold().replace("ё", "е")
    text = _DASHES.sub(" ", _PUNCTUATION.sub(" ", text))
    return " ".join(text.split())


def person_key(name: str) -> str:
    """A full name as compared: case, «ё» and spacing ignored."""
    return " ".join(name.casefold().replace("ё", "е").split())


_ALIASES: dict[str, tuple[str, ...]] = {
    "teacher_id": (
        "teacher id",
        "telegram id",
        "id",
        "id педагога",
        "id учителя",
        "telegram id педагога",
        "идентификатор",
        "идентификатор педагога",
    ),
    "full_name": (
        "full name",
        "name",
        "teacher",
        "фио",
        "фио педагога",
        "фио учителя",
        "педагог",
        "учитель",
    ),
    "school": (
        "school",
        "школа",
        "оо",
        "образовательная организация",
        "организация",
    ),
    "date": ("date", "diagnosed on", "дата", "дата диагностики"),
    "source": ("source", "источник", "кто проводил", "организатор"),
    "deficits": (
        "deficits",
        "deficit",
        "дефициты",
        "дефицит",
        "профессиональные дефициты",
        "дефициты компетенции",
    ),
    "max_score": ("max score", "max", "scale", "максимальный балл", "макс балл", "максимум"),
}
_FIELD_OF = {normal(alias): name for name, aliases in _ALIASES.items() for alias in aliases}


def competency_names(framework: Framework | None) -> dict[str, str]:
    """Every way a file may name a competency (code, names and short names in both languages,
    with or without their part in brackets), normalised, to its code."""
    names: dict[str, str] = {}
    if framework is None:
        return names
    for comp in framework.competencies:
        for name in (comp.code, comp.title.ru, comp.title.en, comp.short.ru, comp.short.en):
            names.setdefault(normal(name), comp.code)
            # «Цифровая (ИКТ-компетентность)» may be written «Цифровая»
            names.setdefault(normal(re.sub(r"\(.*?\)", " ", name)), comp.code)
    return names


@dataclass(frozen=True, slots=True)
class Layout:
    """Which header holds what (the headers as `read_table` gives them)."""

    fields: Mapping[str, str]  # field name -> header
    scores: Mapping[str, str]  # header -> competency code

    def get(self, row: Mapping[str, str], name: str) -> str:
        header = self.fields.get(name)
        return row.get(header, "").strip() if header is not None else ""


def is_diagnosis_table(headers: Iterable[str]) -> bool:
    """True when a file's header looks like a diagnosis import (a teacher column and a date
    column and no event/site «code» column): how the upload is told apart from an events or
    sites file."""
    fields = {_FIELD_OF.get(normal(h)) for h in headers if h != ROW_NUMBER_KEY}
    teacher = "teacher_id" in fields or "full_name" in fields
    return teacher and "date" in fields and "code" not in {normal(h) for h in headers}


def layout(headers: Iterable[str], names: Mapping[str, str]) -> Layout:
    """The meaning of every header; raises `DiagnosisFileError` for an unknown or repeated
    column and when the teacher, the date or the results cannot be found."""
    fields: dict[str, str] = {}
    scores: dict[str, str] = {}
    unknown: list[str] = []
    by_meaning: dict[str, list[str]] = {}
    for header in headers:
        if header == ROW_NUMBER_KEY or not header:
            continue
        key = normal(header)
        field_name = _FIELD_OF.get(key)
        if field_name is not None:
            fields.setdefault(field_name, header)
            by_meaning.setdefault(field_name, []).append(header)
        elif key in names:
            scores[header] = names[key]
            by_meaning.setdefault("score:" + names[key], []).append(header)
        else:
            unknown.append(header)
    if unknown:
        raise DiagnosisFileError(FileIssue.UNKNOWN_COLUMNS, columns=", ".join(unknown))
    for same in by_meaning.values():
        if len(same) > 1:
            raise DiagnosisFileError(FileIssue.SAME_COLUMN, columns=", ".join(same))
    if "teacher_id" not in fields and not {"full_name", "school"} <= set(fields):
        raise DiagnosisFileError(FileIssue.NO_TEACHER_COLUMNS)
    if "date" not in fields:
        raise DiagnosisFileError(FileIssue.NO_DATE_COLUMN)
    if not scores and "deficits" not in fields:
        raise DiagnosisFileError(FileIssue.NO_RESULT_COLUMNS)
    return Layout(fields=fields, scores=scores)


# ---------------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class TeacherRef:
    telegram_id: int | None
    full_name: str
    school: str

    @property
    def label(self) -> str:
        """How the report names the teacher (plain text: escape it for HTML)."""
        if self.telegram_id is not None:
            return f"id {self.telegram_id}" + (f" ({self.full_name})" if self.full_name else "")
        return f"{self.full_name}, {self.school}" if self.school else self.full_name


@dataclass(frozen=True, slots=True)
class DiagnosisDraft:
    row: int
    teacher: TeacherRef
    diagnosed_on: date
    source: str
    #: competency codes, in the framework's order
    deficits: tuple[str, ...]
    #: competency code -> score in percent of the scale (0-100)
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rejected:
    row: int
    teacher: str
    raw: Mapping[str, str]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class Parsed:
    drafts: tuple[DiagnosisDraft, ...]
    rejected: tuple[Rejected, ...]


_DMY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+0?0:00(?::00)?)?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_NONE_WORDS = frozenset({"", "нет", "none", "no", "-", "—", "0"})
_EARLIEST = date(2000, 1, 1)


def _date(value: str) -> date | None:
    found = _DMY.match(value)
    if found:
        day, month, year = (int(x) for x in found.groups())
    else:
        found = _ISO.match(value)
        if not found:
            return None
        year, month, day = (int(x) for x in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _number(value: str) -> float | None:
    text = value.replace("\u00a0", "").replace(" ", "")
    if text.endswith("%"):
        text = text[:-1]
    return float(text.replace(",", ".")) if _NUMBER.match(text) else None


def row_number(row: Mapping[str, str], index: int) -> int:
    value = row.get(ROW_NUMBER_KEY, "")
    return int(value) if value.isdigit() else index + 2


def parse_rows(
    rows: Sequence[Mapping[str, str]],
    names: Mapping[str, str],
    *,
    order: Sequence[str],
    threshold: float,
    today: date,
) -> Parsed:
    """Check every row. `names`: `competency_names(framework)`; `order`: the framework's
    competency codes (deficits are listed in it); `threshold`: a score below it, in percent
    of the scale, is a deficit; `today`: the importer's date (no diagnosis after it).
    Raises `DiagnosisFileError` for the file's columns (see `layout`)."""
    headers: list[str] = []
    for row in rows:
        headers += [h for h in row if h not in headers]
    where = layout(headers, names)
    position = {code: n for n, code in enumerate(order)}
    drafts: list[DiagnosisDraft] = []
    rejected: list[Rejected] = []
    for index, row in enumerate(rows):
        number = row_number(row, index)
        problems: list[Problem] = []
        teacher = _teacher(where, row, problems)
        diagnosed_on = _diagnosed_on(where, row, today, problems)
        source = where.get(row, "source") or DEFAULT_SOURCE
        if len(source) > SOURCE_MAX:
            problems.append(Problem.of(Issue.SOURCE_TOO_LONG, max=SOURCE_MAX))
        deficits, scores = _results(where, row, names, threshold, problems)
        if teacher is None or diagnosed_on is None or problems:
            label = teacher.label if teacher is not None else ""
            rejected.append(Rejected(number, label, row, tuple(problems)))
            continue
        drafts.append(
            DiagnosisDraft(
                row=number,
                teacher=teacher,
                diagnosed_on=diagnosed_on,
                source=" ".join(source.split()),
                deficits=tuple(sorted(deficits, key=lambda c: position.get(c, len(position)))),
                scores=scores,
            )
        )
    return Parsed(tuple(drafts), tuple(rejected))


def _teacher(where: Layout, row: Mapping[str, str], problems: list[Problem]) -> TeacherRef | None:
    raw_id = where.get(row, "teacher_id").replace(" ", "")
    name = " ".join(where.get(row, "full_name").split())
    school = " ".join(where.get(row, "school").split())
    if len(name) > NAME_MAX or len(school) > 300:
        problems.append(Problem.of(Issue.NAME_TOO_LONG, max=NAME_MAX))
        return None
    if raw_id:
        if not raw_id.isdigit() or len(raw_id) > 15:
            problems.append(Problem.of(Issue.BAD_ID, value=raw_id[:40]))
            return None
        return TeacherRef(int(raw_id), name, school)
    if not name:
        problems.append(Problem.of(Issue.NO_TEACHER))
        return None
    if not school:
        problems.append(Problem.of(Issue.NEED_SCHOOL))
        return TeacherRef(None, name, "")
    return TeacherRef(None, name, school)


def _diagnosed_on(
    where: Layout, row: Mapping[str, str], today: date, problems: list[Problem]
) -> date | None:
    value = where.get(row, "date")
    if not value:
        problems.append(Problem.of(Issue.NO_DATE))
        return None
    parsed = _date(value)
    if parsed is None or parsed < _EARLIEST:
        problems.append(Problem.of(Issue.BAD_DATE, value=value[:40]))
        return None
    if parsed > today:
        problems.append(Problem.of(Issue.FUTURE_DATE, value=parsed.strftime("%d.%m.%Y")))
        return None
    return parsed


def _results(
    where: Layout,
    row: Mapping[str, str],
    names: Mapping[str, str],
    threshold: float,
    problems: list[Problem],
) -> tuple[set[str], dict[str, float]]:
    deficits: set[str] = set()
    scores: dict[str, float] = {}
    scale = DEFAULT_MAX_SCORE
    raw_max = where.get(row, "max_score")
    if raw_max:
        parsed_max = _number(raw_max)
        if parsed_max is None or parsed_max <= 0:
            problems.append(Problem.of(Issue.BAD_MAX, value=raw_max[:40]))
            return deficits, scores
        scale = parsed_max
    for header, code in where.scores.items():
        value = row.get(header, "").strip()
        if not value:
            continue
        score = _number(value)
        if score is None or not 0 <= score <= scale:
            problems.append(
                Problem.of(Issue.BAD_SCORE, column=header, value=value[:40], max=f"{scale:g}")
            )
            continue
        percent = round(score * 100 / scale, 1)
        scores[code] = percent
        if percent < threshold:
            deficits.add(code)
    listed = where.get(row, "deficits")
    if normal(listed) not in _NONE_WORDS:
        for part in re.split(r"[;,\n]", listed):
            if not part.strip():
                continue
            listed_code = names.get(normal(part))
            if listed_code is None:
                problems.append(Problem.of(Issue.UNKNOWN_COMPETENCY, value=part.strip()[:80]))
            else:
                deficits.add(listed_code)
    if not scores and "deficits" not in where.fields and not problems:
        problems.append(Problem.of(Issue.NO_RESULTS))
    return deficits, scores


# ---------------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class Candidate:
    """A registered teacher a row may mean."""

    user_id: int
    telegram_id: int | None
    full_name: str
    school_name: str
    school_short_name: str
    municipality_id: int | None


@dataclass(frozen=True, slots=True)
class Matched:
    draft: DiagnosisDraft
    user_id: int


def match(
    drafts: Iterable[DiagnosisDraft],
    candidates: Iterable[Candidate],
    allows: Callable[[int | None], bool],
    raw: Mapping[int, Mapping[str, str]],
) -> tuple[list[Matched], list[Rejected]]:
    """Each draft to one registered teacher the importer may see (`allows` their
    municipality): by id, else by full name and school (full or short name). `raw`: the
    file's rows by row number (kept for the unmatched-rows file). The same teacher, date and
    source twice in a file: the first row counts."""
    pool = list(candidates)
    by_id = {c.telegram_id: c for c in pool if c.telegram_id is not None}
    by_name: dict[tuple[str, str], list[Candidate]] = {}
    for c in pool:
        for school in {school_key(c.school_name), school_key(c.school_short_name)} - {""}:
            by_name.setdefault((person_key(c.full_name), school), []).append(c)
    matched: list[Matched] = []
    rejected: list[Rejected] = []
    seen: dict[tuple[int, date, str], int] = {}
    for draft in drafts:
        ref = draft.teacher

        def reject(problem: Problem, draft: DiagnosisDraft = draft) -> None:
            rejected.append(
                Rejected(draft.row, draft.teacher.label, raw.get(draft.row, {}), (problem,))
            )

        who = ref.label
        if ref.telegram_id is not None:
            found = [by_id[ref.telegram_id]] if ref.telegram_id in by_id else []
        else:
            found = by_name.get((person_key(ref.full_name), school_key(ref.school)), [])
        if not found:
            reject(Problem.of(Issue.UNKNOWN_TEACHER, who=who))
            continue
        mine = [c for c in found if allows(c.municipality_id)]
        if not mine:
            reject(Problem.of(Issue.OUT_OF_SCOPE, who=who))
            continue
        if len(mine) > 1:
            reject(Problem.of(Issue.AMBIGUOUS, who=who, n=len(mine)))
            continue
        key = (mine[0].user_id, draft.diagnosed_on, person_key(draft.source))
        if key in seen:
            reject(Problem.of(Issue.REPEATED, row=seen[key]))
            continue
        seen[key] = draft.row
        matched.append(Matched(draft, mine[0].user_id))
    return matched, rejected
