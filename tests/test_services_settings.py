"""The /settings use cases (services/settings.py) without aiogram: a value the settings do
not offer is refused and changes nothing; a zone change drops the cached user context and
moves what is planned; a category switched off withdraws its rows, switched on plans them
again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from domain.notices import Notice, NoticeKind
from domain.reminders import STAFF_CATEGORIES, TEACHER_CATEGORIES, Category, Policy
from services import registrations, reminders
from services import settings as service
from services.settings import Refused
from tests.sample import load_sample_events

Maker = async_sessionmaker[AsyncSession]


async def _user(sessionmaker: Maker, telegram_id: int = 7501) -> int:
    async with sessionmaker() as session:
        user, _ = await Repo(session).users.get_or_create(telegram_id, "en")
        await session.commit()
        return user.id


async def _prefs(sessionmaker: Maker, user_id: int) -> tuple[str | None, str | None, list[str]]:
    async with sessionmaker() as session:
        user = await Repo(session).users.require(user_id)
        return user.timezone, user.quiet_hours, list(user.muted or [])


@pytest.mark.parametrize(
    ("call", "value"),
    [
        ("zone", "Europe/London"),  # a real zone, but not one of Russia's eleven
        ("zone", "Mars/Olympus"),
        ("zone", ""),
        ("quiet", "21:00-09:00"),  # parses, but is not offered
        ("quiet", "off"),  # the callback spelling, not a stored value
        ("quiet", "garbage"),
        ("toggle", "bogus"),
        ("toggle", Category.AGENDA.value),  # staff only
        ("mute", "bogus"),
    ],
)
async def test_values_not_offered_are_refused_and_change_nothing(
    sessionmaker: Maker, call: str, value: str
) -> None:
    user_id = await _user(sessionmaker)
    before = await _prefs(sessionmaker, user_id)
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        repo = Repo(session)
        with pytest.raises(Refused):
            if call == "zone":
                await service.set_timezone(repo, user_id, value, now)
            elif call == "quiet":
                await service.set_quiet(repo, user_id, value, now)
            elif call == "toggle":
                await service.toggle(repo, user_id, value, now, staff=False)
            else:
                await service.mute(repo, user_id, value)
        assert repo.dirty_users == set()
        await session.commit()
    assert await _prefs(sessionmaker, user_id) == before == (None, None, [])


async def test_overview_shows_the_effective_values_and_staff_see_the_agenda(
    sessionmaker: Maker,
) -> None:
    user_id = await _user(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session, Policy(default_quiet="22:00-07:00"))
        view = await service.overview(repo, user_id, staff=False)
        assert view.zone_key == "Europe/Moscow"  # the policy's default zone
        assert view.quiet is not None and view.quiet.text() == "22:00–07:00"
        assert view.categories == TEACHER_CATEGORIES and view.muted == frozenset()
        assert Category.AGENDA in (await service.overview(repo, user_id, staff=True)).categories
        assert (*TEACHER_CATEGORIES, Category.AGENDA) == STAFF_CATEGORIES

        now = datetime.now(UTC)
        assert await service.set_timezone(repo, user_id, "Asia/Yekaterinburg", now)
        user = await repo.users.require(user_id)
        assert user.telegram_id in repo.dirty_users  # the cached context (and its tz) is dropped
        assert not await service.set_timezone(repo, user_id, "Asia/Yekaterinburg", now)
        assert await service.set_quiet(repo, user_id, "", now)  # none at all
        assert await service.toggle(repo, user_id, "agenda", now, staff=True) is False
        view = await service.overview(repo, user_id, staff=True)
        assert view.zone_key == "Asia/Yekaterinburg" and view.quiet is None
        assert view.muted == {Category.AGENDA} and not view.is_on(Category.AGENDA)
        await session.commit()
    assert await _prefs(sessionmaker, user_id) == ("Asia/Yekaterinburg", "", ["agenda"])


async def test_a_category_off_withdraws_its_rows_and_on_plans_them_again(
    sessionmaker: Maker,
) -> None:
    event = (await load_sample_events(sessionmaker))[SAMPLE_EVENT_CODES[0]]
    user_id = await _user(sessionmaker)
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        repo = Repo(session)
        await registrations.sign_up(repo, event.id, user_id, now)
        # a row of another category stays
        await repo.outbox.add(
            [Notice(user_id, NoticeKind.ROUTE_NUDGE, {}, due_at=now + timedelta(days=1))], now
        )
        planned = await repo.outbox.pending_of(user_id, [NoticeKind.EVENT_REMINDER])
        assert len(planned) == 2  # 24 hours and 1 hour before

        assert await service.toggle(repo, user_id, "events", now, staff=False) is False
        assert await repo.outbox.pending_of(user_id, [NoticeKind.EVENT_REMINDER]) == []
        assert len(await repo.outbox.pending_of(user_id, [NoticeKind.ROUTE_NUDGE])) == 1

        assert await service.toggle(repo, user_id, "events", now, staff=False) is True
        again = await repo.outbox.pending_of(user_id, [NoticeKind.EVENT_REMINDER])
        assert sorted(r.due_at for r in again if r.due_at) == sorted(
            r.due_at for r in planned if r.due_at
        )
        await session.commit()
    assert (await _prefs(sessionmaker, user_id))[2] == []


async def test_a_new_zone_plans_the_time_of_day_reminders_again(
    sessionmaker: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planners of `services.reminders.PLANNERS` run after the zone is stored, so what
    they plan at a local hour (nudges, the agenda) moves with it; muted categories are not
    planned."""
    seen: list[tuple[Category, str | None]] = []

    def planner(category: Category) -> reminders.Planner:
        async def plan(repo: Repo, user_id: int, now: datetime) -> int:
            seen.append((category, (await repo.users.require(user_id)).timezone))
            return 0

        return plan

    monkeypatch.setitem(reminders.PLANNERS, Category.ROUTE, planner(Category.ROUTE))
    monkeypatch.setitem(reminders.PLANNERS, Category.AGENDA, planner(Category.AGENDA))
    user_id = await _user(sessionmaker)
    now = datetime.now(UTC)
    async with sessionmaker() as session:
        repo = Repo(session)
        await service.toggle(repo, user_id, "agenda", now, staff=True)  # off
        assert await service.set_timezone(repo, user_id, "Asia/Omsk", now)
        await session.commit()
    assert seen == [(Category.ROUTE, "Asia/Omsk")]
