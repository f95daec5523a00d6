"""Profile validation and the wizard's order (domain/profile.py)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.profile import (
    WIZARD_ORDER,
    Err,
    Field,
    Invalid,
    Ok,
    ProfileSnapshot,
    after_answer,
    is_young_teacher,
    next_field,
    next_missing,
    parse_experience,
    previous_field,
    school_key,
    toggle_choice,
    validate_full_name,
    validate_school_name,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Иванова Анна Петровна", "Иванова Анна Петровна"),
        ("  петров   пётр ", "Петров Пётр"),
        ("Иванов И. И.", "Иванов И. И."),
        ("Anna-Maria O’Neil", "Anna-Maria O’Neil"),
        ("Ли Ян", "Ли Ян"),
    ],
)
def test_valid_names_are_normalised(text: str, expected: str) -> None:
    assert validate_full_name(text) == Ok(expected)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Анна", Invalid.ONE_WORD),
        ("", Invalid.TOO_SHORT),
        ("Иван0в Иван", Invalid.BAD_CHARS),
        ("/start", Invalid.BAD_CHARS),
        ("<b>Иванов</b> Иван", Invalid.BAD_CHARS),
        ("А" * 60 + " " + "Б" * 60, Invalid.TOO_LONG),
    ],
)
def test_invalid_names_say_why(text: str, reason: Invalid) -> None:
    assert validate_full_name(text) == Err(reason)


@given(st.text(max_size=200))
def test_name_validation_never_raises_and_accepted_names_are_bounded(text: str) -> None:
    result = validate_full_name(text)
    if isinstance(result, Ok):
        assert 3 <= len(result.value) <= 120
        assert "<" not in result.value and "&" not in result.value


@pytest.mark.parametrize(
    ("text", "years"), [("0", 0), ("7", 7), ("7 лет", 7), ("12 years", 12), ("2,5", 2), ("60", 60)]
)
def test_experience_accepts_numbers(text: str, years: int) -> None:
    assert parse_experience(text) == Ok(years)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("61", Invalid.OUT_OF_RANGE),
        ("много", Invalid.NOT_A_NUMBER),
        ("-3", Invalid.NOT_A_NUMBER),
        ("", Invalid.NOT_A_NUMBER),
    ],
)
def test_experience_rejects_the_rest(text: str, reason: Invalid) -> None:
    assert parse_experience(text) == Err(reason)


def test_school_key_matches_spelling_variants() -> None:
    assert school_key("МБОУ «СОШ №1»") == school_key("мбоу сош № 1")
    assert school_key("Лицей Ёлка") == school_key("лицей елка")
    assert school_key("СОШ № 1") != school_key("СОШ № 11")


def test_school_name_rules() -> None:
    assert validate_school_name("СОШ № 7") == Ok("СОШ № 7")
    assert validate_school_name("12") == Err(Invalid.TOO_SHORT)
    assert validate_school_name("123") == Err(Invalid.BAD_CHARS)
    assert validate_school_name("x" * 201) == Err(Invalid.TOO_LONG)


EMPTY = ProfileSnapshot(None, None, None, None, 0, None, None)


def test_next_missing_walks_the_wizard_order() -> None:
    assert next_missing(EMPTY) is Field.FULL_NAME
    partial = ProfileSnapshot("Иванова Анна", 1, None, None, 0, None, None)
    assert next_missing(partial) is Field.SCHOOL
    full = ProfileSnapshot("Иванова Анна", 1, 2, "teacher", 3, 5, "under_35")
    assert next_missing(full) is None


def test_back_and_forward_are_inverse() -> None:
    assert previous_field(WIZARD_ORDER[0]) is None
    assert next_field(WIZARD_ORDER[-1]) is None
    for a, b in itertools.pairwise(WIZARD_ORDER):
        assert next_field(a) is b
        assert previous_field(b) is a


@pytest.mark.parametrize(
    ("age", "years", "young"),
    [("under_35", 20, True), ("35_plus", 2, True), ("35_plus", 3, False), (None, None, False)],
)
def test_young_teacher(age: str | None, years: int | None, young: bool) -> None:
    assert is_young_teacher(age, years) is young


FULL = ProfileSnapshot(
    full_name="Иванова Анна",
    municipality_id=1,
    school_id=2,
    position_code="teacher",
    subject_count=1,
    experience_years=3,
    age_band="under_35",
)


def test_after_an_answer_the_wizard_asks_the_first_missing_field() -> None:
    partial = ProfileSnapshot("Иванова Анна", 1, None, "teacher", 0, None, None)
    # the wizard: the first unanswered field, wherever the answer was
    assert after_answer(Field.POSITION, partial, editing=False) is Field.SCHOOL
    assert after_answer(Field.AGE_BAND, FULL, editing=False) is None


def test_after_an_edit_the_card_returns_unless_the_school_was_cleared() -> None:
    no_school = ProfileSnapshot("Иванова Анна", 7, None, "teacher", 1, 3, "under_35")
    # a new municipality cleared the school: it is asked before the card
    assert after_answer(Field.MUNICIPALITY, no_school, editing=True) is Field.SCHOOL
    assert after_answer(Field.MUNICIPALITY, FULL, editing=True) is None
    # any other edited field goes back to the card, even with answers missing
    assert after_answer(Field.FULL_NAME, no_school, editing=True) is None
    assert after_answer(Field.EXPERIENCE, FULL, editing=True) is None


def test_a_choice_toggles_in_order() -> None:
    assert toggle_choice([], "math") == ["math"]
    assert toggle_choice(["math", "art"], "physics") == ["math", "art", "physics"]
    assert toggle_choice(["math", "art", "physics"], "art") == ["math", "physics"]
