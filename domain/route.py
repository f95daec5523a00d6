"""The individual educational route (ИОМ): which competencies, which steps, which dates."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from domain.assessment import AssessmentResult
from domain.audience import suits
from domain.framework import Framework, Resource, StepTemplate


class Pace(StrEnum):
    INTENSIVE = "intensive"
    NORMAL = "normal"
    RELAXED = "relaxed"

    @property
    def factor(self) -> float:
        return {Pace.INTENSIVE: 0.5, Pace.NORMAL: 1.0, Pace.RELAXED: 1.5}[self]


class StepStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    SKIPPED = "skipped"

    @property
    def closed(self) -> bool:
        return self in (StepStatus.DONE, StepStatus.SKIPPED)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    competency: str
    #: 1-based position within the competency's track
    number: int
    template: StepTemplate
    target: date
    #: the template's resources that serve the teacher's region (federal ones always)
    resources: tuple[Resource, ...] = ()


def default_competencies(result: AssessmentResult, route_size: int) -> tuple[str, ...]:
    """The deficits with the largest gaps; with none, the weakest competency (room to grow)."""
    if result.deficits:
        return result.deficits[:route_size]
    weakest = min(result.scores, key=lambda s: s.score)
    return (weakest.code,)


def adjust(
    chosen: Sequence[str], *, add: Sequence[str] = (), drop: Sequence[str] = ()
) -> tuple[str, ...]:
    """The teacher's own choice: drop some, add others (kept in order, no repeats)."""
    result = [c for c in chosen if c not in drop]
    result += [c for c in add if c not in result and c not in drop]
    return tuple(dict.fromkeys(result))


def templates_for(
    framework: Framework, competency: str, *, young: bool
) -> tuple[StepTemplate, ...]:
    steps = framework.competency(competency).steps
    return tuple(s for s in steps if suits(s.audience, young=young))


def resources_for(
    framework: Framework, template: StepTemplate, region_names: Collection[str]
) -> tuple[Resource, ...]:
    """The step's resources a teacher of this region is offered: federal ones to everyone,
    a regional institute only to teachers of its region (`region_names`: the teacher's region
    in any language, empty when unknown: then only the federal ones)."""
    chosen = (framework.resources[code] for code in template.resources)
    return tuple(r for r in chosen if r.serves(region_names))


def build_route(
    framework: Framework,
    competencies: Sequence[str],
    *,
    young: bool,
    pace: Pace,
    start: date,
    region_names: Collection[str] = (),
) -> tuple[PlannedStep, ...]:
    """Steps for every chosen competency, worked on in parallel tracks.

    In each track the steps follow the template order and each target date is the previous
    one plus the step's effort at the chosen pace. The whole route is sorted by date. Each
    step carries the resources for the teacher's region (`resources_for`).
    """
    if not competencies:
        raise ValueError("a route needs at least one competency")
    planned: list[PlannedStep] = []
    for code in dict.fromkeys(competencies):
        current = start
        for number, template in enumerate(templates_for(framework, code, young=young), start=1):
            current += timedelta(days=max(1, round(template.days * pace.factor)))
            resources = resources_for(framework, template, region_names)
            planned.append(PlannedStep(code, number, template, current, resources))
    order = {code: i for i, code in enumerate(dict.fromkeys(competencies))}
    return tuple(sorted(planned, key=lambda s: (s.target, order[s.competency], s.number)))


def progress_share(statuses: Sequence[StepStatus]) -> int:
    """Percent of steps closed (done or consciously skipped)."""
    if not statuses:
        return 0
    return round(100 * sum(1 for s in statuses if s.closed) / len(statuses))


def progress_bar(percent: int, width: int = 10) -> str:
    filled = max(0, min(width, round(percent * width / 100)))
    return "▓" * filled + "░" * (width - filled)


#: the longest typed evidence and reflection a step keeps
EVIDENCE_MAX = 1000
REFLECTION_MAX = 500


def replace_summary(
    statuses: Sequence[StepStatus], has_evidence: Sequence[bool]
) -> tuple[int, int, int]:
    """What a new route would archive: (closed steps, all steps, steps with evidence)."""
    if len(statuses) != len(has_evidence):
        raise ValueError("one evidence flag per step")
    return sum(1 for s in statuses if s.closed), len(statuses), sum(has_evidence)
