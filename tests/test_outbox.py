"""The outbox on SQLite and PostgreSQL: claims never overlap, a lapsed lease is taken over, a
lost lease cannot mark; and the sender against scripted Telegram answers: 429 waits and sends
the same row once, 403 blocks the user and cancels what waits for them, 5xx retries with
backoff and gives up after the limit with the error kept, 400 fails at once, a stale offer is
never sent."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import load_i18n
from db.models import User
from db.repo import Repo
from domain.notices import Notice, NoticeKind
from outbox.sender import MAX_BATCH, OutboxSender, backoff
from tests.conftest import TEST_TOKEN, make_settings

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

Failure = Callable[[TelegramMethod[Any]], Exception]


class ScriptedSession(BaseSession):
    """Answers sendMessage with success, or with the next scripted failure for that chat."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[int, str]] = []
        self.calls: list[int] = []
        self.failures: dict[int, list[Failure]] = {}
        self._ids = itertools.count(1)

    def fail(self, chat_id: int, *failures: Failure) -> None:
        self.failures.setdefault(chat_id, []).extend(failures)

    async def close(self) -> None:
        pass

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        assert isinstance(method, SendMessage)
        chat_id = int(method.chat_id)
        self.calls.append(chat_id)
        queue = self.failures.get(chat_id)
        if queue:
            raise queue.pop(0)(method)
        self.sent.append((chat_id, method.text))
        return Message(  # type: ignore[return-value]
            message_id=next(self._ids),
            date=NOW,
            chat=Chat(id=chat_id, type="private"),
            text=method.text,
        )

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # pragma: no cover - never downloads
        yield b""


def retry_after(seconds: int) -> Failure:
    return lambda m: TelegramRetryAfter(m, "Too Many Requests", retry_after=seconds)


def forbidden(m: TelegramMethod[Any]) -> Exception:
    return TelegramForbiddenError(m, "Forbidden: bot was blocked by the user")


def server_error(m: TelegramMethod[Any]) -> Exception:
    return TelegramServerError(m, "Internal Server Error")


def bad_request(m: TelegramMethod[Any]) -> Exception:
    return TelegramBadRequest(m, "Bad Request: can't parse entities")


async def _users(repo: Repo, *telegram_ids: int) -> list[User]:
    users = []
    for tg in telegram_ids:
        user, _ = await repo.users.get_or_create(tg, "en" if tg % 2 else "ru")
        users.append(user)
    await repo.session.flush()
    return users


def _comment(user: User, text: str = "Well done") -> Notice:
    return Notice(user.id, NoticeKind.ROUTE_COMMENT, {"text": text})


def _sender(
    sessionmaker: async_sessionmaker[AsyncSession],
    session: ScriptedSession,
    clock: Callable[[], datetime] = lambda: NOW,
    worker: str = "w1",
    **settings: Any,
) -> OutboxSender:
    values = make_settings("sqlite+aiosqlite://", **settings)
    bot = Bot(TEST_TOKEN, session=session)
    return OutboxSender(sessionmaker, bot, load_i18n(values), values, clock=clock, worker=worker)


# ------------------------------------------------------------------ claims


async def test_two_senders_never_claim_the_same_row(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        repo = Repo(session)
        users = await _users(repo, *range(100, 140))
        await repo.outbox.add([_comment(u) for u in users], NOW)
        await session.commit()

    async def claim(worker: str) -> list[int]:
        got: list[int] = []
        while True:
            async with sessionmaker() as session:
                ids = await Repo(session).outbox.claim(worker, NOW, timedelta(minutes=1), 5)
                await session.commit()
            if not ids:
                return got
            got += ids

    first, second = await asyncio.gather(claim("a"), claim("b"))
    assert len(first) + len(second) == 40
    assert not set(first) & set(second)


async def test_a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_mark(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    lease = timedelta(seconds=30)
    async with sessionmaker() as session:
        repo = Repo(session)
        (user,) = await _users(repo, 200)
        await repo.outbox.add([_comment(user)], NOW)
        [row] = await repo.outbox.claim("dead", NOW, lease, 10)
        await session.commit()
    async with sessionmaker() as session:
        repo = Repo(session)
        assert await repo.outbox.claim("alive", NOW + timedelta(seconds=10), lease, 10) == []
        assert await repo.outbox.claim("alive", NOW + timedelta(seconds=31), lease, 10) == [row]
        assert not await repo.outbox.mark_sent(row, "dead", NOW)  # its lease is gone
        assert await repo.outbox.mark_sent(row, "alive", NOW)
        await session.commit()
        assert await repo.outbox.counts() == {"sent": 1}


async def test_a_keyed_notice_is_queued_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        repo = Repo(session)
        (user,) = await _users(repo, 300)
        keyed = Notice(user.id, NoticeKind.ROUTE_COMMENT, {"text": "x"}, key="k1")
        assert await repo.outbox.add([keyed, keyed], NOW) == 1
        await session.commit()
        assert await repo.outbox.add([keyed], NOW) == 0
        assert len(await repo.outbox.of_user(user.id)) == 1


# ------------------------------------------------------------------ the sender


async def test_429_waits_and_sends_the_same_row_once(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    tg = ScriptedSession()
    tg.fail(401, retry_after(1))
    async with sessionmaker() as session:
        repo = Repo(session)
        users = await _users(repo, 401, 402)
        await repo.outbox.add([_comment(u) for u in users], NOW)
        await session.commit()
    loop = asyncio.get_running_loop()
    started = loop.time()
    report = await _sender(sessionmaker, tg).drain()
    assert report.sent == 2 and report.failed == 0
    assert sorted(chat for chat, _ in tg.sent) == [401, 402]  # each exactly once
    assert tg.calls.count(401) == 2  # refused once, then sent
    assert loop.time() - started >= 0.9  # it waited as Telegram asked
    async with sessionmaker() as session:
        rows = await Repo(session).outbox.of_user(users[0].id)
        assert [(r.state, r.attempts) for r in rows] == [("sent", 0)]  # the wait is not a try


async def test_a_long_429_puts_the_row_back_without_counting_a_try(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    tg = ScriptedSession()
    tg.fail(451, retry_after(3600))
    async with sessionmaker() as session:
        repo = Repo(session)
        (user,) = await _users(repo, 451)
        await repo.outbox.add([_comment(user)], NOW)
        await session.commit()
    sender = _sender(sessionmaker, tg)
    sender._resume_at = 0
    report = await sender.drain()
    assert report.retried == 1 and tg.sent == []
    async with sessionmaker() as session:
        [row] = await Repo(session).outbox.of_user(user.id)
        assert row.state == "pending" and row.attempts == 0 and row.claimed_by is None
        assert row.due_at == NOW + timedelta(seconds=3600)


async def test_403_blocks_the_user_and_cancels_what_waits_for_them(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    tg = ScriptedSession()
    tg.fail(501, forbidden)
    async with sessionmaker() as session:
        repo = Repo(session)
        blocked, other = await _users(repo, 501, 502)
        await repo.outbox.add([_comment(blocked, "one"), _comment(blocked, "two")], NOW)
        await repo.outbox.add([_comment(other)], NOW)
        await session.commit()
    sender = _sender(sessionmaker, tg)
    report = await sender.drain()
    assert report.blocked == 1 and [chat for chat, _ in tg.sent] == [502]
    assert tg.calls.count(501) == 1  # the second message was not even tried
    async with sessionmaker() as session:
        repo = Repo(session)
        user = await repo.users.get(blocked.id)
        assert user is not None and user.blocked_at == NOW
        assert [r.state for r in await repo.outbox.of_user(blocked.id)] == [
            "failed",
            "cancelled",
        ]
        # a later notice is not attempted either, until the user writes again
        await repo.outbox.add([_comment(blocked, "three")], NOW)
        await session.commit()
    await sender.drain()
    assert tg.calls.count(501) == 1


async def test_5xx_retries_with_backoff_and_gives_up_with_the_error(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    tg = ScriptedSession()
    tg.fail(601, *[server_error] * 3)
    now = [NOW]
    async with sessionmaker() as session:
        repo = Repo(session)
        (user,) = await _users(repo, 601)
        await repo.outbox.add([_comment(user)], NOW)
        await session.commit()
    sender = _sender(sessionmaker, tg, clock=lambda: now[0], outbox_max_attempts=3)
    await sender.drain()
    async with sessionmaker() as session:
        [row] = await Repo(session).outbox.of_user(user.id)
        assert (row.state, row.attempts) == ("pending", 1)
        assert row.due_at == NOW + backoff(1) and "Internal Server Error" in (row.last_error or "")
    assert (await sender.drain()).sent == 0  # not due yet
    now[0] += backoff(1)
    await sender.drain()
    now[0] += backoff(2)
    report = await sender.drain()
    assert report.failed == 1 and tg.sent == []
    async with sessionmaker() as session:
        [row] = await Repo(session).outbox.of_user(user.id)
        assert (row.state, row.attempts) == ("failed", 3)
        assert "TelegramServerError" in (row.last_error or "")


async def test_a_refused_message_fails_at_once_and_the_rest_go(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    tg = ScriptedSession()
    tg.fail(701, bad_request)
    async with sessionmaker() as session:
        repo = Repo(session)
        (user,) = await _users(repo, 701)
        await repo.outbox.add([_comment(user, "one"), _comment(user, "two")], NOW)
        await session.commit()
    report = await _sender(sessionmaker, tg).drain()
    assert (report.failed, report.sent) == (1, 1)
    assert len(tg.sent) == 1 and "two" in tg.sent[0][1]


async def test_messages_are_rendered_in_the_recipients_language_and_escaped(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    tg = ScriptedSession()
    async with sessionmaker() as session:
        repo = Repo(session)
        ru, en = await _users(repo, 800, 801)  # even ids speak Russian
        await repo.outbox.add([_comment(ru, "<b>&"), _comment(en, "<b>&")], NOW)
        await session.commit()
    await _sender(sessionmaker, tg).drain()
    texts = dict(tg.sent)
    assert "Методист" in texts[800] and "&lt;b&gt;&amp;" in texts[800]
    assert "A methodist commented" in texts[801]


@pytest.mark.parametrize("rate", [5.0])
async def test_one_chat_gets_at_most_the_chat_rate(
    sessionmaker: async_sessionmaker[AsyncSession], rate: float
) -> None:
    tg = ScriptedSession()
    async with sessionmaker() as session:
        repo = Repo(session)
        (user,) = await _users(repo, 900)
        await repo.outbox.add([_comment(user, str(n)) for n in range(6)], NOW)
        await session.commit()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await _sender(sessionmaker, tg, outbox_chat_rate=rate).drain()
    assert [text.rsplit("\n", 1)[-1] for _, text in tg.sent] == [str(n) for n in range(6)]
    assert loop.time() - started >= (6 - 1) / rate * 0.8  # in order, at the chat's pace


class SlowSession(ScriptedSession):
    """Telegram answering after a delay: a stop arrives while messages are in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.first_call = asyncio.Event()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> TelegramType:
        answer = await super().make_request(bot, method, timeout)  # Telegram has it...
        self.first_call.set()
        await asyncio.sleep(0.2)  # ...and the answer is on its way
        return answer


async def test_a_normal_stop_marks_what_was_sent_and_repeats_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """SIGTERM (the dispatcher's shutdown) lets the batch in flight finish and be marked, so
    the restarted bot sends none of it again; only a crash leaves rows to the lease."""
    tg = SlowSession()
    async with sessionmaker() as session:
        repo = Repo(session)
        users = await _users(repo, *range(1000, 1006))
        await repo.outbox.add([_comment(u) for u in users], NOW)
        await session.commit()
    sender = _sender(sessionmaker, tg, outbox_concurrency=2)
    sender.start()
    await tg.first_call.wait()
    await sender.stop()
    async with sessionmaker() as session:
        counts = await Repo(session).outbox.counts()
    assert counts.get("sent", 0) == len(tg.sent) and len(tg.sent) >= 1
    again = ScriptedSession()
    await _sender(sessionmaker, again, worker="w2").drain()
    assert {chat for chat, _ in again.sent}.isdisjoint({chat for chat, _ in tg.sent})
    assert len(again.sent) + len(tg.sent) == 6


async def test_a_claim_takes_at_most_a_batch_whatever_the_configured_rate(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """A rate far above what the machine sends (bench/reminders.py: ~150 rows/s here) must not
    make one claim take every due row: the batch is rendered before its first send and would
    outlive its lease (and a second sender could take the rows meanwhile)."""
    async with sessionmaker() as session:
        repo = Repo(session)
        users = await _users(repo, *range(500, 950))
        await repo.outbox.add([_comment(u) for u in users], NOW)
        await session.commit()
    telegram = ScriptedSession()
    sender = _sender(sessionmaker, telegram, outbox_rate=100_000, outbox_chat_rate=100_000)
    assert sender.batch_size == MAX_BATCH
    claims: list[int] = []
    claim = sender._claim

    async def counting(repo: Repo) -> list[int]:
        ids = await claim(repo)
        claims.append(len(ids))
        return ids

    sender._claim = counting  # type: ignore[method-assign]
    report = await sender.drain()
    assert report.sent == 450 and max(claims) == MAX_BATCH
