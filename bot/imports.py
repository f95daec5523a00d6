"""Importing internship sites and events from CSV/XLSX: shared by the bot and the CLI.

Validation is `domain.event_import` (all or nothing, a report row by row); events are created
and changed through the same use cases as the wizard and the event card (`services.events`),
under the same event lock, so an import cannot overbook an event, keep stale reminders or bring
a cancelled event back. A file with any invalid row imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from db.models import Event, User
from db.repo import Repo
from db.repositories.imports import ImportCodes
from domain.checkin import new_code
from domain.event_import import (
    Err,
    EventDraft,
    ImportContext,
    ImportFormatError,
    ImportResult,
    Problem,
    RowReport,
    SiteDraft,
    TemplateScope,
    read_table,
    validate_events,
    validate_sites,
)
from services import events as services

__all__ = ["ImportFormatError", "ImportOutcome", "import_file", "template_scope"]


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    kind: str  # "sites" | "events"
    reports: tuple[RowReport, ...]
    ok: bool
    created: int
    updated: int
    rejected: int
    #: what registrants must be told (new times, places, offered seats): send after the commit
    notices: tuple[services.Notice, ...] = ()


async def import_file(
    repo: Repo,
    data: bytes,
    filename: str,
    *,
    allowed_municipalities: frozenset[str] | None,
    actor: User | None,
    tz: ZoneInfo,
    now: datetime,
) -> ImportOutcome:
    """Validate and (only if every row is valid) apply a sites or events file.

    `allowed_municipalities` (codes) None means an administrator: any municipality and region-wide
    events. Raises ImportFormatError for an unreadable file. Never commits: the notices the
    changes produced (`ImportOutcome.notices`) are queued in the outbox with them and leave
    after the caller's commit.
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
        allowed_municipalities=allowed_municipalities,
        tz=tz,
        now=now,
    )
    columns = set().union(*(row.keys() for row in rows))
    if "kind" in columns:
        events = validate_events(rows, ctx)
        events = _refuse_foreign_updates(events, codes.events, allowed_municipalities)
        if not events.ok:
            return _outcome("events", events)
        return await _apply_events(repo, events, codes, allowed_municipalities, actor, now)
    sites = validate_sites(rows, ctx)
    if sites.ok:
        for site in sites.drafts:
            await repo.imports.upsert_site(site, codes)
    return _outcome("sites", sites)


async def _apply_events(
    repo: Repo,
    events: ImportResult[EventDraft],
    codes: ImportCodes,
    allowed_municipalities: frozenset[str] | None,
    actor: User | None,
    now: datetime,
) -> ImportOutcome:
    """Check every update against the event rules under the events' locks (taken in id order
    and held to the commit), then, if none is refused, create and change through the use
    cases; else change nothing and report the refused rows."""
    existing = await repo.imports.event_ids([draft.code for draft in events.drafts])
    refused: dict[str, Problem] = {}
    for draft in sorted(
        (d for d in events.drafts if d.code in existing), key=lambda d: existing[d.code]
    ):
        checked = await services.check_change(repo, existing[draft.code], capacity=draft.capacity)
        if isinstance(checked, services.Refused):
            refused[draft.code] = _refusal_problem(checked)
    if refused:
        return _outcome("events", _reject(events, refused))

    default_muni = codes.municipalities.get(min(allowed_municipalities or {""})) or next(
        iter(codes.municipalities.values())
    )
    notices: list[services.Notice] = []
    for draft in events.drafts:
        values = await repo.imports.event_values(draft, codes, default_municipality=default_muni)
        event_id = existing.get(draft.code)
        if event_id is None:
            event = Event(
                code=draft.code,
                checkin_code=new_code(),
                organiser_id=actor.id if actor else None,
                **values,
            )
            await services.create_event(repo, event, now)
            continue
        done = await services.update_event(repo, event_id, values, now)
        if isinstance(done, services.Refused):  # cannot happen: checked under the held lock
            raise RuntimeError(f"event {draft.code}: {done.reason} after the check")
        notices += done.notices
    return _outcome("events", events, tuple(notices))


def _refusal_problem(refused: services.Refused) -> Problem:
    if refused.reason is services.Refusal.BELOW_TAKEN:
        return Problem.of(Err.BELOW_SEATS_TAKEN, "capacity", n=refused.seats_taken)
    if refused.reason is services.Refusal.OVER:
        return Problem.of(Err.EVENT_OVER, "code")
    return Problem.of(Err.EVENT_CANCELLED, "code")


def _reject(
    result: ImportResult[EventDraft], problems: dict[str, Problem]
) -> ImportResult[EventDraft]:
    reports = tuple(
        RowReport(report.row, report.key, "reject", (*report.errors, problems[report.key]))
        if report.key in problems
        else report
        for report in result.reports
    )
    return ImportResult(reports=reports, drafts=())


def _refuse_foreign_updates(
    result: ImportResult[EventDraft], owners: dict[str, str], allowed: frozenset[str] | None
) -> ImportResult[EventDraft]:
    """A coordinator may update only events of their own municipalities (codes are global)."""
    if allowed is None:
        return result
    reports = []
    for report in result.reports:
        owner = owners.get(report.key)
        if report.action == "update" and owner is not None and owner not in allowed:
            report = RowReport(
                report.row,
                report.key,
                "reject",
                (*report.errors, Problem.of(Err.EVENT_OF_OTHER, "code", owner=owner)),
            )
        reports.append(report)
    ok = all(r.action != "reject" for r in reports)
    return ImportResult(reports=tuple(reports), drafts=result.drafts if ok else ())


def _outcome(
    kind: str,
    result: ImportResult[EventDraft] | ImportResult[SiteDraft],
    notices: tuple[services.Notice, ...] = (),
) -> ImportOutcome:
    return ImportOutcome(
        kind, result.reports, result.ok, result.created, result.updated, result.rejected, notices
    )


async def template_scope(
    repo: Repo,
    *,
    allowed_municipalities: frozenset[str] | None,
    home_municipality_id: int | None = None,
) -> TemplateScope:
    """The codes a user may use and the municipality of the example rows: the coordinator's
    own (`allowed_municipalities`); for an administrator (None) every municipality; the
    examples are for their home municipality (or the first one they may use)."""
    municipalities = await repo.reference.municipalities()
    in_scope = [
        m
        for m in municipalities
        if allowed_municipalities is None or m.code in allowed_municipalities
    ]
    by_id = {m.id: m.code for m in in_scope}
    example = next(
        (m.code for m in in_scope if m.id == home_municipality_id),
        in_scope[0].code if in_scope else "",
    )
    schools: list[tuple[str, str, str]] = []
    for muni in in_scope:
        schools += [
            (school.code, school.name, muni.code)
            for school in await repo.reference.schools(muni.id)
            if school.code
        ]
    sites = [
        (site.code, site.title, by_id[site.municipality_id])
        for site in await repo.events.sites()
        if site.municipality_id in by_id
    ]
    codes = await repo.imports.codes()
    framework = await repo.frameworks.active()
    return TemplateScope(
        municipality=example,
        municipalities=tuple((m.code, m.name_ru) for m in in_scope),
        schools=tuple(schools),
        sites=tuple(sites),
        competencies=tuple((c.code, c.title.ru) for c in framework.competencies)
        if framework
        else (),
        positions=tuple((p.code, p.name_ru) for p in await repo.reference.positions()),
        subjects=tuple((s.code, s.name_ru) for s in await repo.reference.subjects()),
        taken_codes=frozenset(codes.sites) | frozenset(codes.events),
    )
