"""Coordinators send a CSV/XLSX file of internship sites or events; `/template` gives the forms.

All or nothing: a file with any invalid row imports nothing, and the reply lists every row
with what was created, updated or rejected and why.
"""

from __future__ import annotations

import io

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.imports import ImportFormatError, ImportOutcome, import_file
from bot.tables import csv_writer
from db.models import User
from db.repo import Repo
from db.types import utcnow
from domain.event_import import (
    MAX_FILE_BYTES,
    events_template_csv,
    events_template_xlsx,
    sites_template_csv,
    sites_template_xlsx,
)
from domain.roles import Role
from handlers.common import h
from handlers.filters import RoleFilter

REPORT_LINES = 25


async def cmd_template(message: Message, bot: Bot) -> None:
    for name, data in (
        ("events-template.xlsx", events_template_xlsx()),
        ("events-template.csv", events_template_csv()),
        ("sites-template.xlsx", sites_template_xlsx()),
        ("sites-template.csv", sites_template_csv()),
    ):
        await bot.send_document(message.chat.id, BufferedInputFile(data, filename=name))
    await message.answer(
        _(
            "📥 Fill in a template (one row per event or site; the «code» column identifies a row, "
            "so sending the file again updates it) and send it back to me as a file. "
            "If any row has a mistake, nothing is imported and I list what to fix."
        )
    )


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
            line += ": " + h("; ".join(r.errors))
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
        writer.writerow([r.row, r.key, r.action, "; ".join(r.errors)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def on_document(
    message: Message, repo: Repo, staff: User, role: Role, bot: Bot, settings: Settings
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
    municipality = None
    if role is not Role.ADMIN:
        muni = (
            await repo.reference.municipality(staff.municipality_id)
            if staff.municipality_id
            else None
        )
        if muni is None:
            await message.answer(
                _("Set your municipality in /profile first: you will see its schools.")
            )
            return
        municipality = muni.code
    buffer = await bot.download(document)
    assert buffer is not None
    try:
        outcome = await import_file(
            repo,
            buffer.read(),
            name,
            allowed_municipality=municipality,
            actor=staff,
            tz=settings.tz,
            now=utcnow(),
        )
    except ImportFormatError as exc:
        await message.answer(_("I could not read this file: {reason}").format(reason=h(str(exc))))
        return
    await repo.audit.record(
        "import",
        actor=staff,
        kind=outcome.kind,
        ok=outcome.ok,
        created=outcome.created,
        updated=outcome.updated,
    )
    await message.answer(report_text(outcome))
    if len(outcome.reports) > REPORT_LINES:
        await bot.send_document(
            message.chat.id, BufferedInputFile(report_csv(outcome), filename="import-report.csv")
        )


def make_router() -> Router:
    router = Router(name="event_import")
    router.message.filter(RoleFilter(Role.COORDINATOR))
    router.message.register(cmd_template, Command("template"))
    router.message.register(on_document, F.document, StateFilter(None))
    return router
