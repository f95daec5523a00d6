"""/newsite: the steps of the wizard, their answers and creating the site."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    Message,
)
from aiogram.utils.i18n import gettext as _

from db.models import Site, User
from db.repo import Repo
from domain.event_forms import SCHOOLS_PER_PAGE, SKIP, TITLE_MAX, TITLE_MIN, fits, site_code
from domain.ids import parse_id
from domain.pagination import paginate
from domain.roles import Role
from domain.scope import Scope
from domain.typography import quoted, shorten
from handlers.common import show
from handlers.event_admin.common import (
    Ctx,
    _competency_rows,
    _competency_titles,
    _contact_problem,
    _description_problem,
    _home,
    _kept,
    _mark,
    _modules_lines,
    _modules_question,
    _no_municipality,
    _read_modules,
    _scope,
    _title_problem,
    _toggle,
    _typed_step,
    _wizard_nav,
    _wizard_text,
)
from handlers.event_admin.states import SiteForm
from handlers.wizard import Rows, Step, Wizard
from ui.callbacks.event_admin import NewSiteAction, NewSiteCb
from ui.formatting import h
from ui.keyboards.common import button, pager_row, rows

# ------------------------------------------------------------------ /newsite: the steps


def _site_cb(action: NewSiteAction, value: str = "") -> NewSiteCb:
    return NewSiteCb(action=action, value=value)


async def _ask_site_title(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("🏫 <b>New internship site</b>\n\nWhat is the site called? (3 to 200 characters)")
    return question + _kept(data, "title", lambda v: h(quoted(v))), []


async def _ask_topic(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("What is its topic (direction)? 3 to 200 characters.")
    return question + _kept(data, "topic", lambda v: h(quoted(v))), []


async def _ask_school(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    scope = await _scope(ctx.repo, ctx.staff, ctx.role)
    home = scope.home_municipality(ctx.staff.municipality_id)
    schools = [
        s
        for s in (await ctx.repo.reference.schools(home) if home is not None else [])
        if scope.allows(s.municipality_id, s.id)
    ]
    chosen = data.get("school", -1)
    current = paginate(schools, int(data.get("school_page", 0)), SCHOOLS_PER_PAGE)
    buttons = rows(
        [
            button(
                _mark(chosen == s.id) + shorten(s.short_name, 40),
                _site_cb(NewSiteAction.SCHOOL, str(s.id)),
            )
            for s in current.items
        ],
        2,
    )
    pager = pager_row(current, lambda p: _site_cb(NewSiteAction.PAGE, str(p)))
    if pager:
        buttons.append(pager)
    if scope.school_ids is None:  # a school methodist's site is their school's
        buttons.append([button(_mark(chosen is None) + _("Skip"), _site_cb(NewSiteAction.SKIP))])
    return _("Which school hosts the site?"), buttons


async def _ask_site_competencies(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    return _(
        "Which competencies does the site develop? Tap to mark at least one, then «Done»."
    ), _competency_rows(
        await ctx.repo.frameworks.active(),
        list(data.get("comps", [])),
        ctx.staff.language,
        lambda action, value: _site_cb(NewSiteAction(action), value),
    )


async def _ask_site_description(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("A description for teachers (up to 2000 characters), or «-» to skip.")
    return question + _kept(data, "description", lambda v: h(str(v)[:1000]) or "—"), []


async def _ask_contact(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    question = _("Contact person: a name and a phone or e-mail (3 to 200 characters).")
    return question + _kept(data, "contact", h), []


def _stored_modules(data: dict[str, Any]) -> list[tuple[str, int]]:
    return [(str(title), int(hours)) for title, hours in data.get("modules", [])]


async def _ask_modules(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    shown = _kept(
        data, "modules", lambda _v: "\n" + "\n".join(_modules_lines(_stored_modules(data)))
    )
    return _modules_question() + shown, []


async def _ask_create(data: dict[str, Any], ctx: Ctx) -> tuple[str, Rows]:
    school = await ctx.repo.reference.school(int(data["school"])) if data.get("school") else None
    framework = await ctx.repo.frameworks.active()
    lines = [
        _("🏫 <b>Check the site before creating it</b>"),
        "",
        f"<b>{h(data['title'])}</b>",
        _("Topic: {topic}").format(topic=h(data["topic"])),
        _("School: {school}").format(school=h(school.name) if school else "—"),
        _("Competencies: {titles}").format(
            titles=_competency_titles(framework, list(data.get("comps", [])), ctx.staff.language)
        ),
        _("Contact: {contact}").format(contact=h(data["contact"])),
        _("Programme:"),
        *_modules_lines(_stored_modules(data)),
    ]
    if data.get("description"):
        lines += ["", h(data["description"])]
    return "\n".join(lines), [[button(_("✅ Create"), _site_cb(NewSiteAction.CREATE))]]


SITE_WIZARD: Wizard[Ctx] = Wizard(
    [
        Step(SiteForm.title, _ask_site_title, answer=("title",)),
        Step(SiteForm.topic, _ask_topic, answer=("topic",)),
        Step(SiteForm.school, _ask_school, answer=("school",)),
        Step(SiteForm.competencies, _ask_site_competencies),
        Step(SiteForm.description, _ask_site_description, answer=("description",)),
        Step(SiteForm.contact, _ask_contact, answer=("contact",)),
        Step(SiteForm.modules, _ask_modules, answer=("modules",)),
        Step(SiteForm.confirm, _ask_create),
    ],
    lambda nav, step: _site_cb(NewSiteAction(nav), step),
)


# ------------------------------------------------------------------ /newsite: the answers


async def cmd_newsite(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    if await _home(repo, staff, role) is None:
        await message.answer(_no_municipality())
        return
    await SITE_WIZARD.start(message, state, Ctx(repo, staff, role, tz))


async def site_nav(
    query: CallbackQuery,
    callback_data: NewSiteCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    """⬅️ Back and ➡️ Keep."""
    ctx = Ctx(repo, staff, role, tz)
    await _wizard_nav(query, state, ctx, SITE_WIZARD, callback_data.action, callback_data.value)


async def site_title(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    await _typed_step(
        message, state, Ctx(repo, staff, role, tz), SITE_WIZARD, "title", _title_problem
    )


def _topic_problem(text: str) -> str | None:
    if fits(text, TITLE_MIN, TITLE_MAX):
        return None
    return _("The topic should be 3 to 200 characters long. Please send it again.")


async def site_topic(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    if await _home(repo, staff, role) is None:
        await state.clear()
        await message.answer(_no_municipality())
        return
    await _typed_step(
        message, state, Ctx(repo, staff, role, tz), SITE_WIZARD, "topic", _topic_problem
    )


async def site_school_page(
    query: CallbackQuery,
    callback_data: NewSiteCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    page = parse_id(callback_data.value, maximum=10_000) or 0
    await state.update_data(school_page=page)
    await SITE_WIZARD.ask(query, state, Ctx(repo, staff, role, tz), SiteForm.school)


async def site_school(
    query: CallbackQuery,
    callback_data: NewSiteCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    school_id: int | None = None
    if callback_data.action == NewSiteAction.SCHOOL:
        school = (
            await repo.reference.school(school_ref)
            if (school_ref := parse_id(callback_data.value))
            else None
        )
        scope = await _scope(repo, staff, role)
        if (
            school is None
            or not scope.allows(school.municipality_id, school.id)
            or school.municipality_id != scope.home_municipality(staff.municipality_id)
        ):
            await query.answer(_("This button is out of date."), show_alert=True)
            return
        school_id = school.id
    elif (await _scope(repo, staff, role)).school_ids is not None:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await state.update_data(school=school_id)
    await SITE_WIZARD.advance(query, state, Ctx(repo, staff, role, tz))


async def site_comp(
    query: CallbackQuery,
    callback_data: NewSiteCb,
    state: FSMContext,
    repo: Repo,
    staff: User,
    role: Role,
    tz: tzinfo,
) -> None:
    framework = await repo.frameworks.active()
    codes = {c.code for c in framework.competencies} if framework else set()
    if callback_data.value not in codes:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    chosen = _toggle(list((await state.get_data()).get("comps", [])), callback_data.value)
    await state.update_data(comps=chosen)
    await SITE_WIZARD.ask(query, state, Ctx(repo, staff, role, tz), SiteForm.competencies)


async def site_comp_done(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    if not (await state.get_data()).get("comps"):
        await query.answer(_("Choose at least one competency."), show_alert=True)
        return
    await SITE_WIZARD.advance(query, state, Ctx(repo, staff, role, tz))


async def site_description(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    await _typed_step(
        message,
        state,
        Ctx(repo, staff, role, tz),
        SITE_WIZARD,
        "description",
        _description_problem,
        lambda text: "" if text == SKIP else text,
    )


async def site_contact(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    await _typed_step(
        message, state, Ctx(repo, staff, role, tz), SITE_WIZARD, "contact", _contact_problem
    )


async def site_modules(
    message: Message, state: FSMContext, repo: Repo, staff: User, role: Role, tz: tzinfo
) -> None:
    ctx = Ctx(repo, staff, role, tz)
    text = await _wizard_text(message, state, ctx, SITE_WIZARD)
    if text is None:
        return
    modules = _read_modules(text)
    if isinstance(modules, str):
        await SITE_WIZARD.retry(message, state, ctx, modules)
        return
    await state.update_data(modules=[[title, hours] for title, hours in modules])
    await SITE_WIZARD.advance(message, state, ctx)


async def site_create(
    query: CallbackQuery, state: FSMContext, repo: Repo, staff: User, role: Role
) -> None:
    data = await state.get_data()
    scope = await _scope(repo, staff, role)
    home = scope.home_municipality(staff.municipality_id)
    school = await repo.reference.school(int(data["school"])) if data.get("school") else None
    if school is not None and not scope.allows(school.municipality_id, school.id):
        school = None  # the scope changed while the form was open
    if home is None or (school is None and scope.school_ids is not None):
        await state.clear()
        await show(query, _no_municipality())
        return
    municipality = await repo.reference.municipality(home)
    assert municipality is not None
    existing = await repo.events.sites(Scope(frozenset({home})))
    number = len(existing) + 1
    while await repo.events.site_by_code(site_code(municipality.code, number)) is not None:
        number += 1
    site = await repo.events.add_site(
        Site(
            code=site_code(municipality.code, number),
            municipality_id=home,
            school_id=school.id if school is not None else None,
            title=str(data["title"]),
            topic=str(data["topic"]),
            competencies=list(data.get("comps", [])),
            description=str(data.get("description", "")),
            contact=str(data["contact"]),
            modules=[{"title": str(t), "hours": int(n)} for t, n in data.get("modules", [])],
        )
    )
    await repo.audit.record("site_created", actor=staff, site_id=site.id)
    await state.clear()
    await show(
        query,
        _("✅ Site created: <b>{title}</b> (code {code}). Add its sessions with /newevent.").format(
            title=h(site.title), code=h(site.code)
        ),
    )
