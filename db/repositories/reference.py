"""Reference data: municipalities, schools (verified and typed in by teachers), subjects and
positions; the reference import (`apply`) and its `ImportReport`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Municipality, Position, School, Site, Subject, User
from db.repositories.staff import schools_in
from domain.ids import parse_id
from domain.profile import school_key, short_school_name
from domain.reference import ReferenceData
from domain.scope import Scope


@dataclass(slots=True)
class ImportReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, created: bool) -> None:
        target = self.created if created else self.updated
        target[kind] = target.get(kind, 0) + 1


class ReferenceRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def municipalities(self) -> list[Municipality]:
        return list(
            await self.session.scalars(
                select(Municipality).order_by(Municipality.sort_order, Municipality.id)
            )
        )

    async def municipality(self, municipality_id: int) -> Municipality | None:
        return await self.session.get(Municipality, municipality_id)

    async def municipality_by_code(self, code: str) -> Municipality | None:
        municipality: Municipality | None = await self.session.scalar(
            select(Municipality).where(Municipality.code == code)
        )
        return municipality

    async def schools(self, municipality_id: int) -> list[School]:
        """Verified schools of a municipality, in file order."""
        return list(
            await self.session.scalars(
                select(School)
                .where(School.municipality_id == municipality_id, School.verified.is_(True))
                .order_by(School.id)
            )
        )

    async def school(self, school_id: int) -> School | None:
        return await self.session.get(School, school_id)

    async def school_by_ref(self, ref: str) -> School | None:
        """A school by its id (digits) or its code (as in the reference files)."""
        school_id = parse_id(ref)
        if school_id is not None:
            return await self.session.get(School, school_id)
        found: School | None = await self.session.scalar(select(School).where(School.code == ref))
        return found

    async def find_or_add_school(self, municipality_id: int, name: str) -> School:
        """A school typed by a teacher: reuse a matching one, else add it unverified."""
        key = school_key(name)
        existing = await self.session.scalar(
            select(School)
            .where(School.municipality_id == municipality_id, School.name_key == key)
            .order_by(School.verified.desc(), School.id)
            .limit(1)
        )
        if existing is not None:
            return existing
        school = School(
            municipality_id=municipality_id,
            name=name,
            name_key=key,
            short_name=short_school_name(name),
            verified=False,
        )
        self.session.add(school)
        await self.session.flush()
        return school

    async def subjects(self) -> list[Subject]:
        return list(await self.session.scalars(select(Subject).order_by(Subject.sort_order)))

    async def positions(self) -> list[Position]:
        return list(await self.session.scalars(select(Position).order_by(Position.sort_order)))

    async def position(self, code: str) -> Position | None:
        return await self.session.get(Position, code)

    async def unverified_schools(self, scope: Scope) -> list[School]:
        """Schools typed in by teachers inside a staff scope, oldest first."""
        query = (
            select(School).where(School.verified.is_(False), *schools_in(scope)).order_by(School.id)
        )
        return list(await self.session.scalars(query.options(selectinload(School.municipality))))

    async def verify_school(self, school: School) -> None:
        school.verified = True

    async def rename_school(self, school: School, name: str) -> None:
        """A methodist's correction of a typed school: the new name, and it is verified."""
        school.name = name
        school.name_key = school_key(name)
        school.short_name = short_school_name(name)
        school.verified = True
        await self.session.flush()

    async def school_by_key(self, municipality_id: int, name: str) -> School | None:
        """Another school of the municipality with the same normalised name, if any."""
        found: School | None = await self.session.scalar(
            select(School)
            .where(School.municipality_id == municipality_id, School.name_key == school_key(name))
            .order_by(School.verified.desc(), School.id)
            .limit(1)
        )
        return found

    async def school_users(self, school_id: int) -> list[User]:
        return list(
            await self.session.scalars(
                select(User).where(User.school_id == school_id).order_by(User.id)
            )
        )

    async def merge_school(self, source: School, target: School) -> int:
        """Move everyone (teachers, sites) from a typed school to an existing one and drop
        the typed row. Returns how many teachers moved."""
        if source.id == target.id or source.municipality_id != target.municipality_id:
            raise ValueError("a school merges only into another school of its municipality")
        moved = await self.session.execute(
            update(User).where(User.school_id == source.id).values(school_id=target.id)
        )
        await self.session.execute(
            update(Site).where(Site.school_id == source.id).values(school_id=target.id)
        )
        await self.session.execute(delete(School).where(School.id == source.id))
        await self.session.flush()
        self.session.expunge(source)
        return int(getattr(moved, "rowcount", 0) or 0)

    async def reject_school(self, school: School) -> list[User]:
        """Drop a typed school: its teachers have no school again (they are asked to choose
        one), sites keep no host school. Returns the teachers who had it."""
        teachers = await self.school_users(school.id)
        for teacher in teachers:
            teacher.school_id = None
        await self.session.execute(
            update(Site).where(Site.school_id == school.id).values(school_id=None)
        )
        await self.session.flush()
        await self.session.execute(delete(School).where(School.id == school.id))
        self.session.expunge(school)
        return teachers

    async def is_empty(self) -> bool:
        return (await self.session.scalar(select(func.count()).select_from(Municipality))) == 0

    async def apply(self, data: ReferenceData) -> ImportReport:
        """Upsert everything in `data` by code. Nothing is deleted: profiles point at rows."""
        report = ImportReport()
        munis = {m.code: m for m in await self.session.scalars(select(Municipality))}
        schools = {
            s.code: s
            for s in await self.session.scalars(select(School).where(School.code.is_not(None)))
        }
        for order, ref in enumerate(data.municipalities):
            muni = munis.get(ref.code)
            report.add("municipalities", muni is None)
            if muni is None:
                muni = Municipality(code=ref.code)
                self.session.add(muni)
            muni.name_ru, muni.name_en = ref.name.ru, ref.name.en
            muni.region_ru, muni.region_en = ref.region.ru, ref.region.en
            muni.sort_order, muni.is_sample = order, data.sample
            await self.session.flush()
            for sref in ref.schools:
                school = schools.get(sref.code)
                report.add("schools", school is None)
                if school is None:
                    school = School(code=sref.code)
                    self.session.add(school)
                school.municipality_id = muni.id
                school.name, school.name_key = sref.name, school_key(sref.name)
                school.short_name, school.verified = sref.short, True
        subjects = {s.code: s for s in await self.session.scalars(select(Subject))}
        for order, subj in enumerate(data.subjects):
            row = subjects.get(subj.code)
            report.add("subjects", row is None)
            if row is None:
                row = Subject(code=subj.code)
                self.session.add(row)
            row.name_ru, row.name_en, row.sort_order = subj.name.ru, subj.name.en, order
        positions = {p.code: p for p in await self.session.scalars(select(Position))}
        for order, pos in enumerate(data.positions):
            prow = positions.get(pos.code)
            report.add("positions", prow is None)
            if prow is None:
                prow = Position(code=pos.code)
                self.session.add(prow)
            prow.name_ru, prow.name_en = pos.name.ru, pos.name.en
            prow.is_manager, prow.sort_order = pos.manager, order
        await self.session.flush()
        return report
