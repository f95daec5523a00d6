"""`/broadcasts` through the real bot: a Russian-speaking methodist reads her scheduled and sent
broadcasts, opens a report, moves a scheduled one to another time and gives it another
message (it goes out once, at the new time, with the new text), cancels another (it never
goes out), sees a sent message again; teachers and other coordinators can do none of it,
whatever they send."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select

from db.models import Event, School
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from domain.broadcasts import Filters
from domain.event_forms import DATE_FORMAT
from domain.roles import Role
from domain.schedule import JobKind
from services import broadcasts as service
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import register
from tests.sample import load_sample_events
from tests.staffing import make_staff
from ui.callbacks.broadcast_history import BcHist, BcHistAction
from ui.formatting import moment_text

H = BcHistAction


async def _staff(running: Running, tg_id: int, municipality_id: int, school_id: int) -> Chat:
    """A registered methodist with a Russian client, made the coordinator of her municipality."""
    chat = running.chat(tg_id, lang="ru", first_name="Марина")
    await register(
        chat,
        running.emu,
        municipality_id=municipality_id,
        school_id=school_id,
        position="methodist",
        age="35_plus",
        years="20",
    )
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        row = await repo.users.by_telegram_id(tg_id)
        assert row is not None
        await make_staff(repo, row, Role.COORDINATOR, row.municipality_id)
        await session.commit()
    running.app.dp["user_cache"].invalidate(tg_id)
    return chat


async def _broadcast(running: Running, author: Chat, text: str, at: datetime | None) -> int:
    """The author writes `text`; a broadcast of it to the teachers, now or at `at`."""
    update: dict[str, Any] = {}
    await author.run(lambda: update.update(running.emu.send_message(author.user, text)))
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        staff = await repo.users.by_telegram_id(author.user.id)
        assert staff is not None
        created = await service.create(
            repo,
            staff,
            Role.COORDINATOR,
            service.Draft(
                source_chat_id=author.user.id,
                source_message_id=int(update["message"]["message_id"]),
                content_kind="text",
                preview=text,
                filters=Filters(positions=("teacher",)),
                scheduled_at=at,
            ),
            running.clock.now(),
        )
        assert not isinstance(created, service.Refusal)
        await session.commit()
        return created.id


async def _state(running: Running, broadcast_id: int) -> tuple[str, datetime | None]:
    async with running.app.sessionmaker() as session:
        stored = await Repo(session).broadcasts.get(broadcast_id)
        assert stored is not None
        return stored.state, stored.scheduled_at


async def test_a_methodist_reads_moves_edits_and_cancels_her_broadcasts(running: Running) -> None:
    app, emu, clock = running.app, running.emu, running.clock
    tz = app.settings.tz
    event: Event = (await load_sample_events(app.sessionmaker))[SAMPLE_EVENT_CODES[0]]
    async with app.sessionmaker() as session:
        school = await session.scalar(
            select(School).where(School.municipality_id == event.municipality_id)
        )
    assert school is not None
    marina = await _staff(running, 8961, event.municipality_id, school.id)
    teachers = [running.chat(8970 + n, lang="en", first_name=f"T{n}") for n in range(3)]
    for chat in teachers:
        await register(chat, emu, municipality_id=event.municipality_id, school_id=school.id)

    # one sent already, one scheduled in two hours
    sent_id = await _broadcast(running, marina, "Новости недели: <итоги> & планы 🎓", None)
    await app.sender.settle()
    assert (await _state(running, sent_id))[0] == "sending"
    await app.tick()  # no progress message follows it: the scheduler's tick ends it
    assert (await _state(running, sent_id))[0] == "done"
    start = clock.now()
    planned_id = await _broadcast(running, marina, "Первое: семинар", start + timedelta(hours=2))

    listing = await marina.send("/broadcasts")
    text = listing.plain_text
    assert "📜 Ваши рассылки" in text and "🗓 Запланированные" in text, text
    assert f"№{planned_id} · " in text and "«Первое: семинар»" in text
    assert f"🏁 №{sent_id} · " in text and "доставлено 3 из 3" in text, text
    assert "«Новости недели: <итоги> & планы 🎓»" in text  # shown as typed, escaped on the wire

    # the scheduled one's card: when, and how many it would reach now
    label = f"🗓 #{planned_id} · {moment_text(start + timedelta(hours=2), tz)}"
    card = await marina.tap(label)
    assert "🗓 Запланирована" in card.plain_text, card.plain_text
    assert "Если бы она началась сейчас: 👥 Получателей: 3" in card.plain_text, card.plain_text

    # another time: nonsense and the past are asked again, a future time is kept
    await marina.tap("🕒 Изменить время")
    assert "ДД.ММ.ГГГГ ЧЧ:ММ" in marina.last.plain_text, marina.last.plain_text
    await marina.send("завтра утром")
    assert "ДД.ММ.ГГГГ ЧЧ:ММ" in marina.last.plain_text
    past = (start - timedelta(hours=1)).astimezone(tz)
    await marina.send(past.strftime(DATE_FORMAT))
    assert "уже прошло" in marina.last.plain_text, marina.last.plain_text
    later = (start + timedelta(hours=5)).astimezone(tz).replace(second=0, microsecond=0)
    await marina.send(later.strftime(DATE_FORMAT))
    assert any(f"начнётся {later:%d.%m.%Y %H:%M}" in t for t in marina.texts()[-2:])
    assert (await _state(running, planned_id)) == ("scheduled", later)
    async with app.sessionmaker() as session:
        jobs = [
            j
            for j in await Repo(session).jobs.pending(JobKind.BROADCAST_START.value)
            if j.payload.get("broadcast_id") == planned_id
        ]
    assert [j.run_at for j in jobs] == [later]

    # another message; its buttons, audience and time stay
    await marina.tap("✏️ Заменить сообщение")
    await marina.send("Второе: семинар переносится на пятницу")
    assert any("отправит это сообщение" in t for t in marina.texts()[-2:])

    # the old time passes: nothing goes out; the new one: each teacher gets the new text once
    clock.set(start + timedelta(hours=2, minutes=1))
    await app.tick()
    for chat in teachers:
        assert emu.count_sent(chat.user.id, "семинар") == 0
    clock.set(later + timedelta(minutes=1))
    await app.tick()
    for chat in teachers:
        assert emu.count_sent(chat.user.id, "Второе: семинар переносится") == 1
        assert emu.count_sent(chat.user.id, "Первое") == 0
    assert any("началась" in m.plain_text for m in emu.sent_to(marina.user.id)), marina.texts()
    # started: it can no longer be changed, whatever button is pressed
    forged = BcHist(action=H.TIME, bc=planned_id).pack()
    last = marina.last.message_id
    await marina.run(lambda: emu.forge_callback(marina.user, last, forged))
    assert "уже началась или закончилась" in marina.popups()[-1]

    # a third one is cancelled (asked first) and never goes out
    third_id = await _broadcast(
        running, marina, "Третье: отменится", clock.now() + timedelta(hours=1)
    )
    await marina.send("/broadcasts")
    await marina.tap(f"🗓 #{third_id}")
    await marina.tap("🚫 Отменить рассылку")
    assert f"Отменить рассылку №{third_id}?" in marina.last.plain_text
    await marina.tap("🚫 Да, отменить")
    assert "Отменена" in marina.popups()[-1]
    assert "🚫 Отменена до начала" in marina.last.plain_text, marina.last.plain_text
    clock.advance(hours=2)
    await app.tick()
    assert (await _state(running, third_id))[0] == "cancelled"
    for chat in teachers:
        assert emu.count_sent(chat.user.id, "Третье") == 0

    # a sent one's message is shown again, as teachers saw it
    await marina.send("/broadcasts")
    await marina.tap(f"🏁 #{sent_id}")
    assert "✅ Доставлено: 3" in marina.last.plain_text, marina.last.plain_text
    await marina.tap("👁 Показать сообщение")
    assert "Новости недели: <итоги> & планы 🎓" in marina.last.plain_text

    # a teacher: /broadcasts is not theirs, forged buttons change nothing
    teacher = teachers[0]
    reply = await teacher.send("/broadcasts")
    assert "Your broadcasts" not in reply.plain_text and "Broadcast" not in reply.plain_text
    fourth_id = await _broadcast(running, marina, "Четвёртое", clock.now() + timedelta(hours=1))
    for action in (H.CANCEL_OK, H.TIME, H.OPEN):
        data = BcHist(action=action, bc=fourth_id).pack()
        last = teacher.last.message_id
        await teacher.run(partial(emu.forge_callback, teacher.user, last, data))
        assert "Четвёртое" not in teacher.last.plain_text
    # nor is it another coordinator's: she neither reads nor cancels it
    other = await _staff(running, 8965, event.municipality_id, school.id)
    await other.send("/broadcasts")
    assert "Рассылок пока нет" in other.last.plain_text, other.last.plain_text
    for action in (H.OPEN, H.CANCEL_OK, H.SHOW):
        data = BcHist(action=action, bc=fourth_id).pack()
        last = other.last.message_id
        await other.run(partial(emu.forge_callback, other.user, last, data))
        assert "недоступна" in other.popups()[-1], other.popups()
    assert (await _state(running, fourth_id))[0] == "scheduled"
