"""Every reminder kind, planned by its real cause and rendered at its due time: each reads in
Russian and in English, is valid Telegram HTML with the typed text escaped (the sample event
with `<b>`, `&` and quotes in its title and place; a methodist's step with the same), and ends
with the 🔕 button of its category. A new reminder kind without a case here fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import SAMPLE_REFERENCE, import_reference, load_i18n
from core.clock import utcnow
from db.models import OutboxMessage, RouteStep
from db.reference.sample_events import SAMPLE_EVENT_CODES, TRICKY_TITLE
from db.repo import Repo
from devtools.emulator.formatting import parse_formatted
from domain.notices import NoticeKind
from domain.reminders import CATEGORY, Policy
from domain.roles import Role
from domain.schedule import FEEDBACK_AFTER
from outbox.render import render
from outbox.rendered import RenderContext
from scheduler.runner import run_due_jobs
from services import broadcasts, digest, nudges, registrations
from tests.conftest import make_settings
from tests.sample import consenting_teacher, load_sample_events
from tests.staffing import make_staff
from ui.callbacks.settings import MuteCb
from ui.formatting import h

Maker = async_sessionmaker[AsyncSession]
POLICY = Policy(default_quiet="off")
#: a methodist's own step title: typed text, like the event's
STEP_TITLE = 'Посетить <b>урок</b> & "разбор" 🎓'


@contextmanager
def language(code: str) -> Iterator[None]:
    i18n = load_i18n(make_settings("sqlite+aiosqlite://"))
    with i18n.context(), i18n.use_locale(code):
        yield


async def _plan_everything(sessionmaker: Maker) -> datetime:
    """Cause every reminder kind the way the bot does (but the feedback request, which the
    event's end causes); when the event ends."""
    now = utcnow()
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        await import_reference(repo, SAMPLE_REFERENCE)
        muni = next(m.id for m in await repo.reference.municipalities() if m.code == "volgodonsk")
        olga = await consenting_teacher(repo, 7401, muni, now)
        await make_staff(repo, olga, Role.COORDINATOR, muni)
        await session.commit()
        olga_id = olga.id
    # the coordinator organises the sample events: her agendas and summaries
    events = await load_sample_events(sessionmaker, organiser_id=olga_id, policy=POLICY)
    tricky = events[SAMPLE_EVENT_CODES[0]]
    assert tricky.title == TRICKY_TITLE
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        anna = await consenting_teacher(repo, 7402, tricky.municipality_id, now)
        boris = await consenting_teacher(repo, 7403, tricky.municipality_id, now)
        # a seat: reminders a day and an hour before
        await registrations.sign_up(repo, tricky.id, anna.id, now)
        # a route with a methodist's step due in two days: the nudge and the stall message
        step = RouteStep(
            position=1,
            competency="custom",
            number=1,
            kind="custom",
            content={"title": {"ru": STEP_TITLE, "en": STEP_TITLE}},
            target_date=date.today() + timedelta(days=2),
            status="planned",
        )
        await repo.routes.create(anna.id, None, "normal", [step])
        await nudges.plan_route(repo, anna.id, now)
        # an unfinished self-assessment (Anna) and a finished one (Boris: the retake later)
        framework = await repo.frameworks.active()
        assert framework is not None
        await repo.assessments.start(anna.id, framework.version, False, now)
        await nudges.plan_assessment(repo, anna.id, now)
        done = await repo.assessments.start(boris.id, framework.version, False, now)
        await repo.assessments.finish(
            done,
            {"framework_version": framework.version, "scores": [], "deficits": [], "strengths": []},
            now,
        )
        await nudges.plan_assessment(repo, boris.id, now)
        # a methodist's broadcast with the event's button: a copy for each teacher
        staff = await repo.users.get(olga_id)
        assert staff is not None
        sent = await broadcasts.create(
            repo,
            staff,
            Role.COORDINATOR,
            broadcasts.Draft(
                source_chat_id=7401,
                source_message_id=1,
                content_kind="text",
                preview="Новости",
                event_id=tricky.id,
            ),
            now,
        )
        assert not isinstance(sent, broadcasts.Refusal)
        # the coordinator's Monday statistics digest (counted by `services.stats` when due)
        assert await digest.plan_all(repo, now) == 1
        await session.commit()
    return tricky.ends_at


def _buttons(markup: InlineKeyboardMarkup | None) -> list[list[str | None]]:
    assert markup is not None
    return [[b.callback_data for b in row] for row in markup.inline_keyboard]


async def _check_pending(sessionmaker: Maker, covered: set[NoticeKind]) -> None:
    """Render every pending reminder row at its due time in both languages and check it."""
    async with sessionmaker() as session:
        repo = Repo(session, POLICY)
        rows = [
            row
            for row in await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.state == "pending")
                .order_by(OutboxMessage.id)
            )
            if NoticeKind(row.kind) in CATEGORY and NoticeKind(row.kind) not in covered
        ]
        for row in rows:
            kind = NoticeKind(row.kind)
            texts = {}
            for code in ("ru", "en"):
                ctx = RenderContext(
                    repo,
                    POLICY.default_tz,
                    (row.due_at or row.created_at) + timedelta(minutes=1),
                    code,
                    row.user_id,
                )
                with language(code):
                    rendered = await render(kind, ctx, dict(row.payload))
                if rendered is None:
                    break  # superseded by a later row of the same cause (e.g. the 2-day one)
                if rendered.copy_of is not None:  # a copy of the methodist's own message
                    assert rendered.text == ""
                    rendered = replace(
                        rendered,
                        text=" · ".join(
                            h(b.text) for row in rendered.markup.inline_keyboard for b in row
                        )
                        if rendered.markup
                        else "",
                    )
                parsed = parse_formatted(rendered.text, "HTML")  # raises on broken HTML
                assert "<b>«Оценка" not in rendered.text and "<b>урок" not in rendered.text
                if TRICKY_TITLE in parsed.text or STEP_TITLE in parsed.text:
                    assert "&lt;b&gt;" in rendered.text  # typed markup shown, not obeyed
                mute = MuteCb(category=CATEGORY[kind].value).pack()
                assert _buttons(rendered.markup)[-1] == [mute], (kind, rendered.markup)
                texts[code] = parsed.text
            else:
                assert texts["ru"] != texts["en"], kind
                assert any("а" <= ch <= "я" for ch in texts["ru"].lower()), texts["ru"]
                covered.add(kind)


async def test_every_reminder_kind_reads_in_both_languages_escapes_and_can_be_muted(
    sessionmaker: Maker,
) -> None:
    ends_at = await _plan_everything(sessionmaker)
    covered: set[NoticeKind] = set()
    await _check_pending(sessionmaker, covered)
    # the event ends: the feedback request
    await run_due_jobs(sessionmaker, ends_at + FEEDBACK_AFTER, policy=POLICY)
    await _check_pending(sessionmaker, covered)
    assert covered == set(CATEGORY), set(CATEGORY) - covered
