"""Callback data: every class packs to exactly the string the buttons already sent in chats
carry (the `StrEnum` actions keep today's values), within Telegram's 64 bytes, and an action
no code knows is rejected when unpacked."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from enum import StrEnum

import pytest
from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData
from aiogram.types import CallbackQuery, Chat, Message, User
from pydantic import ValidationError

import ui.callbacks
from domain.stats import IndicatorCode, PeriodKind
from ui.callbacks.admin import AdminAction, AdminCb
from ui.callbacks.assessment import AnswerCb, AssessAction, AssessCb, ResultAction, ResultCb
from ui.callbacks.broadcast_history import BcHist, BcHistAction
from ui.callbacks.broadcasts import (
    BcAdmin,
    BcAdminAction,
    BcMenu,
    BcMenuAction,
    BcOpen,
    BcWiz,
    BcWizAction,
)
from ui.callbacks.coordinator import (
    SchoolActCb,
    SchoolAction,
    TeacherAction,
    TeacherCb,
    VerifySchoolCb,
)
from ui.callbacks.event_admin import (
    AdminFormAction,
    AdminFormCb,
    EventAdminAction,
    EventAdminCb,
    EventEditCb,
    EventEditField,
    NewEventAction,
    NewEventCb,
    NewSiteAction,
    NewSiteCb,
    SiteAdminAction,
    SiteAdminCb,
)
from ui.callbacks.events import (
    EvAct,
    EvAction,
    EvList,
    EvListMode,
    EvListWhen,
    FeedbackCb,
    OfferCb,
)
from ui.callbacks.menu import DeleteCb, SettingsAction, SettingsCb
from ui.callbacks.onboarding import ConsentAction, ConsentCb, LangCb
from ui.callbacks.profile import (
    AgeCb,
    EditCb,
    MuniCb,
    Nav,
    NavAction,
    PositionCb,
    SchoolCb,
    SubjectCb,
)
from ui.callbacks.route import (
    BuildAction,
    BuildCb,
    NudgeAction,
    NudgeCb,
    PastCb,
    ReplaceCb,
    RouteAction,
    RouteCb,
)
from ui.callbacks.settings import MuteCb, SetAction, SetCb
from ui.callbacks.stats import StatsAction, StatsCb

#: one instance per class and the string the same button packed to before the actions were
#: enums (checked against the string-typed classes of the previous release)
PACKED: list[tuple[CallbackData, str]] = [
    (AdminCb(action=AdminAction.MUNI, user_id=123456, value=14), "ad:muni:123456:14"),
    (
        EvList(mode=EvListMode.COMP, value="assessment", when=EvListWhen.WEEK, page=2),
        "el:comp:assessment:week:2",
    ),
    (EvAct(action=EvAction.CANCEL_OK, event=123456), "ea:cancelok:123456"),
    (OfferCb(reg=77, take=True), "of:77:1"),
    (FeedbackCb(reg=77, rating=5), "fb:77:5"),
    (NewEventCb(action=NewEventAction.AUD, value="region"), "evn:aud:region"),
    (NewSiteCb(action=NewSiteAction.SCHOOL, value="12"), "stn:school:12"),
    (EventAdminCb(action=EventAdminAction.CANCEL_YES, event=9), "eadm:cancel_yes:9:0"),
    (AdminFormCb(action=AdminFormAction.SEND), "eadf:send"),
    (EventEditCb(field=EventEditField.DEADLINE, event=9), "eedt:deadline:9"),
    (SiteAdminCb(action=SiteAdminAction.MODULES, site=4, page=1), "sadm:modules:4:1"),
    (BuildCb(action=BuildAction.TOGGLE, code="assessment"), "rb:toggle:assessment"),
    (
        RouteCb(action=RouteAction.STATUS, step=31, status="in_progress"),
        "rt:status:31::in_progress",
    ),
    (ReplaceCb(confirm=False, route=8), "rr:0:8"),
    (PastCb(route=8), "rp:8"),
    (NudgeCb(action=NudgeAction.POSTPONE, step=31), "rn:postpone:31"),
    (AssessCb(action=AssessAction.BACK, attempt=5, code="1.1"), "as:back:5:1.1"),
    (AnswerCb(attempt=5, code="1.1", value=3), "aa:5:1.1:3"),
    (ResultCb(action=ResultAction.MENTOR), "ar:mentor"),
    (Nav(action=NavAction.BACK, field="position"), "pf:back:position"),
    (EditCb(field="school"), "pfe:school"),
    (MuniCb(id=3), "pfm:3:-1"),
    (SchoolCb(id=0, page=2, other=True), "pfs:0:2:1"),
    (PositionCb(code="teacher"), "pfp:teacher"),
    (SubjectCb(code="math", page=1, done=False), "pft:math:1:0"),
    (AgeCb(band="35-44"), "pfa:35-44"),
    (VerifySchoolCb(school_id=14), "vs:14"),
    (SchoolActCb(action=SchoolAction.REJECT_YES, school_id=14), "sx:reject_yes:14:0:0"),
    (TeacherCb(action=TeacherAction.ARCH, user_id=50, step=7), "tc:arch:50:7"),
    (SettingsCb(action=SettingsAction.MYDATA), "set:mydata"),
    (DeleteCb(confirm=True), "del:1"),
    (ConsentCb(action=ConsentAction.DECLINE), "consent:decline"),
    (LangCb(code="en"), "lang:en"),
    # new in 0006 (reminders): no older form
    (SetCb(action=SetAction.ZONE, value="Asia/Yekaterinburg"), "st:zone:Asia/Yekaterinburg"),
    (MuteCb(category="events"), "mu:events"),
    # new in 0007 (broadcasts)
    (BcOpen(bc=5, event=9), "bo:5:9"),
    (BcAdmin(action=BcAdminAction.REASONS, bc=5), "ba:reasons:5"),
    # the longest value the wizard puts there: a position code (32) or a competency code
    (
        BcWiz(action=BcWizAction.POSITION, value="additional_education_teacher", page=0),
        "bw:pos:additional_education_teacher:0",
    ),
    # the coordinator's tools: 📣 a new broadcast, 📜 the history
    (BcMenu(action=BcMenuAction.HISTORY), "bm:history"),
    (BcHist(action=BcHistAction.CANCEL_OK, bc=12, page=1), "bh:cancelok:12:1"),
    # new with issue #11 (/stats): the longest kind and sort
    (
        StatsCb(
            action=StatsAction.CHARTS,
            kind=PeriodKind.QUARTER,
            day=20261123,
            sort=IndicatorCode.YOUNG_SUPPORTED,
        ),
        "sts:charts:quarter:20261123:young_supported:0",
    ),
]


def _all_classes() -> set[type[CallbackData]]:
    found: set[type[CallbackData]] = set()
    for info in pkgutil.iter_modules(ui.callbacks.__path__, "ui.callbacks."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, CallbackData) and obj.__module__ == module.__name__:
                found.add(obj)
    return found


def test_every_callback_class_is_covered_and_lives_in_ui() -> None:
    classes = _all_classes()
    assert len(classes) == 41  # + BcHist (history), StatsCb, AdminCb (issue #11)
    assert {type(data) for data, _ in PACKED} == classes


@pytest.mark.parametrize(
    ("data", "packed"), PACKED, ids=[type(data).__name__ for data, _ in PACKED]
)
def test_packs_to_the_old_string_within_64_bytes(data: CallbackData, packed: str) -> None:
    assert data.pack() == packed
    assert len(packed.encode()) <= MAX_CALLBACK_LENGTH
    assert type(data).unpack(packed) == data  # and back: an old button still parses


def _enum_fields(cls: type[CallbackData]) -> dict[str, type[StrEnum]]:
    return {
        name: field.annotation
        for name, field in cls.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, StrEnum)
    }


@pytest.mark.parametrize("cls", sorted(_all_classes(), key=str))
def test_every_action_fits_with_large_ids(cls: type[CallbackData]) -> None:
    """Each enum value with ids of ten digits still fits Telegram's limit."""
    template = next(data for data, _ in PACKED if type(data) is cls)
    large = {
        name: 10**9 if isinstance(value, int) and not isinstance(value, bool) else value
        for name, value in template.model_dump().items()
    }
    for name, enum in _enum_fields(cls).items():
        for member in enum:
            packed = cls(**{**large, name: member}).pack()
            assert len(packed.encode()) <= MAX_CALLBACK_LENGTH, packed


def test_string_actions_became_enums() -> None:
    """Every `action` (and the event form's `field`) is an enum, never a free string."""
    for cls in _all_classes():
        if "action" in cls.model_fields:
            assert "action" in _enum_fields(cls), cls.__name__
    assert "field" in _enum_fields(EventEditCb)
    assert set(_enum_fields(EvList)) == {"mode", "when"}


@pytest.mark.parametrize(
    ("cls", "forged"),
    [
        (EvAct, "ea:delete:5"),
        (EventAdminCb, "eadm:drop:5:0"),
        (SchoolActCb, "sx:approve:14:0:0"),
        (EvList, "el:secret::all:0"),
        (EventEditCb, "eedt:capacity:9"),
        (SettingsCb, "set:CARD"),
        (StatsCb, "sts:show:decade:0:diagnosed:0"),
        (StatsCb, "sts:show:week:0:salary:0"),
    ],
)
def test_an_unknown_action_is_rejected(cls: type[CallbackData], forged: str) -> None:
    with pytest.raises(ValidationError):
        cls.unpack(forged)


async def test_the_filter_does_not_match_an_unknown_action() -> None:
    """A forged or outdated button reaches no handler of the feature (the fallback router
    answers it as out of date)."""
    chat = Chat(id=1, type="private")
    message = Message(message_id=1, date=0, chat=chat, text="x")  # type: ignore[arg-type]
    sender = User(id=1, is_bot=False, first_name="A")

    def query(data: str) -> CallbackQuery:
        return CallbackQuery(
            id="1", from_user=sender, chat_instance="c", message=message, data=data
        )

    check = EvAct.filter()
    assert await check(query("ea:card:5")) == {
        "callback_data": EvAct(action=EvAction.CARD, event=5)
    }
    assert await check(query("ea:delete:5")) is False
