"""Users: the row per Telegram account, language, consent, role, profile and subjects.

Personal-data duties (export, erasure, purge) extend this class in `db.repositories.privacy`.
Writes that change what `UserContext` caches are recorded in the dirty set the facade owns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from db.models import Subject, User, UserSubject
from db.repositories.staff import users_in
from domain.profile import ProfileSnapshot
from domain.roles import Role
from domain.scope import Scope

#: what `UserRepo.set_fields` may change: the user's own profile and flags, never their powers
PROFILE_FIELDS = frozenset(
    {
        "full_name",
        "municipality_id",
        "school_id",
        "position_code",
        "experience_years",
        "age_band",
        "pending_payload",
        "mentor_volunteer",
    }
)


class UserRepo:
    def __init__(self, session: AsyncSession, dirty: set[int]) -> None:
        self.session = session
        self._dirty = dirty

    def _touch(self, user: User) -> None:
        if user.telegram_id is not None:
            self._dirty.add(user.telegram_id)

    async def by_telegram_id(self, telegram_id: int) -> User | None:
        user: User | None = await self.session.scalar(
            select(User).where(User.telegram_id == telegram_id)
        )
        return user

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def require(self, user_id: int) -> User:
        """The user of the current update (the middleware created the row)."""
        user = await self.session.get(User, user_id)
        if user is None:
            raise LookupError(f"user {user_id} vanished during the update")
        return user

    async def get_full(self, user_id: int) -> User | None:
        """The user with municipality, school, position and subjects loaded."""
        user: User | None = await self.session.scalar(
            select(User)
            .where(User.id == user_id)
            .options(
                selectinload(User.municipality),
                selectinload(User.school),
                selectinload(User.position),
                selectinload(User.subjects),
            )
            .execution_options(populate_existing=True)
        )
        return user

    async def get_or_create(self, telegram_id: int, language: str) -> tuple[User, bool]:
        """The user with this Telegram id; created (language only) on first contact."""
        user = await self.by_telegram_id(telegram_id)
        if user is not None:
            return user, False
        user = User(telegram_id=telegram_id, language=language, role=Role.TEACHER)
        try:
            async with self.session.begin_nested():
                self.session.add(user)
        except IntegrityError:  # a concurrent update of the same new user created it first
            existing = await self.by_telegram_id(telegram_id)
            if existing is None:
                raise
            return existing, False
        return user, True

    async def by_username(self, username: str) -> User | None:
        """A known user by their @username (with or without the @, any case)."""
        name = username.removeprefix("@").lower()
        if not name:
            return None
        user: User | None = await self.session.scalar(
            select(User).where(User.username == name, User.telegram_id.is_not(None))
        )
        return user

    async def remember_username(self, user: User, username: str | None) -> None:
        """Keep the @username of someone who consented (others: nothing beyond the id)."""
        name = username.lower()[:32] if username and user.consent == "given" else None
        if user.username != name and (name is not None or user.username is not None):
            if name is not None:  # someone else's old name is theirs no more
                await self.session.execute(
                    update(User)
                    .where(User.username == name, User.id != user.id)
                    .values(username=None)
                    .execution_options(synchronize_session=False)
                )
            user.username = name

    async def set_language(self, user: User, language: str) -> None:
        user.language = language
        self._touch(user)

    async def set_timezone(self, user: User, key: str | None) -> None:
        """The user's zone (`users.timezone`, None: the service's); handlers show times in it."""
        user.timezone = key
        self._touch(user)

    async def set_consent(
        self, user: User, status: str, version: str | None, now: datetime
    ) -> None:
        user.consent = status
        user.consent_version = version
        user.consent_at = now if status == "given" else None
        self._touch(user)

    async def set_reachable(self, user: User) -> None:
        """The user wrote to the bot or unblocked it: messages may reach them again."""
        if user.blocked_at is not None:
            user.blocked_at = None
            self._touch(user)
            await self.session.flush()

    async def set_role(self, user: User, role: Role) -> None:
        """The stored role; its scope is `StaffRepo.replace` (`services.staff.set_role` does
        both)."""
        user.role = role.value
        self._touch(user)

    async def set_fields(self, user: User, **values: Any) -> None:
        """Profile fields only: powers (role, staff scope) change through `set_role`."""
        for name, value in values.items():
            if name not in PROFILE_FIELDS:
                raise AttributeError(name)
            setattr(user, name, value)
        self._touch(user)

    async def subject_codes(self, user_id: int) -> list[str]:
        rows = await self.session.scalars(
            select(UserSubject.subject_code)
            .join(Subject, Subject.code == UserSubject.subject_code)
            .where(UserSubject.user_id == user_id)
            .order_by(Subject.sort_order)
        )
        return list(rows)

    async def set_subjects(self, user: User, codes: list[str]) -> None:
        await self.session.execute(delete(UserSubject).where(UserSubject.user_id == user.id))
        known = set(await self.session.scalars(select(Subject.code).where(Subject.code.in_(codes))))
        self.session.add_all(
            UserSubject(user_id=user.id, subject_code=c) for c in dict.fromkeys(codes) if c in known
        )
        await self.session.flush()
        self.session.expire(user, ["subjects"])

    async def snapshot(self, user: User) -> ProfileSnapshot:
        count = await self.session.scalar(
            select(func.count()).select_from(UserSubject).where(UserSubject.user_id == user.id)
        )
        return ProfileSnapshot(
            full_name=user.full_name,
            municipality_id=user.municipality_id,
            school_id=user.school_id,
            position_code=user.position_code,
            subject_count=count or 0,
            experience_years=user.experience_years,
            age_band=user.age_band,
        )

    async def complete_profile(self, user: User, now: datetime) -> None:
        if user.profile_completed_at is None:
            user.profile_completed_at = now
        self._touch(user)

    async def teachers_of(self, scope: Scope, limit: int = 50) -> list[User]:
        """Registered (consented, profile complete) users inside a staff scope, by name."""
        query = (
            select(User)
            .where(User.telegram_id.is_not(None), User.profile_completed_at.is_not(None))
            .order_by(User.full_name)
            .limit(limit)
        )
        return list(await self.session.scalars(query.where(*users_in(scope))))

    async def names(self, user_ids: set[int]) -> dict[int, str | None]:
        """Full names by user id (None: no profile yet, or erased)."""
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(User.id, User.full_name).where(User.id.in_(user_ids))
        )
        return {uid: name for uid, name in rows.tuples()}

    async def with_roles(self, roles: list[Role]) -> list[User]:
        rows = await self.session.scalars(
            select(User)
            .where(User.role.in_([r.value for r in roles]), User.telegram_id.is_not(None))
            .order_by(User.id)
        )
        return list(rows)
