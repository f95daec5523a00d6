"""Attendance at an event and the teacher's route, for both ways it is recorded: the
teacher's check-in (handlers.events) and the coordinator's attendance toggle
(handlers.event_admin).

Marking attendance completes the matching open route step (domain.attendance) and remembers
which step it was and its status before; unmarking returns that step to it and clears the
event's evidence, unless the teacher has made the step their own since.
"""

from __future__ import annotations

from datetime import datetime

from db.models import Event, Registration, RouteStep
from db.repo import Repo
from domain.attendance import (
    Completion,
    StepFacts,
    event_evidence,
    status_after_unattending,
    step_to_complete,
)
from domain.route import StepStatus
from services.nudges import plan_route


def _facts(step: RouteStep) -> StepFacts:
    return StepFacts(
        id=step.id,
        kind=step.kind,
        competency=step.competency,
        status=StepStatus(step.status),
        evidence_text=step.evidence_text,
        evidence_file_id=step.evidence_file_id,
        reflection=step.reflection,
    )


async def attend(repo: Repo, reg: Registration, event: Event, now: datetime) -> RouteStep | None:
    """Mark the registration attended; the route step this completed, if any."""
    await repo.events.mark_attended(reg, now)
    route = await repo.routes.active(reg.user_id)
    if route is None:
        return None
    chosen = step_to_complete(
        event.kind, event.competencies or (), [_facts(s) for s in route.steps]
    )
    # loaded with its route and the route's steps: completing it may complete the route
    step = await repo.routes.step(chosen.id) if chosen is not None else None
    if step is None:
        return None
    evidence = event_evidence(event.title, event.starts_at)
    previous = StepStatus(step.status)
    await repo.routes.record_evidence(
        step, now, text=evidence, file_id=None, file_name=None, reflection=None
    )
    await repo.events.record_completion(reg, Completion(step.id, previous, evidence))
    await plan_route(repo, reg.user_id, now)
    return step


async def unattend(repo: Repo, reg: Registration, now: datetime) -> RouteStep | None:
    """Take the attendance back (the registration is confirmed again); the route step that
    it had completed and that is now reopened, if any."""
    await repo.events.mark_attended(reg, now, attended=False)
    completion = await repo.events.last_completion(reg)
    if completion is None:
        return None
    step = await repo.routes.step(completion.step_id)
    if step is None or step.route.user_id != reg.user_id:
        return None
    status = status_after_unattending(_facts(step), completion)
    if status is None:
        return None
    step.evidence_text = None
    step.evidence_file_id = None
    step.evidence_file_name = None
    step.reflection = None
    await repo.routes.set_status(step, status, now)
    await plan_route(repo, reg.user_id, now)
    return step


__all__ = ["attend", "unattend"]
