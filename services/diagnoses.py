"""Import of external diagnoses (the seeds' «диагностика в ЦНППМ») by an admin or a
coordinator: check the rows (`domain.diagnosis_import`), match them to registered teachers
within the importer's scope (checked here, on the server), store the matched ones
idempotently and report the rest. Runs in the caller's unit of work; never commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from db.models import User
from db.repo import Repo
from domain.diagnosis_import import (
    Parsed,
    Rejected,
    competency_names,
    match,
    parse_rows,
    row_number,
)
from domain.event_import import ROW_NUMBER_KEY
from domain.profile import school_key
from domain.roles import Role
from services.broadcasts import scope_for

__all__ = ["DiagnosisReport", "Refusal", "import_diagnoses"]


class Refusal(StrEnum):
    #: a teacher (or a staff member without a scope) cannot import
    NOT_STAFF = "not_staff"


@dataclass(frozen=True, slots=True)
class DiagnosisReport:
    #: rows that added a diagnosis
    imported: int
    #: rows that replaced the results of a diagnosis already stored (same teacher, date, source)
    updated: int
    #: rows not imported, in file order, each with its reasons
    unmatched: tuple[Rejected, ...]
    #: the file's header, for the unmatched-rows file
    headers: tuple[str, ...]


async def import_diagnoses(
    repo: Repo,
    staff: User,
    role: Role,
    rows: Sequence[Mapping[str, str]],
    now: datetime,
    *,
    tz: tzinfo = UTC,
) -> DiagnosisReport | Refusal:
    """Import the rows of a diagnosis file (as `domain.event_import.read_table` gives them).

    Rows of teachers outside the importer's scope (`services.broadcasts.scope_for`) are
    refused as unmatched. Raises `DiagnosisFileError` when the columns make no sense (then
    nothing is imported). `tz`: the importer's zone, for "not in the future"."""
    scope = await scope_for(repo, staff, role)
    if scope is None:
        return Refusal.NOT_STAFF
    framework = await repo.frameworks.active()
    names = competency_names(framework)
    parsed: Parsed = parse_rows(
        rows,
        names,
        order=[c.code for c in framework.competencies] if framework else [],
        threshold=float(framework.settings.deficit_threshold) if framework else 0.0,
        today=now.astimezone(tz).date(),
    )
    candidates = await repo.diagnoses.candidates(
        [d.teacher.telegram_id for d in parsed.drafts if d.teacher.telegram_id is not None],
        {school_key(d.teacher.school) for d in parsed.drafts if d.teacher.telegram_id is None},
    )
    raw = {row_number(row, index): row for index, row in enumerate(rows)}
    matched, unmatched = match(parsed.drafts, candidates, scope.allows, raw)
    imported = updated = 0
    for item in matched:
        draft = item.draft
        created = await repo.diagnoses.upsert(
            item.user_id,
            draft.diagnosed_on,
            draft.source,
            deficits=list(draft.deficits),
            scores=dict(draft.scores),
            imported_by=staff.id,
            now=now,
        )
        imported += created
        updated += not created
    rejected = sorted((*parsed.rejected, *unmatched), key=lambda r: r.row)
    await repo.audit.record(
        "diagnoses_imported",
        actor=staff,
        imported=imported,
        updated=updated,
        unmatched=len(rejected),
    )
    headers: list[str] = []
    for row in rows:
        headers += [h for h in row if h not in headers and h != ROW_NUMBER_KEY]
    return DiagnosisReport(imported, updated, tuple(rejected), tuple(headers))
