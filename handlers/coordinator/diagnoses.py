"""External diagnoses (the seeds' «диагностика в ЦНППМ»): `/diagnosis_template` gives the
forms; a coordinator or an admin sends the filled file like any import file, and an upload
whose header has a teacher column and a date column (and no event «code») is a diagnosis
import (`handlers.event_import.on_document` hands it over here). Matched rows are stored,
the others are listed with their reasons and come back as a CSV file."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import tzinfo

from aiogram import Bot
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core.clock import Clock
from db.models import User
from db.repo import Repo
from domain.diagnosis_import import (
    DEFAULT_SOURCE,
    DiagnosisFileError,
    FileIssue,
    Issue,
    Problem,
    is_diagnosis_table,
)
from domain.event_import import ImportFormatError, read_table
from domain.framework import Framework
from domain.roles import Role
from services import diagnoses as service
from ui.files.tables import csv_bytes, csv_writer, xlsx_bytes
from ui.formatting import h

REPORT_LINES = 10


def _texts() -> dict[str, Callable[[], str]]:
    return {
        Issue.NO_TEACHER: lambda: _("no teacher: fill in the id or the full name and the school"),
        Issue.BAD_ID: lambda: _("the id «{value}» is not a number (the ids are in /teachers)"),
        Issue.NEED_SCHOOL: lambda: _("please add the school: a full name alone is not enough"),
        Issue.NAME_TOO_LONG: lambda: _("the name is longer than {max} characters"),
        Issue.NO_DATE: lambda: _("please fill in the date of the diagnosis"),
        Issue.BAD_DATE: lambda: _("«{value}» is not a date: please use DD.MM.YYYY"),
        Issue.FUTURE_DATE: lambda: _("the date {value} is in the future"),
        Issue.SOURCE_TOO_LONG: lambda: _("the source is longer than {max} characters"),
        Issue.BAD_MAX: lambda: _("the maximum score «{value}» must be a positive number"),
        Issue.BAD_SCORE: lambda: _("{column}: «{value}» must be a number from 0 to {max}"),
        Issue.UNKNOWN_COMPETENCY: lambda: _(
            "unknown competency «{value}» (see the competencies in /diagnosis_template)"
        ),
        Issue.NO_RESULTS: lambda: _("no scores and no deficits in this row"),
        Issue.UNKNOWN_TEACHER: lambda: _("no registered teacher {who}"),
        Issue.AMBIGUOUS: lambda: _("{n} registered teachers match {who}: please give the id"),
        Issue.OUT_OF_SCOPE: lambda: _("{who} is outside your municipality"),
        Issue.REPEATED: lambda: _("the same teacher, date and source as row {row}"),
        FileIssue.UNKNOWN_COLUMNS: lambda: _(
            "unknown column(s): {columns}. A result column must be named after a competency"
        ),
        FileIssue.SAME_COLUMN: lambda: _("the columns {columns} mean the same"),
        FileIssue.NO_TEACHER_COLUMNS: lambda: _(
            "no teacher columns: add «ID педагога», or «ФИО» and «Школа»"
        ),
        FileIssue.NO_DATE_COLUMN: lambda: _("no «Дата» (date) column"),
        FileIssue.NO_RESULT_COLUMNS: lambda: _(
            "no results: add a column per competency with scores, or a «Дефициты» column"
        ),
    }


def problem_text(problem: Problem) -> str:
    """A problem in the current user's language (plain text: escape for HTML)."""
    return problem.render(lambda p: _texts()[p.code]())


# ---------------------------------------------------------------------------------- templates


def _columns(framework: Framework | None, lang: str) -> tuple[list[str], list[str], list[str]]:
    """(the teacher, date and source columns; the score columns; the competency names)."""
    en = lang == "en"
    base = (
        ["teacher_id", "full_name", "school", "date", "source"]
        if en
        else ["ID педагога", "ФИО", "Школа", "Дата", "Источник"]
    )
    comps = list(framework.competencies) if framework else []
    scores = [c.code if en else c.title.ru for c in comps]
    return base, scores, [c.title.text(lang) for c in comps]


def templates(framework: Framework | None, lang: str, today: str) -> list[tuple[str, bytes]]:
    """The score form and the deficit-list form, each as XLSX and CSV (cells neutralised)."""
    base, score_columns, names = _columns(framework, lang)
    example = ["", "Образцова Мария Ивановна (пример)", "МБОУ СОШ № 1", today, DEFAULT_SOURCE]
    max_column = "max_score" if lang == "en" else "Макс. балл"
    scores_rows: list[list[object]] = [
        [*base, max_column, *score_columns],
        [*example, 100, *([75, 45, 80] * len(score_columns))[: len(score_columns)]],
    ]
    deficits_rows: list[list[object]] = [
        [*base, "deficits" if lang == "en" else "Дефициты"],
        [*example, "; ".join(names[:2])],
    ]
    return [
        ("diagnosis-scores.xlsx", xlsx_bytes(scores_rows, title="Диагностика")),
        ("diagnosis-scores.csv", csv_bytes(scores_rows)),
        ("diagnosis-deficits.xlsx", xlsx_bytes(deficits_rows, title="Диагностика")),
        ("diagnosis-deficits.csv", csv_bytes(deficits_rows)),
    ]


async def cmd_diagnosis_template(
    message: Message, bot: Bot, repo: Repo, staff: User, tz: tzinfo, clock: Clock
) -> None:
    framework = await repo.frameworks.active()
    today = clock.now().astimezone(tz).strftime("%d.%m.%Y")
    for name, data in templates(framework, staff.language, today):
        await bot.send_document(message.chat.id, BufferedInputFile(data, filename=name))
    threshold = framework.settings.deficit_threshold if framework else 60
    await message.answer(
        _(
            "🩺 <b>Importing a diagnosis made elsewhere</b> (e.g. at the ЦНППМ)\n"
            "One row per teacher and diagnosis. The teacher: «ID педагога» (the id from /teachers) "
            "or «ФИО» and «Школа» (full or short name). «Дата»: DD.MM.YYYY. «Источник»: "
            "who diagnosed, «ЦНППМ» if empty.\n"
            "The results: either a score column per competency (0 to «Макс. балл», 100 if "
            "there is no such column; below {threshold}% is a deficit), or a «Дефициты» column "
            "with competency names or codes separated by «;».\n"
            "Send the filled file back to me. Rows I cannot match to a registered teacher of "
            "your municipality are listed and returned as a file; sending the same file again "
            "updates the rows instead of adding them twice."
        ).format(threshold=threshold)
    )


# ---------------------------------------------------------------------------------- import


def report_text(report: service.DiagnosisReport) -> str:
    lines = [
        _("🩺 <b>Diagnosis import</b>: {imported} added, {updated} updated.").format(
            imported=report.imported, updated=report.updated
        )
    ]
    if report.unmatched:
        n = len(report.unmatched)
        lines.append(
            ngettext(
                "{n} row was not imported:",
                "{n} rows were not imported:",
                n,
            ).format(n=n)
        )
        for r in report.unmatched[:REPORT_LINES]:
            who = f" · {h(r.teacher)}" if r.teacher else ""
            reasons = "; ".join(problem_text(p) for p in r.problems)
            lines.append(_("row {row}").format(row=r.row) + f"{who}: {h(reasons)}")
        if n > REPORT_LINES:
            lines.append(_("… all of them are in the attached file."))
    return "\n".join(lines)


def unmatched_csv(report: service.DiagnosisReport) -> bytes:
    """The rows not imported, as the file had them, with the row number and the reasons; every
    cell neutralised (`ui.files.tables`)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow([_("row"), *report.headers, _("reason")])
    for r in report.unmatched:
        writer.writerow(
            [
                r.row,
                *(r.raw.get(column, "") for column in report.headers),
                "; ".join(problem_text(p) for p in r.problems),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def import_upload(
    message: Message,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    tz: tzinfo,
    clock: Clock,
    data: bytes,
    filename: str,
) -> bool:
    """Import `data` if it is a diagnosis file; False (nothing done) when it is not one."""
    try:
        rows = read_table(data, filename)
    except ImportFormatError:
        return False  # the events import words the problem with the file
    headers = {key for row in rows for key in row}
    if not is_diagnosis_table(headers):
        return False
    try:
        report = await service.import_diagnoses(repo, staff, role, rows, clock.now(), tz=tz)
    except DiagnosisFileError as exc:
        await message.answer(
            _("I could not import this diagnosis file: {reason}").format(
                reason=h(problem_text(exc.problem))
            )
        )
        return True
    if isinstance(report, service.Refusal):
        await message.answer(_("Only methodists can import diagnoses."))
        return True
    await message.answer(report_text(report))
    if report.unmatched:
        await bot.send_document(
            message.chat.id,
            BufferedInputFile(unmatched_csv(report), filename="diagnosis-unmatched.csv"),
        )
    return True
