"""The sender: drains the outbox after commits, within Telegram's limits.

How a row travels
1. **Claim** (one short transaction): up to a batch of due rows get this sender's name and a
   lease (`OUTBOX_LEASE_SECONDS`). Two senders — two processes on one PostgreSQL database, or a
   sender and its restarted self — never hold the same row (`OutboxRepo.claim`).
2. **Decide and render** (one short transaction, closed before any call to Telegram): each row
   in its recipient's language and time zone from what the database says now; stale rows (an
   offer taken meanwhile, a reminder of a cancelled registration, an erased or blocked
   recipient) are cancelled unsent, so are reminders of a category the recipient switched off;
   in their quiet hours a row waits for their morning (`domain.reminders.decide`), joining a
   row of the same kind already waiting there, unless it is about an event that starts soon.
3. **Send and mark**, row by row: the Bot API call happens outside any transaction; right after
   it a short transaction marks the row (sent, failed, or due again later).

The crash window. If the process dies after Telegram accepted a message and before its row is
marked sent, the lease lapses and the row is sent again: that row is delivered twice. Nothing
else is. So a crash duplicates at most the rows in flight at that moment — at most
`OUTBOX_CONCURRENCY` rows, each at most once more — and loses none (tests/faults).

Telegram's limits
* a global rate (`OUTBOX_RATE` messages per second, default 25; `OUTBOX_PAID_BROADCAST=true`
  sends with `allow_paid_broadcast` at `OUTBOX_PAID_RATE`) and `OUTBOX_CHAT_RATE` messages per
  second to any one chat (default 1), both with `aiolimiter`; one chat's rows go in order;
* 429 "retry after N": every send waits N seconds, then the same row is tried again; it is never
  dropped and the wait is not counted against it;
* 403 (the user blocked the bot or deleted their account): the user is marked
  (`users.blocked_at`) and their pending rows are cancelled; nothing is sent to them until they
  write to the bot again;
* 400 (Telegram refuses this message): the row fails at once with the error stored;
* 5xx and network errors: retried with exponential backoff; after `OUTBOX_MAX_ATTEMPTS` tries
  the row fails with its last error stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.utils.i18n import I18n
from aiolimiter import AsyncLimiter
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import SystemClock
from core.settings import Settings
from db.repo import Repo
from db.repositories.outbox import Claimed
from domain.notices import NoticeKind
from domain.reminders import COLLAPSIBLE, Decision, Verdict, category_of, decide
from outbox.render import render
from outbox.rendered import RenderContext, Rendered
from services.followups import FOLLOWUPS, Sent

log = logging.getLogger(__name__)

T = TypeVar("T")

#: the longest wait between two tries of a row that hit a server or network error
MAX_BACKOFF = timedelta(minutes=10)
#: the limiter's bucket, in seconds
LIMITER_WINDOW = 0.1
#: the most rows one claim takes (rendering ~4 ms a row here: under a second, far within the
#: lease, whatever OUTBOX_RATE says; bench/reminders.py measured the cost)
MAX_BATCH = 200
#: how many chats' rate limiters are remembered (least recently used are forgotten)
CHAT_LIMITERS = 10_000


def backoff(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at MAX_BACKOFF: the wait before try number `attempts + 1`."""
    return min(timedelta(seconds=2**attempts), MAX_BACKOFF)


@dataclass
class Report:
    """What one `drain` did (tests, logs, benchmarks)."""

    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    retried: int = 0
    blocked: int = 0
    #: held back by the recipient's quiet hours
    deferred: int = 0

    def add(self, other: Report) -> None:
        for name in ("sent", "failed", "cancelled", "retried", "blocked", "deferred"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Outgoing:
    row: Claimed
    chat_id: int
    rendered: Rendered


@dataclass
class _Batch:
    ids: list[int]
    lease_until: float  # loop time
    report: Report = field(default_factory=Report)


class OutboxSender:
    """One per process; `start()` runs it in the background, `wake()` after a commit that
    queued rows, `drain()` sends whatever is due now (the tests call it directly)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bot: Bot,
        i18n: I18n,
        settings: Settings,
        *,
        clock: Callable[[], datetime] | None = None,
        worker: str | None = None,
        on_blocked: Callable[[int], None] | None = None,
    ) -> None:
        self.sessionmaker, self.bot, self.i18n, self.settings = sessionmaker, bot, i18n, settings
        self.clock = clock or SystemClock().now
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.paid = settings.outbox_paid_broadcast
        self.policy = settings.reminders
        rate = settings.outbox_paid_rate if self.paid else settings.outbox_rate
        # `rate` a second with bursts of a tenth of it: no second ever sees more than 1.1 x rate
        # (a bucket of a whole second would let 2 x rate through in the first one)
        self.limiter = AsyncLimiter(rate * LIMITER_WINDOW, LIMITER_WINDOW)
        self.lease = timedelta(seconds=settings.outbox_lease_seconds)
        # about a second's worth of rows per claim, never more than MAX_BATCH: a batch is
        # rendered before its first send, and must be well within its lease
        self.batch_size = max(settings.outbox_concurrency, min(int(rate), MAX_BATCH))
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        self._slots = asyncio.Semaphore(settings.outbox_concurrency)
        self._wake = asyncio.Event()
        self._resume_at = 0.0  # loop time before which nothing is sent (Telegram's 429)
        self._task: asyncio.Task[None] | None = None
        self._draining = asyncio.Lock()
        self._stopping = False
        #: told the Telegram id of a user who blocked the bot (the user cache forgets them)
        self.on_blocked = on_blocked
        self.in_flight = 0

    # ------------------------------------------------------------------ running

    def wake(self) -> None:
        """Rows were committed: look now instead of at the next poll."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop after the batch in flight is sent and marked (at most `grace` seconds), so a
        normal shutdown repeats nothing; only a crash leaves rows to the lease."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=grace)
        except TimeoutError:
            log.warning("outbox: stopped with messages in flight; the lease hands them over")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._stopping = False

    async def _run(self) -> None:
        poll = self.settings.outbox_poll_seconds
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:  # a locked or unreachable database: try again at the next poll
                log.exception("outbox: drain failed; retrying in %.1f s", poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll)

    async def drain(self, now: datetime | None = None) -> Report:
        """Send every row that is due now (and claimable by this sender). `now` moves the
        clock for this drain (the tests' and the console's "as of" time)."""
        report = Report()
        async with self._draining:
            clock = self.clock
            if now is not None:
                self.clock = lambda: now
            try:
                while not self._stopping:
                    ids = await self._db(self._claim)
                    if not ids:
                        return report
                    batch = _Batch(ids, self._loop_time() + self.lease.total_seconds())
                    await self._deliver(batch)
                    report.add(batch.report)
                return report
            finally:
                self.clock = clock

    async def settle(self, now: datetime | None = None, within: float = 10.0) -> None:
        """Wait until nothing is due (as of `now`) and nothing is in flight: "all sent"."""
        deadline = self._loop_time() + within
        while True:
            await self.drain(now)
            async with self.sessionmaker() as session:
                waiting = await Repo(session, self.policy).outbox.waiting(now or self.clock())
            if not waiting and self.in_flight == 0:
                return
            if self._loop_time() > deadline:
                raise TimeoutError("the outbox did not settle")
            await asyncio.sleep(0.02)

    # ------------------------------------------------------------------ the three steps

    async def _claim(self, repo: Repo) -> list[int]:
        return await repo.outbox.claim(self.worker, self.clock(), self.lease, self.batch_size)

    async def _deliver(self, batch: _Batch) -> None:
        outgoing = await self._render(batch)
        by_chat: dict[int, list[_Outgoing]] = {}
        for item in outgoing:
            by_chat.setdefault(item.chat_id, []).append(item)
        await asyncio.gather(*(self._send_chat(batch, items) for items in by_chat.values()))

    async def _render(self, batch: _Batch) -> list[_Outgoing]:
        outgoing: list[_Outgoing] = []
        async with self.sessionmaker() as session:
            repo = Repo(session, self.policy)
            now = self.clock()
            for row in await repo.outbox.load(batch.ids):
                result = await self._render_one(repo, row, now)
                if isinstance(result, _Outgoing):
                    outgoing.append(result)
                elif isinstance(result, Decision):
                    assert result.until is not None
                    await repo.outbox.defer(
                        row.id,
                        self.worker,
                        result.until,
                        collapse=NoticeKind(row.kind) in COLLAPSIBLE,
                    )
                    batch.report.deferred += 1
                else:
                    await repo.outbox.mark_cancelled(row.id, self.worker, result)
                    batch.report.cancelled += 1
            await session.commit()
        return outgoing

    async def _render_one(
        self, repo: Repo, row: Claimed, now: datetime
    ) -> _Outgoing | Decision | str:
        """The row's message; or the quiet hours' decision to defer it; or why it is
        cancelled unsent. Decided now, from what the database and the recipient's settings
        say now: a reminder queued a week ago for a registration cancelled since is dropped."""
        who = row.recipient
        if who.telegram_id is None:
            return "the recipient erased their data"
        if who.blocked:
            return "the recipient blocked the bot"
        try:
            kind = NoticeKind(row.kind)
        except ValueError:
            return f"unknown notice kind {row.kind!r}"
        prefs = self.policy.preferences(who.timezone, who.quiet_hours, who.muted)
        category = category_of(kind)
        if category is not None and category in prefs.muted:
            return f"muted: the recipient switched {category.value} reminders off"
        ctx = RenderContext(repo, prefs.tz, now, who.language, who.user_id)
        try:
            with self.i18n.context(), self.i18n.use_locale(who.language):
                rendered = await render(kind, ctx, row.payload)
        except Exception as exc:  # a bug: keep the row for the admins, never loop on it
            log.exception("outbox: row %s (%s) could not be rendered", row.id, row.kind)
            return f"render error: {exc!r}"
        if rendered is None:
            return "stale: nothing to tell any more"
        decision = decide(
            kind,
            prefs,
            now,
            event_starts_at=rendered.about,
            urgent_within=self.policy.urgent_within,
        )
        if decision.verdict is Verdict.DEFER:
            return decision
        return _Outgoing(row, who.telegram_id, rendered)

    async def _send_chat(self, batch: _Batch, items: list[_Outgoing]) -> None:
        async with self._slots:
            self.in_flight += 1
            try:
                for item in items:
                    if not await self._send_one(batch, item):
                        break  # the chat is blocked: its other rows were cancelled
            finally:
                self.in_flight -= 1

    async def _send_one(self, batch: _Batch, item: _Outgoing) -> bool:
        """Send one row until it is sent, failed or put back; False if the chat is gone."""
        row, report = item.row, batch.report
        while True:
            await self._keep_lease(batch)
            await self._wait_resume()
            async with self._chat_limiter(item.chat_id), self.limiter:
                error = await self._call(item)
            if not isinstance(error, Exception):
                await self._db(partial(self._mark_sent, row, error))
                report.sent += 1
                return True
            if isinstance(error, TelegramRetryAfter):
                wait = float(error.retry_after)
                log.warning("outbox: Telegram asks to wait %.0f s (row %s)", wait, row.id)
                self._resume_at = max(self._resume_at, self._loop_time() + wait)
                if wait <= self.lease.total_seconds() / 2:
                    continue  # the same row again once the wait is over
                due = self.clock() + timedelta(seconds=wait)
                await self._db(partial(self._put_back, row.id, due, str(error), attempt=False))
                report.retried += 1
                return True
            if isinstance(error, TelegramForbiddenError):
                await self._db(partial(self._blocked, row, str(error)))
                report.blocked += 1
                return False
            if isinstance(error, TelegramBadRequest):
                log.error("outbox: Telegram refused row %s (%s): %s", row.id, row.kind, error)
                await self._db(partial(self._fail, row.id, str(error)))
                report.failed += 1
                return True
            await self._transient(row, error, report)
            return True

    async def _call(self, item: _Outgoing) -> Exception | int:
        """The Bot API call: the id of the message sent (or edited), or the error Telegram
        (or the network) answered with."""
        rendered, paid = item.rendered, True if self.paid else None
        try:
            if rendered.edit_of is not None:
                chat_id, message_id = rendered.edit_of
                try:
                    await self.bot.edit_message_text(
                        rendered.text,
                        chat_id=chat_id,
                        message_id=message_id,
                        reply_markup=rendered.markup,
                    )
                except TelegramBadRequest as exc:
                    if "not modified" not in exc.message:
                        raise
                return message_id
            if rendered.copy_of is not None:
                from_chat, message_id = rendered.copy_of
                copied = await self.bot.copy_message(
                    item.chat_id,
                    from_chat,
                    message_id,
                    reply_markup=rendered.markup,
                    allow_paid_broadcast=paid,
                )
                return copied.message_id
            sent = await self.bot.send_message(
                item.chat_id,
                rendered.text,
                reply_markup=rendered.markup,
                allow_paid_broadcast=paid,
            )
            return sent.message_id
        except TelegramUnauthorizedError:
            raise  # a wrong token: nothing can be sent; the rows wait for the lease to lapse
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            return exc

    async def _mark_sent(self, row: Claimed, message_id: int, repo: Repo) -> None:
        """Mark the row sent; a message that has a successor (the next route nudge, the next
        update of a broadcast's progress) plans it in the same transaction."""
        now = self.clock()
        if await repo.outbox.mark_sent(row.id, self.worker, now):
            followup = FOLLOWUPS.get(row.kind)
            if followup is not None:
                await followup(repo, Sent(row.recipient.user_id, row.payload, message_id), now)

    async def _fail(self, row_id: int, error: str, repo: Repo) -> None:
        await repo.outbox.mark_failed(row_id, self.worker, error, attempt=True)

    async def _put_back(
        self, row_id: int, due: datetime, error: str, repo: Repo, *, attempt: bool
    ) -> None:
        await repo.outbox.retry_at(row_id, self.worker, due, error, attempt=attempt)

    async def _transient(self, row: Claimed, exc: Exception, report: Report) -> None:
        attempts = row.attempts + 1
        error = f"{type(exc).__name__}: {exc}"
        if attempts >= self.settings.outbox_max_attempts:
            log.error("outbox: row %s gave up after %d tries: %s", row.id, attempts, error)
            await self._db(partial(self._fail, row.id, error))
            report.failed += 1
            return
        log.warning("outbox: row %s try %d failed (%s); retrying later", row.id, attempts, error)
        due = self.clock() + backoff(attempts)
        await self._db(partial(self._put_back, row.id, due, error, attempt=True))
        report.retried += 1

    async def _blocked(self, row: Claimed, error: str, repo: Repo) -> None:
        await repo.outbox.mark_failed(row.id, self.worker, error, attempt=True)
        cancelled = await repo.outbox.block_user(row.recipient.user_id, self.clock(), error)
        if self.on_blocked is not None and row.recipient.telegram_id is not None:
            self.on_blocked(row.recipient.telegram_id)
        log.info(
            "outbox: user %s blocked the bot; %d pending message(s) cancelled",
            row.recipient.user_id,
            cancelled,
        )

    # ------------------------------------------------------------------ helpers

    async def _db(self, work: Callable[[Repo], Awaitable[T]], tries: int = 8) -> T:
        """Run `work` in its own short transaction and commit; a locked database is waited
        for (the row was sent: losing the mark would send it again)."""
        for attempt in range(tries):
            try:
                async with self.sessionmaker() as session:
                    result = await work(Repo(session, self.policy))
                    await session.commit()
                    return result
            except DBAPIError:
                if attempt == tries - 1:
                    raise
                log.warning("outbox: database busy, retrying (%d)", attempt + 1)
                await asyncio.sleep(min(0.25 * 2**attempt, 5.0))
        raise AssertionError("unreachable")

    async def _keep_lease(self, batch: _Batch) -> None:
        """Renew the batch's lease when half of it is gone (a long 429 wait, a slow chat)."""
        if self._loop_time() < batch.lease_until - self.lease.total_seconds() / 2:
            return
        until = self.clock() + self.lease
        await self._db(partial(self._extend, batch.ids, until))
        batch.lease_until = self._loop_time() + self.lease.total_seconds()

    async def _extend(self, ids: list[int], until: datetime, repo: Repo) -> None:
        await repo.outbox.extend(ids, self.worker, until)

    async def _wait_resume(self) -> None:
        delay = self._resume_at - self._loop_time()
        if delay > 0:
            await asyncio.sleep(delay)

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = self._chats[chat_id] = AsyncLimiter(1, 1 / self.settings.outbox_chat_rate)
            if len(self._chats) > CHAT_LIMITERS:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    @staticmethod
    def _loop_time() -> float:
        return asyncio.get_running_loop().time()


__all__ = ["MAX_BATCH", "OutboxSender", "Report", "backoff"]
