"""Competency frameworks (by version) and the self-assessment attempts with their answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, bindparam, case, delete, insert, null, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Answer, Attempt, FrameworkVersion
from domain.framework import Framework, parse_framework

# hot statements (an answer, /events), built once; their values are bound per call
#: the stored result of the user bound as `result_user`'s latest finished attempt
LATEST_RESULT = (
    select(Attempt.result)
    .where(
        Attempt.user_id == bindparam("result_user"),
        Attempt.finished_at.is_not(None),
        Attempt.result.is_not(None),
    )
    .order_by(Attempt.finished_at.desc(), Attempt.id.desc())
    .limit(1)
)
_WITH_ANSWERS = (
    select(Attempt, Answer.statement_code, Answer.value)
    .outerjoin(Answer, Answer.attempt_id == Attempt.id)
    .where(Attempt.id == bindparam("with_answers_attempt"))
)
_ANSWERS = select(Answer.statement_code, Answer.value).where(
    Answer.attempt_id == bindparam("answers_attempt")
)


class FrameworkRepo:
    """Competency frameworks by version; the newest import is the active one."""

    _parsed: ClassVar[dict[str, Framework]] = {}

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def _parse(cls, version: str, document: dict[str, Any]) -> Framework:
        framework = cls._parsed.get(version)
        if framework is None:  # versions are immutable, so a parsed one can be kept
            framework = cls._parsed[version] = parse_framework(document)
        return framework

    async def add(self, document: dict[str, Any]) -> tuple[Framework, bool]:
        """Validate and store a framework; an existing version is kept as it was."""
        framework = parse_framework(document)
        existing = await self.session.scalar(
            select(FrameworkVersion).where(FrameworkVersion.version == framework.version)
        )
        if existing is not None:
            return self._parse(existing.version, existing.document), False
        self.session.add(FrameworkVersion(version=framework.version, document=document))
        await self.session.flush()
        return framework, True

    async def _document(self, version: str) -> Framework | None:
        document = await self.session.scalar(
            select(FrameworkVersion.document).where(FrameworkVersion.version == version)
        )
        return None if document is None else self._parse(version, document)

    async def active(self) -> Framework | None:
        """The newest version, in one query: the 256 KB document comes with it (and is
        decoded) only when this process has not parsed that version yet."""
        document = type_coerce(
            case(
                (FrameworkVersion.version.in_(list(self._parsed)), null()),
                else_=FrameworkVersion.document,
            ),
            JSON,
        )
        row = (
            await self.session.execute(
                select(FrameworkVersion.version, document)
                .order_by(FrameworkVersion.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        version, found = row._tuple()
        if version in self._parsed:
            return self._parsed[version]
        return self._parse(version, found) if found else await self._document(version)

    def parsed(self, version: str | None) -> Framework | None:
        """The version if this process has parsed it already (no query; versions are
        immutable): `active()`'s answer when `version` is the active one."""
        return self._parsed.get(version) if version is not None else None

    async def get(self, version: str) -> Framework | None:
        """A version by name: versions are immutable and never deleted, so one this process
        has parsed is answered without a query."""
        return self._parsed.get(version) or await self._document(version)


class AssessmentRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def open_attempt(self, user_id: int) -> Attempt | None:
        row: Attempt | None = await self.session.scalar(
            select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.finished_at.is_(None))
            .order_by(Attempt.id.desc())
            .limit(1)
        )
        return row

    async def finished(self, user_id: int) -> list[Attempt]:
        """Finished attempts, oldest first."""
        return list(
            await self.session.scalars(
                select(Attempt)
                .where(Attempt.user_id == user_id, Attempt.finished_at.is_not(None))
                .order_by(Attempt.finished_at, Attempt.id)
            )
        )

    async def latest_result(self, user_id: int) -> dict[str, Any] | None:
        """The stored result of the user's latest finished attempt (one small query)."""
        result: dict[str, Any] | None = await self.session.scalar(
            LATEST_RESULT, {"result_user": user_id}
        )
        return result or None

    async def get(self, attempt_id: int) -> Attempt | None:
        return await self.session.get(Attempt, attempt_id)

    async def diagnosed(self, user_ids: list[int]) -> set[int]:
        """Which of these users have finished at least one self-assessment."""
        rows = await self.session.scalars(
            select(Attempt.user_id)
            .where(Attempt.user_id.in_(user_ids), Attempt.finished_at.is_not(None))
            .distinct()
        )
        return set(rows)

    async def start(self, user_id: int, version: str, is_manager: bool, now: datetime) -> Attempt:
        attempt = Attempt(
            user_id=user_id, framework_version=version, is_manager=is_manager, started_at=now
        )
        self.session.add(attempt)
        await self.session.flush()
        return attempt

    async def answers(self, attempt_id: int) -> dict[str, int]:
        rows = await self.session.execute(_ANSWERS, {"answers_attempt": attempt_id})
        return {code: value for code, value in rows.tuples()}

    async def set_answer(
        self, attempt_id: int, statement_code: str, value: int, now: datetime
    ) -> None:
        answer = await self.session.get(Answer, (attempt_id, statement_code))
        if answer is None:
            self.session.add(
                Answer(
                    attempt_id=attempt_id,
                    statement_code=statement_code,
                    value=value,
                    answered_at=now,
                )
            )
        else:
            answer.value = value
            answer.answered_at = now
        await self.session.flush()

    async def open_with_answers(self, attempt_id: int) -> tuple[Attempt, dict[str, int]] | None:
        """The attempt and its answers so far, in one statement."""
        rows = (
            await self.session.execute(_WITH_ANSWERS, {"with_answers_attempt": attempt_id})
        ).all()
        if not rows:
            return None
        answers = {code: value for _attempt, code, value in rows if code is not None}
        return rows[0][0], answers

    async def store_answer(
        self, attempt_id: int, statement_code: str, value: int, now: datetime, *, known: bool
    ) -> None:
        """Store one answer in one statement: `known` — the attempt has an answer to this
        statement already, which this one replaces."""
        if known:
            await self.session.execute(
                update(Answer)
                .where(Answer.attempt_id == attempt_id, Answer.statement_code == statement_code)
                .values(value=value, answered_at=now)
                .execution_options(synchronize_session=False)
            )
        else:
            await self.session.execute(
                insert(Answer).values(
                    attempt_id=attempt_id,
                    statement_code=statement_code,
                    value=value,
                    answered_at=now,
                )
            )

    async def forget_answer(self, attempt_id: int, statement_code: str) -> None:
        await self.session.execute(
            delete(Answer).where(
                Answer.attempt_id == attempt_id, Answer.statement_code == statement_code
            )
        )

    async def discard(self, attempt: Attempt) -> None:
        """Drop an unfinished attempt and its answers ("start over")."""
        await self.session.delete(attempt)
        await self.session.flush()

    async def finish(self, attempt: Attempt, result: dict[str, Any], now: datetime) -> None:
        attempt.result = result
        attempt.finished_at = now
