"""A lock with a lease in Redis: one holder at a time, taken over when its holder goes silent.

`RedisLease` is `SET key token NX PX lease` to take it, a compare-and-`PEXPIRE` to renew it and
a compare-and-`DEL` to give it back (both small Lua scripts, so a holder whose lease already
lapsed can neither extend nor delete the next holder's lock). A process that crashes or hangs
stops renewing; after `lease` seconds Redis forgets the key and another process takes it.

`held` is judged on this process's own monotonic clock, counted from *before* the request that
took or renewed the lease: when renewals fail (Redis unreachable, the process stalled) the
holder stops believing it holds the lease before Redis lets anybody else take it.

`SchedulerLeader` keeps one such lease for the scheduler's cron work (`scheduler.build_scheduler`
runs its jobs only while `held`); the per-user lock (`bot.middlewares.serial`) uses one lease per
update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from typing import Any

log = logging.getLogger(__name__)

#: renew when this share of the lease is gone
RENEW_SHARE = 1 / 3
#: the holder stops trusting its lease this share before it would lapse in Redis
SAFETY_SHARE = 0.1

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def redis_namespace(bot_token: str | None) -> str:
    """The prefix of this bot's keys: `metodbot:<bot id>` (one Redis can serve several bots)."""
    bot_id = (bot_token or "").split(":", 1)[0]
    return f"metodbot:{bot_id if bot_id.isdigit() else 0}"


def holder_token() -> str:
    """Who holds a lease: host and pid for people reading Redis, a random part for safety."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(8)}"


class RedisLease:
    """One lock `key` with a lease of `seconds`; `redis` is a `redis.asyncio.Redis`."""

    def __init__(self, redis: Any, key: str, seconds: float) -> None:
        if seconds <= 0:
            raise ValueError("a lease must last more than 0 seconds")
        self.redis = redis
        self.key = key
        self.seconds = seconds
        self.token = holder_token()
        self._valid_until = 0.0  # loop time

    @property
    def _ms(self) -> int:
        return max(1, int(self.seconds * 1000))

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    @property
    def held(self) -> bool:
        return self._valid_until > self._now()

    def _granted(self, asked_at: float) -> None:
        self._valid_until = asked_at + self.seconds * (1 - SAFETY_SHARE)

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it (or renew it if we do); True when held."""
        if self._valid_until and await self.renew():
            return True
        asked_at = self._now()
        if await self.redis.set(self.key, self.token, nx=True, px=self._ms):
            self._granted(asked_at)
            return True
        return False

    async def renew(self) -> bool:
        """Extend our lease; False (and no longer held) if it lapsed and may be someone else's."""
        asked_at = self._now()
        if await self.redis.eval(_RENEW, 1, self.key, self.token, self._ms):
            self._granted(asked_at)
            return True
        self._valid_until = 0.0
        return False

    async def release(self) -> None:
        """Give the lease back now (only if it is still ours)."""
        self._valid_until = 0.0
        await self.redis.eval(_RELEASE, 1, self.key, self.token)

    async def holder(self) -> str | None:
        value = await self.redis.get(self.key)
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)


class SchedulerLeader:
    """Keeps trying to hold the scheduler's lease and renews it while held.

    Every `seconds * RENEW_SHARE` it renews (holder) or tries to take it (the others), so a
    follower takes over at most that long after the holder's lease lapsed. `stop` gives the
    lease back, so a clean shutdown hands over at once."""

    def __init__(self, redis: Any, seconds: float, *, key: str) -> None:
        self.lease = RedisLease(redis, key, seconds)
        self._task: asyncio.Task[None] | None = None
        self._was_held = False

    @property
    def held(self) -> bool:
        return self.lease.held

    async def step(self) -> bool:
        """One round: renew or try to take the lease; whether we hold it now."""
        try:
            held = await self.lease.acquire()
        except Exception:  # Redis unreachable: not the leader until it answers again
            log.exception("scheduler lease: Redis did not answer")
            held = False
        if held != self._was_held:
            log.info(
                "scheduler lease %s: %s",
                "taken" if held else "lost",
                "this process runs the scheduled work"
                if held
                else "another process runs the scheduled work",
            )
            self._was_held = held
        return held

    async def _run(self) -> None:
        pause = self.lease.seconds * RENEW_SHARE
        while True:
            await self.step()
            await asyncio.sleep(pause)

    async def start(self) -> None:
        """Take the lease if free (before the first job is due), then keep it in the background."""
        if self._task is None:
            await self.step()
            self._task = asyncio.create_task(self._run(), name="scheduler-lease")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._was_held or self.lease.held:
            try:
                await self.lease.release()
            except Exception:  # Redis gone: the lease lapses on its own
                log.exception("scheduler lease: could not give it back; it lapses by itself")
            self._was_held = False


def leader_key(namespace: str) -> str:
    return f"{namespace}:scheduler"


__all__ = ["RedisLease", "SchedulerLeader", "holder_token", "leader_key", "redis_namespace"]
