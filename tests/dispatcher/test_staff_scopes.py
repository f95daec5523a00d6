"""A staff member's scope is several municipalities, the whole region or one school
(`staff_scopes`): every staff view, event tool and broadcast audience follows it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.models import AuditEntry, Event, Municipality, School, User
from db.repo import Repo
from domain.broadcasts import Filters
from domain.roles import Role
from domain.scope import Scope
from handlers.event_admin.states import EventForm
from services import broadcasts as bc_service
from tests.dispatcher.conftest import Harness
from tests.mocked_bot import Request
from tests.sample import consenting_teacher, load_sample_events
from ui.callbacks.coordinator import TeacherAction, TeacherCb
from ui.callbacks.event_admin import EventAdminAction, EventAdminCb, NewEventAction, NewEventCb

ADMIN = 900


def _all(requests: list[Request]) -> str:
    """Texts and buttons of the replies."""
    return "\n".join(str(r.params) for r in requests)


async def _setup(h: Harness) -> dict[str, Any]:
    """The sample events (Volgodonsk and Timashevsky), a teacher in each of three
    municipalities, and the admin's row."""
    events = await load_sample_events(h.sessionmaker)
    await h.message(ADMIN, "/start")
    async with h.sessionmaker() as session:
        repo = Repo(session)
        munis = {m.code: m for m in await repo.reference.municipalities()}
        third = next(
            m for code, m in sorted(munis.items()) if code not in {"volgodonsk", "timashevsky"}
        )
        now = h.clock.now()
        teachers = {
            "vdn": await consenting_teacher(repo, 501, munis["volgodonsk"].id, now),
            "tim": await consenting_teacher(repo, 502, munis["timashevsky"].id, now),
            "third": await consenting_teacher(repo, 503, third.id, now),
        }
        for code, teacher in teachers.items():
            teacher.full_name = f"Педагог-{code}"
        await session.commit()
        return {"events": events, "munis": munis, "third": third, "teachers": teachers}


async def _row(h: Harness, telegram_id: int) -> User:
    async with h.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(telegram_id)
        assert user is not None
        return user


async def _scope(h: Harness, telegram_id: int, role: Role) -> Scope | None:
    async with h.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(telegram_id)
        assert user is not None
        return await repo.staff.scope(user, role)


async def _audience(h: Harness, telegram_id: int, role: Role, filters: Filters) -> int:
    async with h.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(telegram_id)
        assert user is not None
        size = await bc_service.audience_size(repo, user, role, filters)
        assert not isinstance(size, bc_service.Refusal), size
        return size[0]


async def test_a_coordinator_of_two_municipalities_sees_both_and_nothing_else(
    harness: Harness,
) -> None:
    world = await _setup(harness)
    munis: dict[str, Municipality] = world["munis"]
    third: Municipality = world["third"]
    teachers: dict[str, User] = world["teachers"]
    await harness.message(40, "/start")

    granted = _all(await harness.message(ADMIN, "/grant 40 coordinator volgodonsk, timashevsky"))
    assert "координатор" in granted
    assert await _scope(harness, 40, Role.COORDINATOR) == Scope(
        frozenset({munis["volgodonsk"].id, munis["timashevsky"].id})
    )
    async with harness.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "role_set").order_by(AuditEntry.id)
        )
        assert entry is not None
        assert entry.details["municipalities"] == sorted(
            ["volgodonsk", "timashevsky"], key=lambda c: munis[c].id
        )

    listed = _all(await harness.message(40, "/teachers"))
    assert "Педагог-vdn" in listed and "Педагог-tim" in listed
    assert "Педагог-third" not in listed

    # the third municipality's teacher: neither the card nor a forged callback
    assert "Педагог-tim" in _all(await harness.message(40, "/teacher 502"))
    assert "Педагог-third" not in _all(await harness.message(40, "/teacher 503"))
    forged = TeacherCb(action=TeacherAction.PAST, user_id=teachers["third"].id).pack()
    assert "нет прав" in _all(await harness.callback(40, forged))

    events = _all(await harness.message(40, "/myevents"))
    assert "Формирующее оценивание" in events  # Volgodonsk
    assert "Функциональная грамотность" in events  # Timashevsky
    tim_event: Event = world["events"]["tim-funclit-intern-1"]
    card = _all(
        await harness.callback(
            40, EventAdminCb(action=EventAdminAction.CARD, event=tim_event.id).pack()
        )
    )
    assert "нет прав на управление" not in card

    both = await _audience(harness, 40, Role.COORDINATOR, Filters())
    assert both == 2  # the Volgodonsk and the Timashevsky teacher, not the third one
    one = await _audience(
        harness, 40, Role.COORDINATOR, Filters(municipality_ids=(munis["timashevsky"].id,))
    )
    assert one == 1
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(40)
        assert user is not None
        beyond = await bc_service.audience_size(
            repo, user, Role.COORDINATOR, Filters(municipality_ids=(third.id,))
        )
        assert beyond is bc_service.Refusal.OUT_OF_SCOPE


async def test_a_region_coordinator_sees_every_municipality(harness: Harness) -> None:
    await _setup(harness)
    await harness.message(41, "/start")
    await harness.message(ADMIN, "/grant 41 coordinator region")
    assert await _scope(harness, 41, Role.COORDINATOR) == Scope.whole_region()
    listed = _all(await harness.message(41, "/teachers"))
    assert all(f"Педагог-{k}" in listed for k in ("vdn", "tim", "third"))
    assert await _audience(harness, 41, Role.COORDINATOR, Filters()) == 3
    staff = _all(await harness.message(ADMIN, "/staff"))
    assert "весь регион" in staff


async def test_revoking_takes_the_scope_too(harness: Harness) -> None:
    await _setup(harness)
    await harness.message(42, "/start")
    await harness.message(ADMIN, "/grant 42 coordinator volgodonsk")
    await harness.message(ADMIN, "/revoke 42")
    assert (await _row(harness, 42)).role == "teacher"
    assert await _scope(harness, 42, Role.COORDINATOR) is None
    listed = _all(await harness.message(42, "/teachers"))
    assert "Педагог-vdn" not in listed


async def test_a_school_methodist_sees_only_their_school(harness: Harness) -> None:
    world = await _setup(harness)
    teachers: dict[str, User] = world["teachers"]
    events: dict[str, Event] = world["events"]
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        site = await repo.events.site(int(events["vdn-assess-mc-1"].site_id or 0))
        assert site is not None and site.school_id is not None
        school = await session.get(School, site.school_id)
        assert school is not None
        # a colleague at the same school, and the Volgodonsk teacher at another school
        colleague = await consenting_teacher(repo, 504, school.municipality_id, harness.clock.now())
        colleague.school_id, colleague.full_name = school.id, "Педагог-colleague"
        other = await repo.users.get(teachers["vdn"].id)
        assert other is not None and other.school_id != school.id
        await session.commit()
    await harness.message(43, "/start")
    await harness.message(ADMIN, f"/grant 43 school_methodist {school.id}")
    assert (await _row(harness, 43)).role == "school_methodist"
    assert await _scope(harness, 43, Role.SCHOOL_METHODIST) == Scope(
        frozenset({school.municipality_id}), frozenset({school.id})
    )

    listed = _all(await harness.message(43, "/teachers"))
    assert "Педагог-colleague" in listed
    assert "Педагог-vdn" not in listed and "Педагог-tim" not in listed

    # their school's event (at its site) is theirs; the other school's is not
    mine = events["vdn-assess-mc-1"]
    foreign = events["tim-funclit-intern-1"]
    shown = _all(await harness.message(43, "/myevents"))
    assert "Оценка" in shown and "Функциональная грамотность" not in shown
    card = _all(
        await harness.callback(43, EventAdminCb(action=EventAdminAction.CARD, event=mine.id).pack())
    )
    assert "нет прав на управление" not in card
    refused = _all(
        await harness.callback(
            43, EventAdminCb(action=EventAdminAction.CARD, event=foreign.id).pack()
        )
    )
    assert "нет прав на управление" in refused
    assert "Педагог-colleague" in _all(await harness.message(43, "/teacher 504"))
    assert "Педагог-vdn" not in _all(await harness.message(43, "/teacher 501"))
    forged = TeacherCb(action=TeacherAction.PAST, user_id=teachers["vdn"].id).pack()
    assert "нет прав" in _all(await harness.callback(43, forged))

    # a broadcast's audience never leaves the school, whatever the filters say
    assert await _audience(harness, 43, Role.SCHOOL_METHODIST, Filters()) == 1
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(43)
        assert user is not None
        for filters in (
            Filters(school_ids=(int(teachers["vdn"].school_id or 0),)),
            Filters(municipality_ids=(int(teachers["tim"].municipality_id or 0),)),
            Filters(event_id=foreign.id),
        ):
            refused_size = await bc_service.audience_size(
                repo, user, Role.SCHOOL_METHODIST, filters
            )
            assert refused_size is bc_service.Refusal.OUT_OF_SCOPE, filters


async def test_a_school_methodists_event_is_at_their_schools_site(harness: Harness) -> None:
    world = await _setup(harness)
    events: dict[str, Event] = world["events"]
    own_site = int(events["vdn-assess-mc-1"].site_id or 0)
    other_site = int(events["tim-funclit-intern-1"].site_id or 0)
    async with harness.sessionmaker() as session:
        site = await Repo(session).events.site(own_site)
        assert site is not None and site.school_id is not None
        school_id = site.school_id
    await harness.message(44, "/start")
    await harness.message(ADMIN, f"/grant 44 school_methodist {school_id}")
    started = _all(await harness.message(44, "/newevent"))
    assert "площадке" not in started  # they have a site: the wizard starts

    context = harness.dp.fsm.get_context(harness.bot, chat_id=44, user_id=44)
    await context.set_state(EventForm.site)
    for forged in (str(other_site), "0"):  # another school's site, or none at all
        popup = _all(
            await harness.callback(44, NewEventCb(action=NewEventAction.SITE, value=forged).pack())
        )
        assert "устарела" in popup, forged
        assert (await context.get_data()).get("site") is None
    accepted = _all(
        await harness.callback(
            44, NewEventCb(action=NewEventAction.SITE, value=str(own_site)).pack()
        )
    )
    assert "устарела" not in accepted
    assert (await context.get_data()).get("site") == own_site
