"""/mysites: the list, the site card and editing its title, description, contact and modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    CallbackQuery,
    Message,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from core.clock import Clock
from db.models import Site, User
from db.repo import Repo
from domain.event_forms import SITES_PER_PAGE, SKIP
from domain.pagination import paginate
from domain.roles import Role
from domain.typography import quoted, shorten
from handlers.common import show
from handlers.event_admin.common import (
    _competency_titles,
    _contact_problem,
    _description_problem,
    _in_scope,
    _markup,
    _modules_lines,
    _modules_question,
    _read_modules,
    _scope,
    _site_edit_cancel,
    _title_problem,
    _typed,
)
from handlers.event_admin.states import SiteEditForm
from handlers.formatting import show_long
from ui.callbacks.event_admin import SiteAdminAction, SiteAdminCb
from ui.formatting import h
from ui.keyboards.common import button, pager_row

# ------------------------------------------------------------------ /mysites and the site card


async def _sites_list(
    target: Message | CallbackQuery, repo: Repo, staff: User, role: Role, page: int = 0
) -> None:
    sites = await repo.events.sites(await _scope(repo, staff, role))
    if not sites:
        await show(target, _("No sites yet. Create one with /newsite."))
        return
    current = paginate(sites, page, SITES_PER_PAGE)
    buttons = [
        [button(shorten(site.title, 60), SiteAdminCb(action=SiteAdminAction.CARD, site=site.id))]
        for site in current.items
    ]
    pager = pager_row(current, lambda p: SiteAdminCb(action=SiteAdminAction.LIST, page=p))
    if pager:
        buttons.append(pager)
    await show(
        target,
        _("🏫 <b>Internship sites</b> ({n}): choose one to manage it.").format(n=len(sites)),
        _markup(buttons),
    )


async def cmd_mysites(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    await state.clear()
    await _sites_list(message, repo, staff, role)


def _site_modules(site: Site) -> list[tuple[str, int]]:
    return [(str(m.get("title", "")), int(m.get("hours", 0))) for m in site.modules]


async def _site_card(
    target: Message | CallbackQuery,
    site: Site,
    repo: Repo,
    staff: User,
    now: datetime,
    note: str = "",
) -> None:
    school = await repo.reference.school(site.school_id) if site.school_id else None
    framework = await repo.frameworks.active()
    upcoming = len(await repo.events.site_events(site.id, now))
    modules = _site_modules(site)
    total = sum(hours for _title, hours in modules)
    lines = [
        *([note, ""] if note else []),
        f"🏫 <b>{h(site.title)}</b>",
        _("Code: {code}").format(code=h(site.code)),
        _("Topic: {topic}").format(topic=h(site.topic)),
        _("School: {school}").format(school=h(school.name) if school else "—"),
        _("Competencies: {titles}").format(
            titles=_competency_titles(framework, site.competencies, staff.language)
        ),
        _("Contact: {contact}").format(contact=h(site.contact or "—")),
        _("🗓 Upcoming sessions: {n}").format(n=upcoming),
        "",
        ngettext("Programme ({n} hour):", "Programme ({n} hours):", total).format(n=total),
        *_modules_lines(modules),
    ]
    if site.description:
        lines += ["", h(site.description)]

    def cb(action: SiteAdminAction) -> SiteAdminCb:
        return SiteAdminCb(action=action, site=site.id)

    buttons = [
        [
            button(_("✏️ Title"), cb(SiteAdminAction.TITLE)),
            button(_("✏️ Description"), cb(SiteAdminAction.DESCRIPTION)),
        ],
        [
            button(_("✏️ Contact"), cb(SiteAdminAction.CONTACT)),
            button(_("✏️ Modules"), cb(SiteAdminAction.MODULES)),
        ],
        [button(_("⬅️ Back"), SiteAdminCb(action=SiteAdminAction.LIST))],
    ]
    await show_long(target, lines, _markup(buttons))


def _site_question(action: SiteAdminAction, site: Site) -> tuple[State, str] | None:
    if action == SiteAdminAction.TITLE:
        return SiteEditForm.title, _(
            "✏️ Now: {title}.\nSend the new title (3 to 200 characters)."
        ).format(title=h(quoted(site.title)))
    if action == SiteAdminAction.DESCRIPTION:
        return SiteEditForm.description, _(
            "✏️ Now: {description}\n\nSend the new description (up to 2000 characters), "
            "or «-» to remove it."
        ).format(description=h(site.description[:1000]) or "—")
    if action == SiteAdminAction.CONTACT:
        return SiteEditForm.contact, _("✏️ Now: {contact}.").format(
            contact=h(site.contact or "—")
        ) + "\n" + _("Contact person: a name and a phone or e-mail (3 to 200 characters).")
    if action == SiteAdminAction.MODULES:
        now = "\n".join([_("✏️ Now:"), *_modules_lines(_site_modules(site))])
        return SiteEditForm.modules, now + "\n\n" + _modules_question()
    return None


async def on_site_admin(
    query: CallbackQuery,
    callback_data: SiteAdminCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    clock: Clock,
) -> None:
    if callback_data.action == SiteAdminAction.LIST:
        await _sites_list(query, repo, staff, role, callback_data.page)
        return
    site = await repo.events.site(callback_data.site)
    if site is None or not await _in_scope(repo, site, staff, role):
        await query.answer(_("You cannot manage this site."), show_alert=True)
        return
    if callback_data.action in {SiteAdminAction.CARD, SiteAdminAction.CANCEL}:
        if callback_data.action == SiteAdminAction.CANCEL:
            await state.clear()
        await _site_card(query, site, repo, staff, clock.now())
        return
    question = _site_question(callback_data.action, site)
    if question is None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    target, text = question
    await state.clear()
    await state.set_state(target)
    await state.update_data(site=site.id)
    await show(query, text, _site_edit_cancel(site.id))


async def _edited_site(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role
) -> tuple[Site, str] | None:
    site_id = int((await state.get_data()).get("site", 0))
    text = await _typed(message, _site_edit_cancel(site_id))
    if text is None:
        return None
    site = await repo.events.site(site_id)
    if site is None or not await _in_scope(repo, site, staff, role):
        await state.clear()
        await message.answer(_("You cannot manage this site."))
        return None
    return site, text


async def _save_site(
    message: Message,
    state: FSMContext,
    site: Site,
    repo: Repo,
    staff: User,
    now: datetime,
    changes: dict[str, object],
) -> None:
    changed = await repo.events.update_site(site, **changes)
    await state.clear()
    if changed:
        await repo.audit.record("site_edited", actor=staff, site_id=site.id, fields=changed)
    await _site_card(
        message, site, repo, staff, now, note=_("✅ Saved.") if changed else _("Nothing changed.")
    )


# ------------------------------------------------------------------ one-answer site fields
#: a typed answer read into the site's changed columns, or the polite problem with it
SiteReader = Callable[[str], dict[str, object] | str]


def _read_site_title(text: str) -> dict[str, object] | str:
    problem = _title_problem(text)
    return problem if problem is not None else {"title": text}


def _read_site_description(text: str) -> dict[str, object] | str:
    problem = _description_problem(text)
    return problem if problem is not None else {"description": "" if text == SKIP else text}


def _read_site_contact(text: str) -> dict[str, object] | str:
    problem = _contact_problem(text)
    return problem if problem is not None else {"contact": text}


def _read_site_modules(text: str) -> dict[str, object] | str:
    modules = _read_modules(text)
    if isinstance(modules, str):
        return modules
    return {"modules": [{"title": title, "hours": hours} for title, hours in modules]}


def _site_field_editor(read: SiteReader) -> Callable[..., Awaitable[None]]:
    """The handler of a one-answer site form: re-check the site, read the answer, save."""

    async def site_edit_field(
        message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, clock: Clock
    ) -> None:
        got = await _edited_site(message, state, repo, staff, role)
        if got is None:
            return
        site, text = got
        changes = read(text)
        if isinstance(changes, str):
            await message.answer(changes, reply_markup=_site_edit_cancel(site.id))
            return
        await _save_site(message, state, site, repo, staff, clock.now(), changes)

    return site_edit_field


site_edit_title = _site_field_editor(_read_site_title)
site_edit_description = _site_field_editor(_read_site_description)
site_edit_contact = _site_field_editor(_read_site_contact)
site_edit_modules = _site_field_editor(_read_site_modules)
