"""`/stats` through the real dispatcher: a coordinator reads their week, pages ◀ ▶, switches
the period kind and the breakdown's sort, gets the three charts and the workbook; forged
callback data (a future or absurd day, an unknown kind) is refused; a teacher gets none of it,
whatever they send.

The numbers are a hand-built report injected through the dispatcher's `stats_report` (the
seam `handlers.stats` reads); the real `services.stats.report` is covered by its own tests and
the e2e test of the merged issue.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from openpyxl import load_workbook

from db.models import Municipality, User
from db.repo import Repo
from domain.roles import Role
from domain.stats import IndicatorCode, Period, PeriodKind, StatsReport
from tests.dispatcher.conftest import Harness
from tests.mocked_bot import Request
from tests.staffing import make_staff
from tests.stats_report import sample_report
from ui.callbacks.stats import StatsAction, StatsCb
from ui.keyboards.stats import day_code

ADMIN = 900
COORDINATOR = 40
TEACHER = 41
#: a Wednesday, 12:00 in Moscow
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
THIS_WEEK = date(2026, 11, 23)


class FakeStats:
    """`services.stats.report` with a hand-built report; records who asked for what."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(
        self,
        repo: Repo,
        staff: User,
        role: Role,
        period: Period,
        tz: tzinfo,
        *,
        trend_weeks: int = 0,
        locale: str = "ru",
        now: datetime | None = None,
    ) -> StatsReport:
        assert now == NOW  # the bot's clock decides what is upcoming
        self.calls.append(
            {"staff": staff.telegram_id, "role": role, "period": period, "trend": trend_weeks}
        )
        report = sample_report(period=period, trend=trend_weeks > 0)
        if role is Role.ADMIN:  # the region, by municipality
            report = replace(report, municipality_ids=None, by_school=False)
        return report


def _texts(requests: list[Request]) -> str:
    return "\n".join(str(r.params.get("text") or r.params.get("caption") or "") for r in requests)


def _buttons(request: Request) -> dict[str, str]:
    markup = request.params["reply_markup"]
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def _setup(h: Harness) -> FakeStats:
    h.clock.set(NOW)
    fake = FakeStats()
    h.dp["stats_report"] = fake
    await h.message(ADMIN, "/start")
    for telegram_id in (COORDINATOR, TEACHER):
        await h.message(telegram_id, "/start")
    async with h.sessionmaker() as session:
        repo = Repo(session)
        muni: Municipality = next(
            m for m in await repo.reference.municipalities() if m.code == "volgodonsk"
        )
        for telegram_id in (COORDINATOR, TEACHER):
            user = await repo.users.by_telegram_id(telegram_id)
            assert user is not None
            await repo.users.set_consent(user, "given", "1", NOW)
            await repo.users.set_fields(
                user,
                full_name=f"Педагог {telegram_id}",
                municipality_id=muni.id,
                position_code="teacher",
            )
            user.profile_completed_at = user.created_at
            if telegram_id == COORDINATOR:
                await make_staff(repo, user, Role.COORDINATOR, muni.id)
        await session.commit()
    return fake


def _cb(
    action: StatsAction,
    kind: PeriodKind,
    day: date | int,
    sort: IndicatorCode = IndicatorCode.DIAGNOSED,
) -> str:
    code = day if isinstance(day, int) else day_code(day)
    return StatsCb(action=action, kind=kind, day=code, sort=sort).pack()


async def test_a_coordinator_reads_pages_and_sorts_their_statistics(harness: Harness) -> None:
    fake = await _setup(harness)
    sent = await harness.message(COORDINATOR, "/stats")
    [message] = [r for r in sent if r.method == "sendMessage"]
    text = str(message.params["text"])
    assert "📊 <b>Статистика</b> · Неделя 23–29 ноября 2026" in text
    assert "Охват: г. Волгодонск" in text and "🏫 <b>По школам</b>" in text
    assert fake.calls[-1] == {
        "staff": COORDINATOR,
        "role": Role.COORDINATOR,
        "period": Period(PeriodKind.WEEK, THIS_WEEK, date(2026, 11, 30)),
        "trend": 0,
    }
    buttons = _buttons(message)
    assert "◀" in buttons and "▶" not in buttons  # no future weeks
    assert set(buttons) >= {"• Неделя", "Месяц", "Квартал", "Учебный год", "📊 Графики", "📥 Excel"}

    # ◀: the week before, edited in place; now ▶ is there
    back = await harness.callback(COORDINATOR, buttons["◀"])
    [edit] = [r for r in back if r.method == "editMessageText"]
    assert "Неделя 16–22 ноября 2026" in str(edit.params["text"])
    assert "▶" in _buttons(edit)
    # the kinds
    month = await harness.callback(COORDINATOR, buttons["Месяц"])
    [edit] = [r for r in month if r.method == "editMessageText"]
    assert "Ноябрь 2026" in str(edit.params["text"])
    year = await harness.callback(COORDINATOR, _buttons(edit)["Учебный год"])
    [edit] = [r for r in year if r.method == "editMessageText"]
    assert "2026/27 учебный год" in str(edit.params["text"])
    assert fake.calls[-1]["period"] == Period(PeriodKind.YEAR, date(2026, 9, 1), date(2027, 9, 1))
    # the sort cycles through the indicators
    sort = next(v for k, v in _buttons(edit).items() if k.startswith("↕"))
    sorted_by = await harness.callback(COORDINATOR, sort)
    [edit] = [r for r in sorted_by if r.method == "editMessageText"]
    assert "по показателю «С индивидуальным маршрутом»" in str(edit.params["text"])

    # the digest's "📊 Open /stats" opens the week in a new message, the digest stays
    fresh = StatsCb(
        action=StatsAction.SHOW, kind=PeriodKind.WEEK, day=day_code(date(2026, 11, 16)), fresh=True
    ).pack()
    opened = await harness.callback(COORDINATOR, fresh)
    assert [r.method for r in opened] == ["sendMessage", "answerCallbackQuery"]
    assert "Неделя 16–22 ноября 2026" in _texts(opened)

    # the menu button opens it too
    menu = await harness.message(COORDINATOR, "📊 Статистика")
    assert "Неделя 23–29 ноября 2026" in _texts(menu)


async def test_charts_and_the_workbook(harness: Harness) -> None:
    fake = await _setup(harness)
    charts = await harness.callback(
        COORDINATOR, _cb(StatsAction.CHARTS, PeriodKind.WEEK, THIS_WEEK)
    )
    photos = [r for r in charts if r.method == "sendPhoto"]
    assert [p.params.get("caption") for p in photos] == [
        "🎯 Показатели и их целевые значения",
        "🧩 Доля продиагностированных педагогов с каждым дефицитом",
        "📈 Показатели по неделям",
    ]
    assert fake.calls[-1]["trend"] == 8
    png = photos[0].obj.photo  # type: ignore[attr-defined]
    assert png.data[:8] == b"\x89PNG\r\n\x1a\n"

    book = await harness.callback(COORDINATOR, _cb(StatsAction.XLSX, PeriodKind.WEEK, THIS_WEEK))
    [document] = [r for r in book if r.method == "sendDocument"]
    upload = document.obj.document  # type: ignore[attr-defined]
    assert upload.filename == "stats_2026-11-23_2026-11-29.xlsx"
    workbook = load_workbook(io.BytesIO(upload.data))
    assert workbook.sheetnames[0] == "Показатели"


async def test_forged_callbacks_are_refused(harness: Harness) -> None:
    fake = await _setup(harness)
    for day in (day_code(date(2026, 11, 30)), 20261399, 19990101, 9, -5, 10**30):
        answered = await harness.callback(COORDINATOR, _cb(StatsAction.XLSX, PeriodKind.WEEK, day))
        assert [r.method for r in answered] == ["answerCallbackQuery"], day
        assert answered[0].params.get("show_alert") is True
        assert "нет" in str(answered[0].params.get("text"))
    # an unknown kind or sort is no stats button at all
    for data in (
        "sts:show:decade:0:diagnosed",
        "sts:xlsx:week:0:salary",
        "sts:drop:week:0:diagnosed",
    ):
        answered = await harness.callback(COORDINATOR, data)
        assert not [r for r in answered if r.method in {"sendDocument", "editMessageText"}]
    assert fake.calls == []


async def test_the_administrator_sees_the_region(harness: Harness) -> None:
    fake = await _setup(harness)
    sent = await harness.message(ADMIN, "/stats")
    assert "Охват: весь регион" in _texts(sent)
    assert "🗺 <b>По муниципалитетам</b>" in _texts(sent)
    assert fake.calls[-1]["role"] is Role.ADMIN


async def test_a_teacher_gets_nothing_whatever_they_send(harness: Harness) -> None:
    fake = await _setup(harness)
    sent = await harness.message(TEACHER, "/stats")
    assert "Статистика ·" not in _texts(sent)
    menu = await harness.message(TEACHER, "📊 Статистика")
    assert "Статистика ·" not in _texts(menu)
    for action in StatsAction:
        forged = await harness.callback(TEACHER, _cb(action, PeriodKind.WEEK, THIS_WEEK))
        assert not [
            r for r in forged if r.method in {"sendDocument", "sendPhoto", "editMessageText"}
        ]
    assert fake.calls == []
