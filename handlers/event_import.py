"""Coordinators send a CSV/XLSX file of internship sites or events; `/template` gives the forms.

All or nothing: a file with any invalid row imports nothing, and the reply lists every row
with what was created, updated or rejected and why.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import tzinfo
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _

from bot.imports import ImportFormatError, ImportOutcome, import_file, template_scope
from bot.middlewares.offload import OFFLOAD
from core.clock import Clock
from core.settings import Settings
from db.models import User
from db.repo import Repo
from domain.event_import import (
    MAX_FILE_BYTES,
    Err,
    Problem,
    codes_csv,
    events_template_csv,
    events_template_xlsx,
    sites_template_csv,
    sites_template_xlsx,
)
from domain.roles import Role
from domain.scope import Scope
from handlers.coordinator import diagnoses
from handlers.event_admin import notified_text
from handlers.filters import RoleFilter
from services import staff as staff_service
from ui.files.tables import csv_writer
from ui.formatting import h

REPORT_LINES = 25


async def _allowed_municipalities(scope: Scope, repo: Repo) -> frozenset[str] | None:
    """The codes of the municipalities a coordinator imports for (their staff assignment:
    the role filter lets no coordinator through without one); None for the region (all)."""
    if scope.municipality_ids is None:
        return None
    return frozenset(m.code for m in await repo.reference.municipalities() if scope.allows(m.id))


async def cmd_template(
    message: Message,
    bot: Bot,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
    clock: Clock,
) -> None:
    today = clock.now().astimezone(tz).date()
    scope = await staff_service.scope(repo, staff, role)
    template = await template_scope(
        repo,
        allowed_municipalities=await _allowed_municipalities(scope, repo),
        home_municipality_id=scope.home_municipality(staff.municipality_id),
    )
    for name, data in (
        ("events-template.xlsx", events_template_xlsx(template, today)),
        ("events-template.csv", events_template_csv(template, today)),
        ("sites-template.xlsx", sites_template_xlsx(template)),
        ("sites-template.csv", sites_template_csv(template)),
        ("codes.csv", codes_csv(template)),
    ):
        await bot.send_document(message.chat.id, BufferedInputFile(data, filename=name))
    await message.answer(
        _(
            "📥 Fill in a template (one row per event or site; the «code» column identifies a row, "
            "so sending the file again updates it) and send it back to me as a file. "
            "If any row has a mistake, nothing is imported and I list what to fix."
        )
        + "\n"
        + _(
            "The valid codes (municipalities, schools, sites, competencies, kinds, positions, "
            "subjects) are on the «Коды» sheet of the XLSX templates and in codes.csv."
        )
    )


def _template(problem: Problem) -> str:
    """The translated text of a problem code (placeholders as in domain.event_import.ENGLISH)."""
    if problem.code is Err.BELOW_SEATS_TAKEN:
        n = problem.param("n")
        return ngettext(
            "{n} seat is already taken: the capacity cannot be lower",
            "{n} seats are already taken: the capacity cannot be lower",
            n if isinstance(n, int) else 0,
        )
    return _TEXTS[problem.code]()


_TEXTS: dict[Err, Callable[[], str]] = {
    Err.FILE_EMPTY: lambda: _("the file is empty"),
    Err.FILE_TOO_LARGE: lambda: _("the file is larger than 2 MB"),
    Err.FILE_TYPE: lambda: _("unsupported file type: send a .csv or .xlsx file"),
    Err.XLSX_AS_CSV: lambda: _("this is an Excel (.xlsx) file: send it with the .xlsx extension"),
    Err.NOT_TEXT: lambda: _("not a text file in UTF-8 or Windows-1251"),
    Err.NOT_CSV_TEXT: lambda: _("not a CSV text file (save it from Excel as «CSV UTF-8»)"),
    Err.BAD_CSV: lambda: _("not a readable CSV file: {detail}"),
    Err.BAD_XLSX: lambda: _("not a readable XLSX file"),
    Err.XLSX_UNPACKED_TOO_LARGE: lambda: _("the XLSX file is too large when unpacked"),
    Err.XLSX_NO_SHEETS: lambda: _("the XLSX file has no worksheets"),
    Err.SHEET_TOO_LONG: lambda: _(
        "the sheet has more than {max} rows; delete the empty rows below the data"
    ),
    Err.REPEATED_COLUMNS: lambda: _("repeated column(s): {columns}"),
    Err.TOO_MANY_ROWS: lambda: _("more than {max} data rows: split the file"),
    Err.VALUE_WITHOUT_HEADER: lambda: _(
        "row {row}: a value in column {column}, which has no header (check the delimiter and the quotes)"
    ),
    Err.NO_DATA_ROWS: lambda: _("no data rows"),
    Err.UNKNOWN_COLUMNS: lambda: _("unknown column(s): {columns}"),
    Err.MISSING_COLUMNS: lambda: _("missing column(s): {columns}"),
    Err.REQUIRED: lambda: _("must not be empty"),
    Err.CONTROL_CHARACTERS: lambda: _("contains control characters"),
    Err.TOO_LONG: lambda: _("must be at most {max} characters (now {length})"),
    Err.URL_TOO_LONG: lambda: _("must be at most {max} characters"),
    Err.BAD_CODE: lambda: _("use 2–32 characters: latin letters a-z, digits, _ or -"),
    Err.CODES_REQUIRED: lambda: _("at least one code is required"),
    Err.UNKNOWN_CODES: lambda: _("unknown code(s): {codes}"),
    Err.UNKNOWN_CODE: lambda: _("unknown code {code}"),
    Err.WHOLE_NUMBER: lambda: _("must be a whole number from {low} to {high}"),
    Err.DATE_FORMAT: lambda: _("use the format DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00"),
    Err.DATE_WITHOUT_TIME: lambda: _("add the time: DD.MM.YYYY HH:MM, e.g. 15.10.2026 10:00"),
    Err.NO_SUCH_DATE: lambda: _("no such date or time: {value}"),
    Err.CLOCK_CHANGE: lambda: _("{value} does not exist in {zone} (the clocks change)"),
    Err.REPEATED_IN_ROW: lambda: _("repeated in row {rows}"),
    Err.REPEATED_IN_ROWS: lambda: _("repeated in rows {rows}"),
    Err.ONLY_FOR: lambda: _("you can import only for {allowed}"),
    Err.NO_SCOPE: lambda: _("you have no municipality to import for"),
    Err.SITE_OF_OTHER: lambda: _("{site} belongs to {owner}; {scope}"),
    Err.SITE_CODE_OF_OTHER: lambda: _("site {site} belongs to {owner}; {scope}"),
    Err.SCHOOL_OF_OTHER: lambda: _("{school} belongs to {owner}, not {municipality}"),
    Err.MODULES_REQUIRED: lambda: _("at least one module is required, as Title|hours"),
    Err.MODULE_FORMAT: lambda: _("«{part}» must look like Title|hours"),
    Err.MODULE_TITLE_TOO_LONG: lambda: _("a module title must be at most {max} characters"),
    Err.MODULE_HOURS: lambda: _("hours of «{title}» must be a whole number from 1 to {max}"),
    Err.UNKNOWN_KIND: lambda: _("unknown kind «{kind}»; use one of: {kinds}"),
    Err.REGION_ADMIN_ONLY: lambda: _(
        "only an administrator can import region-wide events; {scope}"
    ),
    Err.NOT_IN_FUTURE: lambda: _("must be in the future"),
    Err.END_BEFORE_START: lambda: _("must be after starts_at"),
    Err.DEADLINE_AFTER_START: lambda: _("must not be later than starts_at"),
    Err.PLACE_OR_URL: lambda: _("fill in place, online_url or both"),
    Err.BAD_URL: lambda: _("must be a link starting with https:// or http://"),
    Err.EVENT_OF_OTHER: lambda: _("belongs to an event of {owner}"),
    Err.EVENT_CANCELLED: lambda: _(
        "this event is cancelled: an import cannot schedule it again; give a new event a new code"
    ),
    Err.EVENT_OVER: lambda: _("this event has taken place: it cannot be changed any more"),
}


def problem_text(problem: Problem) -> str:
    """A problem of an import in the current user's language (plain text: escape for HTML)."""
    if problem.code is Err.UNKNOWN_KIND:  # name the kinds as the reader may write them
        kinds = _("internship, masterclass, seminar, webinar, open_lesson, workshop")
        problem = Problem(
            problem.code,
            problem.column,
            tuple((k, kinds if k == "kinds" else v) for k, v in problem.params),
        )
    return problem.render(_template)


def report_text(outcome: ImportOutcome) -> str:
    what = _("events") if outcome.kind == "events" else _("internship sites")
    if outcome.ok:
        head = _("✅ Imported {what}: {created} created, {updated} updated.").format(
            what=what, created=outcome.created, updated=outcome.updated
        )
    else:
        head = _(
            "❌ Nothing was imported: {n} of {total} rows have mistakes. Fix them and send the file again."
        ).format(n=outcome.rejected, total=len(outcome.reports))
    labels = {"create": _("new"), "update": _("update"), "reject": _("error")}
    lines = [head, ""]
    for r in outcome.reports[:REPORT_LINES]:
        line = (
            _("row {row}").format(row=r.row)
            + f" · {h(r.key or '—')} · {labels.get(r.action, r.action)}"
        )
        if r.errors:
            line += ": " + h("; ".join(problem_text(e) for e in r.errors))
        lines.append(line)
    if len(outcome.reports) > REPORT_LINES:
        lines.append(
            _("… and {n} more rows: see the attached report.").format(
                n=len(outcome.reports) - REPORT_LINES
            )
        )
    return "\n".join(lines)


def report_csv(outcome: ImportOutcome) -> bytes:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["row", "code", "action", "errors"])
    for r in outcome.reports:
        writer.writerow([r.row, r.key, r.action, "; ".join(problem_text(e) for e in r.errors)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def on_document(
    message: Message,
    repo: Repo,
    staff: User,
    role: Role,
    bot: Bot,
    settings: Settings,
    tz: tzinfo,
    i18n: I18n,
    clock: Clock,
) -> None:
    document = message.document
    assert document is not None
    name = document.file_name or ""
    if not name.lower().endswith((".csv", ".xlsx")):
        await message.answer(
            _("Please send a .csv or .xlsx file made from the template (/template).")
        )
        return
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await message.answer(_("The file is larger than 2 MB. Please split it."))
        return
    municipalities = await _allowed_municipalities(
        await staff_service.scope(repo, staff, role), repo
    )
    buffer = await bot.download(document)
    assert buffer is not None
    data = buffer.read()
    if await diagnoses.import_upload(message, repo, staff, role, bot, tz, clock, data, name):
        return  # a diagnosis file (handlers.coordinator.diagnoses)
    try:
        outcome = await import_file(
            repo,
            data,
            name,
            allowed_municipalities=municipalities,
            actor=staff,
            # the times in the file are the coordinator's local times
            tz=tz if isinstance(tz, ZoneInfo) else settings.tz,
            now=clock.now(),
        )
    except ImportFormatError as exc:
        await message.answer(
            _("I could not read this file: {reason}").format(reason=h(problem_text(exc.problem)))
        )
        return
    await repo.audit.record(
        "import",
        actor=staff,
        kind=outcome.kind,
        ok=outcome.ok,
        created=outcome.created,
        updated=outcome.updated,
    )
    text = report_text(outcome)
    if outcome.notices:
        text += "\n\n" + notified_text(len(outcome.notices))
    await message.answer(text)
    if len(outcome.reports) > REPORT_LINES:
        await bot.send_document(
            message.chat.id, BufferedInputFile(report_csv(outcome), filename="import-report.csv")
        )


def make_router() -> Router:
    router = Router(name="event_import")
    router.message.filter(RoleFilter(Role.COORDINATOR))
    router.message.register(cmd_template, Command("template"))
    router.message.register(on_document, F.document, StateFilter(None), flags=OFFLOAD)
    return router
