"""Importing internship sites and events from CSV/XLSX: shared by the bot and the CLI.

Validation is `domain.event_import` (all or nothing, a report row by row); writing is
`db.event_repo.ImportRepo`. A file with any invalid row imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from db.models import User
from db.repo import Repo
from domain.checkin import new_code
from domain.event_import import (
    EventDraft,
    ImportContext,
    ImportFormatError,
    ImportResult,
    RowReport,
    SiteDraft,
    read_table,
    validate_events,
    validate_sites,
)
from domain.events import FEEDBACK_AFTER, REMIND_BEFORE

__all__ = ["ImportFormatError", "ImportOutcome", "import_file"]


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    kind: str  # "sites" | "events"
    reports: tuple[RowReport, ...]
    ok: bool
    created: int
    updated: int
    rejected: int


async def import_file(
    repo: Repo,
    data: bytes,
    filename: str,
    *,
    allowed_municipality: str | None,
    actor: User | None,
    tz: ZoneInfo,
    now: datetime,
) -> ImportOutcome:
    """Validate and (only if every row is valid) apply a sites or events file.

    `allowed_municipality` None means an administrator: any municipality and region-wide
    events. Raises ImportFormatError for an unreadable file.
    """
    rows = read_table(data, filename)
    codes = await repo.imports.codes()
    framework = await repo.frameworks.active()
    ctx = ImportContext(
        municipalities=frozenset(codes.municipalities),
        schools={code: muni for code, (_, muni) in codes.schools.items()},
        sites={code: muni for code, (_, muni) in codes.sites.items()},
        events=frozenset(codes.events),
        competencies=frozenset(c.code for c in framework.competencies)
        if framework
        else frozenset(),
        positions=frozenset(p.code for p in await repo.reference.positions()),
        subjects=frozenset(s.code for s in await repo.reference.subjects()),
        allowed_municipalities=None
        if allowed_municipality is None
        else frozenset({allowed_municipality}),
        tz=tz,
        now=now,
    )
    columns = set().union(*(row.keys() for row in rows))
    if "kind" in columns:
        events = validate_events(rows, ctx)
        events = _refuse_foreign_updates(events, codes.events, allowed_municipality)
        if events.ok:
            default_muni = codes.municipalities.get(allowed_municipality or "") or next(
                iter(codes.municipalities.values())
            )
            for draft in events.drafts:
                event, created = await repo.imports.upsert_event(
                    draft,
                    codes,
                    default_municipality=default_muni,
                    organiser_id=actor.id if actor else None,
                    checkin_code=new_code(),
                )
                if created:
                    if event.starts_at - REMIND_BEFORE > now:
                        await repo.jobs.schedule(
                            "event_reminder", event.starts_at - REMIND_BEFORE, event_id=event.id
                        )
                    await repo.jobs.schedule(
                        "feedback_request", event.ends_at + FEEDBACK_AFTER, event_id=event.id
                    )
        return _outcome("events", events)
    sites = validate_sites(rows, ctx)
    if sites.ok:
        for site in sites.drafts:
            await repo.imports.upsert_site(site, codes)
    return _outcome("sites", sites)


def _refuse_foreign_updates(
    result: ImportResult[EventDraft], owners: dict[str, str], allowed: str | None
) -> ImportResult[EventDraft]:
    """A coordinator may update only events of their own municipality (codes are global)."""
    if allowed is None:
        return result
    reports = []
    for report in result.reports:
        owner = owners.get(report.key)
        if report.action == "update" and owner is not None and owner != allowed:
            report = RowReport(
                report.row,
                report.key,
                "reject",
                (*report.errors, f"code: belongs to an event of {owner}"),
            )
        reports.append(report)
    ok = all(r.action != "reject" for r in reports)
    return ImportResult(reports=tuple(reports), drafts=result.drafts if ok else ())


def _outcome(
    kind: str, result: ImportResult[EventDraft] | ImportResult[SiteDraft]
) -> ImportOutcome:
    return ImportOutcome(
        kind, result.reports, result.ok, result.created, result.updated, result.rejected
    )
