"""Coordinators manage events and internship sites: `/newevent` and `/newsite` wizards (on the
shared step engine of handlers.wizard: ⬅️ Back on every step keeps the answers),
`/myevents` with the event admin card (participants, attendance, CSV, messages previewed
before they go, check-in QR, capacity, editing, cancellation) and `/mysites` with the site
card (editing the title, description, contact and modules). Scoped to the coordinator's
municipality; admins see everything. Ticking attendance completes the matching route step
and unticking reopens it (services.attendance).

Every callback carries only ids and re-checks on the server that the event belongs to the
coordinator's municipality. The small parsing helpers (rules.py) are pure (no aiogram) and
unit-tested in tests/unit/test_event_admin_rules.py.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter

from domain.event_forms import (
    BadModuleLine,
    fits,
    local_text,
    parse_end,
    parse_local,
    parse_modules,
    parse_whole,
    site_code,
    split_place,
)
from domain.roles import Role
from handlers.event_admin.agenda import open_card
from handlers.event_admin.card import (
    cmd_myevents,
    form_cancel,
    got_capacity,
    on_event_admin,
)
from handlers.event_admin.common import notified_text, use_buttons, wizard_cancel
from handlers.event_admin.edit import (
    edit_deadline,
    edit_description,
    edit_ends,
    edit_place,
    edit_starts,
    edit_title,
    on_event_edit,
)
from handlers.event_admin.new_event import (
    cmd_newevent,
    event_audience,
    event_capacity,
    event_comp,
    event_comp_done,
    event_description,
    event_ends,
    event_kind,
    event_nav,
    event_place,
    event_publish,
    event_site,
    event_starts,
    event_title,
)
from handlers.event_admin.new_site import (
    cmd_newsite,
    site_comp,
    site_comp_done,
    site_contact,
    site_create,
    site_description,
    site_modules,
    site_nav,
    site_school,
    site_school_page,
    site_title,
    site_topic,
)
from handlers.event_admin.participants import (
    edit_participants_message,
    got_participants_message,
    participants_csv,
    participants_message,
    send_participants_message,
)
from handlers.event_admin.sites import (
    cmd_mysites,
    on_site_admin,
    site_edit_contact,
    site_edit_description,
    site_edit_modules,
    site_edit_title,
)
from handlers.event_admin.states import (
    EventAdminForm,
    EventEditForm,
    EventForm,
    SiteEditForm,
    SiteForm,
)
from handlers.filters import RoleFilter
from ui.callbacks.event_admin import (
    AdminFormAction,
    AdminFormCb,
    EventAdminAction,
    EventAdminCb,
    EventEditCb,
    NewEventAction,
    NewEventCb,
    NewSiteAction,
    NewSiteCb,
    SiteAdminCb,
)

__all__ = [
    "BadModuleLine",
    "EventAdminForm",
    "EventEditForm",
    "EventForm",
    "SiteEditForm",
    "SiteForm",
    "fits",
    "local_text",
    "make_router",
    "notified_text",
    "parse_end",
    "parse_local",
    "parse_modules",
    "parse_whole",
    "participants_csv",
    "participants_message",
    "site_code",
    "split_place",
]

# ------------------------------------------------------------------ the router


#: typed answers in a form; commands pass on to their own routers (the form stays open)
NOT_COMMAND = ~F.text.startswith("/")


def make_router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name="event_admin")
    router.message.filter(RoleFilter(Role.SCHOOL_METHODIST))
    router.callback_query.filter(RoleFilter(Role.SCHOOL_METHODIST))
    msg, cbq = router.message, router.callback_query

    msg.register(cmd_newevent, Command("newevent"))
    msg.register(cmd_newsite, Command("newsite"))
    msg.register(cmd_myevents, Command("myevents"))
    msg.register(cmd_mysites, Command("mysites"))

    # /newevent
    cbq.register(
        wizard_cancel, StateFilter(EventForm), NewEventCb.filter(F.action == NewEventAction.CANCEL)
    )
    cbq.register(
        event_nav,
        StateFilter(EventForm),
        NewEventCb.filter(F.action.in_({NewEventAction.BACK, NewEventAction.KEEP})),
    )
    cbq.register(event_kind, EventForm.kind, NewEventCb.filter(F.action == NewEventAction.KIND))
    cbq.register(
        event_comp, EventForm.competencies, NewEventCb.filter(F.action == NewEventAction.COMP)
    )
    cbq.register(
        event_comp_done, EventForm.competencies, NewEventCb.filter(F.action == NewEventAction.DONE)
    )
    cbq.register(event_site, EventForm.site, NewEventCb.filter(F.action == NewEventAction.SITE))
    cbq.register(
        event_audience, EventForm.audience, NewEventCb.filter(F.action == NewEventAction.AUD)
    )
    cbq.register(
        event_publish, EventForm.confirm, NewEventCb.filter(F.action == NewEventAction.PUBLISH)
    )
    msg.register(event_title, EventForm.title, NOT_COMMAND)
    msg.register(event_description, EventForm.description, NOT_COMMAND)
    msg.register(event_starts, EventForm.starts, NOT_COMMAND)
    msg.register(event_ends, EventForm.ends, NOT_COMMAND)
    msg.register(event_place, EventForm.place, NOT_COMMAND)
    msg.register(event_capacity, EventForm.capacity, NOT_COMMAND)
    msg.register(use_buttons, StateFilter(EventForm), NOT_COMMAND)

    # /newsite
    cbq.register(
        wizard_cancel, StateFilter(SiteForm), NewSiteCb.filter(F.action == NewSiteAction.CANCEL)
    )
    cbq.register(
        site_nav,
        StateFilter(SiteForm),
        NewSiteCb.filter(F.action.in_({NewSiteAction.BACK, NewSiteAction.KEEP})),
    )
    cbq.register(
        site_school_page, SiteForm.school, NewSiteCb.filter(F.action == NewSiteAction.PAGE)
    )
    cbq.register(
        site_school,
        SiteForm.school,
        NewSiteCb.filter(F.action.in_({NewSiteAction.SCHOOL, NewSiteAction.SKIP})),
    )
    cbq.register(site_comp, SiteForm.competencies, NewSiteCb.filter(F.action == NewSiteAction.COMP))
    cbq.register(
        site_comp_done, SiteForm.competencies, NewSiteCb.filter(F.action == NewSiteAction.DONE)
    )
    cbq.register(site_create, SiteForm.confirm, NewSiteCb.filter(F.action == NewSiteAction.CREATE))
    msg.register(site_title, SiteForm.title, NOT_COMMAND)
    msg.register(site_topic, SiteForm.topic, NOT_COMMAND)
    msg.register(site_description, SiteForm.description, NOT_COMMAND)
    msg.register(site_contact, SiteForm.contact, NOT_COMMAND)
    msg.register(site_modules, SiteForm.modules, NOT_COMMAND)
    msg.register(use_buttons, StateFilter(SiteForm), NOT_COMMAND)

    # /myevents, the card and its forms (from the morning agenda: the card below it)
    cbq.register(open_card, EventAdminCb.filter(F.action == EventAdminAction.OPEN))
    cbq.register(on_event_admin, EventAdminCb.filter())
    cbq.register(
        form_cancel,
        StateFilter(EventAdminForm),
        AdminFormCb.filter(F.action == AdminFormAction.CANCEL),
    )
    msg.register(got_participants_message, EventAdminForm.message, NOT_COMMAND)
    cbq.register(
        send_participants_message,
        EventAdminForm.preview,
        AdminFormCb.filter(F.action == AdminFormAction.SEND),
    )
    cbq.register(
        edit_participants_message,
        EventAdminForm.preview,
        AdminFormCb.filter(F.action == AdminFormAction.EDIT),
    )
    msg.register(use_buttons, EventAdminForm.preview, NOT_COMMAND)
    msg.register(got_capacity, EventAdminForm.capacity, NOT_COMMAND)

    # editing an event (from its card)
    cbq.register(on_event_edit, EventEditCb.filter())
    msg.register(edit_title, EventEditForm.title, NOT_COMMAND)
    msg.register(edit_description, EventEditForm.description, NOT_COMMAND)
    msg.register(edit_starts, EventEditForm.starts, NOT_COMMAND)
    msg.register(edit_ends, EventEditForm.ends, NOT_COMMAND)
    msg.register(edit_place, EventEditForm.place, NOT_COMMAND)
    msg.register(edit_deadline, EventEditForm.deadline, NOT_COMMAND)

    # /mysites, the site card and its forms
    cbq.register(on_site_admin, SiteAdminCb.filter())
    msg.register(site_edit_title, SiteEditForm.title, NOT_COMMAND)
    msg.register(site_edit_description, SiteEditForm.description, NOT_COMMAND)
    msg.register(site_edit_contact, SiteEditForm.contact, NOT_COMMAND)
    msg.register(site_edit_modules, SiteEditForm.modules, NOT_COMMAND)
    return router
