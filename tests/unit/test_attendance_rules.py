"""Which route step an attended event completes, and when taking attendance back reopens it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from db.reference.sample_events import TRICKY_TITLE
from domain.attendance import (
    Completion,
    StepFacts,
    event_evidence,
    status_after_unattending,
    step_to_complete,
)
from domain.route import StepStatus

EVIDENCE = event_evidence(TRICKY_TITLE, datetime(2026, 10, 15, 7, 0, tzinfo=UTC))


DONE_BY_EVENT = StepFacts(7, "practice", "assessment", StepStatus.DONE, evidence_text=EVIDENCE)


def _done(**changes: Any) -> StepFacts:
    return replace(DONE_BY_EVENT, **changes)


def test_event_evidence_names_the_event_and_its_day() -> None:
    assert event_evidence(TRICKY_TITLE, datetime(2026, 10, 15, 7, 0, tzinfo=UTC)) == (
        f"{TRICKY_TITLE} (15.10.2026)"
    )


def test_the_first_open_step_of_the_matching_kind_and_competency_is_completed() -> None:
    steps = [
        StepFacts(1, "practice", "assessment", StepStatus.DONE),
        StepFacts(2, "learn", "assessment", StepStatus.PLANNED),
        StepFacts(3, "practice", "digital", StepStatus.SKIPPED),
        StepFacts(4, "practice", "assessment", StepStatus.IN_PROGRESS),
        StepFacts(5, "practice", "assessment", StepStatus.PLANNED),
    ]
    chosen = step_to_complete("internship", ["digital", "assessment"], steps)
    assert chosen is not None and chosen.id == 4
    assert step_to_complete("seminar", ["assessment"], steps) == steps[1]
    assert step_to_complete("internship", ["leadership"], steps) is None
    assert step_to_complete("unknown-kind", ["assessment"], steps) is None


def test_unticking_returns_the_step_to_its_previous_status() -> None:
    for previous in (StepStatus.PLANNED, StepStatus.IN_PROGRESS):
        assert status_after_unattending(_done(), Completion(7, previous, EVIDENCE)) is previous


def test_a_step_the_teacher_made_their_own_is_left_alone() -> None:
    completion = Completion(7, StepStatus.PLANNED, EVIDENCE)
    assert status_after_unattending(_done(reflection="It worked"), completion) is None
    assert status_after_unattending(_done(evidence_file_id="file-1"), completion) is None
    assert status_after_unattending(_done(evidence_text="My own lesson"), completion) is None
    assert status_after_unattending(_done(status=StepStatus.IN_PROGRESS), completion) is None
    assert status_after_unattending(_done(status=StepStatus.SKIPPED), completion) is None
    assert status_after_unattending(_done(id=8), completion) is None
