"""A broadcast's copies through the real bot, the outbox sender and the emulator: the
methodist's own message is copied with its formatting, the event and link buttons and the 🔕
button; a teacher who muted news is skipped; "📅 Open the event" shows the card and counts
once, only for a recipient; the report adds up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from db.models import Event, School
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from domain.broadcasts import Filters
from domain.roles import Role
from services import broadcasts as service
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import coordinator, register
from tests.sample import load_sample_events
from ui.callbacks.broadcasts import BcAdmin, BcAdminAction, BcOpen


async def _methodist_and_teachers(
    running: Running, first: int
) -> tuple[Event, int, Chat, list[Chat]]:
    """The sample event with the tricky title, a school of its municipality, a coordinator
    there (`first`) and three registered English-speaking teachers (`first` + 9 …)."""
    event = (await load_sample_events(running.app.sessionmaker))[SAMPLE_EVENT_CODES[0]]
    async with running.app.sessionmaker() as session:
        school = await session.scalar(
            select(School).where(School.municipality_id == event.municipality_id)
        )
    assert school is not None
    olga = await coordinator(running, first, event.municipality_id, school.id)
    teachers = [running.chat(first + 9 + n, lang="en", first_name=f"T{n}") for n in range(3)]
    for chat in teachers:
        await register(
            chat, running.emu, municipality_id=event.municipality_id, school_id=school.id
        )
    return event, school.id, olga, teachers


async def test_a_broadcast_is_copied_to_its_audience_with_its_buttons(running: Running) -> None:
    app, emu = running.app, running.emu
    event, school_id, olga, teachers = await _methodist_and_teachers(running, 8901)
    async with app.sessionmaker() as session:
        repo = Repo(session)
        muted = await repo.users.by_telegram_id(teachers[2].user.id)
        assert muted is not None
        muted.muted = ["news"]
        await session.commit()

    # the methodist writes the message as she wants it read: bold, a link, <, & and emoji
    update: dict[str, Any] = {}
    text = (
        '<b>Семинар</b> для учителей & методистов <a href="https://example.org/p">программа</a> 🎓'
    )
    await olga.run(lambda: update.update(emu.send_message(olga.user, text, html=True)))
    source_id = int(update["message"]["message_id"])
    async with app.sessionmaker() as session:
        repo = Repo(session)
        staff = await repo.users.by_telegram_id(olga.user.id)
        assert staff is not None
        done = await service.create(
            repo,
            staff,
            Role.COORDINATOR,
            service.Draft(
                source_chat_id=olga.user.id,
                source_message_id=source_id,
                content_kind="text",
                preview="Семинар для учителей",
                filters=Filters(positions=("teacher",)),
                event_id=event.id,
                url="https://example.org/register",
                url_label="📝 Регистрация",
            ),
            running.clock.now(),
        )
        assert not isinstance(done, service.Refusal)
        await session.commit()
        broadcast_id = done.id
    # the wizard's answer to "send now" becomes the live progress message
    answer = await olga.send("/help")
    async with app.sessionmaker() as session:
        repo = Repo(session)
        staff = await repo.users.by_telegram_id(olga.user.id)
        assert staff is not None
        assert await service.show_progress(
            repo, staff, Role.COORDINATOR, broadcast_id, answer.message_id, running.clock.now()
        )
        await session.commit()
    await app.sender.settle()
    # a few seconds later it shows the count; once nothing is left, the report
    for _ in range(2):
        running.clock.advance(seconds=3)
        await app.tick()
    final = next(m for m in emu.chat(olga.user.id) if m.message_id == answer.message_id)
    assert final.edited and "🏁 Finished" in final.plain_text, final.plain_text
    assert (
        "✅ Delivered: 2" in final.plain_text and "🔕 Skipped (news muted): 1" in final.plain_text
    )
    assert [b["text"] for b in final.all_inline_buttons] == ["📊 Report"]

    for chat in teachers[:2]:
        [copy] = [m for m in emu.sent_to(chat.user.id) if "Семинар" in (m.text or "")]
        assert copy.parse_mode == "HTML"
        assert "<b>Семинар</b>" in (copy.text or "") and "&amp; методистов" in (copy.text or "")
        assert 'href="https://example.org/p"' in (copy.text or "")
        labels = [b["text"] for b in copy.all_inline_buttons]
        assert labels == ["📅 Open the event", "📝 Регистрация", "🔕 No more news from methodists"]
    assert emu.count_sent(teachers[2].user.id, "Семинар") == 0  # muted news
    assert emu.count_sent(olga.user.id, "методистов") == 0  # a methodist, not a teacher

    # the event button: the card, counted once; a forged press by someone else is not counted
    reader = teachers[0]
    await reader.tap("📅 Open the event")
    assert "Оценка" in reader.last.plain_text
    await reader.tap("📅 Open the event")
    outsider = running.chat(8920, lang="en", first_name="Out")  # registered after it went out
    await register(outsider, emu, municipality_id=event.municipality_id, school_id=school_id)
    forged = BcOpen(bc=broadcast_id, event=event.id).pack()
    last = outsider.last.message_id
    await outsider.run(lambda: emu.forge_callback(outsider.user, last, forged))
    assert "Оценка" in outsider.last.plain_text  # the card is shown: only the count is refused
    async with app.sessionmaker() as session:
        repo = Repo(session)
        staff = await repo.users.by_telegram_id(olga.user.id)
        assert staff is not None
        report = await service.report(repo, staff, Role.COORDINATOR, broadcast_id)
        assert not isinstance(report, service.Refusal)
        progress = report.progress
        assert (progress.total, progress.sent, progress.muted, progress.left) == (3, 2, 1, 0)
        assert report.reach == (1, 0)
        # another coordinator's report is not hers to read
        teacher = await repo.users.by_telegram_id(reader.user.id)
        assert teacher is not None
        assert await service.report(repo, teacher, Role.TEACHER, broadcast_id) is (
            service.Refusal.NOT_STAFF
        )


async def test_a_scheduled_broadcast_reports_as_it_goes_and_can_be_stopped(
    running: Running,
) -> None:
    app, emu, clock = running.app, running.emu, running.clock
    _, _, olga, teachers = await _methodist_and_teachers(running, 8931)
    update: dict[str, Any] = {}
    await olga.run(lambda: update.update(emu.send_message(olga.user, "Совещание в пятницу")))
    at = clock.now() + timedelta(hours=1)
    async with app.sessionmaker() as session:
        repo = Repo(session)
        staff = await repo.users.by_telegram_id(olga.user.id)
        assert staff is not None
        planned = await service.create(
            repo,
            staff,
            Role.COORDINATOR,
            service.Draft(
                source_chat_id=olga.user.id,
                source_message_id=int(update["message"]["message_id"]),
                content_kind="text",
                preview="Совещание в пятницу",
                filters=Filters(positions=("teacher",)),
                scheduled_at=at,
            ),
            clock.now(),
        )
        assert not isinstance(planned, service.Refusal)
        await session.commit()
    # one teacher blocked the bot; another keeps quiet hours nearly all day (their copy waits)
    emu.fail_chat(teachers[0].user.id, "blocked")
    async with app.sessionmaker() as session:
        repo = Repo(session)
        sleepy = await repo.users.by_telegram_id(teachers[1].user.id)
        assert sleepy is not None
        local = at.astimezone(app.settings.tz)  # quiet from an hour before to ten after
        sleepy.quiet_hours = (
            f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=10):%H:%M}"
        )
        await session.commit()
    clock.set(at)
    await app.tick()
    started = next(m for m in emu.sent_to(olga.user.id) if "has started" in m.plain_text)
    assert [b["text"] for b in started.all_inline_buttons] == ["⏸ Stop"]
    assert emu.count_sent(teachers[2].user.id, "Совещание") == 1
    clock.advance(seconds=3)
    await app.tick()
    live = next(m for m in emu.chat(olga.user.id) if m.message_id == started.message_id)
    assert "✅ Sent: 1 of 3" in live.plain_text and "⏳ left: 1" in live.plain_text, live.plain_text
    # ⏸ Stop: the waiting copy is not sent; the message shows the report
    await olga.tap("⏸ Stop")
    assert "Stopped" in olga.popups()[-1]
    clock.advance(seconds=200)
    await app.tick()
    assert emu.count_sent(teachers[1].user.id, "Совещание") == 0
    final = next(m for m in emu.chat(olga.user.id) if m.message_id == started.message_id)
    text = final.plain_text
    assert "⏸ Stopped: the rest was not sent" in text, text
    assert "✅ Delivered: 1" in text and "🚫 Blocked the bot: 1" in text and "✖️ Not sent: 1" in text
    # a teacher pressing a forged ⏸ on it changes nothing
    forged = BcAdmin(action=BcAdminAction.STOP, bc=planned.id).pack()
    last = teachers[2].last.message_id
    await teachers[2].run(lambda: emu.forge_callback(teachers[2].user, last, forged))
    async with app.sessionmaker() as session:
        repo = Repo(session)
        stored = await repo.broadcasts.get(planned.id)
        assert stored is not None and stored.state == "stopped"
