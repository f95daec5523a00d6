"""Self-assessment: progress, scoring, levels, deficits and strengths. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.framework import MAX_VALUE, Framework, Statement


@dataclass(frozen=True, slots=True)
class CompetencyScore:
    code: str
    score: int  # 0..100
    level: str
    #: how many statements got "I can teach colleagues"
    teach: int
    statements: int


@dataclass(frozen=True, slots=True)
class AssessmentResult:
    framework_version: str
    scores: tuple[CompetencyScore, ...]
    #: competency codes below the threshold, the largest gap first
    deficits: tuple[str, ...]
    #: competencies where at least half of the statements got "I can teach colleagues"
    strengths: tuple[str, ...]

    def score_of(self, code: str) -> CompetencyScore:
        for item in self.scores:
            if item.code == code:
                return item
        raise KeyError(code)

    def to_json(self) -> dict[str, object]:
        return {
            "framework_version": self.framework_version,
            "scores": [
                {
                    "code": s.code,
                    "score": s.score,
                    "level": s.level,
                    "teach": s.teach,
                    "statements": s.statements,
                }
                for s in self.scores
            ],
            "deficits": list(self.deficits),
            "strengths": list(self.strengths),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> AssessmentResult:
        raw_scores = data.get("scores")
        assert isinstance(raw_scores, list)
        return cls(
            framework_version=str(data["framework_version"]),
            scores=tuple(
                CompetencyScore(
                    code=str(s["code"]),
                    score=int(s["score"]),
                    level=str(s["level"]),
                    teach=int(s["teach"]),
                    statements=int(s["statements"]),
                )
                for s in raw_scores
            ),
            deficits=tuple(str(c) for c in data.get("deficits") or []),  # type: ignore[attr-defined]
            strengths=tuple(str(c) for c in data.get("strengths") or []),  # type: ignore[attr-defined]
        )


@dataclass(frozen=True, slots=True)
class Progress:
    answered: int
    total: int
    #: the statement to show next (None when all are answered)
    next: Statement | None
    #: position of `next` within its competency, 1-based, and that competency's size
    in_competency: tuple[int, int]


def progress(statements: Sequence[Statement], answers: Mapping[str, int]) -> Progress:
    """Where the teacher is: the first unanswered statement in framework order."""
    answered = sum(1 for s in statements if s.code in answers)
    for statement in statements:
        if statement.code not in answers:
            same = [s for s in statements if s.competency == statement.competency]
            return Progress(
                answered, len(statements), statement, (same.index(statement) + 1, len(same))
            )
    return Progress(answered, len(statements), None, (0, 0))


def previous_statement(
    statements: Sequence[Statement], answers: Mapping[str, int]
) -> Statement | None:
    """The statement before the current one ("Back"): the last answered in framework order."""
    current = progress(statements, answers).next
    index = statements.index(current) if current is not None else len(statements)
    return statements[index - 1] if index > 0 else None


def score(
    framework: Framework, answers: Mapping[str, int], *, is_manager: bool
) -> AssessmentResult:
    """Scores 0-100 per competency (mean answer / 3), levels, deficits and strengths.

    Raises ValueError if an answer is missing or out of the scale.
    """
    scores = []
    for comp in framework.for_position(is_manager):
        values = []
        for statement in comp.statements:
            if statement.code not in answers:
                raise ValueError(f"no answer for {statement.code}")
            value = answers[statement.code]
            if not 0 <= value <= MAX_VALUE:
                raise ValueError(f"answer {value} for {statement.code} is off the scale")
            values.append(value)
        # integer arithmetic, rounded half up: deterministic on every platform
        points = (200 * sum(values) + MAX_VALUE * len(values)) // (2 * MAX_VALUE * len(values))
        scores.append(
            CompetencyScore(
                code=comp.code,
                score=points,
                level=framework.level_for(points).code,
                teach=sum(1 for v in values if v == MAX_VALUE),
                statements=len(values),
            )
        )
    threshold = framework.settings.deficit_threshold
    order = {s.code: i for i, s in enumerate(scores)}
    deficits = sorted(
        (s for s in scores if s.score < threshold), key=lambda s: (s.score, order[s.code])
    )
    strengths = [s.code for s in scores if s.teach * 2 >= s.statements and s.teach > 0]
    return AssessmentResult(
        framework_version=framework.version,
        scores=tuple(scores),
        deficits=tuple(s.code for s in deficits),
        strengths=tuple(strengths),
    )


def next_attempt_at(last_finished: datetime | None, retake_days: int) -> datetime | None:
    """When the teacher may start a new attempt (None: right away)."""
    if last_finished is None or retake_days <= 0:
        return None
    return last_finished + timedelta(days=retake_days)


@dataclass(frozen=True, slots=True)
class Change:
    code: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


def compare(before: AssessmentResult, after: AssessmentResult) -> tuple[Change, ...]:
    """Per competency present in both attempts, in the order of the later one."""
    earlier = {s.code: s.score for s in before.scores}
    return tuple(
        Change(s.code, earlier[s.code], s.score) for s in after.scores if s.code in earlier
    )
