"""Handles one user's updates one after another, in this process and, with Redis, across
processes.

aiogram handles updates concurrently; a teacher's quick double tap would otherwise run two
handlers on the same state at once (two wizard questions, two reads of the same answer). Other
users are not held up.

In one process an `asyncio.Lock` per user does it (FIFO: the order the updates arrived in).
In webhook mode with Redis (`REDIS_URL`: several webhook workers share one bot) each update
also takes the user's lock in Redis, `metodbot:<bot id>:user:<id>`: a lock with a lease
(`USER_LOCK_SECONDS`) renewed while the update is handled, so a worker that dies mid-update
blocks that user only until the lease lapses (`scheduler.lease.RedisLease`). And each update
id is marked seen in Redis (`dedupe`; `metodbot:<bot id>:update:<id>`, kept a day): an update
Telegram delivers again (its answer timed out) is not handled a second time. Polling needs
neither: only one process can poll (Telegram allows one `getUpdates` at a time), and the
offset confirms updates.

The lock keeps two updates of one user from running at once; the *order* comes from delivery:
Telegram sends a chat's next update only after the previous one was answered, and in webhook
mode with Redis the bot answers after handling (`bot.app.BotApp.run_webhook`). When the answer
goes out earlier (aiogram answers a handler still running after 55 s and goes on in the
background), the earlier update already holds the lock, so the next one waits for it.

If Redis stops answering, updates go on with the in-process lock alone (logged), rather than
the bot falling silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from scheduler.lease import RENEW_SHARE, RedisLease

log = logging.getLogger(__name__)

#: how long an update id is remembered as handled (Telegram gives up redelivering long before)
SEEN_SECONDS = 24 * 3600
#: waiting for another process's lock: first and longest pause between tries (seconds)
POLL_FIRST = 0.005
POLL_MAX = 0.05


def user_lock_key(namespace: str, user_id: int) -> str:
    return f"{namespace}:user:{user_id}"


def update_seen_key(namespace: str, update_id: int) -> str:
    return f"{namespace}:update:{update_id}"


class PerUserSerialMiddleware(BaseMiddleware):
    """`redis` (a `redis.asyncio.Redis`) makes the lock span processes; with `dedupe` too, an
    update id is handled once across processes. Keys start with `namespace`
    (`scheduler.lease.redis_namespace`)."""

    def __init__(
        self,
        redis: Any | None = None,
        *,
        lease_seconds: float = 30.0,
        namespace: str = "metodbot:0",
        dedupe: bool = False,
    ) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self.redis = redis
        self.lease_seconds = lease_seconds
        self.namespace = namespace
        self.dedupe = dedupe
        #: updates skipped because another process (or an earlier delivery) handled them
        self.duplicates = 0

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if (
            self.redis is not None
            and self.dedupe
            and isinstance(event, Update)
            and not await self._first_delivery(event.update_id)
        ):
            self.duplicates += 1
            log.info("update %s was handled already: skipped", event.update_id)
            return None
        tg_user = data.get("event_from_user")
        if tg_user is None:
            return await handler(event, data)
        key = tg_user.id
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                if self.redis is None:
                    return await handler(event, data)
                async with self._redis_lock(key):
                    return await handler(event, data)
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]  # nobody waits: forget the lock, the map stays small
            else:
                self._locks[key] = (lock, users - 1)

    async def _first_delivery(self, update_id: int) -> bool:
        try:
            return bool(
                await self.redis.set(  # type: ignore[union-attr]
                    update_seen_key(self.namespace, update_id), 1, nx=True, ex=SEEN_SECONDS
                )
            )
        except Exception:
            log.exception("Redis did not answer: update %s handled without the check", update_id)
            return True

    @contextlib.asynccontextmanager
    async def _redis_lock(self, user_id: int) -> Any:
        lease = RedisLease(self.redis, user_lock_key(self.namespace, user_id), self.lease_seconds)
        try:
            pause = POLL_FIRST
            while not await lease.acquire():
                await asyncio.sleep(pause)
                pause = min(pause * 2, POLL_MAX)
        except Exception:
            log.exception("Redis did not answer: user %s's update runs without its lock", user_id)
            yield
            return
        keeper = asyncio.create_task(self._keep(lease), name=f"user-lock-{user_id}")
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            try:
                await lease.release()
            except Exception:
                log.exception("Redis did not answer: user %s's lock lapses by itself", user_id)

    @staticmethod
    async def _keep(lease: RedisLease) -> None:
        """Renew the lease while the update is handled (a long export, a slow Telegram)."""
        while True:
            await asyncio.sleep(lease.seconds * RENEW_SHARE)
            try:
                if not await lease.renew():
                    log.warning("user lock %s lapsed while its update was handled", lease.key)
                    return
            except Exception:
                log.exception("Redis did not answer: could not renew %s", lease.key)

    @property
    def active_users(self) -> int:
        return len(self._locks)
