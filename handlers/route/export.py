"""The route as a one-page PDF for the school."""

from __future__ import annotations

import asyncio
from datetime import tzinfo

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.i18n import gettext as _

from core.usercache import UserContext
from db.repo import Repo
from domain.route import StepStatus
from handlers.route.common import pace_label, stale, step_title
from services import route as service
from services.route import Refusal
from ui.files.pdf import RouteCompetencyBlock, RouteDocument, RouteStepRow, route_pdf
from ui.formatting import date_text
from ui.texts import step_kind_label, step_status_label


async def on_export(
    query: CallbackQuery, repo: Repo, user: UserContext, bot: Bot, tz: tzinfo
) -> None:
    found = await service.export(repo, user.id)
    if isinstance(found, Refusal):
        await stale(query)
        return
    route, full, result, framework = found.route, found.teacher, found.result, found.framework
    assert query.message is not None
    await query.answer()
    lang = full.language
    key = "en" if lang == "en" else "ru"
    blocks: list[RouteCompetencyBlock] = []
    for code in dict.fromkeys(s.competency for s in route.steps):
        track = [s for s in route.steps if s.competency == code]
        score_line = ""
        if (
            result is not None
            and framework is not None
            and any(sc.code == code for sc in result.scores)
        ):
            item = result.score_of(code)
            score_line = _("{level} level, {score} of 100").format(
                level=framework.level_for(item.score).name.text(lang), score=item.score
            )
        blocks.append(
            RouteCompetencyBlock(
                title=str(track[0].content.get("competency", {}).get(key, code)),
                score_line=score_line,
                steps=[
                    RouteStepRow(
                        number=f"{len(blocks) + 1}.{s.number}",
                        title=step_title(s, lang),
                        kind=step_kind_label(s.kind),
                        target_date=date_text(s.target_date),
                        status=step_status_label(s.status),
                        done=s.status == StepStatus.DONE.value,
                    )
                    for s in track
                ],
            )
        )
    statuses = [StepStatus(s.status) for s in route.steps]
    doc = RouteDocument(
        heading=_("Individual educational route of a teacher"),
        teacher_lines=[
            (_("Full name"), full.full_name or "—"),
            (_("School"), full.school.name if full.school else "—"),
            (_("Municipality"), full.municipality.name(lang) if full.municipality else "—"),
            (_("Position"), full.position.name(lang) if full.position else "—"),
        ],
        meta_line=_("Built {date} · pace: {pace} · {done} of {total} steps done").format(
            date=date_text(route.created_at, tz),
            pace=pace_label(route.pace),
            done=sum(1 for s in statuses if s.closed),
            total=len(statuses),
        ),
        blocks=blocks,
        column_titles=("№", _("Step"), _("Form"), _("Due"), _("Status")),
        footer=_(
            "Made by the methodological support bot · teacher's signature ________ · methodist's signature ________"
        ),
    )
    pdf = await asyncio.to_thread(route_pdf, doc, created=route.created_at.astimezone(tz))
    await bot.send_document(
        query.message.chat.id,
        BufferedInputFile(pdf, filename="route.pdf"),
        caption=_("📄 Your route as a one-page document for your school."),
    )
