"""Persistent jobs: rows in the `jobs` table, run when due by a periodic scheduler tick.

A restart loses nothing: due jobs left over are simply run at the next tick. Each job runs in
its own session and commits on its own; a failing job is retried (up to 5 attempts).

Every event title and place goes into the HTML messages escaped. A message Telegram refuses
(400, or any error but "blocked by the user") fails the job: it is logged, `last_error` is
recorded and the job stays due, so the next tick retries it; the recipients it already reached
are kept in the job's payload (`sent`) and are not messaged twice.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.settings import Settings
from db.models import Job, User
from db.repo import Repo
from domain.events import EventStatus, RegStatus
from domain.typography import quoted
from handlers.common import Rendered, button, notify_user

log = logging.getLogger(__name__)

JobHandler = Callable[[Repo, Job, "JobContext"], Awaitable[None]]


class JobContext:
    def __init__(self, bot: Bot, i18n: I18n, settings: Settings, now: datetime) -> None:
        self.bot, self.i18n, self.settings, self.now = bot, i18n, settings, now
        #: messages that could not be delivered and are worth retrying: the job is not done
        self.failures: list[str] = []

    def failed(self, what: str, errors: list[TelegramAPIError]) -> bool:
        """Record the undelivered message unless the user simply cannot be reached (blocked
        the bot, no Telegram id): True when the job should be retried for it."""
        retry = [e for e in errors if not isinstance(e, TelegramForbiddenError)]
        if retry:
            self.failures.append(f"{what}: {retry[-1]!r}")
        return bool(retry)

    async def notify_once(
        self, job: Job, key: int, user: User, render: Callable[[], Rendered]
    ) -> None:
        """Message `user` unless this job already reached them (`key` in its payload)."""
        sent = [int(k) for k in job.payload.get("sent", [])]
        if key in sent:
            return
        errors: list[TelegramAPIError] = []
        delivered = await notify_user(self.bot, self.i18n, user, render, errors=errors)
        if delivered or not self.failed(f"registration {key}", errors):
            job.payload = {**job.payload, "sent": [*sent, key]}


async def _offer_expire(repo: Repo, job: Job, ctx: JobContext) -> None:
    from handlers.events import notify_offer

    lapsed = await repo.events.expire_offer(int(job.payload["reg_id"]), ctx.now)
    if lapsed is None:  # claimed, declined or cancelled meanwhile
        return
    if lapsed.event.status != EventStatus.SCHEDULED.value:
        return  # the event was cancelled: its registrants were told so
    title = lapsed.event.title
    errors: list[TelegramAPIError] = []
    await notify_user(
        ctx.bot,
        ctx.i18n,
        lapsed.user,
        lambda: (
            _(
                "⌛ The offered seat for {title} was not confirmed in time and went to the next person."
            ).format(title=html.escape(quoted(title), quote=False)),
            None,
        ),
        errors=errors,
    )
    ctx.failed(f"registration {lapsed.id}", errors)
    for offered in await repo.events.promote(lapsed.event_id, ctx.now):
        errors = []
        await notify_offer(ctx.bot, ctx.i18n, offered, repo, tz=ctx.settings.tz, errors=errors)
        ctx.failed(f"registration {offered.id}", errors)


async def _event_reminder(repo: Repo, job: Job, ctx: JobContext) -> None:
    from handlers.events import EvAct, when_text

    event = await repo.events.get(int(job.payload["event_id"]))
    if event is None or event.status != EventStatus.SCHEDULED.value:
        return
    for reg in await repo.events.participants(event.id):
        if reg.status not in (RegStatus.CONFIRMED.value, RegStatus.OFFERED.value):
            continue

        def render(event_id: int = event.id) -> tuple[str, InlineKeyboardMarkup | None]:
            text = _("⏰ Reminder: {title}, {when}.").format(
                title=html.escape(quoted(event.title), quote=False),
                when=when_text(event, ctx.settings.tz, ctx.now),
            )
            if event.place:
                text += "\n📍 " + html.escape(event.place, quote=False)
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("Open the event"), EvAct(action="card", event=event_id))]
                ]
            )
            return text, markup

        await ctx.notify_once(job, reg.id, reg.user, render)


async def _feedback_request(repo: Repo, job: Job, ctx: JobContext) -> None:
    event = await repo.events.get(int(job.payload["event_id"]))
    if event is None or event.status == EventStatus.CANCELLED.value:
        return
    await repo.events.complete(event)
    for reg in await repo.events.participants(event.id):
        if (
            reg.status not in (RegStatus.ATTENDED.value, RegStatus.CONFIRMED.value)
            or reg.feedback_at
        ):
            continue
        await ctx.notify_once(job, reg.id, reg.user, _feedback_message(event.title, reg.id))


def _feedback_message(
    title: str, reg_id: int
) -> Callable[[], tuple[str, InlineKeyboardMarkup | None]]:
    from handlers.events import feedback_keyboard

    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        text = _("How was {title}? Rate it from 1 to 5: your answer helps the methodists.")
        return text.format(title=html.escape(quoted(title), quote=False)), feedback_keyboard(reg_id)

    return render


HANDLERS: dict[str, JobHandler] = {
    "offer_expire": _offer_expire,
    "event_reminder": _event_reminder,
    "feedback_request": _feedback_request,
}


async def run_due_jobs(
    sessionmaker: async_sessionmaker[AsyncSession],
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    now: datetime | None = None,
) -> int:
    """Run every due job once; the number that completed."""
    now = now or utcnow()
    async with sessionmaker() as session:
        due = [(job.id, job.kind) for job in await Repo(session).jobs.due(now)]
    ran = 0
    for job_id, kind in due:
        async with sessionmaker() as session:
            repo = Repo(session)
            job = await session.get(Job, job_id)
            if job is None or job.done_at is not None:
                continue
            handler = HANDLERS.get(kind)
            ctx = JobContext(bot, i18n, settings, now)
            try:
                if handler is None:
                    raise LookupError(f"unknown job kind {kind!r}")
                with i18n.context():
                    await handler(repo, job, ctx)
            except Exception as exc:
                await session.rollback()
                job = await session.get(Job, job_id)
                assert job is not None
                log.exception("job %s (%s) failed", job_id, kind)
                await repo.jobs.finish(job, error=repr(exc))
            else:
                if ctx.failures:
                    # what it did stays (and whom it reached); the rest is retried next tick
                    log.error(
                        "job %s (%s): %d message(s) not delivered, will retry: %s",
                        job_id,
                        kind,
                        len(ctx.failures),
                        "; ".join(ctx.failures),
                    )
                    await repo.jobs.finish(job, error="; ".join(ctx.failures)[:2000])
                else:
                    await repo.jobs.finish(job)
                    ran += 1
            await session.commit()
    return ran
