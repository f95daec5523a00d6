"""The profile card: the summary with an edit button per field, and saving the profile."""

from __future__ import annotations

from datetime import tzinfo

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from core.clock import Clock
from core.usercache import UserContext
from db.models import User
from db.repo import Repo
from domain import profile as rules
from domain.profile import Field
from handlers.common import show
from handlers.deeplinks import route_payload
from handlers.profile.common import _age_label, _field_title, _years
from services import profile as service
from services.profile import Refusal
from ui.callbacks.profile import EditCb, Nav, NavAction
from ui.formatting import h
from ui.keyboards.common import button, rows
from ui.keyboards.menu import main_menu


def summary_text(full: User, lang: str) -> str:
    """The profile as the card shows it (`full`: with municipality, school, position and
    subjects loaded)."""
    school = "—"
    if full.school is not None:
        school = h(full.school.name)
        if not full.school.verified:
            school += " " + _("(awaiting check by a methodist)")
    lines = [
        _("👤 <b>Your profile</b>"),
        "",
        f"<b>{_field_title(Field.FULL_NAME)}:</b> {h(full.full_name or '—')}",
        f"<b>{_field_title(Field.MUNICIPALITY)}:</b> "
        + (h(full.municipality.name(lang)) if full.municipality else "—"),
        f"<b>{_field_title(Field.SCHOOL)}:</b> {school}",
        f"<b>{_field_title(Field.POSITION)}:</b> "
        + (h(full.position.name(lang)) if full.position else "—"),
        f"<b>{_field_title(Field.SUBJECTS)}:</b> "
        + (", ".join(h(s.name(lang)) for s in full.subjects) or "—"),
        f"<b>{_field_title(Field.EXPERIENCE)}:</b> "
        + (_years(full.experience_years) if full.experience_years is not None else "—"),
        f"<b>{_field_title(Field.AGE_BAND)}:</b> {_age_label(full.age_band)}",
    ]
    return "\n".join(lines)


async def show_summary(
    event: Message | CallbackQuery, state: FSMContext, repo: Repo, user: User
) -> None:
    await state.set_state(None)  # the card's buttons work in any state; typed text is free
    lang = user.language
    found = await service.card(repo, user.id)
    text = summary_text(found.user, lang)
    edit_buttons = [
        button("✏️ " + _field_title(f), EditCb(field=f.value)) for f in rules.WIZARD_ORDER
    ]
    markup = rows(edit_buttons, 2)
    if found.complete:
        label = (
            _("✅ Everything is correct")
            if found.user.profile_completed_at is None
            else _("✅ Done")
        )
        markup.append([button(label, Nav(action=NavAction.SAVE))])
    else:
        text += "\n\n" + _("Some answers are missing: fill them in to finish.")
    await show(event, text, InlineKeyboardMarkup(inline_keyboard=markup))


async def save_profile(
    query: CallbackQuery,
    state: FSMContext,
    repo: Repo,
    user: UserContext,
    tz: tzinfo,
    clock: Clock,
) -> None:
    saved = await service.save(repo, user.id, clock.now())
    if isinstance(saved, Refusal):  # INCOMPLETE
        await query.answer(_("Some answers are missing: fill them in to finish."), show_alert=True)
        return
    await state.clear()
    await show(query, summary_text(saved.user, saved.user.language))
    assert isinstance(query.message, Message)
    if saved.first_time:
        await query.message.answer(
            _(
                "🎉 Your profile is ready. Thank you! Use the menu below; /help shows everything I can do."
            ),
            reply_markup=main_menu(user.role),
        )
        await route_payload(query.message, repo, saved.user, tz, clock.now())
    else:
        await query.message.answer(_("Saved."), reply_markup=main_menu(user.role))
