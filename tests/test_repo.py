"""The repository layer on SQLite and PostgreSQL: users, consent, erasure, reference import."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import SAMPLE_REFERENCE, import_reference
from core.clock import utcnow
from db.models import AuditEntry, School, User, UserSubject
from db.repo import Repo
from domain.reference import ReferenceError, parse_reference
from domain.roles import Role
from domain.scope import Scope
from tests.staffing import make_staff

Maker = async_sessionmaker[AsyncSession]
#: the caller's clock, years away from the wall clock: what a repository stamps is this
AWAY = datetime(2031, 3, 14, 9, 30, tzinfo=UTC)


async def _seed(sessionmaker: Maker) -> None:
    async with sessionmaker() as session:
        await import_reference(Repo(session), SAMPLE_REFERENCE)
        await session.commit()


async def test_sample_reference_imports_and_is_idempotent(sessionmaker: Maker) -> None:
    async with sessionmaker() as session:
        first = await import_reference(Repo(session), SAMPLE_REFERENCE)
        await session.commit()
    assert first.created["municipalities"] >= 10 and first.created["schools"] >= 50
    assert not first.updated
    async with sessionmaker() as session:
        again = await import_reference(Repo(session), SAMPLE_REFERENCE)
        await session.commit()
        assert not again.created and again.updated == first.created
        munis = await Repo(session).reference.municipalities()
    assert munis[0].code == "volgodonsk" and all(m.is_sample for m in munis)


def test_reference_errors_name_the_place() -> None:
    doc = yaml.safe_load(SAMPLE_REFERENCE.read_text(encoding="utf-8"))
    doc["municipalities"][1]["schools"][0]["code"] = doc["municipalities"][0]["schools"][0]["code"]
    with pytest.raises(
        ReferenceError, match=r"municipalities\[1\]\.schools\[0\]\.code: .* used twice"
    ):
        parse_reference(doc)
    fresh = yaml.safe_load(SAMPLE_REFERENCE.read_text(encoding="utf-8"))
    with pytest.raises(ReferenceError, match="subjects: a non-empty list"):
        parse_reference({**fresh, "subjects": []})
    fresh["positions"][0]["name"] = {
        "ru": "Очень длинное название должности больше лимита",
        "en": "x",
    }
    with pytest.raises(ReferenceError, match=r"positions\[0\]\.name\.ru: longer than 28"):
        parse_reference(fresh)


async def test_get_or_create_is_safe_under_concurrency(sessionmaker: Maker) -> None:
    async def create() -> int:
        async with sessionmaker() as session:
            user, _ = await Repo(session).users.get_or_create(555, "ru")
            await session.commit()
            return user.id

    ids = await asyncio.gather(*(create() for _ in range(8)))
    assert len(set(ids)) == 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


async def test_typed_school_is_reused_and_unverified(sessionmaker: Maker) -> None:
    await _seed(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        muni = (await repo.reference.municipalities())[0]
        a = await repo.reference.find_or_add_school(muni.id, "МБОУ «СОШ № 99»")
        b = await repo.reference.find_or_add_school(muni.id, "мбоу сош №99")
        assert a.id == b.id and not a.verified
        assert a not in await repo.reference.schools(muni.id)
        assert [
            s.id for s in await repo.reference.unverified_schools(Scope(frozenset({muni.id})))
        ] == [a.id]
        await repo.reference.verify_school(a)
        assert a in await repo.reference.schools(muni.id)
        listed = (await repo.reference.schools(muni.id))[0]
        same = await repo.reference.find_or_add_school(muni.id, listed.name.upper())
        assert same.id == listed.id


async def _full_user(repo: Repo, telegram_id: int) -> User:
    """A teacher who agreed and completed the profile at `AWAY`."""
    user, _ = await repo.users.get_or_create(telegram_id, "ru")
    muni = (await repo.reference.municipalities())[0]
    school = (await repo.reference.schools(muni.id))[0]
    await repo.users.set_consent(user, "given", "1.0", AWAY)
    await repo.users.set_fields(
        user,
        full_name="Иванова Анна",
        municipality_id=muni.id,
        school_id=school.id,
        position_code="teacher",
        experience_years=2,
        age_band="under_35",
    )
    await repo.users.set_subjects(user, ["math", "informatics", "nonexistent", "math"])
    await repo.users.complete_profile(user, AWAY)
    return user


async def test_export_contains_everything_stored(sessionmaker: Maker) -> None:
    await _seed(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        user = await _full_user(repo, 42)
        await repo.audit.record("consent_given", actor=user, version="1.0")
        await session.commit()
        exported_at = AWAY + timedelta(days=3)
        data = await repo.users.export(user.id, exported_at)
    assert data["telegram_id"] == 42
    # every time in the export is the caller's: when they agreed, completed, exported
    assert data["consent"]["status"] == "given"
    assert data["consent"]["given_at"] == AWAY.isoformat()
    assert data["profile"]["completed_at"] == AWAY.isoformat()
    assert data["exported_at"] == exported_at.isoformat()
    assert data["profile"]["full_name"] == "Иванова Анна"
    assert data["profile"]["subjects"] == ["math", "informatics"]
    assert data["profile"]["experience_years"] == 2
    assert data["history"][0]["action"] == "consent_given"


async def test_erase_keeps_only_anonymous_aggregates(sessionmaker: Maker) -> None:
    await _seed(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        user = await _full_user(repo, 43)
        await make_staff(repo, user, Role.COORDINATOR, user.municipality_id)
        await repo.users.erase(user, AWAY + timedelta(days=5))
        await session.commit()
        assert repo.dirty_users == {43}
    async with sessionmaker() as session:
        row = await session.get(User, user.id)
        assert row is not None
        assert (row.telegram_id, row.full_name, row.school_id, row.experience_years) == (
            None,
            None,
            None,
            None,
        )
        assert row.consent == "withdrawn" and row.role == "teacher"
        assert row.erased_at == AWAY + timedelta(days=5)
        assert (
            row.municipality_id is not None
            and row.position_code == "teacher"
            and row.age_band == "under_35"
        )
        assert await session.scalar(select(func.count()).select_from(UserSubject)) == 0
        # the same person may register again from scratch
        again, created = await Repo(session).users.get_or_create(43, "ru")
        assert created and again.id != user.id


async def test_purge_forgets_silent_users_without_consent(sessionmaker: Maker) -> None:
    async with sessionmaker() as session:
        repo = Repo(session)
        old, _ = await repo.users.get_or_create(1, "ru")
        fresh, _ = await repo.users.get_or_create(2, "ru")
        agreed, _ = await repo.users.get_or_create(3, "ru")
        await repo.users.set_consent(agreed, "given", "1.0", utcnow())
        await session.flush()
        for row in (old, agreed):
            row.updated_at = utcnow() - timedelta(days=40)
        await session.commit()
    async with sessionmaker() as session:
        removed = await Repo(session).users.purge_unconsented(utcnow() - timedelta(days=30))
        await session.commit()
    async with sessionmaker() as session:
        left = set(await session.scalars(select(User.telegram_id)))
    assert removed == 1 and left == {2, 3}
    assert fresh.telegram_id == 2


async def test_audit_survives_and_schools_keep_codes(sessionmaker: Maker) -> None:
    await _seed(sessionmaker)
    async with sessionmaker() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(School).where(School.code.is_(None))
            )
            == 0
        )
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_sample_file_is_labelled() -> None:
    text = Path(SAMPLE_REFERENCE).read_text(encoding="utf-8")
    assert "sample: true" in text and "SAMPLE" in text
