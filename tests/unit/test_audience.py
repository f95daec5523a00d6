"""One audience model (domain/audience.py): events, route step templates and, later,
broadcasts and statistics ask the same question the same way."""

from __future__ import annotations

from domain.audience import Audience, Experience, Member, eligible, includes, suits

TEACHER = Member(municipality_id=1, position="teacher", subjects=("math",), school_id=5, young=True)


def test_an_empty_audience_is_everyone() -> None:
    assert includes(Audience(), TEACHER)
    assert includes(Audience(), Member(None))


def test_each_criterion_narrows_it() -> None:
    assert includes(Audience(municipality_id=1), TEACHER)
    assert not includes(Audience(municipality_id=2), TEACHER)
    assert includes(Audience(school_ids=(5, 6)), TEACHER)
    assert not includes(Audience(school_ids=(6,)), TEACHER)
    assert includes(Audience(positions=("teacher", "deputy")), TEACHER)
    assert not includes(Audience(positions=("deputy",)), TEACHER)
    assert includes(Audience(subjects=("math", "physics")), TEACHER)
    assert not includes(Audience(subjects=("physics",)), TEACHER)
    assert not includes(Audience(municipality_id=1, subjects=("physics",)), TEACHER)


def test_experience_bands() -> None:
    assert suits(Experience.ALL, young=True) and suits(Experience.ALL, young=False)
    assert suits(Experience.YOUNG, young=True) and not suits(Experience.YOUNG, young=False)
    assert suits(Experience.EXPERIENCED, young=False)
    assert not suits(Experience.EXPERIENCED, young=True)
    # unknown experience never passes a band
    assert not includes(Audience(experience=Experience.YOUNG), Member(1))


def test_the_events_rule_is_the_same_question() -> None:
    region_wide_math = Audience(None, subjects=("math",))
    assert eligible(region_wide_math, 7, "teacher", ["math", "art"])
    assert not eligible(region_wide_math, 7, "teacher", ["art"])
    assert not eligible(Audience(1, positions=("deputy",)), 1, None, [])
