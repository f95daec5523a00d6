"""The Monday digest: every coordinator and administrator gets last week's statistics at
09:00 on Monday in their own zone (one row each, planned again after it is sent, moved with
their zone, withdrawn by the AGENDA 🔕); a teacher never does. Rendered at send time from
the report of that week, with "📊 Open /stats" and "📥 Excel" for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import SAMPLE_REFERENCE, import_reference
from db.models import OutboxMessage, User
from db.repo import Repo
from domain.notices import NoticeKind
from domain.reminders import Category, Policy
from domain.roles import Role
from domain.stats import Period, PeriodKind
from outbox import render_stats
from outbox.render import render
from outbox.rendered import RenderContext
from services import digest, reminders, settings
from services.followups import FOLLOWUPS, Sent
from tests.sample import consenting_teacher, load_sample_events
from tests.staffing import make_staff
from tests.stats_report import sample_report
from tests.unit.test_stats_text import language
from ui.callbacks.settings import MuteCb
from ui.callbacks.stats import StatsAction, StatsCb

Maker = async_sessionmaker[AsyncSession]
POLICY = Policy(default_quiet="off")
#: a Wednesday
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
KIND = NoticeKind.STATS_DIGEST.value


async def _people(sessionmaker: Maker) -> dict[str, int]:
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        await import_reference(repo, SAMPLE_REFERENCE)
        muni = next(m.id for m in await repo.reference.municipalities() if m.code == "volgodonsk")
        people: dict[str, User] = {}
        for n, (name, zone) in enumerate(
            [
                ("moscow", "Europe/Moscow"),
                ("vladivostok", "Asia/Vladivostok"),
                ("admin", None),
                ("teacher", "Asia/Omsk"),
                ("unassigned", "Europe/Moscow"),
            ]
        ):
            user = await consenting_teacher(repo, 8100 + n, muni, NOW)
            await repo.users.set_timezone(user, zone)
            people[name] = user
        await make_staff(repo, people["moscow"], Role.COORDINATOR, muni)
        await make_staff(repo, people["vladivostok"], Role.COORDINATOR, muni)
        await repo.users.set_role(people["admin"], Role.ADMIN)
        people["unassigned"].role = Role.COORDINATOR.value  # no municipality: a teacher's powers
        await session.commit()
        return {name: user.id for name, user in people.items()}


async def _rows(sessionmaker: Maker, state: str = "pending") -> dict[int, OutboxMessage]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == KIND, OutboxMessage.state == state)
        )
        return {row.user_id: row for row in rows}


def _utc(value: datetime | None) -> datetime:
    assert value is not None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def test_each_staff_member_gets_it_at_nine_on_their_monday(sessionmaker: Maker) -> None:
    ids = await _people(sessionmaker)
    async with sessionmaker() as session:
        assert await digest.plan_all(Repo(session, POLICY), NOW) == 3
        await session.commit()
    rows = await _rows(sessionmaker)
    assert set(rows) == {ids["moscow"], ids["vladivostok"], ids["admin"]}  # never a teacher
    # Monday 30 November, 09:00 local: Moscow UTC+3, Vladivostok UTC+10 (still Sunday in UTC),
    # the administrator without a zone: the service's (Moscow)
    assert _utc(rows[ids["moscow"]].due_at) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert _utc(rows[ids["vladivostok"]].due_at) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert _utc(rows[ids["admin"]].due_at) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert all(row.payload == {"week": "2026-11-23"} for row in rows.values())
    async with sessionmaker() as session:  # planned once, however often the job runs
        assert await digest.plan_all(Repo(session, POLICY), NOW) == 0
    # Monday 07:00 in Vladivostok is past 09:00 there? no: Sunday 23:00 UTC is the moment;
    # just after it, the next one is the Monday after
    monday, due = digest.digest_due(
        datetime(2026, 11, 29, 23, 0, tzinfo=UTC), POLICY.tz("Asia/Vladivostok"), POLICY.digest_time
    )
    assert (monday.isoformat(), due) == ("2026-12-07", datetime(2026, 12, 6, 23, 0, tzinfo=UTC))


async def test_the_next_one_follows_and_the_zone_and_the_mute_move_it(sessionmaker: Maker) -> None:
    ids = await _people(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        await digest.plan_all(repo, NOW)
        # sent on Monday: the Monday after is planned
        sent_at = datetime(2026, 11, 30, 6, 0, 5, tzinfo=UTC)
        await FOLLOWUPS[KIND](repo, Sent(ids["moscow"], {"week": "2026-11-23"}, 1), sent_at)
        await session.commit()
    async with sessionmaker() as session:
        dues = sorted(
            _utc(row.due_at)
            for row in await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.kind == KIND, OutboxMessage.user_id == ids["moscow"]
                )
            )
        )
    assert dues == [
        datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
        datetime(2026, 12, 7, 6, 0, tzinfo=UTC),
    ]

    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        # a new zone moves it to 09:00 there
        await settings.set_timezone(repo, ids["vladivostok"], "Asia/Yekaterinburg", NOW)
        # the AGENDA 🔕 withdraws it, and no job plans it again
        await reminders.mute(repo, ids["admin"], Category.AGENDA)
        assert await digest.plan_all(repo, NOW) == 0
        await session.commit()
    rows = await _rows(sessionmaker)
    assert _utc(rows[ids["vladivostok"]].due_at) == datetime(2026, 11, 30, 4, 0, tzinfo=UTC)
    assert ids["admin"] not in rows
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        await reminders.unmute(repo, ids["admin"], Category.AGENDA, NOW)
        await session.commit()
    assert ids["admin"] in await _rows(sessionmaker)


async def test_it_renders_last_weeks_report_with_its_buttons(
    sessionmaker: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _people(sessionmaker)
    asked: list[tuple[Any, ...]] = []

    async def report(
        repo: Repo, staff: User, role: Role, period: Period, tz: Any, **kwargs: Any
    ) -> Any:
        asked.append((staff.id, role, period, kwargs))
        return sample_report(period=period)

    monkeypatch.setattr(render_stats, "REPORT", report)
    await load_sample_events(sessionmaker, policy=POLICY)  # the framework: competency names
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        await digest.plan_all(repo, NOW)
        await session.commit()
    rows = await _rows(sessionmaker)
    texts = {}
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        for code in ("ru", "en"):
            row = rows[ids["moscow"]]
            assert row.due_at is not None
            ctx = RenderContext(
                repo, POLICY.tz("Europe/Moscow"), _utc(row.due_at), code, row.user_id
            )
            with language(code):
                rendered = await render(NoticeKind.STATS_DIGEST, ctx, dict(row.payload))
            assert rendered is not None and rendered.about is None  # waits out quiet hours
            texts[code] = rendered.text
            assert rendered.markup is not None
            buttons = [[b.callback_data for b in r] for r in rendered.markup.inline_keyboard]
            day = 20261123
            assert buttons == [
                [
                    StatsCb(
                        action=StatsAction.SHOW, kind=PeriodKind.WEEK, day=day, fresh=True
                    ).pack(),
                    StatsCb(action=StatsAction.XLSX, kind=PeriodKind.WEEK, day=day).pack(),
                ],
                [MuteCb(category=Category.AGENDA.value).pack()],
            ]
        # a coordinator's numbers, for the week before the Monday it is sent on
        assert asked[0][:3] == (
            ids["moscow"],
            Role.COORDINATOR,
            Period(PeriodKind.WEEK, datetime(2026, 11, 23).date(), datetime(2026, 11, 30).date()),
        )
        assert asked[0][3]["locale"] == "ru"
        assert asked[0][3]["now"] == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # when it is sent
        assert texts["ru"].startswith("🗓 <b>Итоги прошлой недели</b> · Неделя 23–29 ноября 2026")
        assert "Охват: г. Волгодонск · педагогов: 120" in texts["ru"]
        assert "«Цифровая среда»" in texts["ru"]  # the framework's name of `digital`
        assert "&lt;b&gt;СОШ" in texts["ru"]
        assert texts["en"].startswith("🗓 <b>Last week</b> · Week 23–29 November 2026")

        # the administrator: the administrator's role; someone no longer staff: nothing
        admin_row = rows[ids["admin"]]
        ctx = RenderContext(repo, POLICY.default_tz, NOW, "ru", admin_row.user_id)
        with language("ru"):
            assert await render(NoticeKind.STATS_DIGEST, ctx, dict(admin_row.payload))
        assert asked[-1][1] is Role.ADMIN
        user = await repo.users.require(ids["vladivostok"])
        await repo.users.set_role(user, Role.TEACHER)
        ctx = RenderContext(repo, POLICY.default_tz, NOW, "ru", user.id)
        count = len(asked)
        with language("ru"):
            assert await render(NoticeKind.STATS_DIGEST, ctx, {"week": "2026-11-23"}) is None
        assert len(asked) == count  # not even counted
