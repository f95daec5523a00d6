"""Teacher profile: the wizard's fields, their order and validation rules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeAlias, TypeVar

T = TypeVar("T")


class Field(StrEnum):
    """Profile fields in the order the wizard asks them."""

    FULL_NAME = "full_name"
    MUNICIPALITY = "municipality"
    SCHOOL = "school"
    POSITION = "position"
    SUBJECTS = "subjects"
    EXPERIENCE = "experience"
    AGE_BAND = "age_band"


WIZARD_ORDER: tuple[Field, ...] = tuple(Field)


class AgeBand(StrEnum):
    UNDER_35 = "under_35"
    FROM_35 = "35_plus"


class Invalid(StrEnum):
    """Why a typed answer was refused (handlers turn this into a polite re-ask)."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    BAD_CHARS = "bad_chars"
    ONE_WORD = "one_word"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    value: T


@dataclass(frozen=True, slots=True)
class Err:
    reason: Invalid


Result: TypeAlias = Ok[T] | Err

NAME_MAX = 120
SCHOOL_MIN, SCHOOL_MAX = 3, 200
EXPERIENCE_MAX = 60
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:(?:\. ?|[ '’\-])[^\W\d_]+)*\.?$")
_SPACES = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def validate_full_name(text: str) -> Result[str]:
    """At least two words of letters (hyphens, apostrophes and initials allowed)."""
    name = _clean(text)
    if len(name) < 3:
        return Err(Invalid.TOO_SHORT)
    if len(name) > NAME_MAX:
        return Err(Invalid.TOO_LONG)
    if not _NAME_CHARS.match(name):
        return Err(Invalid.BAD_CHARS)
    if len(re.split(r"[ .]+", name.strip("."))) < 2:
        return Err(Invalid.ONE_WORD)
    return Ok(" ".join(w[:1].upper() + w[1:] for w in name.split(" ")))


def validate_school_name(text: str) -> Result[str]:
    name = _clean(text)
    if len(name) < SCHOOL_MIN:
        return Err(Invalid.TOO_SHORT)
    if len(name) > SCHOOL_MAX:
        return Err(Invalid.TOO_LONG)
    if not any(ch.isalpha() for ch in name) or any(
        unicodedata.category(ch).startswith("C") for ch in name
    ):
        return Err(Invalid.BAD_CHARS)
    return Ok(name)


def school_key(name: str) -> str:
    """A comparison key so that "сош №1" and "СОШ № 1" find the same school."""
    text = _clean(name).casefold().replace("ё", "е")
    text = re.sub(r"[«»\"'`.,]", "", text)
    text = re.sub(r"№\s*", "№", text)
    return _SPACES.sub(" ", text).strip()


def short_school_name(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def parse_experience(text: str) -> Result[int]:
    """Whole years of pedagogical experience, 0-60 ("5", "5 лет", "0.5" → 0)."""
    match = re.fullmatch(r"\s*(\d{1,3})(?:[.,]\d+)?\s*[^\d\s]*\s*[^\d\s]*\s*", text)
    if match is None:
        return Err(Invalid.NOT_A_NUMBER)
    years = int(match.group(1))
    if years > EXPERIENCE_MAX:
        return Err(Invalid.OUT_OF_RANGE)
    return Ok(years)


@dataclass(frozen=True, slots=True)
class ProfileSnapshot:
    """What the wizard needs to know about a profile to find the next question."""

    full_name: str | None
    municipality_id: int | None
    school_id: int | None
    position_code: str | None
    subject_count: int
    experience_years: int | None
    age_band: str | None


def filled(profile: ProfileSnapshot, field: Field) -> bool:
    match field:
        case Field.FULL_NAME:
            return bool(profile.full_name)
        case Field.MUNICIPALITY:
            return profile.municipality_id is not None
        case Field.SCHOOL:
            return profile.school_id is not None
        case Field.POSITION:
            return profile.position_code is not None
        case Field.SUBJECTS:
            return profile.subject_count > 0
        case Field.EXPERIENCE:
            return profile.experience_years is not None
        case Field.AGE_BAND:
            return profile.age_band is not None


def next_missing(profile: ProfileSnapshot) -> Field | None:
    """The first unanswered field in wizard order; None when the profile is complete."""
    for field in WIZARD_ORDER:
        if not filled(profile, field):
            return field
    return None


def previous_field(field: Field) -> Field | None:
    index = WIZARD_ORDER.index(field)
    return WIZARD_ORDER[index - 1] if index > 0 else None


def next_field(field: Field) -> Field | None:
    index = WIZARD_ORDER.index(field)
    return WIZARD_ORDER[index + 1] if index + 1 < len(WIZARD_ORDER) else None


def after_answer(answered: Field, profile: ProfileSnapshot, *, editing: bool) -> Field | None:
    """The question after an answer; None: the profile card.

    In the first-time wizard it is the first unanswered field. A field edited from the card
    returns to the card, except a changed municipality, which cleared the school: then the
    school is asked next."""
    if editing:
        if answered is Field.MUNICIPALITY and profile.school_id is None:
            return Field.SCHOOL
        return None
    return next_missing(profile)


def toggle_choice(selected: Sequence[str], code: str) -> list[str]:
    """A multi-choice tap: add the code at the end, or remove it when already chosen."""
    return [c for c in selected if c != code] if code in selected else [*selected, code]


def address_name(full_name: str | None) -> str | None:
    """How to address the teacher: first name and patronymic ("Иванова Анна Петровна" →
    "Анна Петровна"), since the wizard asks for the surname first."""
    words = (full_name or "").split()
    if not words:
        return None
    return " ".join(words[1:]) if len(words) > 1 else words[0]


def is_young_teacher(age_band: str | None, experience_years: int | None) -> bool:
    """The seeds' "young teacher": under 35, or under 3 years of experience."""
    return age_band == AgeBand.UNDER_35 or (experience_years is not None and experience_years < 3)
