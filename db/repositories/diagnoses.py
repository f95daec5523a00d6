"""External diagnoses (`ExternalDiagnosis`): the teachers an import may mean, the idempotent
upsert, and the latest diagnosis of a teacher. `repo.diagnoses`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ExternalDiagnosis, School, User
from domain.diagnosis_import import Candidate
from domain.profile import school_key


class DiagnosisRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def candidates(
        self, telegram_ids: Collection[int], school_keys: Collection[str]
    ) -> list[Candidate]:
        """Registered (not erased) people with one of these Telegram ids or at a school whose
        full or short name has one of these `school_key`s, with their school's names."""
        keys = set(school_keys)
        school_ids: list[int] = []
        if keys:
            rows = await self.session.execute(select(School.id, School.name, School.short_name))
            school_ids = [
                sid
                for sid, name, short in rows.tuples()
                if school_key(name) in keys or school_key(short or "") in keys
            ]
        conditions = []
        if telegram_ids:
            conditions.append(User.telegram_id.in_(sorted(set(telegram_ids))))
        if school_ids:
            conditions.append(User.school_id.in_(school_ids))
        if not conditions:
            return []
        found = await self.session.execute(
            select(
                User.id,
                User.telegram_id,
                User.full_name,
                User.municipality_id,
                School.name,
                School.short_name,
            )
            .outerjoin(School, School.id == User.school_id)
            .where(or_(*conditions), User.erased_at.is_(None), User.telegram_id.is_not(None))
        )
        return [
            Candidate(
                user_id=uid,
                telegram_id=tid,
                full_name=name or "",
                school_name=school or "",
                school_short_name=short or "",
                municipality_id=muni,
            )
            for uid, tid, name, muni, school, short in found.tuples()
        ]

    async def upsert(
        self,
        user_id: int,
        diagnosed_on: date,
        source: str,
        *,
        deficits: list[str],
        scores: dict[str, float],
        imported_by: int | None,
        now: datetime,
    ) -> bool:
        """Store a diagnosis; the same teacher, date and source again replaces its results.
        True if a new row was added."""
        row = await self.session.scalar(
            select(ExternalDiagnosis).where(
                ExternalDiagnosis.user_id == user_id,
                ExternalDiagnosis.diagnosed_on == diagnosed_on,
                ExternalDiagnosis.source == source,
            )
        )
        if row is None:
            self.session.add(
                ExternalDiagnosis(
                    user_id=user_id,
                    diagnosed_on=diagnosed_on,
                    source=source,
                    deficits=deficits,
                    scores=scores,
                    imported_by_user_id=imported_by,
                    imported_at=now,
                )
            )
            await self.session.flush()
            return True
        row.deficits = deficits
        row.scores = scores
        row.imported_by_user_id = imported_by
        row.imported_at = now
        await self.session.flush()
        return False

    async def latest(self, user_id: int) -> ExternalDiagnosis | None:
        """The teacher's most recent external diagnosis (by its date)."""
        row: ExternalDiagnosis | None = await self.session.scalar(
            select(ExternalDiagnosis)
            .where(ExternalDiagnosis.user_id == user_id)
            .order_by(ExternalDiagnosis.diagnosed_on.desc(), ExternalDiagnosis.id.desc())
            .limit(1)
        )
        return row

    async def export_own(self, user_id: int) -> list[dict[str, Any]]:
        """The person's own diagnoses, for /mydata."""
        return [
            {
                "id": d.id,
                "diagnosed_on": d.diagnosed_on.isoformat(),
                "source": d.source,
                "deficits": list(d.deficits),
                "scores": dict(d.scores),
                "imported_at": d.imported_at.astimezone(UTC).isoformat(),
            }
            for d in await self.of_user(user_id)
        ]

    async def export_imported(self, user_id: int) -> list[dict[str, Any]]:
        """Whose diagnoses the person imported (for their /mydata): by id, date and source;
        the results are the diagnosed teachers' own data."""
        return [
            {
                "id": d.id,
                "teacher_user_id": d.user_id,
                "diagnosed_on": d.diagnosed_on.isoformat(),
                "source": d.source,
                "imported_at": d.imported_at.astimezone(UTC).isoformat(),
            }
            for d in await self.imported_by(user_id)
        ]

    async def forget_person(self, user_id: int) -> None:
        """/deleteme: the person's diagnoses go; the ones they imported stay, unsigned."""
        await self.session.execute(
            delete(ExternalDiagnosis).where(ExternalDiagnosis.user_id == user_id)
        )
        await self.session.execute(
            update(ExternalDiagnosis)
            .where(ExternalDiagnosis.imported_by_user_id == user_id)
            .values(imported_by_user_id=None)
        )

    async def of_user(self, user_id: int) -> list[ExternalDiagnosis]:
        return list(
            await self.session.scalars(
                select(ExternalDiagnosis)
                .where(ExternalDiagnosis.user_id == user_id)
                .order_by(ExternalDiagnosis.diagnosed_on, ExternalDiagnosis.id)
            )
        )

    async def imported_by(self, user_id: int) -> list[ExternalDiagnosis]:
        """The diagnoses of other people this user imported (for their /mydata)."""
        return list(
            await self.session.scalars(
                select(ExternalDiagnosis)
                .where(
                    ExternalDiagnosis.imported_by_user_id == user_id,
                    ExternalDiagnosis.user_id != user_id,
                )
                .order_by(ExternalDiagnosis.id)
            )
        )
