"""The onboarding and profile use cases (services.profile) on SQLite and PostgreSQL, without
aiogram: a deep link kept for later, consent given and declined, every wizard answer (stored at
once, the next question found), the card, the first save and an edit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.repo import Repo
from domain.profile import Field, Invalid
from services import profile as service
from services.profile import Consent, Next, Refusal
from tests.sample import load_sample_events
from tests.sample_teacher import ids

Maker = async_sessionmaker[AsyncSession]
#: the caller's clock, years away from the wall clock: what the use cases store is this
AWAY = datetime(2031, 3, 14, 9, 30, tzinfo=UTC)


def _field(found: object) -> Field | None:
    assert isinstance(found, Next), found
    return found.field


async def test_start_link_and_consent(sessionmaker: Maker) -> None:
    await load_sample_events(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        user, _ = await repo.users.get_or_create(5101, "ru")
        await session.flush()
        assert await service.remember_link(repo, user.id, None)
        assert user.pending_payload is None
        assert not await service.remember_link(repo, user.id, "no such <link>")
        assert user.pending_payload is None
        assert await service.remember_link(repo, user.id, "event_12")
        assert user.pending_payload == "event_12"

        # declined first: remembered, nothing audited; then agreed
        assert await service.decline_consent(repo, user.id, AWAY) is Consent.DECLINED
        assert (user.consent, user.consent_version, user.consent_at) == ("declined", None, None)
        assert await service.give_consent(repo, user.id, "v7", AWAY) is Consent.RECORDED
        assert (user.consent, user.consent_version) == ("given", "v7")
        assert user.consent_at == AWAY  # the caller's moment, not the wall clock's
        # once given: a second tap changes nothing, declining needs /deleteme
        later = AWAY + timedelta(days=1)
        assert await service.give_consent(repo, user.id, "v8", later) is Consent.ALREADY_GIVEN
        assert await service.decline_consent(repo, user.id, later) is Consent.ALREADY_GIVEN
        assert (user.consent_version, user.consent_at) == ("v7", AWAY)
        actions = [e.action for e in await repo.audit.recent(10)]
        assert actions == ["consent_given"]

        assert (await service.set_language(repo, user.id, "en")).language == "en"
        assert user.telegram_id in repo.dirty_users  # the cached context is dropped
        await session.commit()


async def test_the_wizard_stores_each_answer_and_finds_the_next_question(
    sessionmaker: Maker,
) -> None:
    await load_sample_events(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        user, _ = await repo.users.get_or_create(5102, "ru")
        await session.flush()
        uid = user.id
        muni_id, school_id = await ids(repo)
        other_muni = next(m for m in await repo.reference.municipalities() if m.id != muni_id)
        foreign_school = (await repo.reference.schools(other_muni.id))[0]
        ask = {"editing": False}

        assert _field(await service.begin(repo, uid)) is Field.FULL_NAME
        assert await service.save(repo, uid, AWAY) is Refusal.INCOMPLETE
        assert await service.set_full_name(repo, uid, "Анна", **ask) is Invalid.ONE_WORD
        assert await service.set_full_name(repo, uid, "Анна 7", **ask) is Invalid.BAD_CHARS
        assert user.full_name is None
        assert _field(await service.set_full_name(repo, uid, "иванова анна", **ask)) is (
            Field.MUNICIPALITY
        )
        assert user.full_name == "Иванова Анна"

        # a school typed before the municipality: the municipality is asked first
        assert _field(await service.type_school(repo, uid, "МБОУ СОШ № 99", **ask)) is (
            Field.MUNICIPALITY
        )
        assert await service.pick_municipality(repo, uid, 10**6, **ask) is Refusal.STALE
        assert _field(await service.pick_municipality(repo, uid, muni_id, **ask)) is Field.SCHOOL
        # a school of another municipality is not offered
        assert await service.pick_school(repo, uid, foreign_school.id, **ask) is Refusal.STALE
        assert await service.type_school(repo, uid, "no", **ask) is Invalid.TOO_SHORT
        typed = await service.type_school(repo, uid, "МБОУ СОШ № 99", **ask)
        assert isinstance(typed, Next) and typed.school_unverified
        assert typed.field is Field.POSITION
        typed_id = user.school_id
        assert typed_id is not None and typed_id != school_id
        # the user's own unverified school may be picked again; someone else's may not
        assert _field(await service.pick_school(repo, uid, typed_id, **ask)) is Field.POSITION
        stranger, _ = await repo.users.get_or_create(5103, "ru")
        await session.flush()
        await service.pick_municipality(repo, stranger.id, muni_id, **ask)
        assert await service.pick_school(repo, stranger.id, typed_id, **ask) is Refusal.STALE
        assert _field(await service.pick_school(repo, uid, school_id, **ask)) is Field.POSITION

        assert await service.pick_position(repo, uid, "astronaut", **ask) is Refusal.STALE
        assert _field(await service.pick_position(repo, uid, "teacher", **ask)) is Field.SUBJECTS

        assert await service.toggle_subject(repo, [], "alchemy") is Refusal.STALE
        chosen = await service.toggle_subject(repo, [], "math")
        assert chosen == ["math"]
        assert await service.toggle_subject(repo, ["math", "physics"], "math") == ["physics"]
        assert await service.save_subjects(repo, uid, [], **ask) is Refusal.NOTHING_CHOSEN
        assert _field(await service.save_subjects(repo, uid, chosen, **ask)) is Field.EXPERIENCE
        assert await repo.users.subject_codes(uid) == ["math"]

        assert await service.set_experience(repo, uid, "много", **ask) is Invalid.NOT_A_NUMBER
        assert await service.set_experience(repo, uid, "99", **ask) is Invalid.OUT_OF_RANGE
        assert _field(await service.set_experience(repo, uid, "7 лет", **ask)) is Field.AGE_BAND
        assert user.experience_years == 7

        assert await service.pick_age(repo, uid, "ancient", **ask) is Refusal.STALE
        assert _field(await service.pick_age(repo, uid, "35_plus", **ask)) is None

        card = await service.card(repo, uid)
        assert card.complete and card.user.school is not None
        assert [s.code for s in card.user.subjects] == ["math"]

        saved = await service.save(repo, uid, AWAY)
        assert isinstance(saved, service.Saved) and saved.first_time
        assert saved.user.profile_completed_at == AWAY  # the caller's moment
        assert saved.user.municipality is not None  # loaded for the card
        again = await service.save(repo, uid, AWAY + timedelta(days=1))
        assert isinstance(again, service.Saved) and not again.first_time
        assert again.user.profile_completed_at == AWAY  # the first save's, kept
        actions = [e.action for e in await repo.audit.recent(10)]
        assert actions.count("profile_completed") == 1
        await session.commit()

    async with sessionmaker() as session:
        repo = Repo(session)
        edit = {"editing": True}
        # an edit returns to the card...
        assert _field(await service.set_full_name(repo, uid, "Петрова Анна", **edit)) is None
        assert _field(await service.pick_municipality(repo, uid, muni_id, **edit)) is None
        assert (await repo.users.require(uid)).school_id == school_id
        # ...except another municipality, which clears the school: it is asked next
        assert _field(await service.pick_municipality(repo, uid, other_muni.id, **edit)) is (
            Field.SCHOOL
        )
        user = await repo.users.require(uid)
        assert user.school_id is None
        card = await service.card(repo, uid)
        assert not card.complete
        assert _field(await service.begin(repo, uid)) is Field.SCHOOL
        await session.commit()
