"""Typography a Russian teacher sees (issue #7, item 21), through the real bot and the shipped
sample data: a title is quoted once, a site's title is not prefixed with "площадка", hours
use a decimal comma, one pace is marked, no "largest deficits" without deficits, labels are
shortened on a word boundary with "…", /help mentions deep links only before onboarding, the
self-assessment names one duration, and the policy describes what the bot stores."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select

from core.clock import utcnow
from db.models import Event, Site, User
from db.reference.sample_events import TRICKY_TITLE
from db.repo import Repo
from handlers.assessment import SECONDS_PER_STATEMENT
from services import registrations
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import register
from tests.e2e.test_language import _places
from tests.sample import load_sample_events
from ui.callbacks.assessment import AnswerCb, AssessCb
from ui.callbacks.events import EvAct, EvList


def _all_texts(running: Running, chat: Chat) -> list[str]:
    """Every text and button label the bot sent to this chat (edits included)."""
    from tests.e2e.conftest import outgoing_texts

    return [
        text
        for call in running.emu.calls
        for chat_id, text in outgoing_texts(running.emu, call)
        if chat_id == chat.user.id
    ]


async def _answer_all(chat: Chat, value: int) -> None:
    await chat.send("/assess")
    await chat.tap_data(AssessCb(action="start").pack())
    attempt = AnswerCb.unpack(chat.last.all_inline_buttons[0]["callback_data"]).attempt
    while chat.last.plain_text.startswith("📝"):
        code = AnswerCb.unpack(chat.last.all_inline_buttons[0]["callback_data"]).code
        await chat.tap_data(AnswerCb(attempt=attempt, code=code, value=value).pack())


async def _teacher_where(running: Running, tg_id: int, event: Event) -> Chat:
    async with running.app.sessionmaker() as session:
        school = (await Repo(session).reference.schools(event.municipality_id))[0].id
    chat = running.chat(tg_id)
    await register(chat, running.emu, municipality_id=event.municipality_id, school_id=school)
    return chat


async def _sample(running: Running) -> tuple[list[Event], dict[int, str]]:
    await load_sample_events(running.app.sessionmaker)
    async with running.app.sessionmaker() as session:
        events = list(await session.scalars(select(Event).where(Event.status == "scheduled")))
        sites = {s.id: s.title for s in await session.scalars(select(Site))}
    return events, sites


async def test_a_title_in_quotes_is_not_quoted_again(running: Running) -> None:
    events, _sites = await _sample(running)
    webinar = next(e for e in events if e.title.endswith("»"))  # Вебинар «ФГИС …»
    anna = await _teacher_where(running, 8901, webinar)
    await anna.send(f"/start event_{webinar.id}")
    for action in ("signup", "join", "ics", "share"):
        await anna.tap_data(EvAct(action=action, event=webinar.id).pack())
    texts = _all_texts(running, anna)
    assert any(f"Записаться на {webinar.title} (" in t for t in texts), texts
    assert any(f"добавить {webinar.title} в календарь" in t for t in texts), texts
    assert [t for t in texts if "»»" in t or "««" in t] == []


async def test_a_site_called_a_site_is_not_prefixed_again(running: Running) -> None:
    events, sites = await _sample(running)
    on_site = next(
        e for e in events if e.site_id and sites[e.site_id].startswith("Стажировочная площадка")
    )
    anna = await _teacher_where(running, 8908, on_site)
    for event in events:
        await anna.send(f"/start event_{event.id}")
    texts = _all_texts(running, anna)
    site_twice = re.compile(r"площадк\w*:?\s*«?стажировочная площадка", re.IGNORECASE)
    assert [t for t in texts if site_twice.search(t)] == []
    checked = 0
    for event in events:
        card = next((t for t in texts if t.startswith(f"🎓 {event.title}\n")), None)
        if event.site_id is None or card is None:  # no site, or not open to this teacher
            continue
        checked += 1
        site = sites[event.site_id]
        kind_line = card.split("\n")[1]
        if "площадк" in site.lower():  # the title says it: no prefix
            assert kind_line.endswith(f" · {site}"), kind_line
        else:
            assert kind_line.endswith(f" · стажировочная площадка «{site}»"), kind_line
    assert checked >= 2


async def test_hours_have_a_decimal_comma_in_russian(running: Running) -> None:
    await load_sample_events(running.app.sessionmaker)
    muni, school = await _places(running)
    anna = running.chat(8902)
    await register(anna, running.emu, municipality_id=muni, school_id=school)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(8902)
        event = next(
            e
            for e in await session.scalars(select(Event))
            if (e.ends_at - e.starts_at) == timedelta(minutes=90)
        )
        assert user is not None
        await repo.events.sign_up(event.id, user.id, utcnow(), eligible=True)
        reg = await repo.events.registration(event.id, user.id)
        assert reg is not None
        await repo.events.mark_attended(reg, utcnow())
        await session.commit()
    await anna.send("/journal")
    journal = next(m for m in running.emu.chat(8902) if m.plain_text.startswith("📒"))
    assert "всего 1,5 ч" in journal.plain_text and "1,5 ч" in journal.plain_text.split("\n")[1]
    assert "1.5" not in journal.plain_text
    document = anna.last.document
    assert document is not None and ";1,5" in document[1].decode("utf-8-sig")


async def test_one_pace_is_marked_and_no_largest_deficits_without_deficits(
    running: Running,
) -> None:
    muni, school = await _places(running)
    anna = running.chat(8903)
    await register(anna, running.emu, municipality_id=muni, school_id=school)
    await _answer_all(anna, 3)  # "I can teach colleagues" everywhere: no deficits
    await anna.send("/route")
    builder = anna.last
    assert "наибольшими дефицитами" not in builder.plain_text
    assert "Дефицитов не выявлено" in builder.plain_text
    labels = [b["text"] for b in builder.all_inline_buttons]
    assert sum("⚡" in label for label in labels) == 1, labels
    assert "⚡ обычный" in labels


async def test_long_labels_are_cut_on_a_word_with_an_ellipsis(running: Running) -> None:
    await load_sample_events(running.app.sessionmaker)
    muni, school = await _places(running)
    anna = running.chat(8904)
    await register(anna, running.emu, municipality_id=muni, school_id=school)
    await anna.send("/events")
    await anna.tap_data(EvList(mode="all").pack())
    async with running.app.sessionmaker() as session:
        titles = list(await session.scalars(select(Event.title)))
    labels = [b["text"] for b in anna.last.all_inline_buttons if b["callback_data"][:3] == "ea:"]
    assert labels
    cut = [label for label in labels if not any(label.endswith(t) for t in titles)]
    assert cut, "the sample has titles longer than a button"
    for label in cut:
        assert label.endswith("…") and len(label) <= 60, label
        shown = label.removesuffix("…").split(" · ", 1)[1]
        title = next(t for t in titles if t.startswith(shown))
        assert title[len(shown)] in " ,;:—–-·(", (label, title)  # cut between words


async def test_help_mentions_deep_links_only_before_onboarding(running: Running) -> None:
    muni, school = await _places(running)
    anna = running.chat(8905)
    await anna.send("/start")
    await anna.send("/help")
    assert "Вы пришли по ссылке" in anna.last.plain_text
    await register(anna, running.emu, municipality_id=muni, school_id=school)
    await anna.send("/help")
    assert "Вы пришли по ссылке" not in anna.last.plain_text
    assert "/assess" in anna.last.plain_text


async def test_one_duration_from_the_statement_count(running: Running) -> None:
    muni, school = await _places(running)
    anna = running.chat(8906)
    await register(anna, running.emu, municipality_id=muni, school_id=school)
    await anna.send("/help")
    await anna.send("/assess")
    intro = anna.last.plain_text
    count = int(re.search(r"(\d+) утвержд", intro).group(1))  # type: ignore[union-attr]
    minutes = round(count * SECONDS_PER_STATEMENT / 60)
    durations = {int(n) for n in re.findall(r"(\d+) мин", "\n".join(_all_texts(running, anna)))}
    assert durations == {minutes}, (durations, intro)


async def test_the_policy_describes_what_is_stored(running: Running) -> None:
    anna = running.chat(8907)
    await anna.send("/start")
    await anna.send("/privacy")
    policy = anna.last.plain_text
    assert "будущих" not in policy
    for stored in ("самодиагностики", "маршрут", "подтверждениями", "записи на мероприятия"):
        assert stored in policy
    async with running.app.sessionmaker() as session:
        assert await session.scalar(select(User).where(User.telegram_id == 8907)) is not None
    assert json.dumps(policy)


async def test_scheduled_reminder_quotes_and_escapes_the_title(running: Running) -> None:
    """The day-before reminder renders a coordinator's title (with <b>, & and quotes) as text."""
    events, _sites = await _sample(running)
    tricky = next(e for e in events if e.title == TRICKY_TITLE)
    anna = await _teacher_where(running, 8909, tricky)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(8909)
        assert user is not None
        await registrations.sign_up(repo, tricky.id, user.id, utcnow())
        await session.commit()
    app = running.app
    await app.tick(tricky.starts_at - timedelta(hours=24) + timedelta(minutes=1))
    await anna.counter.wait_for(0)
    assert anna.last.plain_text.startswith(f"⏰ Напоминание: {TRICKY_TITLE}, ")  # its own «» kept
