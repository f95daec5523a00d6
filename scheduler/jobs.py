"""Persistent jobs: rows in the `jobs` table, run when due by a periodic scheduler tick.

A restart loses nothing: due jobs left over are simply run at the next tick. Each job runs in
its own session and commits on its own; a failing job is retried (up to 5 attempts).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from db.models import Job
from db.repo import Repo
from db.types import utcnow
from domain.events import EventStatus, RegStatus
from domain.typography import quoted

log = logging.getLogger(__name__)

JobHandler = Callable[[Repo, Job, "JobContext"], Awaitable[None]]


class JobContext:
    def __init__(self, bot: Bot, i18n: I18n, settings: Settings, now: datetime) -> None:
        self.bot, self.i18n, self.settings, self.now = bot, i18n, settings, now


async def _offer_expire(repo: Repo, job: Job, ctx: JobContext) -> None:
    from handlers.common import notify_user
    from handlers.events import notify_offer

    lapsed = await repo.events.expire_offer(int(job.payload["reg_id"]), ctx.now)
    if lapsed is None:  # claimed, declined or cancelled meanwhile
        return
    title = lapsed.event.title
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
    )
    for offered in await repo.events.promote(lapsed.event_id, ctx.now):
        await notify_offer(ctx.bot, ctx.i18n, offered, repo, tz=ctx.settings.tz)


async def _event_reminder(repo: Repo, job: Job, ctx: JobContext) -> None:
    from handlers.common import button, notify_user
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
                when=when_text(event, ctx.settings.tz),
            )
            if event.place:
                text += "\n📍 " + html.escape(event.place, quote=False)
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("Open the event"), EvAct(action="card", event=event_id))]
                ]
            )
            return text, markup

        await notify_user(ctx.bot, ctx.i18n, reg.user, render)


async def _feedback_request(repo: Repo, job: Job, ctx: JobContext) -> None:
    from handlers.common import notify_user

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
        await notify_user(ctx.bot, ctx.i18n, reg.user, _feedback_message(event.title, reg.id))


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
    """Run every due job once; the number run."""
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
            try:
                if handler is None:
                    raise LookupError(f"unknown job kind {kind!r}")
                with i18n.context():
                    await handler(repo, job, JobContext(bot, i18n, settings, now))
            except Exception as exc:
                await session.rollback()
                job = await session.get(Job, job_id)
                assert job is not None
                log.exception("job %s (%s) failed", job_id, kind)
                await repo.jobs.finish(job, error=repr(exc))
            else:
                await repo.jobs.finish(job)
                ran += 1
            await session.commit()
    return ran
