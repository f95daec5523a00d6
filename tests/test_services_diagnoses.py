"""The external diagnosis import on SQLite and PostgreSQL: rows matched to registered teachers
within the importer's scope (checked on the server), a re-import updates instead of adding,
a teacher imports nothing, every import is audited."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AuditEntry, ExternalDiagnosis, User
from db.repo import Repo
from domain.diagnosis_import import Issue
from domain.event_import import read_table
from domain.roles import Role
from services import diagnoses as service
from tests.sample import consenting_teacher, load_sample_events
from tests.staffing import make_staff

Maker = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def _world(sessionmaker: Maker) -> dict[str, int]:
    await load_sample_events(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        here, there = [m.id for m in (await repo.reference.municipalities())[:2]]
        anna = await consenting_teacher(repo, 6101, here, NOW)
        await repo.users.set_fields(anna, full_name="Иванова Анна Петровна")
        await consenting_teacher(repo, 6102, here, NOW)
        stranger = await consenting_teacher(repo, 6201, there, NOW)
        olga = await consenting_teacher(repo, 6300, here, NOW)
        await make_staff(repo, olga, Role.COORDINATOR, here)
        school = await repo.reference.school(anna.school_id or 0)
        assert school is not None
        await session.commit()
        return {
            "anna": anna.id,
            "stranger": stranger.id,
            "olga": olga.id,
            "school": school.id,
        }


def _file(school: str, deficit: str = "digital") -> list[dict[str, str]]:
    text = (
        "ID педагога;ФИО;Школа;Дата;Дефициты\n"
        f";иванова  анна петровна;{school};12.10.2026;{deficit}\n"
        "6102;;;12.10.2026;нет\n"
        "6201;;;12.10.2026;digital\n"  # another municipality
        "999999;;;12.10.2026;digital\n"  # nobody
        "6102;;;01.12.2026;digital\n"  # tomorrow
    )
    return read_table(("\ufeff" + text).encode("utf-8"), "diag.csv")


async def _count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ExternalDiagnosis)) or 0)


async def test_a_coordinator_imports_her_teachers_and_a_reimport_updates(
    sessionmaker: Maker,
) -> None:
    world = await _world(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        school = await repo.reference.school(world["school"])
        assert school is not None
        olga = await repo.users.require(world["olga"])
        report = await service.import_diagnoses(
            repo, olga, Role.COORDINATOR, _file(school.name), NOW
        )
        await session.commit()
    assert isinstance(report, service.DiagnosisReport)
    assert (report.imported, report.updated) == (2, 0)
    assert {r.row: [p.code for p in r.problems] for r in report.unmatched} == {
        4: [Issue.OUT_OF_SCOPE],
        5: [Issue.UNKNOWN_TEACHER],
        6: [Issue.FUTURE_DATE],
    }
    assert report.unmatched[0].raw["id педагога"] == "6201"
    async with sessionmaker() as session:
        repo = Repo(session)
        latest = await repo.diagnoses.latest(world["anna"])
        assert latest is not None
        assert (latest.diagnosed_on, latest.source, latest.deficits) == (
            date(2026, 10, 12),
            "ЦНППМ",
            ["digital"],
        )
        assert latest.imported_by_user_id == world["olga"]
        # the stranger of another municipality got nothing
        assert await repo.diagnoses.latest(world["stranger"]) is None
        audit = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "diagnoses_imported")
            )
        ).one()
        assert audit.details == {"imported": 2, "updated": 0, "unmatched": 3}

        # the same file again, with Anna's result corrected: updated, not added
        olga = await repo.users.require(world["olga"])
        school = await repo.reference.school(world["school"])
        assert school is not None
        again = await service.import_diagnoses(
            repo, olga, Role.COORDINATOR, _file(school.short_name, "assessment"), NOW
        )
        await session.commit()
        assert isinstance(again, service.DiagnosisReport)
        assert (again.imported, again.updated) == (0, 2)
        assert await _count(session) == 2
        latest = await repo.diagnoses.latest(world["anna"])
        assert latest is not None and latest.deficits == ["assessment"]


async def test_the_region_admin_reaches_every_municipality(sessionmaker: Maker) -> None:
    world = await _world(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        admin = await repo.users.require(world["olga"])
        school = await repo.reference.school(world["school"])
        assert school is not None
        report = await service.import_diagnoses(repo, admin, Role.ADMIN, _file(school.name), NOW)
        await session.commit()
        assert isinstance(report, service.DiagnosisReport) and report.imported == 3
        assert await repo.diagnoses.latest(world["stranger"]) is not None


async def test_a_teacher_imports_nothing(sessionmaker: Maker) -> None:
    world = await _world(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        anna: User = await repo.users.require(world["anna"])
        refused = await service.import_diagnoses(
            repo, anna, Role.TEACHER, _file("МБОУ СОШ № 1"), NOW
        )
        await session.commit()
        assert refused is service.Refusal.NOT_STAFF
        assert await _count(session) == 0
