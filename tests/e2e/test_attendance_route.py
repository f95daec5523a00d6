"""Attendance and the route with the shipped sample data: a check-in completes the matching
route step; when the coordinator unticks the attendance, that step returns to its previous
status and loses the event's evidence, while a step the teacher completed with their own
evidence stays done. Ticking it again completes the step again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from db.models import Event, Municipality, Registration, Route, RouteStep
from db.repo import Repo
from tests.e2e.conftest import Running
from tests.e2e.flows import coordinator, register
from tests.sample import load_sample_events
from ui.callbacks.event_admin import EventAdminCb

#: the sample internship «Формирующее оценивание…» (competencies assessment, digital), at the
#: sample site of Volgodonsk's gymnasium No. 1
EVENT_CODE = "vdn-assess-intern-1"


def _step(position: int, competency: str, kind: str, status: str, **extra: object) -> RouteStep:
    return RouteStep(
        position=position,
        competency=competency,
        number=position,
        kind=kind,
        target_date=date.today() + timedelta(days=30),
        status=status,
        content={
            "title": {"ru": f"Шаг {position}", "en": f"Step {position}"},
            "what": {"ru": "", "en": ""},
            "how": {"ru": "", "en": ""},
        },
        **extra,
    )


async def _steps(running: Running, route_id: int) -> dict[int, RouteStep]:
    async with running.app.sessionmaker() as session:
        rows = await session.scalars(select(RouteStep).where(RouteStep.route_id == route_id))
        return {s.position: s for s in rows}


async def test_unticking_attendance_reopens_the_step_it_completed(running: Running) -> None:
    emu = running.emu
    events = await load_sample_events(running.app.sessionmaker)
    event_id = events[EVENT_CODE].id
    async with running.app.sessionmaker() as session:
        event = await session.get(Event, event_id)
        assert event is not None and event.site_id is not None
        muni = await session.get(Municipality, event.municipality_id)
        assert muni is not None
        school = (await Repo(session).reference.schools(muni.id))[0]
        # the session is under way: check-in is open
        now = datetime.now(UTC)
        event.starts_at, event.ends_at = now - timedelta(minutes=10), now + timedelta(hours=3)
        event.registration_deadline = None
        await session.commit()
        code, title = event.checkin_code, event.title

    coord = await coordinator(running, 8501, muni.id, school.id)
    teacher = running.chat(8502, lang="en", first_name="Anna")
    await register(teacher, emu, municipality_id=muni.id, school_id=school.id)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        anna = await repo.users.by_telegram_id(8502)
        assert anna is not None
        route = await repo.routes.create(
            anna.id,
            None,
            "normal",
            [
                # the teacher has started it: attendance completes it
                _step(1, "assessment", "practice", "in_progress"),
                # done by the teacher with their own evidence: attendance never touches it
                _step(
                    2,
                    "digital",
                    "practice",
                    "done",
                    evidence_text="My own lesson with digital quizzes",
                    reflection="Students liked the instant feedback",
                    completed_at=datetime.now(UTC) - timedelta(days=3),
                ),
                _step(3, "digital", "learn", "planned"),  # another kind: untouched
            ],
        )
        # she signed up before the session started
        reg = Registration(event_id=event_id, user_id=anna.id, status="confirmed", queue_no=1)
        session.add(reg)
        await session.commit()
        route_id, reg_id = route.id, reg.id

    # the teacher checks in: step 1 is done with the event as evidence
    await teacher.send(f"/checkin {code}")
    assert "checked in" in teacher.last.plain_text and "Step 1" in teacher.last.plain_text
    steps = await _steps(running, route_id)
    assert steps[1].status == "done" and steps[1].evidence_text is not None
    assert title in steps[1].evidence_text
    assert steps[2].status == "done" and steps[3].status == "planned"

    # the coordinator unticks the attendance: step 1 is back in progress, its evidence gone
    await coord.send("/myevents")
    await coord.tap_data(EventAdminCb(action="card", event=event_id).pack())
    await coord.tap("👥 Participants")
    await coord.tap_data(EventAdminCb(action="att", event=event_id, reg=reg_id).pack())
    assert "Attended" not in coord.last.plain_text
    steps = await _steps(running, route_id)
    assert steps[1].status == "in_progress"
    assert steps[1].evidence_text is None and steps[1].completed_at is None
    assert steps[2].status == "done"  # the teacher's own
    assert steps[2].evidence_text == "My own lesson with digital quizzes"
    assert steps[2].reflection == "Students liked the instant feedback"
    assert steps[3].status == "planned"
    async with running.app.sessionmaker() as session:
        stored = await session.get(Route, route_id)
        assert stored is not None and stored.status == "active"

    # ticked again by the coordinator: the step is done again; unticked: in progress again
    await coord.tap_data(EventAdminCb(action="att", event=event_id, reg=reg_id).pack())
    assert "Attended" in coord.last.plain_text
    steps = await _steps(running, route_id)
    assert steps[1].status == "done" and title in (steps[1].evidence_text or "")
    await coord.tap_data(EventAdminCb(action="att", event=event_id, reg=reg_id).pack())
    steps = await _steps(running, route_id)
    assert steps[1].status == "in_progress" and steps[1].evidence_text is None
    emu.assert_no_violations()


async def test_unticking_leaves_a_step_the_teacher_has_made_their_own(running: Running) -> None:
    """Attendance completed the step, then the teacher put their own evidence on it: it stays
    done when the attendance is taken back."""
    emu = running.emu
    events = await load_sample_events(running.app.sessionmaker)
    event_id = events[EVENT_CODE].id
    async with running.app.sessionmaker() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        muni_id = event.municipality_id
        school = (await Repo(session).reference.schools(muni_id))[0]
    coord = await coordinator(running, 8511, muni_id, school.id)
    teacher = running.chat(8512, lang="en", first_name="Anna")
    await register(teacher, emu, municipality_id=muni_id, school_id=school.id)
    async with running.app.sessionmaker() as session:
        repo = Repo(session)
        anna = await repo.users.by_telegram_id(8512)
        assert anna is not None
        route = await repo.routes.create(
            anna.id, None, "normal", [_step(1, "assessment", "practice", "planned")]
        )
        result = await repo.events.sign_up(event_id, anna.id, datetime.now(UTC), eligible=True)
        assert result.registration is not None
        await session.commit()
        route_id, reg_id = route.id, result.registration.id

    await coord.send("/myevents")
    await coord.tap_data(EventAdminCb(action="card", event=event_id).pack())
    await coord.tap("👥 Participants")
    await coord.tap_data(EventAdminCb(action="att", event=event_id, reg=reg_id).pack())
    steps = await _steps(running, route_id)
    assert steps[1].status == "done" and steps[1].reflection is None

    async with running.app.sessionmaker() as session:  # the teacher's evidence and reflection
        repo = Repo(session)
        step = await repo.routes.step(steps[1].id)
        assert step is not None
        await repo.routes.record_evidence(
            step,
            running.clock.now(),
            text="Rubrics I tried in 5B",
            file_id=None,
            file_name=None,
            reflection="Peer feedback got sharper",
        )
        await session.commit()

    await coord.tap_data(EventAdminCb(action="att", event=event_id, reg=reg_id).pack())
    assert "Attended" not in coord.last.plain_text
    steps = await _steps(running, route_id)
    assert steps[1].status == "done" and steps[1].evidence_text == "Rubrics I tried in 5B"
    assert steps[1].reflection == "Peer feedback got sharper"
    emu.assert_no_violations()
