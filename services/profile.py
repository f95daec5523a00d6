"""Profile use cases: /start with a deep link, consent (given, declined), the language, the
profile wizard's answers (each stored at once), the card and saving the profile.

Each function runs in the caller's unit of work (`db.repo.Repo`) and never commits; nothing
here talks to Telegram. Every answer returns `Next`: the question to show after it (None: the
profile card), found by `domain.profile.after_answer`; a typed answer that does not pass the
rules returns the `domain.profile.Invalid` reason; a button that no longer fits returns
`Refusal.STALE`. Validation and the wizard order are `domain.profile`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from db.models import User
from db.repo import Repo
from domain import profile as rules
from domain.deeplinks import parse_payload
from domain.profile import AgeBand, Err, Field, Invalid

__all__ = [
    "CONSENT_DECLINED",
    "CONSENT_GIVEN",
    "Card",
    "Consent",
    "Next",
    "Refusal",
    "Saved",
    "begin",
    "card",
    "decline_consent",
    "give_consent",
    "pick_age",
    "pick_municipality",
    "pick_position",
    "pick_school",
    "remember_link",
    "save",
    "save_subjects",
    "set_experience",
    "set_full_name",
    "set_language",
    "toggle_subject",
    "type_school",
]

CONSENT_GIVEN = "given"
CONSENT_DECLINED = "declined"


class Refusal(StrEnum):
    #: the button does not fit any more (an unknown or foreign municipality, school, code)
    STALE = "stale"
    #: Done in the subjects question with nothing chosen
    NOTHING_CHOSEN = "nothing_chosen"
    #: save with answers missing
    INCOMPLETE = "incomplete"


class Consent(StrEnum):
    #: recorded now
    RECORDED = "recorded"
    #: declined now (nothing else is stored)
    DECLINED = "declined"
    #: consent had been given before: nothing changes
    ALREADY_GIVEN = "already_given"


@dataclass(frozen=True, slots=True)
class Next:
    """After an answer: the user as stored now and the question to show (None: the card)."""

    user: User
    field: Field | None
    #: a typed school name that a methodist still has to check
    school_unverified: bool = False


@dataclass(frozen=True, slots=True)
class Card:
    """The profile card: the user with municipality, school, position and subjects loaded."""

    user: User
    complete: bool


@dataclass(frozen=True, slots=True)
class Saved:
    #: with municipality, school, position and subjects loaded (for the card)
    user: User
    #: the profile was completed now (not an edit of a complete one)
    first_time: bool


async def _next(repo: Repo, user: User, answered: Field, editing: bool) -> Next:
    snapshot = await repo.users.snapshot(user)
    return Next(user, rules.after_answer(answered, snapshot, editing=editing))


# ---------------------------------------------------------------- /start, consent, language


async def remember_link(repo: Repo, user_id: int, payload: str | None) -> bool:
    """/start <payload>: keep a valid deep link until onboarding is over (then it opens).
    False when the payload is broken (it is ignored)."""
    if not payload:
        return True
    link = parse_payload(payload)
    if link is None:
        return False
    await repo.users.set_fields(await repo.users.require(user_id), pending_payload=link.raw)
    return True


async def give_consent(repo: Repo, user_id: int, version: str, now: datetime) -> Consent:
    """✅ I agree: record the consent to this policy version, once, with an audit record."""
    user = await repo.users.require(user_id)
    if user.consent == CONSENT_GIVEN:
        return Consent.ALREADY_GIVEN
    await repo.users.set_consent(user, CONSENT_GIVEN, version, now)
    await repo.audit.record("consent_given", actor=user, version=version)
    return Consent.RECORDED


async def decline_consent(repo: Repo, user_id: int, now: datetime) -> Consent:
    """✖️ I do not agree: remembered, unless consent was given (withdrawal is /deleteme)."""
    user = await repo.users.require(user_id)
    if user.consent == CONSENT_GIVEN:
        return Consent.ALREADY_GIVEN
    await repo.users.set_consent(user, CONSENT_DECLINED, None, now)
    return Consent.DECLINED


async def set_language(repo: Repo, user_id: int, code: str) -> User:
    """The user's language (the caller checked it is a supported one)."""
    user = await repo.users.require(user_id)
    await repo.users.set_language(user, code)
    return user


# ---------------------------------------------------------------- the wizard


async def begin(repo: Repo, user_id: int) -> Next:
    """The first-time wizard: the first unanswered question (None: all answered, the card)."""
    user = await repo.users.require(user_id)
    return Next(user, rules.next_missing(await repo.users.snapshot(user)))


async def set_full_name(repo: Repo, user_id: int, text: str, *, editing: bool) -> Next | Invalid:
    result = rules.validate_full_name(text)
    if isinstance(result, Err):
        return result.reason
    user = await repo.users.require(user_id)
    await repo.users.set_fields(user, full_name=result.value)
    return await _next(repo, user, Field.FULL_NAME, editing)


async def pick_municipality(
    repo: Repo, user_id: int, municipality_id: int, *, editing: bool
) -> Next | Refusal:
    """A municipality from the list; another one than before clears the school."""
    municipality = await repo.reference.municipality(municipality_id)
    if municipality is None:
        return Refusal.STALE
    user = await repo.users.require(user_id)
    changes: dict[str, Any] = {"municipality_id": municipality.id}
    if user.municipality_id != municipality.id:
        changes["school_id"] = None
    await repo.users.set_fields(user, **changes)
    return await _next(repo, user, Field.MUNICIPALITY, editing)


async def pick_school(repo: Repo, user_id: int, school_id: int, *, editing: bool) -> Next | Refusal:
    """A school of the user's municipality from the list: verified, or the user's own."""
    user = await repo.users.require(user_id)
    school = await repo.reference.school(school_id)
    if (
        school is None
        or school.municipality_id != user.municipality_id
        or not (school.verified or school.id == user.school_id)
    ):
        return Refusal.STALE
    await repo.users.set_fields(user, school_id=school.id)
    return await _next(repo, user, Field.SCHOOL, editing)


async def type_school(repo: Repo, user_id: int, text: str, *, editing: bool) -> Next | Invalid:
    """A typed school name: the same school when it is known, else a new unverified one.
    Without a municipality the municipality is asked first."""
    user = await repo.users.require(user_id)
    if user.municipality_id is None:
        return Next(user, Field.MUNICIPALITY)
    result = rules.validate_school_name(text)
    if isinstance(result, Err):
        return result.reason
    school = await repo.reference.find_or_add_school(user.municipality_id, result.value)
    await repo.users.set_fields(user, school_id=school.id)
    answered = await _next(repo, user, Field.SCHOOL, editing)
    return Next(user, answered.field, school_unverified=not school.verified)


async def pick_position(repo: Repo, user_id: int, code: str, *, editing: bool) -> Next | Refusal:
    position = await repo.reference.position(code)
    if position is None:
        return Refusal.STALE
    user = await repo.users.require(user_id)
    await repo.users.set_fields(user, position_code=position.code)
    return await _next(repo, user, Field.POSITION, editing)


async def toggle_subject(repo: Repo, selected: Sequence[str], code: str) -> list[str] | Refusal:
    """A tap on a subject: chosen or unchosen (the choice is stored on Done)."""
    known = {s.code for s in await repo.reference.subjects()}
    if code not in known:
        return Refusal.STALE
    return rules.toggle_choice(selected, code)


async def save_subjects(
    repo: Repo, user_id: int, selected: Sequence[str], *, editing: bool
) -> Next | Refusal:
    if not selected:
        return Refusal.NOTHING_CHOSEN
    user = await repo.users.require(user_id)
    await repo.users.set_subjects(user, list(selected))
    return await _next(repo, user, Field.SUBJECTS, editing)


async def set_experience(repo: Repo, user_id: int, text: str, *, editing: bool) -> Next | Invalid:
    result = rules.parse_experience(text)
    if isinstance(result, Err):
        return result.reason
    user = await repo.users.require(user_id)
    await repo.users.set_fields(user, experience_years=result.value)
    return await _next(repo, user, Field.EXPERIENCE, editing)


async def pick_age(repo: Repo, user_id: int, band: str, *, editing: bool) -> Next | Refusal:
    if band not in {b.value for b in AgeBand}:
        return Refusal.STALE
    user = await repo.users.require(user_id)
    await repo.users.set_fields(user, age_band=band)
    return await _next(repo, user, Field.AGE_BAND, editing)


# ---------------------------------------------------------------- the card


async def card(repo: Repo, user_id: int) -> Card:
    full = await repo.users.get_full(user_id)
    assert full is not None
    return Card(full, rules.next_missing(await repo.users.snapshot(full)) is None)


async def save(repo: Repo, user_id: int, now: datetime) -> Saved | Refusal:
    """✅ Everything is correct / ✅ Done: the profile is complete (audited the first time)."""
    user = await repo.users.require(user_id)
    if rules.next_missing(await repo.users.snapshot(user)) is not None:
        return Refusal.INCOMPLETE
    first_time = user.profile_completed_at is None
    await repo.users.complete_profile(user, now)
    if first_time:
        await repo.audit.record("profile_completed", actor=user)
    full = await repo.users.get_full(user_id)
    assert full is not None
    return Saved(full, first_time)
