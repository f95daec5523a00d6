"""Scoring, deficits, strengths, route building: pure domain rules, with property tests."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.assessment import compare, next_attempt_at, previous_statement, progress, score
from domain.framework import Framework, FrameworkError, StepKind, parse_framework
from domain.route import (
    Pace,
    StepStatus,
    adjust,
    build_route,
    default_competencies,
    progress_bar,
    progress_share,
    replace_summary,
)
from tests.framework_doc import framework_doc, mutated

FW = parse_framework(framework_doc())
STATEMENTS = FW.statements(is_manager=False)
ALL_STATEMENTS = FW.statements(is_manager=True)


def test_managers_get_the_management_block_only() -> None:
    assert len(STATEMENTS) == 12 and len(ALL_STATEMENTS) == 16
    assert {s.competency for s in ALL_STATEMENTS} - {s.competency for s in STATEMENTS} == {"comp_d"}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (mutated(version="bad version"), "version"),
        (mutated(scale=[{"value": 0, "label": {"ru": "a", "en": "b"}}]), "scale"),
        (mutated(levels=[{"code": "x", "min": 10, "name": {"ru": "a", "en": "b"}}]), "levels"),
        (
            mutated(
                resources=[{"code": "res1", "title": {"ru": "a", "en": "b"}, "url": "http://x"}]
            ),
            "https",
        ),
    ],
)
def test_bad_frameworks_are_refused_with_the_place(doc: dict[str, object], message: str) -> None:
    with pytest.raises(FrameworkError, match=message):
        parse_framework(doc)


def test_steps_out_of_order_or_html_are_refused() -> None:
    doc = framework_doc()
    steps = doc["competencies"][0]["steps"]
    steps[0], steps[1] = steps[1], steps[0]
    with pytest.raises(FrameworkError, match="order"):
        parse_framework(doc)
    doc = framework_doc()
    doc["competencies"][1]["title"]["ru"] = "<b>x</b>"
    with pytest.raises(FrameworkError, match=r"competencies\[1\]\.title\.ru"):
        parse_framework(doc)


def _answers(value: int, manager: bool = False) -> dict[str, int]:
    return {s.code: value for s in (ALL_STATEMENTS if manager else STATEMENTS)}


def test_scores_levels_deficits_and_strengths() -> None:
    answers = _answers(2)
    answers.update({"a0": 0, "a1": 0, "a2": 1, "a3": 0})  # comp_a: 1/12 → 8
    answers.update({"b0": 1, "b1": 1, "b2": 2, "b3": 1})  # comp_b: 5/12 → 42
    answers.update({"c0": 3, "c1": 3, "c2": 2, "c3": 2})  # comp_c: 10/12 → 83, half "teach"
    result = score(FW, answers, is_manager=False)
    assert [(s.code, s.score, s.level) for s in result.scores] == [
        ("comp_a", 8, "initial"),
        ("comp_b", 42, "basic"),
        ("comp_c", 83, "confident"),
    ]
    assert result.deficits == ("comp_a", "comp_b") and result.strengths == ("comp_c",)
    assert score(FW, _answers(3), is_manager=False).deficits == ()
    assert [s.score for s in score(FW, _answers(0), is_manager=False).scores] == [0, 0, 0]


def test_incomplete_or_off_scale_answers_are_errors() -> None:
    answers = _answers(2)
    del answers["a0"]
    with pytest.raises(ValueError, match="a0"):
        score(FW, answers, is_manager=False)
    with pytest.raises(ValueError, match="off the scale"):
        score(FW, {**_answers(2), "a0": 4}, is_manager=False)


answers_strategy = st.fixed_dictionaries({s.code: st.integers(0, 3) for s in ALL_STATEMENTS})


@given(answers_strategy, st.booleans())
def test_scoring_properties(answers: dict[str, int], manager: bool) -> None:
    result = score(FW, answers, is_manager=manager)
    assert result == score(FW, dict(reversed(list(answers.items()))), is_manager=manager)
    for item in result.scores:
        assert 0 <= item.score <= 100
        assert item.level == FW.level_for(item.score).code
    deficit_scores = [result.score_of(c).score for c in result.deficits]
    assert deficit_scores == sorted(deficit_scores)
    assert all(s < 60 for s in deficit_scores)
    assert set(result.deficits) == {s.code for s in result.scores if s.score < 60}
    assert result == type(result).from_json(result.to_json())


@given(answers_strategy, st.sampled_from(list(Pace)), st.booleans(), st.integers(1, 4))
@settings(max_examples=60)
def test_route_properties(answers: dict[str, int], pace: Pace, young: bool, size: int) -> None:
    result = score(FW, answers, is_manager=True)
    chosen = default_competencies(result, size)
    assert chosen and len(chosen) <= size
    start = date(2026, 12, 1)
    route = build_route(FW, chosen, young=young, pace=pace, start=start)
    for code in chosen:  # every chosen competency (every deficit) gets its steps
        track = [s for s in route if s.competency == code]
        kinds = [s.template.kind for s in track]
        assert kinds == sorted(kinds, key=list(StepKind).index) and len(kinds) == 6
        assert kinds.count(StepKind.MENTORING) == 1
        dates = [s.target for s in track]
        assert all(a < b for a, b in itertools.pairwise(dates)) and dates[0] > start
    keys = [(s.competency, s.number) for s in route]
    assert len(keys) == len(set(keys))  # no step twice
    assert [s.target for s in route] == sorted(s.target for s in route)
    assert route == build_route(FW, chosen, young=young, pace=pace, start=start)


def test_young_teachers_get_a_mentor_others_a_consultation() -> None:
    young = build_route(FW, ["comp_a"], young=True, pace=Pace.NORMAL, start=date(2026, 1, 1))
    old = build_route(FW, ["comp_a"], young=False, pace=Pace.NORMAL, start=date(2026, 1, 1))
    mentoring = [
        s.template.audience.value for s in young + old if s.template.kind is StepKind.MENTORING
    ]
    assert mentoring == ["young", "experienced"]


def test_pace_stretches_dates() -> None:
    def last(pace: Pace) -> date:
        return build_route(FW, ["comp_a"], young=False, pace=pace, start=date(2026, 1, 1))[
            -1
        ].target

    assert last(Pace.INTENSIVE) < last(Pace.NORMAL) < last(Pace.RELAXED)


def test_choice_of_competencies() -> None:
    perfect = score(FW, _answers(3), is_manager=False)
    assert default_competencies(perfect, 3) == ("comp_a",)  # no deficits: the weakest, to grow
    assert adjust(("a", "b", "c"), add=("d", "a"), drop=("b",)) == ("a", "c", "d")
    with pytest.raises(ValueError):
        build_route(FW, [], young=False, pace=Pace.NORMAL, start=date(2026, 1, 1))


def test_progress_back_and_comparison() -> None:
    answers: dict[str, int] = {}
    first = progress(STATEMENTS, answers)
    assert (first.answered, first.total, first.next, first.in_competency) == (
        0,
        12,
        STATEMENTS[0],
        (1, 4),
    )
    assert previous_statement(STATEMENTS, answers) is None
    answers = {s.code: 1 for s in STATEMENTS[:5]}
    now = progress(STATEMENTS, answers)
    assert now.next == STATEMENTS[5] and now.in_competency == (2, 4)
    assert previous_statement(STATEMENTS, answers) == STATEMENTS[4]
    assert progress(STATEMENTS, _answers(1)).next is None
    assert previous_statement(STATEMENTS, _answers(1)) == STATEMENTS[-1]
    before = score(FW, _answers(1), is_manager=False)
    after = score(FW, _answers(2), is_manager=False)
    assert [c.delta for c in compare(before, after)] == [34, 34, 34]


def test_retake_interval_and_progress_bar() -> None:
    finished = datetime(2026, 1, 1, tzinfo=UTC)
    assert next_attempt_at(None, 90) is None and next_attempt_at(finished, 0) is None
    assert next_attempt_at(finished, 90) == datetime(2026, 4, 1, tzinfo=UTC)
    assert (
        progress_share(
            [StepStatus.DONE, StepStatus.SKIPPED, StepStatus.PLANNED, StepStatus.IN_PROGRESS]
        )
        == 50
    )
    assert progress_share([]) == 0
    assert (
        progress_bar(0) == "░" * 10
        and progress_bar(100) == "▓" * 10
        and progress_bar(55).count("▓") == 6
    )


def test_framework_is_usable_as_data() -> None:
    assert (
        isinstance(FW, Framework)
        and FW.level_for(64).code == "basic"
        and FW.level_for(65).code == "confident"
    )


def test_replacing_a_route_reports_what_goes_to_the_archive() -> None:
    statuses = [StepStatus.DONE, StepStatus.SKIPPED, StepStatus.IN_PROGRESS, StepStatus.PLANNED]
    # closed = done or skipped; evidence counted per step
    assert replace_summary(statuses, [True, False, True, False]) == (2, 4, 2)
    assert replace_summary([], []) == (0, 0, 0)
    with pytest.raises(ValueError):
        replace_summary(statuses, [True])
