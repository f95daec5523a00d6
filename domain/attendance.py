"""Attendance and the route: which step an attended event completes, and when taking the
attendance back reopens it.

An attended event completes the first open step of the matching kind in a competency the
event develops, with the event as its evidence. When the attendance is taken back (a
coordinator unticks it), that step returns to the status it had before, but only if it still
holds exactly the event's evidence: a step the teacher has since completed with their own
evidence (a reflection, a file, another text) is theirs and stays done.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.events import EventKind
from domain.route import StepStatus

#: which route step an attended event completes, by event kind
STEP_FOR_KIND: dict[EventKind, str] = {
    EventKind.INTERNSHIP: "practice",
    EventKind.WORKSHOP: "practice",
    EventKind.OPEN_LESSON: "transfer",
    EventKind.MASTERCLASS: "masterclass",
    EventKind.SEMINAR: "learn",
    EventKind.WEBINAR: "learn",
}


@dataclass(frozen=True, slots=True)
class StepFacts:
    """What the rules need to know about a route step."""

    id: int
    kind: str
    competency: str
    status: StepStatus
    evidence_text: str | None = None
    evidence_file_id: str | None = None
    reflection: str | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """A step completed by an attended event: which, what it was before, with what evidence."""

    step_id: int
    previous: StepStatus
    evidence: str


def event_evidence(title: str, starts_at: datetime) -> str:
    """The evidence an attended event leaves on the step: «Title (15.10.2026)»."""
    return f"{title} ({starts_at.strftime('%d.%m.%Y')})"


def step_to_complete(
    event_kind: str, competencies: Iterable[str], steps: Sequence[StepFacts]
) -> StepFacts | None:
    """The first open step of the kind the event counts for, in one of its competencies."""
    try:
        kind = STEP_FOR_KIND.get(EventKind(event_kind))
    except ValueError:
        return None
    comps = set(competencies)
    for step in steps:
        if step.kind == kind and step.competency in comps and not step.status.closed:
            return step
    return None


def status_after_unattending(step: StepFacts, completion: Completion) -> StepStatus | None:
    """The status to return the step to when the attendance that completed it is taken
    back; None when the step is to be left alone (reopened since, or the teacher has put
    their own evidence on it)."""
    if step.id != completion.step_id or step.status is not StepStatus.DONE:
        return None
    if step.evidence_text != completion.evidence:
        return None
    if step.evidence_file_id is not None or step.reflection is not None:
        return None
    if completion.previous.closed:  # only open steps are ever completed by an event
        return None
    return completion.previous


__all__ = [
    "STEP_FOR_KIND",
    "Completion",
    "StepFacts",
    "event_evidence",
    "status_after_unattending",
    "step_to_complete",
]
