"""Broadcast use cases on SQLite and PostgreSQL: the scope is checked on the server, the
audience is resolved once into one outbox row per recipient (a retried start adds none), a
scheduled one starts by its job and a cancelled one never does, ⏸ stop withdraws the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import User
from db.repo import Repo
from db.repositories.broadcasts import ref_of
from db.repositories.outbox import OutboxState
from domain.broadcasts import BroadcastState, Filters
from domain.roles import Role
from scheduler.runner import run_due_jobs
from services import broadcasts as service
from tests.sample import consenting_teacher, load_sample_events
from tests.staffing import make_staff

Maker = async_sessionmaker[AsyncSession]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def _world(sessionmaker: Maker) -> dict[str, list[User] | User | int]:
    events = await load_sample_events(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        here, there = [m.id for m in (await repo.reference.municipalities())[:2]]
        teachers = [await consenting_teacher(repo, 5100 + n, here, NOW) for n in range(5)]
        others = [await consenting_teacher(repo, 5200 + n, there, NOW) for n in range(2)]
        teachers[0].muted = ["news"]
        olga = await consenting_teacher(repo, 5300, here, NOW)
        await make_staff(repo, olga, Role.COORDINATOR, here)
        await session.commit()
    event_there = next(e for e in events.values() if e.municipality_id != here)
    return {
        "teachers": teachers,
        "others": others,
        "olga": olga,
        "here": here,
        "there": there,
        "event_there": event_there.id,
    }


def _draft(**values: object) -> service.Draft:
    base: dict[str, object] = {
        "source_chat_id": 5300,
        "source_message_id": 17,
        "content_kind": "text",
        "preview": "Новости методической службы",
    }
    base.update(values)
    return service.Draft(**base)  # type: ignore[arg-type]


async def test_a_coordinator_broadcasts_within_their_scope_only(sessionmaker: Maker) -> None:
    world = await _world(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await repo.users.get(world["olga"].id)  # type: ignore[union-attr]
        teacher = await repo.users.get(world["teachers"][1].id)  # type: ignore[index]
        assert olga is not None and teacher is not None
        # the live count: five teachers and herself in her municipality, one muted news
        assert await service.audience_size(repo, olga, Role.COORDINATOR, Filters()) == (6, 1)
        there = Filters(municipality_ids=(int(world["there"]),))  # type: ignore[arg-type]
        forged = [
            await service.audience_size(repo, olga, Role.COORDINATOR, there),
            await service.audience_size(
                repo,
                olga,
                Role.COORDINATOR,
                Filters(event_id=int(world["event_there"])),  # type: ignore[arg-type]
            ),
            await service.create(repo, olga, Role.COORDINATOR, _draft(filters=there), NOW),
            await service.create(
                repo, olga, Role.COORDINATOR, _draft(event_id=world["event_there"]), NOW
            ),
        ]
        assert forged == [service.Refusal.OUT_OF_SCOPE] * 4
        # a teacher can do none of it, whatever they send
        assert await service.audience_size(repo, teacher, Role.TEACHER, Filters()) is (
            service.Refusal.NOT_STAFF
        )
        assert await service.create(repo, teacher, Role.TEACHER, _draft(), NOW) is (
            service.Refusal.NOT_STAFF
        )
        assert await service.create(
            repo, olga, Role.COORDINATOR, _draft(url="javascript:x"), NOW
        ) is (service.Refusal.BAD_URL)
        # an administrator reaches the region
        assert await service.audience_size(repo, olga, Role.ADMIN, there) == (2, 0)


async def test_a_school_methodists_broadcast_never_leaves_the_school(sessionmaker: Maker) -> None:
    world = await _world(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        teachers = [await repo.users.get(u.id) for u in world["teachers"]]  # type: ignore[union-attr]
        school = await repo.reference.school(int(teachers[0].school_id or 0))  # type: ignore[union-attr]
        assert school is not None
        # two of the five teachers move to another school of the municipality
        another = next(
            s for s in await repo.reference.schools(school.municipality_id) if s.id != school.id
        )
        for moved in teachers[3:]:
            assert moved is not None
            await repo.users.set_fields(moved, school_id=another.id)
        head = await consenting_teacher(repo, 5400, school.municipality_id, NOW)
        await make_staff(repo, head, Role.SCHOOL_METHODIST, school_id=school.id)
        await session.commit()
        everyone = Filters(municipality_ids=(school.municipality_id,))
        sent = await service.create(repo, head, Role.SCHOOL_METHODIST, _draft(), NOW)
        assert not isinstance(sent, service.Refusal)
        await session.commit()
        assert sent.scope == {
            "municipality_ids": [school.municipality_id],
            "school_ids": [school.id],
        }
        olga = world["olga"]
        expected = sorted([u.id for u in teachers[:3] if u is not None] + [olga.id, head.id])  # type: ignore[union-attr]
        assert await repo.broadcasts.recipients_of(sent.id) == expected
        # naming their municipality does not widen it; another school is refused
        wide = await service.create(
            repo, head, Role.SCHOOL_METHODIST, _draft(filters=everyone), NOW
        )
        assert not isinstance(wide, service.Refusal)
        assert await repo.broadcasts.recipients_of(wide.id) == expected
        assert await service.create(
            repo,
            head,
            Role.SCHOOL_METHODIST,
            _draft(filters=Filters(school_ids=(another.id,))),
            NOW,
        ) is (service.Refusal.OUT_OF_SCOPE)


async def test_a_broadcast_becomes_one_row_per_recipient_once(sessionmaker: Maker) -> None:
    world = await _world(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await repo.users.get(world["olga"].id)  # type: ignore[union-attr]
        assert olga is not None
        sent = await service.create(repo, olga, Role.COORDINATOR, _draft(), NOW)
        assert not isinstance(sent, service.Refusal)
        await session.commit()
        assert sent.state == BroadcastState.SENDING.value and sent.total == 6
        # a second start (a retried job, a double tap) adds nobody
        assert await service.start(repo, sent.id, NOW) == 0
        recipients = await repo.broadcasts.recipients_of(sent.id)
        expected = sorted(
            [u.id for u in world["teachers"]] + [olga.id]  # type: ignore[union-attr]
        )
        assert recipients == expected
        # ⏸ stop: whatever waits is withdrawn; the report stays
        progress = await service.stop(repo, olga, Role.COORDINATOR, sent.id, NOW)
        assert not isinstance(progress, service.Refusal)
        assert (progress.total, progress.left, progress.dropped) == (6, 0, 6)
        assert await service.stop(repo, olga, Role.COORDINATOR, sent.id, NOW) is (
            service.Refusal.NOT_NOW
        )
        rows = await repo.outbox.of_user(olga.id)
        assert [r.state for r in rows if r.ref == ref_of(sent.id)] == [OutboxState.CANCELLED.value]


async def test_a_scheduled_broadcast_starts_by_its_job_and_a_cancelled_one_never(
    sessionmaker: Maker,
) -> None:
    world = await _world(sessionmaker)
    at = NOW + timedelta(hours=3)
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await repo.users.get(world["olga"].id)  # type: ignore[union-attr]
        assert olga is not None
        assert (
            await service.create(
                repo, olga, Role.COORDINATOR, _draft(scheduled_at=NOW - timedelta(minutes=1)), NOW
            )
            is service.Refusal.PAST
        )
        young = Filters(young=True, no_route=True)
        later = await service.create(
            repo, olga, Role.COORDINATOR, _draft(filters=young, scheduled_at=at), NOW
        )
        dropped = await service.create(repo, olga, Role.COORDINATOR, _draft(scheduled_at=at), NOW)
        assert not isinstance(later, service.Refusal) and not isinstance(dropped, service.Refusal)
        cancelled = await service.cancel(repo, olga, Role.COORDINATOR, dropped.id, NOW)
        assert not isinstance(cancelled, service.Refusal)
        await session.commit()
        later_id, dropped_id = later.id, dropped.id
    assert await run_due_jobs(sessionmaker, at - timedelta(seconds=1)) == 0
    assert await run_due_jobs(sessionmaker, at) == 2
    async with sessionmaker() as session:
        repo = Repo(session)
        started = await repo.broadcasts.get(later_id)
        assert started is not None and started.state == BroadcastState.SENDING.value
        assert started.started_at == at and started.total == 6
        assert await repo.broadcasts.recipients_of(dropped_id) == []
        gone = await repo.broadcasts.get(dropped_id)
        assert gone is not None and gone.state == BroadcastState.CANCELLED.value


async def test_a_scheduled_broadcast_moves_to_another_time_and_message_until_it_starts(
    sessionmaker: Maker,
) -> None:
    world = await _world(sessionmaker)
    at, later = NOW + timedelta(hours=1), NOW + timedelta(hours=4)
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await repo.users.get(world["olga"].id)  # type: ignore[union-attr]
        teacher = await repo.users.get(world["teachers"][1].id)  # type: ignore[index]
        assert olga is not None and teacher is not None
        planned = await service.create(repo, olga, Role.COORDINATOR, _draft(scheduled_at=at), NOW)
        assert not isinstance(planned, service.Refusal)
        # a teacher, the past, another coordinator's broadcast: refused
        assert await service.reschedule(repo, teacher, Role.TEACHER, planned.id, later, NOW) is (
            service.Refusal.NOT_STAFF
        )
        assert await service.reschedule(repo, olga, Role.COORDINATOR, planned.id, NOW, NOW) is (
            service.Refusal.PAST
        )
        other = await consenting_teacher(repo, 5301, int(world["here"]), NOW)  # type: ignore[arg-type]
        await make_staff(repo, other, Role.COORDINATOR, int(world["here"]))  # type: ignore[arg-type]
        assert await service.reschedule(repo, other, Role.COORDINATOR, planned.id, later, NOW) is (
            service.Refusal.NOT_FOUND
        )
        moved = await service.reschedule(repo, olga, Role.COORDINATOR, planned.id, later, NOW)
        assert not isinstance(moved, service.Refusal) and moved.scheduled_at == later
        edited = await service.replace_message(
            repo, olga, Role.COORDINATOR, planned.id, (5300, 99), "photo", "Новая афиша"
        )
        assert not isinstance(edited, service.Refusal)
        # an administrator may cancel it, but the message must come from its author's chat
        assert (
            await service.replace_message(
                repo, other, Role.ADMIN, planned.id, (5301, 5), "text", "x"
            )
            is service.Refusal.NOT_FOUND
        )
        await session.commit()
        planned_id = planned.id
    # the old time passes: nothing starts; at the new time it does, with the new message
    assert await run_due_jobs(sessionmaker, at) == 0
    assert await run_due_jobs(sessionmaker, later) == 1
    async with sessionmaker() as session:
        repo = Repo(session)
        started = await repo.broadcasts.get(planned_id)
        assert started is not None and started.state == BroadcastState.SENDING.value
        assert (started.source_message_id, started.content_kind) == (99, "photo")
        olga = await repo.users.get(world["olga"].id)  # type: ignore[union-attr]
        assert olga is not None
        assert (
            await service.reschedule(
                repo, olga, Role.COORDINATOR, planned_id, later + timedelta(days=1), later
            )
            is service.Refusal.NOT_NOW
        )


async def test_a_stale_job_of_a_moved_broadcast_does_not_start_it_early(
    sessionmaker: Maker,
) -> None:
    """Even if an old start job were left due (a second process scheduled it), the broadcast
    waits for its own time."""
    world = await _world(sessionmaker)
    at = NOW + timedelta(hours=1)
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await repo.users.get(world["olga"].id)  # type: ignore[union-attr]
        assert olga is not None
        planned = await service.create(repo, olga, Role.COORDINATOR, _draft(scheduled_at=at), NOW)
        assert not isinstance(planned, service.Refusal)
        planned.scheduled_at = at + timedelta(hours=2)  # its job still says `at`
        await session.commit()
        planned_id = planned.id
    assert await run_due_jobs(sessionmaker, at) == 1
    async with sessionmaker() as session:
        stored = await Repo(session).broadcasts.get(planned_id)
        assert stored is not None and stored.state == BroadcastState.SCHEDULED.value


async def test_history_pages_and_a_broadcast_nobody_follows_ends_by_the_tick(
    sessionmaker: Maker,
) -> None:
    world = await _world(sessionmaker)
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await repo.users.get(world["olga"].id)  # type: ignore[union-attr]
        assert olga is not None
        ids = []
        for n in range(service.HISTORY_PAGE + 2):
            sent = await service.create(
                repo, olga, Role.COORDINATOR, _draft(), NOW + timedelta(minutes=n)
            )
            assert not isinstance(sent, service.Refusal)
            ids.append(sent.id)
        waiting = await service.create(
            repo, olga, Role.COORDINATOR, _draft(scheduled_at=NOW + timedelta(days=1)), NOW
        )
        assert not isinstance(waiting, service.Refusal)
        await session.commit()
    async with sessionmaker() as session:
        repo = Repo(session)
        olga = await repo.users.get(world["olga"].id)  # type: ignore[union-attr]
        assert olga is not None
        first = await service.history(repo, olga, Role.COORDINATOR, 0)
        assert not isinstance(first, service.Refusal)
        assert [b.id for b in first.scheduled] == [waiting.id]
        assert [b.id for b in first.past] == ids[::-1][: service.HISTORY_PAGE]
        assert first.pages == 2 and first.delivered == {b: 0 for b in ids[::-1][:8]}
        second = await service.history(repo, olga, Role.COORDINATOR, 5)  # clamped to the last
        assert not isinstance(second, service.Refusal)
        assert (
            second.page == 1
            and second.scheduled == []
            and [b.id for b in second.past] == ids[1::-1]
        )
        teacher = await repo.users.get(world["teachers"][1].id)  # type: ignore[index]
        assert teacher is not None
        assert await service.history(repo, teacher, Role.TEACHER, 0) is service.Refusal.NOT_STAFF
        # every copy is accounted for (here: withdrawn), no progress message follows: it ends
        for broadcast_id in ids:
            await repo.outbox.cancel_ref(ref_of(broadcast_id), "test")
        assert await service.finish_unwatched(repo, NOW) == len(ids)
        assert await service.finish_unwatched(repo, NOW) == 0
        done = await repo.broadcasts.get(ids[0])
        assert done is not None
        await session.refresh(done)
        assert done.state == BroadcastState.DONE.value
