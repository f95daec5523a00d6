"""What the outbox renderer sends, built from ui/ (keyboards, callback data, the one when_text):
the exact texts and buttons of the seat offer, the reminder, the feedback request, the school
rejection and the moved or cancelled event, on the shipped sample events (the tricky title)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import load_i18n
from db.models import Event, Registration
from db.reference.sample_events import TRICKY_TITLE
from db.repo import Repo
from domain.events import RegStatus
from domain.notices import NoticeKind
from domain.typography import quoted
from outbox.render import render as render_row
from outbox.rendered import RenderContext, Rendered
from tests.conftest import make_settings
from tests.sample import load_sample_events

TZ = ZoneInfo("Europe/Moscow")


@contextmanager
def english() -> Iterator[None]:
    i18n = load_i18n(make_settings("sqlite+aiosqlite://"))
    with i18n.context(), i18n.use_locale("en"):
        yield


def buttons(markup: InlineKeyboardMarkup | None) -> list[list[tuple[str, str | None]]]:
    assert markup is not None
    return [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]


def span(starts_at: datetime, ends_at: datetime) -> str:
    """The teacher's format of an event's time, written out here on purpose."""
    start, end = starts_at.astimezone(TZ), ends_at.astimezone(TZ)
    return f"{start:%d.%m.%Y}, {start:%H:%M}–{end:%H:%M}"


async def render(
    repo: Repo, kind: NoticeKind, payload: Mapping[str, Any], now: datetime
) -> Rendered:
    with english():
        rendered = await render_row(kind, RenderContext(repo, TZ, now, "en"), payload)
    assert rendered is not None
    return rendered


@pytest.fixture
async def tricky(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[Event, int]:
    """The sample event with the tricky title and a registration to it."""
    events = await load_sample_events(sessionmaker, "Europe/Moscow")
    event = next(e for e in events.values() if e.title == TRICKY_TITLE)
    async with sessionmaker() as session:
        repo = Repo(session)
        user, _ = await repo.users.get_or_create(5001, "en")
        reg = Registration(
            event_id=event.id, user_id=user.id, status=RegStatus.CONFIRMED.value, queue_no=1
        )
        session.add(reg)
        await session.commit()
        return event, reg.id


async def test_seat_offer_keeps_its_text_and_buttons(
    sessionmaker: async_sessionmaker[AsyncSession], tricky: tuple[Event, int]
) -> None:
    event, reg_id = tricky
    now = event.starts_at - timedelta(days=10)
    expires = now + timedelta(hours=12)
    async with sessionmaker() as session:
        repo = Repo(session)
        reg = await repo.events.registration_by_id(reg_id)
        assert reg is not None
        reg.status, reg.offer_expires_at = RegStatus.OFFERED.value, expires
        await session.flush()
        rendered = await render(repo, NoticeKind.SEAT_OFFERED, {"reg_id": reg_id}, now)
    title = quoted(TRICKY_TITLE).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert "<b>" not in rendered.text and "&lt;b&gt;" in rendered.text
    assert rendered.text == (
        f"🎟 A seat has freed up for {title} ({span(event.starts_at, event.ends_at)})! "
        f"It is yours if you confirm by {expires.astimezone(TZ):%d.%m %H:%M}."
    )
    assert buttons(rendered.markup) == [
        [("✅ Take the seat", f"of:{reg_id}:1"), ("✖️ Decline", f"of:{reg_id}:0")]
    ]


async def test_reminder_says_today_or_tomorrow_and_opens_the_event(
    sessionmaker: async_sessionmaker[AsyncSession], tricky: tuple[Event, int]
) -> None:
    event, reg_id = tricky
    start, end = event.starts_at.astimezone(TZ), event.ends_at.astimezone(TZ)
    assert start.date() == end.date()
    now = datetime.combine(start.date(), time(0, 1), TZ)  # the same day, in the service zone
    async with sessionmaker() as session:
        rendered = await render(
            Repo(session),
            NoticeKind.EVENT_REMINDER,
            {"event_id": event.id, "reg_id": reg_id},
            now,
        )
    title = quoted(TRICKY_TITLE).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    when = f"today at {start:%H:%M}–{end:%H:%M} ({start:%d.%m.%Y})"
    assert rendered.text.split("\n")[0] == f"⏰ Reminder: {title}, {when}."
    assert buttons(rendered.markup) == [
        [("Open the event", f"ea:card:{event.id}"), ("📍 How to get there", None)],
        [
            ("❌ Cancel my registration", f"ea:cancel:{event.id}"),
            ("📅 Add to calendar", f"ea:ics:{event.id}"),
        ],
        [("🔕 No more event reminders", "mu:events")],
    ]


async def test_feedback_request_has_five_stars(
    sessionmaker: async_sessionmaker[AsyncSession], tricky: tuple[Event, int]
) -> None:
    event, reg_id = tricky
    async with sessionmaker() as session:
        rendered = await render(
            Repo(session),
            NoticeKind.FEEDBACK_REQUEST,
            {"event_id": event.id, "reg_id": reg_id},
            event.ends_at + timedelta(hours=1),
        )
    assert rendered.text.startswith("How was ") and "Rate it from 1 to 5" in rendered.text
    assert buttons(rendered.markup) == [
        [
            ("⭐", f"fb:{reg_id}:1"),
            ("⭐⭐", f"fb:{reg_id}:2"),
            ("3 ⭐", f"fb:{reg_id}:3"),
            ("4 ⭐", f"fb:{reg_id}:4"),
            ("5 ⭐", f"fb:{reg_id}:5"),
        ],
        [("🔕 No more event reminders", "mu:events")],
    ]


async def test_moved_and_cancelled_events_show_the_times_in_the_one_format(
    sessionmaker: async_sessionmaker[AsyncSession], tricky: tuple[Event, int]
) -> None:
    event, _reg_id = tricky
    was_starts, was_ends = event.starts_at - timedelta(days=1), event.ends_at - timedelta(days=1)
    now = event.starts_at - timedelta(days=5)
    async with sessionmaker() as session:
        repo = Repo(session)
        moved = await render(
            repo,
            NoticeKind.EVENT_CHANGED,
            {
                "event_id": event.id,
                "changed": ["starts_at", "ends_at"],
                "was_starts_at": was_starts.isoformat(),
                "was_ends_at": was_ends.isoformat(),
            },
            now,
        )
        cancelled = await render(repo, NoticeKind.EVENT_CANCELLED, {"event_id": event.id}, now)
    new, old = span(event.starts_at, event.ends_at), span(was_starts, was_ends)
    assert moved.text.splitlines()[1] == f"🗓 New time: {new} (was {old})."
    assert f"({new}) has been cancelled." in cancelled.text
    assert moved.markup is None and cancelled.markup is None


async def test_school_rejection_offers_to_choose_the_school_again(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        rendered = await render(
            Repo(session),
            NoticeKind.SCHOOL_REJECTED,
            {"name": "Школа <№1> & Co"},
            datetime(2026, 12, 1, tzinfo=TZ),
        )
    assert "«Школа &lt;№1&gt; &amp; Co»" in rendered.text
    assert buttons(rendered.markup) == [[("🏫 Choose my school", "pfe:school")]]
