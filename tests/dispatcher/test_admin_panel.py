"""/admin: users by role, finding a user, grant/revoke/scope buttons (audited, re-checked on
the server) and the system's health, every stored or logged string escaped."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from core.health import ErrorLog
from db.models import AuditEntry, Job, Municipality
from db.repo import Repo
from domain.notices import Notice, NoticeKind
from domain.roles import Role
from domain.scope import Scope
from tests.dispatcher.conftest import Harness
from tests.mocked_bot import Request
from tests.sample import consenting_teacher
from ui.callbacks.admin import AdminAction, AdminCb

ADMIN = 900


def _all(requests: list[Request]) -> str:
    return "\n".join(str(r.params) for r in requests)


async def _munis(h: Harness) -> dict[str, Municipality]:
    async with h.sessionmaker() as session:
        return {m.code: m for m in await Repo(session).reference.municipalities()}


async def _teacher(h: Harness, telegram_id: int, municipality_id: int, name: str) -> int:
    async with h.sessionmaker() as session:
        repo = Repo(session)
        user = await consenting_teacher(repo, telegram_id, municipality_id, h.clock.now())
        user.full_name = name
        await session.commit()
        return user.id


async def _scope(h: Harness, user_id: int) -> tuple[str, Scope | None]:
    async with h.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.get(user_id)
        assert user is not None
        return user.role, await repo.staff.scope(user, Role(user.role))


async def test_the_overview_and_finding_a_user(harness: Harness) -> None:
    munis = await _munis(harness)
    await harness.message(ADMIN, "/start")
    await _teacher(harness, 601, munis["volgodonsk"].id, "Петрова <Мария> & Co")
    home = _all(await harness.message(ADMIN, "/admin"))
    assert "Пользователи по ролям" in home and "педагог: 2" in home  # with the ADMIN_IDS row

    for query in ("/find петрова", "/find Петрова", "/find 601"):
        found = _all(await harness.message(ADMIN, query))
        assert "Найдено: 1" in found, (query, found)
    # a name typed after the button
    await harness.callback(ADMIN, AdminCb(action=AdminAction.FIND).pack())
    assert "Найдено: 1" in _all(await harness.message(ADMIN, "мария"))
    assert "никого не нашлось" in _all(await harness.message(ADMIN, "/find Сидоров"))
    # a teacher gets none of it
    teacher = _all(await harness.message(601, "/admin")) + _all(
        await harness.message(601, "/find Петрова")
    )
    assert "Пользователи по ролям" not in teacher and "Найдено" not in teacher


async def test_scope_buttons_grant_change_and_revoke_audited(harness: Harness) -> None:
    munis = await _munis(harness)
    vdn, tim = munis["volgodonsk"], munis["timashevsky"]
    await harness.message(ADMIN, "/start")
    olga = await _teacher(harness, 602, vdn.id, "Кузнецова Ольга Петровна")
    other = await _teacher(harness, 603, vdn.id, "Орлов Иван")

    card = _all(
        await harness.callback(ADMIN, AdminCb(action=AdminAction.USER, user_id=olga).pack())
    )
    assert "Кузнецова Ольга Петровна" in card and "педагог" in card

    def tap(action: AdminAction, value: int = 0) -> str:
        return AdminCb(action=action, user_id=olga, value=value).pack()

    await harness.callback(ADMIN, tap(AdminAction.MUNI, vdn.id))
    assert await _scope(harness, olga) == ("coordinator", Scope(frozenset({vdn.id})))
    await harness.callback(ADMIN, tap(AdminAction.MUNI, tim.id))
    assert await _scope(harness, olga) == ("coordinator", Scope(frozenset({vdn.id, tim.id})))
    await harness.callback(ADMIN, tap(AdminAction.MUNI, vdn.id))
    await harness.callback(ADMIN, tap(AdminAction.MUNI, tim.id))  # the last one stays
    assert await _scope(harness, olga) == ("coordinator", Scope(frozenset({tim.id})))
    await harness.callback(ADMIN, tap(AdminAction.REGION))
    assert await _scope(harness, olga) == ("coordinator", Scope.whole_region())
    await harness.callback(ADMIN, tap(AdminAction.REVOKE))
    assert await _scope(harness, olga) == ("teacher", None)
    async with harness.sessionmaker() as session:
        grants = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "role_set")
        )
    assert grants == 5
    audit = _all(await harness.message(ADMIN, "/audit"))
    assert "весь регион" in audit and "timashevsky" in audit

    # the same buttons, forged by a teacher: nothing changes
    await harness.callback(603, AdminCb(action=AdminAction.ADMIN, user_id=other).pack())
    await harness.callback(603, AdminCb(action=AdminAction.REGION, user_id=other).pack())
    assert await _scope(harness, other) == ("teacher", None)


async def test_system_health_shows_the_queue_jobs_and_last_errors_escaped(
    harness: Harness,
) -> None:
    await harness.message(ADMIN, "/start")
    errors = ErrorLog()
    harness.dp["error_log"] = errors
    harness.dp["started_at"] = harness.clock.now() - timedelta(hours=2, minutes=5)
    logger = logging.getLogger("metodbot.test_health")
    logger.addHandler(errors)
    try:
        logger.error("boom in <b>%s</b> & co", "handler")
    finally:
        logger.removeHandler(errors)
    now = harness.clock.now()
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        admin = await repo.users.by_telegram_id(ADMIN)
        assert admin is not None
        # a message due tomorrow waits in the outbox; a job keeps failing
        await repo.outbox.add(
            [
                Notice(
                    admin.id,
                    NoticeKind.ROLE_CHANGED,
                    {"role": "admin"},
                    due_at=now + timedelta(days=1),
                )
            ],
            now,
        )
        session.add(Job(kind="nudge", run_at=now, attempts=3, last_error="KeyError('<x>')"))
        await session.commit()

    health = _all(await harness.message(ADMIN, "/health"))
    assert "База данных:" in health and ("KB" in health or "MB" in health)
    assert "Очередь сообщений: 1" in health
    assert "2 ч 5 мин" in health  # uptime
    assert "KeyError(&#x27;&lt;x&gt;&#x27;)" in health or "KeyError('&lt;x&gt;')" in health
    assert "boom in &lt;b&gt;handler&lt;/b&gt; &amp; co" in health
    assert "Версия:" in health
    via_button = _all(await harness.callback(ADMIN, AdminCb(action=AdminAction.HEALTH).pack()))
    assert "Состояние системы" in via_button
    assert "Состояние системы" not in _all(await harness.message(601, "/health"))
