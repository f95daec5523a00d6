"""The `/broadcast` wizard's pickers through the real bot and the emulator, each count checked
against numbers worked out by hand: a competency deficit (of the latest finished
self-assessment), the people of an event (participants, waitlist, no-shows of an event that is
over), the age band and "young teachers" (under 35 AND at most 3 years), "no self-assessment",
"no route", ♻️ Reset; then only the matching teachers get the copy. An audience of nobody
offers no send buttons, and "send now" to nobody is refused on the server.

One world for the whole module (in one test: the bot is started once):

| who   | age / years  | latest finished self-assessment | route | the past event        |
|-------|--------------|---------------------------------|-------|-----------------------|
| Alla  | under 35 / 2 | deficit X                       | yes   | attended              |
| Boris | under 35 / 6 | deficit Y (X only in an older)  | no    | confirmed, not came   |
| Vera  | 35+ / 1      | none (one started, unfinished)  | no    | waitlisted            |
| Gleb  | under 35 / 3 | none                            | yes   | cancelled             |
| Olga  | 35+ / 20     | none (the coordinator herself)  | no    | —                     |
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from db.models import Attempt, Broadcast, Event, Registration, Route, School
from db.reference.sample_events import SAMPLE_EVENT_CODES
from db.repo import Repo
from devtools.emulator import EmuUser
from domain.events import EventStatus, RegStatus
from tests.e2e.conftest import Chat, Running
from tests.e2e.flows import coordinator
from tests.sample import load_sample_events
from ui.callbacks.broadcasts import BcWiz, BcWizAction

A = BcWizAction


def wiz(action: BcWizAction, value: str = "", page: int = 0) -> str:
    return BcWiz(action=action, value=value, page=page).pack()


def recipients(text: str) -> int:
    """The number on the "👥 Recipients: N" line."""
    line = next(line for line in text.splitlines() if "👥 Recipients:" in line)
    return int(line.split("Recipients:")[1].split()[0])


async def teacher_on_file(
    running: Running, telegram_id: int, name: str, school: School, band: str, years: int
) -> int:
    """A teacher with a complete profile (created directly: onboarding is not under test)."""
    running.emu.add_user(EmuUser(id=telegram_id, first_name=name, language_code="en"))
    now = running.clock.now()
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        user, _ = await repo.users.get_or_create(telegram_id, "en")
        await repo.users.set_consent(user, "given", "1.0", now)
        await repo.users.set_fields(
            user,
            full_name=name,
            municipality_id=school.municipality_id,
            school_id=school.id,
            position_code="teacher",
            experience_years=years,
            age_band=band,
        )
        await repo.users.complete_profile(user, now)
        await session.commit()
        return user.id


async def _world(running: Running) -> tuple[Chat, dict[str, int], Event, str, str]:
    """The table above; (Olga, the teachers' Telegram ids by name, the past event, X, Y)."""
    events = await load_sample_events(running.app.sessionmaker)
    event = events[SAMPLE_EVENT_CODES[0]]
    now = running.clock.now()
    async with running.app.sessionmaker() as session:
        school = await session.scalar(
            select(School).where(School.municipality_id == event.municipality_id)
        )
        assert school is not None
        session.expunge(school)
    olga = await coordinator(running, 9501, event.municipality_id, school.id)
    people = {"Alla": (9510, "under_35", 2), "Boris": (9511, "under_35", 6)}
    people |= {"Vera": (9512, "35_plus", 1), "Gleb": (9513, "under_35", 3)}
    ids = {
        n: await teacher_on_file(running, tg, n, school, b, y) for n, (tg, b, y) in people.items()
    }
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        framework = await repo.frameworks.active()
        assert framework is not None
        x, y = (c.code for c in framework.competencies[:2])

        def attempt(user_id: int, days_ago: int, deficits: list[str] | None) -> Attempt:
            started = now - timedelta(days=days_ago)
            return Attempt(
                user_id=user_id,
                framework_version=framework.version,
                started_at=started,
                finished_at=None if deficits is None else started + timedelta(hours=1),
                result=None
                if deficits is None
                else {
                    "framework_version": framework.version,
                    "scores": [],
                    "deficits": deficits,
                    "strengths": [],
                },
            )

        session.add_all(
            [
                attempt(ids["Alla"], 5, [x]),
                attempt(ids["Boris"], 20, [x]),  # older: no longer his
                attempt(ids["Boris"], 5, [y]),
                attempt(ids["Vera"], 1, None),  # started, never finished
                Route(user_id=ids["Alla"], pace="normal", status="active"),
                Route(user_id=ids["Gleb"], pace="normal", status="completed"),
            ]
        )
        # the event took place two days ago; the feedback job has marked it completed
        past = await session.get(Event, event.id)
        assert past is not None
        length = past.ends_at - past.starts_at
        past.starts_at = now - timedelta(days=2)
        past.ends_at = past.starts_at + length
        past.status = EventStatus.COMPLETED.value
        for n, (name, status) in enumerate(
            [
                ("Alla", RegStatus.ATTENDED),
                ("Boris", RegStatus.CONFIRMED),
                ("Vera", RegStatus.WAITLISTED),
                ("Gleb", RegStatus.CANCELLED),
            ]
        ):
            session.add(
                Registration(
                    event_id=event.id,
                    user_id=ids[name],
                    status=status.value,
                    queue_no=n + 1,
                    attended_at=now - timedelta(days=2) if status is RegStatus.ATTENDED else None,
                )
            )
        await session.commit()
    tg = {name: telegram_id for name, (telegram_id, _, _) in people.items()}
    return olga, tg, event, x, y


async def _new_draft(olga: Chat, running: Running, text: str) -> str:
    """/broadcast, the message, no buttons: the audience step's text."""
    await olga.send("/broadcast")
    update: dict[str, Any] = {}
    await olga.run(lambda: update.update(running.emu.send_message(olga.user, text)))
    return (await olga.tap_data(wiz(A.NEXT))).plain_text


async def _send_and_deliver(olga: Chat, running: Running) -> None:
    await olga.tap_data(wiz(A.NEXT))  # the preview
    await olga.tap_data(wiz(A.SEND))
    for _ in range(3):
        running.clock.advance(seconds=3)
        await running.app.tick()


async def test_each_picker_counts_as_worked_out_by_hand_and_only_they_get_it(
    running: Running,
) -> None:
    emu = running.emu
    olga, tg, event, x, _y = await _world(running)

    assert recipients(await _new_draft(olga, running, "Первая рассылка")) == 5
    # 🧩 a deficit: Alla only (Boris had X in an older self-assessment, not in his latest)
    await olga.tap_data(wiz(A.DEFICITS))
    picked = await olga.tap_data(wiz(A.DEFICIT, x))
    assert "👥 Recipients: 1 " in olga.popups()[-1]
    assert any(b["text"].startswith("✅ ") for b in picked.all_inline_buttons)
    back = await olga.tap_data(wiz(A.AUDIENCE))
    assert recipients(back.plain_text) == 1
    assert any(b["text"].startswith("✅ 🧩") for b in back.all_inline_buttons)
    # ♻️ Reset: everybody again, nothing ticked
    reset = await olga.tap_data(wiz(A.RESET))
    assert recipients(reset.plain_text) == 5
    assert not any(b["text"].startswith("✅") for b in reset.all_inline_buttons)
    # the age band, then young teachers on top: Alla, Boris, Gleb; then Alla and Gleb
    assert recipients((await olga.tap_data(wiz(A.AGE, "under_35"))).plain_text) == 3
    assert recipients((await olga.tap_data(wiz(A.YOUNG))).plain_text) == 2
    # young alone: Alla and Gleb (Vera has one year but is 35+, Boris is under 35 with 6)
    assert recipients((await olga.tap_data(wiz(A.AGE, "under_35"))).plain_text) == 2
    await olga.tap_data(wiz(A.RESET))
    # no finished self-assessment: Vera (hers is unfinished), Gleb, Olga; with no route: Vera, Olga
    assert recipients((await olga.tap_data(wiz(A.NO_ASSESSMENT))).plain_text) == 3
    assert recipients((await olga.tap_data(wiz(A.NO_ROUTE))).plain_text) == 2
    assert recipients((await olga.tap_data(wiz(A.NO_ASSESSMENT))).plain_text) == 3  # Boris too
    await olga.tap_data(wiz(A.RESET))
    # the people of the event that is over (listed: its no-shows are known only now)
    listing = await olga.tap_data(wiz(A.FILTER_EVENTS))
    assert {"⬅️ Back", "✖️ Cancel"} <= {b["text"] for b in listing.all_inline_buttons}
    chosen = await olga.tap_data(wiz(A.FILTER_EVENT, str(event.id)))
    assert recipients(chosen.plain_text) == 2  # participants: Alla attended, Boris confirmed
    assert recipients((await olga.tap_data(wiz(A.GROUP, "waitlist"))).plain_text) == 1  # Vera
    assert recipients((await olga.tap_data(wiz(A.GROUP, "no_shows"))).plain_text) == 1  # Boris
    # nobody: no-shows AND a route — said so, and no way on to the preview
    empty = await olga.tap_data(wiz(A.NO_ROUTE))
    assert recipients(empty.plain_text) == 1  # Boris has no route
    empty = await olga.tap_data(wiz(A.NO_ASSESSMENT))
    assert recipients(empty.plain_text) == 0  # Boris finished his
    assert "Nobody matches these filters — change them." in empty.plain_text
    labels = [b["text"] for b in empty.all_inline_buttons]
    assert "➡️ Next" not in labels and {"⬅️ Back", "✖️ Cancel", "♻️ Reset"} <= set(labels)
    copies = len(emu.calls_of("copyMessage"))
    mid = empty.message_id
    await olga.run(functools.partial(emu.forge_callback, olga.user, mid, wiz(A.NEXT)))
    assert "Nobody matches" in olga.popups()[-1]
    assert len(emu.calls_of("copyMessage")) == copies  # no preview for nobody
    # back to no-shows only: Boris gets it, nobody else does
    assert recipients((await olga.tap_data(wiz(A.NO_ASSESSMENT))).plain_text) == 1
    assert recipients((await olga.tap_data(wiz(A.NO_ROUTE))).plain_text) == 1
    await _send_and_deliver(olga, running)
    assert [n for n, t in tg.items() if emu.count_sent(t, "Первая рассылка")] == ["Boris"]

    # the second: young teachers under 35 — Alla and Gleb
    await _new_draft(olga, running, "Вторая рассылка")
    await olga.tap_data(wiz(A.YOUNG))
    await _send_and_deliver(olga, running)
    assert [n for n, t in tg.items() if emu.count_sent(t, "Вторая рассылка")] == ["Alla", "Gleb"]
    to_olga = [c for c in emu.calls_of("copyMessage") if int(c.params["chat_id"]) == olga.user.id]
    assert len(to_olga) == 2  # the two previews: she is not a young teacher

    # the third: Alla's deficit; at the preview her new self-assessment has none any more:
    # "send now" to nobody is refused on the server, and so is scheduling
    await _new_draft(olga, running, "Третья рассылка")
    await olga.tap_data(wiz(A.DEFICITS))
    await olga.tap_data(wiz(A.DEFICIT, x))
    await olga.tap_data(wiz(A.AUDIENCE))
    preview = await olga.tap_data(wiz(A.NEXT))
    assert "🚀 Send now to 1" in [b["text"] for b in preview.all_inline_buttons]
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        alla = await repo.users.by_telegram_id(tg["Alla"])
        framework = await repo.frameworks.active()
        assert alla is not None and framework is not None
        now = running.clock.now()
        session.add(
            Attempt(
                user_id=alla.id,
                framework_version=framework.version,
                started_at=now - timedelta(hours=1),
                finished_at=now - timedelta(minutes=1),
                result={"framework_version": framework.version, "scores": [], "deficits": []},
            )
        )
        await session.commit()
    before = len(olga.popups())
    await olga.tap_data(wiz(A.SEND))
    await olga.tap_data(wiz(A.SCHEDULE))
    assert olga.popups()[before:] == ["Nobody matches these filters — change them."] * 2
    async with running.app.sessionmaker() as session:
        saved = list(await session.scalars(select(Broadcast.preview).order_by(Broadcast.id)))
    assert saved == ["Первая рассылка", "Вторая рассылка"]
    assert emu.count_sent(tg["Alla"], "Третья рассылка") == 0
