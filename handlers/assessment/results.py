"""The results: the radar chart, the profile text with advice, "before / after", the history
of attempts (/results) and the offer to mentor colleagues."""

from __future__ import annotations

from datetime import tzinfo

from aiogram import Bot
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core.usercache import UserContext
from db.models import User
from db.repo import Repo
from domain.assessment import AssessmentResult, compare
from domain.framework import Framework
from services import assessment as service
from ui.callbacks.assessment import ResultAction, ResultCb
from ui.diagnosis import diagnosis_text
from ui.files.charts import comparison_chart, radar_chart, render_png
from ui.formatting import date_text, h, split_html
from ui.keyboards.common import button


def results_text(
    framework: Framework, result: AssessmentResult, lang: str, *, own: bool = True
) -> str:
    """The profile summary; `own=False` speaks about the teacher (the methodist's view)."""
    heading = (
        _("📊 <b>Your competency profile</b>")
        if own
        else _("📊 <b>The teacher's competency profile</b>")
    )
    lines = [heading, ""]
    for item in result.scores:
        comp = framework.competency(item.code)
        level = framework.level_for(item.score).name.text(lang)
        mark = (
            "🔻"
            if item.code in result.deficits
            else ("⭐" if item.code in result.strengths else "▫️")
        )
        lines.append(f"{mark} {h(comp.title.text(lang))} — <b>{item.score}</b> · {h(level)}")
    threshold = framework.settings.deficit_threshold
    lines.append("")
    if result.deficits:
        lines.append(
            _("<b>Deficits</b> (below {threshold}), the largest gap first:").format(
                threshold=threshold
            )
        )
        for n, code in enumerate(result.deficits, start=1):
            item = result.score_of(code)
            comp = framework.competency(code)
            lines.append(f"{n}. <b>{h(comp.title.text(lang))}</b> — {item.score}")
            lines.append(
                "   "
                + _("How to grow: {advice}").format(advice=h(comp.grow[item.level].text(lang)))
            )
    else:
        lines.append(
            _("No deficits below {threshold}: a strong profile!").format(threshold=threshold)
        )
    if result.strengths:
        names = ", ".join(h(framework.competency(c).title.text(lang)) for c in result.strengths)
        strengths = (
            _("<b>Strengths</b> (you can teach colleagues): {names}")
            if own
            else _("<b>Strengths</b> (can teach colleagues): {names}")
        )
        lines += ["", strengths.format(names=names)]
    return "\n".join(lines)


async def send_results(
    bot: Bot,
    chat_id: int,
    user: User,
    framework: Framework,
    result: AssessmentResult,
    previous: AssessmentResult | None,
) -> None:
    """The radar chart, the text summary with advice, and "before / after" from attempt two."""
    lang = user.language
    labels = [framework.competency(s.code).short.text(lang) for s in result.scores]
    values = [float(s.score) for s in result.scores]
    chart = await render_png(
        radar_chart,
        labels,
        values,
        title=framework.title.text(lang),
        threshold=float(framework.settings.deficit_threshold),
    )
    await bot.send_photo(
        chat_id,
        BufferedInputFile(chart, "profile.png"),
        caption=_("Your competency profile, 0-100"),
    )
    buttons = [[button(_("🧭 Build my route"), ResultCb(action=ResultAction.ROUTE))]]
    if result.strengths and not user.mentor_volunteer:
        buttons.append(
            [
                button(
                    _("🤝 I am ready to mentor or give a master-class"),
                    ResultCb(action=ResultAction.MENTOR),
                )
            ]
        )
    await bot.send_message(
        chat_id,
        results_text(framework, result, lang),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=buttons),
    )
    if previous is not None:
        changes = compare(previous, result)
        if len(changes) >= 3:
            by_code = {c.code: c for c in changes}
            codes = [s.code for s in result.scores if s.code in by_code]
            before_after = await render_png(
                comparison_chart,
                [framework.competency(c).short.text(lang) for c in codes],
                [float(by_code[c].before) for c in codes],
                [float(by_code[c].after) for c in codes],
                title=_("Before and after"),
                before_label=_("before"),
                after_label=_("now"),
            )
            await bot.send_photo(
                chat_id,
                BufferedInputFile(before_after, "before-after.png"),
                caption=_("Before and after, by competency"),
            )


async def cmd_results(
    message: Message, repo: Repo, user: UserContext, bot: Bot, tz: tzinfo
) -> None:
    found = await service.results(repo, user.id)
    external = await repo.diagnoses.latest(user.id)
    if isinstance(found, service.Refusal):
        text = _("No results yet: take the self-assessment with /assess.")
        if external is not None:
            framework = await repo.frameworks.active()
            text = diagnosis_text(external, framework, user.language) + "\n\n" + text
        await message.answer(text)
        return
    await send_results(
        bot, message.chat.id, found.user, found.framework, found.latest, found.previous
    )
    if external is not None:
        await message.answer(diagnosis_text(external, found.framework, user.language))
    if len(found.history) > 1:
        lines = [_("<b>History of your self-assessments</b>")]
        for item in found.history:
            lines.append(
                ngettext(
                    "{date} — {n} deficit", "{date} — {n} deficits", len(item.result.deficits)
                ).format(
                    date=date_text(item.finished_at, tz),
                    n=len(item.result.deficits),
                )
            )
        for chunk in split_html(lines):
            await message.answer(chunk)


async def on_mentor(query: CallbackQuery, repo: Repo, user: UserContext) -> None:
    await service.volunteer_to_mentor(repo, user.id)
    await query.answer(
        _(
            "Thank you! The methodists of your municipality will see that you are ready to share your experience."
        ),
        show_alert=True,
    )
