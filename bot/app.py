"""Wiring: builds the bot, the dispatcher and the long-lived resources, and runs them."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import LinkPreviewOptions
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.commands import set_default_commands, set_user_commands
from bot.logs import install_redaction
from bot.middlewares import (
    CommitBeforeSend,
    DbSessionMiddleware,
    GateMiddleware,
    OffloadMiddleware,
    PerUserSerialMiddleware,
    ThrottlingMiddleware,
    UpdateCounter,
    UserMiddleware,
)
from bot.middlewares.response_types import KeepResponseTypes
from core.clock import Clock, SystemClock
from core.health import install_error_log
from core.i18n import LOCALES_DIR, CatalogI18n, UserI18nMiddleware
from core.settings import RunMode, Settings
from core.usercache import UserCache
from db import migrate
from db.engine import create_engine, create_sessionmaker, create_update_engine
from db.repo import Repo
from db.repositories.reference import ImportReport
from domain.framework import Framework
from domain.reference import parse_reference
from domain.roles import Role, effective_role
from handlers import get_routers
from handlers.filters import PrivateChat, index_callbacks, run_sync_filters_inline
from outbox.sender import OutboxSender
from scheduler import SHUTDOWN_GRACE, RunningJobs, build_scheduler, run_due_jobs
from scheduler.lease import SchedulerLeader, leader_key, redis_namespace

log = logging.getLogger(__name__)

SAMPLE_REFERENCE = Path(__file__).resolve().parent.parent / "db" / "reference" / "sample.yaml"
FRAMEWORK_FILE = Path(__file__).resolve().parent.parent / "domain" / "content" / "framework.yaml"
POLLING_TIMEOUT = 20


def build_bot(settings: Settings, *, session: BaseSession | None = None) -> Bot:
    """The Bot talks to `TELEGRAM_API_BASE` (official server, a local Bot API server, an emulator)."""
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    assert settings.bot_token is not None, "BOT_TOKEN is required"
    # an update's transaction is committed before the bot talks to Telegram (see the class)
    session.middleware(CommitBeforeSend())
    session.middleware(KeepResponseTypes())
    return Bot(
        settings.bot_token,
        session=session,
        default=DefaultBotProperties(
            parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
        ),
    )


def build_storage(settings: Settings) -> BaseStorage:
    """Conversation state: in Redis with `REDIS_URL` (its own client: the dispatcher closes
    it at shutdown), else in memory."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url)
    return MemoryStorage()


def build_dispatcher(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    i18n: CatalogI18n,
    *,
    storage: BaseStorage | None = None,
    cache: UserCache | None = None,
    clock: Clock | None = None,
    redis: Any | None = None,
    dedupe: bool = False,
    update_sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> Dispatcher:
    """The dispatcher with its middlewares and routers; long-lived objects in workflow data
    (handlers take the one `clock: Clock` and never read the time themselves). With `redis`
    (a `redis.asyncio.Redis`) one user's updates are serialised across processes too, and with
    `dedupe` (webhook mode) an update delivered twice is handled once.

    `sessionmaker` is the app's (threaded on SQLite); `update_sessionmaker` (default: the same)
    opens each update's unit of work (on SQLite the loop-thread engine, `create_update_engine`).
    When they differ, the handlers flagged `offload` run on `sessionmaker`
    (`bot.middlewares.offload`)."""
    from domain.throttle import TokenBucketLimiter

    cache = cache or UserCache()
    update_sessionmaker = update_sessionmaker or sessionmaker
    admin_ids = frozenset(settings.admin_ids)
    dp = Dispatcher(
        storage=storage or build_storage(settings),
        settings=settings,
        sessionmaker=sessionmaker,
        i18n=i18n,
        user_cache=cache,
        admin_ids=admin_ids,
        clock=clock or SystemClock(),
    )
    counter = UpdateCounter()
    dp["update_counter"] = counter
    dp.update.outer_middleware(counter)
    serial = PerUserSerialMiddleware(
        redis,
        lease_seconds=settings.user_lock_seconds,
        namespace=redis_namespace(settings.bot_token),
        dedupe=dedupe,
    )
    dp["serial"] = serial
    dp.update.outer_middleware(serial)
    dp.update.outer_middleware(DbSessionMiddleware(update_sessionmaker, cache, settings.reminders))
    dp.update.outer_middleware(UserMiddleware(cache, admin_ids, settings.default_locale))
    dp.update.outer_middleware(UserI18nMiddleware(i18n, settings.default_locale))
    throttling = ThrottlingMiddleware(
        TokenBucketLimiter(settings.throttle_rate, settings.throttle_burst)
    )
    gate = GateMiddleware()
    for observer in (dp.message, dp.callback_query):
        observer.middleware(throttling)
        observer.middleware(gate)
    if update_sessionmaker is not sessionmaker:
        # innermost, on every event type: the routers' handlers see it with their flags
        offload = OffloadMiddleware(sessionmaker, cache, settings.reminders)
        for name, observer in dp.observers.items():
            if name not in ("update", "error"):
                observer.middleware(offload)
    dp.message.filter(PrivateChat())
    dp.callback_query.filter(PrivateChat())
    dp.include_routers(*get_routers())
    run_sync_filters_inline(dp)
    index_callbacks(dp)
    return dp


def load_i18n(settings: Settings) -> CatalogI18n:
    return CatalogI18n(path=LOCALES_DIR, default_locale=settings.default_locale)


async def import_reference(repo: Repo, path: Path) -> ImportReport:
    with path.open(encoding="utf-8") as fp:
        data = parse_reference(yaml.safe_load(fp))
    return await repo.reference.apply(data)


async def import_framework(repo: Repo, path: Path) -> tuple[Framework, bool]:
    """Validate and store a framework file; True if its version is new."""
    with path.open(encoding="utf-8") as fp:
        document = yaml.safe_load(fp)
    return await repo.frameworks.add(document)


async def prepare_database(
    settings: Settings,
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """Engine + migrations to head + the labelled sample reference data on an empty database."""
    engine = create_engine(settings.database_url)
    await migrate.upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        repo = Repo(session)
        if await repo.reference.is_empty():
            report = await import_reference(repo, SAMPLE_REFERENCE)
            await session.commit()
            log.warning(
                "reference lists were empty: loaded the SAMPLE data from %s (%s); "
                "import the real list with `python -m bot import-reference FILE`",
                SAMPLE_REFERENCE.name,
                report.created,
            )
        framework, added = await import_framework(repo, FRAMEWORK_FILE)
        if added:
            await session.commit()
            log.info("competency framework %s imported", framework.version)
    return engine, sessionmaker


def prepare_update_database(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """The engine and sessionmaker of the updates' unit of work next to `engine` and its
    `sessionmaker` (from `prepare_database`): on SQLite a loop-thread engine on the same file,
    else those two themselves (then no handler is offloaded: there is nothing to offload to).
    Pass the sessionmaker as `build_dispatcher(update_sessionmaker=...)` and dispose the
    engine with `engine`'s."""
    update_engine = create_update_engine(engine)
    if update_engine is engine:
        return engine, sessionmaker
    return update_engine, create_sessionmaker(update_engine)


@dataclass
class BotApp:
    """The whole running bot: used by `run`, the console and the end-to-end tests.

    `clock` is the bot's only source of "now" (handlers and the scheduler get this object);
    tests pass a `core.clock.ManualClock` to move time.

    With `REDIS_URL` the app opens one Redis client for the conversation state, the per-user
    lock and the scheduler's lease. `worker` is this process's number among the webhook
    workers (`bot.workers`; None: the only process): only worker 0 (or the only process) sets
    the webhook and the command menus."""

    settings: Settings
    session: BaseSession | None = None
    storage: BaseStorage | None = None
    clock: Clock = field(default_factory=SystemClock)
    worker: int | None = None
    redis: Any = field(init=False, default=None)
    leader: SchedulerLeader | None = field(init=False, default=None)
    bot: Bot = field(init=False)
    dp: Dispatcher = field(init=False)
    engine: AsyncEngine = field(init=False)
    sessionmaker: async_sessionmaker[AsyncSession] = field(init=False)
    #: the updates' unit of work: on SQLite a loop-thread engine on the same file
    #: (`db.engine.create_update_engine`), on PostgreSQL `engine` itself
    update_engine: AsyncEngine = field(init=False)
    update_sessionmaker: async_sessionmaker[AsyncSession] = field(init=False)
    i18n: CatalogI18n = field(init=False)
    scheduler: AsyncIOScheduler = field(init=False)
    #: the scheduled jobs running now: a shutdown lets them finish (`SHUTDOWN_GRACE`)
    jobs: RunningJobs = field(init=False, default_factory=RunningJobs)
    sender: OutboxSender = field(init=False)
    _polling: asyncio.Task[None] | None = field(init=False, default=None)
    _stop_webhook: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    @property
    def primary(self) -> bool:
        """The process that sets the webhook and the command menus (one among the workers)."""
        return self.worker in (None, 0)

    async def setup(self) -> None:
        install_redaction(self.settings.bot_token, self.settings.webhook_secret)
        self.engine, self.sessionmaker = await prepare_database(self.settings)
        self.update_engine, self.update_sessionmaker = prepare_update_database(
            self.engine, self.sessionmaker
        )
        self.i18n = load_i18n(self.settings)
        webhook = self.settings.run_mode is RunMode.WEBHOOK
        if self.settings.redis_url:
            from redis.asyncio import Redis

            self.redis = Redis.from_url(self.settings.redis_url)
            self.leader = SchedulerLeader(
                self.redis,
                self.settings.scheduler_lease_seconds,
                key=leader_key(redis_namespace(self.settings.bot_token)),
            )
        self.bot = build_bot(self.settings, session=self.session)
        self.dp = build_dispatcher(
            self.settings,
            self.sessionmaker,
            self.i18n,
            storage=self.storage,
            clock=self.clock,
            # across processes only in webhook mode: polling is one process by nature
            # (Telegram lets one getUpdates run at a time), its in-process lock is enough
            redis=self.redis if webhook else None,
            dedupe=webhook,
            update_sessionmaker=self.update_sessionmaker,
        )
        self.sender = OutboxSender(
            self.sessionmaker,
            self.bot,
            self.i18n,
            self.settings,
            clock=self.clock.now,
            on_blocked=self.dp["user_cache"].invalidate,
        )
        self.dp["outbox_sender"] = self.sender
        self.scheduler = build_scheduler(
            self.settings,
            self.sessionmaker,
            clock=self.clock,
            on_commit=self.sender.wake,
            leader=self.leader,
            running=self.jobs,
        )
        self.dp["scheduler"] = self.scheduler
        self.dp["error_log"] = install_error_log()
        self.dp["started_at"] = self.clock.now()
        self.dp.startup.register(self._on_startup)
        self.dp.shutdown.register(self._on_shutdown)

    async def _on_startup(self, bot: Bot) -> None:
        if self.primary:
            await set_default_commands(bot, self.i18n, self.settings.default_locale)
            await self.refresh_staff_commands(bot)
        if self.leader is not None:
            await self.leader.start()  # before the scheduler's first tick
        self.scheduler.start()
        self.sender.start()
        me = await bot.get_me()
        log.info("metodbot started as @%s via %s", me.username, self.settings.telegram_api_base)

    async def _on_shutdown(self) -> None:
        if self.scheduler.running:
            # no new runs; a running job finishes its transaction rather than being cancelled
            # in the middle of it (a SIGTERM during a tick logged a cancelled statement)
            self.scheduler.pause()
            if not await self.jobs.wait(SHUTDOWN_GRACE):
                log.warning("shutdown: a scheduled job still runs after %.0f s", SHUTDOWN_GRACE)
            self.scheduler.shutdown(wait=False)
        if self.leader is not None:
            await self.leader.stop()  # hand the scheduled work over at once
        await self.sender.stop()

    async def tick(self, now: datetime | None = None) -> int:
        """Run the jobs due at `now` and send what they queued (the console, the tests);
        how many jobs ran. The running bot does the same on its own."""
        ran = await run_due_jobs(
            self.sessionmaker, now or self.clock.now(), policy=self.settings.reminders
        )
        await self.sender.settle(now)
        return ran

    async def refresh_staff_commands(self, bot: Bot) -> None:
        """Coordinator/admin command lists in their own chats (ADMIN_IDS included). The
        database is read first and the session closed: no transaction is open while Telegram
        answers."""
        admin_ids = frozenset(self.settings.admin_ids)
        menus: dict[int, tuple[Role, str]] = {}
        async with self.sessionmaker() as session:
            repo = Repo(session)
            for user in await repo.users.with_roles(
                [Role.SCHOOL_METHODIST, Role.COORDINATOR, Role.ADMIN]
            ):
                assert user.telegram_id is not None
                role = effective_role(
                    user.role,
                    user.telegram_id,
                    admin_ids,
                    has_scope=bool(await repo.staff.assignments(user.id)),
                )
                menus[user.telegram_id] = (role, user.language)
            for admin_id in admin_ids - menus.keys():
                row = await repo.users.by_telegram_id(admin_id)
                menus[admin_id] = (
                    Role.ADMIN,
                    row.language if row else self.settings.default_locale,
                )
        for telegram_id, (role, locale) in menus.items():
            await set_user_commands(bot, self.i18n, telegram_id, role, locale)

    async def start_polling(self) -> None:
        """Start long polling in a background task (tests, console)."""
        started = asyncio.Event()
        self.dp.startup.register(started.set)
        self._polling = asyncio.create_task(
            self.dp.start_polling(
                self.bot,
                handle_signals=False,
                polling_timeout=POLLING_TIMEOUT,
                allowed_updates=self.dp.resolve_used_update_types(),
            )
        )
        waiter = asyncio.create_task(started.wait())
        done, _ = await asyncio.wait({waiter, self._polling}, return_when=asyncio.FIRST_COMPLETED)
        if self._polling in done:
            waiter.cancel()
            self._polling.result()  # re-raise why polling could not start

    async def stop(self) -> None:
        """Stop polling and release everything `setup` opened (safe after a failed setup)."""
        if self._polling is not None and not self._polling.done():
            await self.dp.stop_polling()
            await self._polling
        self._polling = None
        scheduler = getattr(self, "scheduler", None)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if self.leader is not None:
            await self.leader.stop()
        sender = getattr(self, "sender", None)
        if sender is not None:
            await sender.stop()
        await self._close_redis()
        bot = getattr(self, "bot", None)
        if bot is not None:
            await bot.session.close()
        await self._dispose_engines()

    async def run_polling(self) -> None:
        """Run until SIGINT/SIGTERM."""
        try:
            await self.dp.start_polling(
                self.bot,
                polling_timeout=POLLING_TIMEOUT,
                allowed_updates=self.dp.resolve_used_update_types(),
            )
        finally:
            await self._close_redis()
            await self._dispose_engines()

    def request_stop(self) -> None:
        """End `run_webhook` gracefully (SIGTERM, SIGINT)."""
        self._stop_webhook.set()

    async def run_webhook(
        self, sock: socket.socket | None = None, *, handle_signals: bool = False
    ) -> None:
        """Serve Telegram's webhook calls until cancelled (or `request_stop`): on
        WEBHOOK_HOST:WEBHOOK_PORT, or on `sock`, a listening socket a parent process bound
        and shares among workers (`bot.workers`).

        With Redis the answer to Telegram goes after the update is handled: Telegram sends a
        chat's next update only after the previous one was answered, so one user's updates
        reach the workers in order (`bot.middlewares.serial`). Without Redis (one process)
        the answer goes at once and the in-process lock keeps the order, as before."""
        from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
        from aiohttp import web

        settings = self.settings
        assert settings.webhook_url is not None
        app = web.Application()
        path = urlsplit(settings.webhook_url).path or "/"
        SimpleRequestHandler(
            dispatcher=self.dp,
            bot=self.bot,
            secret_token=settings.webhook_secret,
            handle_in_background=self.redis is None,
        ).register(app, path=path)

        async def _set_webhook(bot: Bot) -> None:
            await bot.set_webhook(
                settings.webhook_url or "",
                secret_token=settings.webhook_secret,
                allowed_updates=self.dp.resolve_used_update_types(),
                max_connections=settings.webhook_max_connections,
                drop_pending_updates=False,
            )

        if self.primary:
            self.dp.startup.register(_set_webhook)
        setup_application(app, self.dp, bot=self.bot)
        runner = web.AppRunner(app)
        await runner.setup()
        site: web.BaseSite
        if sock is not None:
            site = web.SockSite(runner, sock)
        else:
            site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
        await site.start()
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.request_stop)
        log.info(
            "webhook %slistening on %s:%s%s",
            "" if self.worker is None else f"worker {self.worker} ",
            settings.webhook_host,
            settings.webhook_port,
            path,
        )
        try:
            await self._stop_webhook.wait()
        finally:
            await runner.cleanup()
            await self._close_redis()
            await self._dispose_engines()
            counter: UpdateCounter = self.dp["update_counter"]
            serial: PerUserSerialMiddleware = self.dp["serial"]
            log.info(
                "webhook stopped: %d updates handled, %d delivered again and skipped",
                counter.count - serial.duplicates,
                serial.duplicates,
            )

    async def _dispose_engines(self) -> None:
        """Both pools (one when the update engine is the app's); safe after a failed setup."""
        for name in ("update_engine", "engine"):
            engine: AsyncEngine | None = getattr(self, name, None)
            if engine is not None:
                await engine.dispose()

    async def _close_redis(self) -> None:
        if self.redis is not None:
            redis, self.redis = self.redis, None
            await redis.aclose()
