"""A user who blocks the bot is remembered (nothing more is sent, what waited is dropped);
unblocking it, or writing to it, makes them reachable again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from db.repo import Repo
from domain.notices import Notice, NoticeKind
from tests.dispatcher.conftest import Harness

USER = 4242


def _member(status: str, bot: dict[str, Any]) -> dict[str, Any]:
    return {"status": status, "user": bot} | ({"until_date": 0} if status == "kicked" else {})


def _membership(old: str, new: str) -> dict[str, Any]:
    who = {"id": USER, "is_bot": False, "first_name": "Анна", "language_code": "ru"}
    bot = {"id": 123456, "is_bot": True, "first_name": "metodbot"}
    return {
        "update_id": 900,
        "my_chat_member": {
            "chat": {"id": USER, "type": "private", "first_name": "Анна"},
            "from": who,
            "date": 1_790_000_000,
            "old_chat_member": _member(old, bot),
            "new_chat_member": _member(new, bot),
        },
    }


async def _state(harness: Harness) -> tuple[bool, list[str]]:
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(USER)
        assert user is not None
        return user.blocked_at is not None, [r.state for r in await repo.outbox.of_user(user.id)]


async def test_blocking_and_unblocking_the_bot(harness: Harness) -> None:
    await harness.message(USER, "/start")
    async with harness.sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.by_telegram_id(USER)
        assert user is not None
        await repo.outbox.add(
            [Notice(user.id, NoticeKind.ROUTE_COMMENT, {"text": "hi"})], datetime.now(UTC)
        )
        await session.commit()
    assert await harness.feed(_membership("member", "kicked")) == []  # nothing is answered
    assert await _state(harness) == (True, ["cancelled"])
    await harness.feed(_membership("kicked", "member"))
    assert (await _state(harness))[0] is False


async def test_writing_to_the_bot_again_makes_the_user_reachable(harness: Harness) -> None:
    await harness.message(USER, "/start")
    await harness.feed(_membership("member", "kicked"))
    assert (await _state(harness))[0] is True
    harness.dp["user_cache"].invalidate(USER)  # as after the cache's minute
    await harness.message(USER, "/help")
    assert (await _state(harness))[0] is False
