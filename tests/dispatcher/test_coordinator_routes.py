"""The methodist's teacher view (long texts split safely, about the teacher), ids typed by
users, free-text prompts that leave on a command, asking before a route is replaced, earlier
routes, and the checks of typed-in schools (correct, merge, reject) with forged ids."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from core.clock import utcnow
from db.models import AuditEntry, Route, RouteComment, RouteStep, School, User
from db.reference.sample_events import TRICKY_TITLE
from db.repo import Repo
from devtools.emulator.formatting import parse_html
from domain.assessment import score
from domain.roles import Role
from handlers.events import FeedbackForm
from tests.dispatcher.conftest import Harness
from tests.mocked_bot import Request
from tests.sample import load_sample_events
from tests.staffing import make_staff
from ui.callbacks.assessment import ResultCb
from ui.callbacks.coordinator import SchoolActCb, TeacherCb
from ui.callbacks.route import BuildCb, PastCb, ReplaceCb, RouteCb

COORD = 500
TEACHER = 501
FOREIGN_COORD = 502


def _texts(requests: list[Request]) -> str:
    return "\n".join(str(r.params.get("text") or "") for r in requests)


def _plain(requests: list[Request]) -> str:
    """What the user sees: every message text after Telegram's HTML parsing."""
    return "\n".join(
        parse_html(str(r.params["text"])).text
        for r in requests
        if r.method in {"sendMessage", "editMessageText"} and r.params.get("text")
    )


def _buttons(requests: list[Request]) -> list[dict[str, Any]]:
    found = []
    for r in requests:
        markup = r.params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
            found += row
    return found


def _alert(requests: list[Request]) -> bool:
    return any(r.method == "answerCallbackQuery" and r.params.get("show_alert") for r in requests)


async def _munis(h: Harness) -> list[int]:
    async with h.sessionmaker() as session:
        return [m.id for m in await Repo(session).reference.municipalities()]


async def _user(
    h: Harness, telegram_id: int, municipality_id: int, role: str = "teacher", name: str = ""
) -> int:
    async with h.sessionmaker() as session:
        repo = Repo(session)
        position = (await repo.reference.positions())[0]
        user = User(
            telegram_id=telegram_id,
            language="ru",
            role=role,
            consent="given",
            consent_version="1.0",
            consent_at=utcnow(),
            full_name=name or f"Педагог {telegram_id}",
            municipality_id=municipality_id,
            position_code=position.code,
            experience_years=10,
            age_band="35_plus",
            profile_completed_at=utcnow(),
        )
        session.add(user)
        await session.flush()
        if role == "coordinator":
            await make_staff(repo, user, Role.COORDINATOR, municipality_id)
        await session.commit()
        return user.id


def _step(position: int, competency: str, **extra: Any) -> RouteStep:
    title = f"Шаг {position}: {TRICKY_TITLE}"
    return RouteStep(
        position=position,
        competency=competency,
        number=position,
        kind="learn",
        target_date=date.today() + timedelta(days=position),
        status=extra.pop("status", "planned"),
        content={
            "title": {"ru": title, "en": title},
            "what": {"ru": "Что <и> зачем & как", "en": "What"},
            "how": {"ru": "Как", "en": "How"},
            "competency": {"ru": f"Компетенция {competency} <&>", "en": competency},
            "resources": [],
        },
        **extra,
    )


async def _route(h: Harness, user_id: int, steps: list[RouteStep]) -> int:
    async with h.sessionmaker() as session:
        route = await Repo(session).routes.create(user_id, None, "normal", steps)
        await session.commit()
        return route.id


async def _finish_assessment(h: Harness, user_id: int) -> None:
    async with h.sessionmaker() as session:
        repo = Repo(session)
        framework = await repo.frameworks.active()
        assert framework is not None
        answers = {s.code: 1 for s in framework.statements(False)}
        now = h.clock.now()
        attempt = await repo.assessments.start(user_id, framework.version, False, now)
        await repo.assessments.finish(
            attempt, score(framework, answers, is_manager=False).to_json(), now
        )
        await session.commit()


# ------------------------------------------------------------------ item 16: long views


def _evidence(n: int) -> str:
    """Evidence as teachers paste it: markup-like text, ampersands, the tricky sample title.
    (The padding of the first one put the old view's cut at 4000 characters inside `&gt;`.)"""
    return (
        f"Доказательство {n}: " + "·" * (25 if n == 1 else 0) + "<b>&</b><&> " * 60 + TRICKY_TITLE
    )


async def test_methodist_view_of_a_long_route_is_split_safely_and_speaks_of_the_teacher(
    harness: Harness,
) -> None:
    muni = (await _munis(harness))[0]
    await _user(harness, COORD, muni, role="coordinator")
    teacher_id = await _user(harness, TEACHER, muni)
    await _finish_assessment(harness, teacher_id)
    steps = [
        _step(
            i,
            f"c{i % 3}",
            status="done",
            evidence_text=_evidence(i)[:1000],
            reflection=(f"Рефлексия {i}: " + "<i>&amp;</i> & < > " * 30)[:500],
        )
        for i in range(1, 19)
    ]
    await _route(harness, teacher_id, steps)

    sent = await harness.message(COORD, f"/teacher {TEACHER}")

    assert harness.session.violations == []  # every message is valid Telegram HTML, ≤ 4096
    seen = re.sub(r"\s+", "", _plain(sent))
    for step in steps:  # nothing was cut away
        assert re.sub(r"\s+", "", str(step.evidence_text)) in seen
        assert re.sub(r"\s+", "", str(step.reflection)) in seen
    assert "Профильпедагога" in seen and "Маршрутпедагога" in seen
    assert "Вашпрофиль" not in seen and "Мноймаршрут" not in seen.replace("Мой", "Мной")
    assert len([r for r in sent if r.method == "sendMessage"]) > 2  # split, not cut
    # the buttons come under the last part
    assert sent[-1].params.get("reply_markup")


# ------------------------------------------------------------------ item 17: ids in commands


@pytest.mark.parametrize("arg", ["²", "٣", "--5", "99999999999999999999", "", "abc"])
async def test_teacher_command_with_a_bad_id_gets_a_polite_answer(
    harness: Harness, arg: str
) -> None:
    muni = (await _munis(harness))[0]
    await _user(harness, COORD, muni, role="coordinator")
    sent = await harness.message(COORD, f"/teacher {arg}".strip())
    text = _texts(sent)
    assert "цифрами" in text, text
    assert "что-то пошло не так" not in text


# ------------------------------------------------------------------ item 18: free text


async def test_evidence_prompt_does_not_swallow_commands_or_menu_buttons(
    harness: Harness,
) -> None:
    await load_sample_events(harness.sessionmaker)
    muni = (await _munis(harness))[0]
    teacher_id = await _user(harness, TEACHER, muni)
    await _route(harness, teacher_id, [_step(1, "c1"), _step(2, "c1")])
    async with harness.sessionmaker() as session:
        step_id = (await session.scalars(select(RouteStep.id).order_by(RouteStep.id))).first()
    done = RouteCb(action="status", step=step_id or 0, status="done").pack()

    await harness.callback(TEACHER, done)
    events = await harness.message(TEACHER, "/events")  # a command instead of evidence
    assert "рефлекси" not in _texts(events).lower()
    await harness.callback(TEACHER, done)
    await harness.message(TEACHER, "План урока с чек-листом")  # evidence accepted
    menu = await harness.message(TEACHER, "🧭 Мой маршрут")  # a menu button, not reflection
    assert "Мой маршрут" in _texts(menu)
    after = await harness.message(TEACHER, "просто текст")  # the prompt is gone
    assert "/help" in _texts(after)  # the fallback answer
    async with harness.sessionmaker() as session:
        step = await session.get(RouteStep, step_id)
        assert step is not None
        assert (step.status, step.evidence_text, step.reflection) == ("planned", None, None)


async def test_feedback_comment_prompt_lets_commands_through_but_keeps_skip(
    harness: Harness,
) -> None:
    muni = (await _munis(harness))[0]
    await _user(harness, TEACHER, muni)
    key = StorageKey(bot_id=harness.bot.id, chat_id=TEACHER, user_id=TEACHER)
    storage = harness.dp.fsm.storage
    await storage.set_state(key, FeedbackForm.comment)
    await storage.set_data(key, {"reg": 0})
    sent = await harness.message(TEACHER, "/profile")  # a command, not a comment
    assert "отзыв" not in _texts(sent).lower()
    assert await storage.get_state(key) is None
    await storage.set_state(key, FeedbackForm.comment)
    skipped = await harness.message(TEACHER, "/skip")
    assert "отзыв" in _texts(skipped).lower()


async def test_methodist_prompts_have_cancel_and_leave_on_a_command(harness: Harness) -> None:
    muni = (await _munis(harness))[0]
    await _user(harness, COORD, muni, role="coordinator")
    teacher_id = await _user(harness, TEACHER, muni)
    await _route(harness, teacher_id, [_step(1, "c1")])

    for action in ("comment", "step"):
        prompt = await harness.callback(COORD, TeacherCb(action=action, user_id=teacher_id).pack())
        cancel = TeacherCb(action="cancel", user_id=teacher_id).pack()
        assert any(b.get("callback_data") == cancel for b in _buttons(prompt))
        await harness.callback(COORD, cancel)
        await harness.message(COORD, "это не должно сохраниться")

    await harness.callback(COORD, TeacherCb(action="comment", user_id=teacher_id).pack())
    await harness.message(COORD, "/myevents")  # a command: not a comment
    await harness.callback(COORD, TeacherCb(action="step", user_id=teacher_id).pack())
    await harness.message(COORD, "📅 Мероприятия")  # a menu button: not a step title
    await harness.message(COORD, "01.01.2099")

    async with harness.sessionmaker() as session:
        assert list(await session.scalars(select(RouteComment))) == []
        steps = list(await session.scalars(select(RouteStep)))
        assert [s.kind for s in steps] == ["learn"]


# ------------------------------------------------------------------ item 12: replace, archive


async def test_a_new_route_is_asked_for_and_earlier_routes_stay_visible(
    harness: Harness,
) -> None:
    munis = await _munis(harness)
    await _user(harness, COORD, munis[0], role="coordinator")
    await _user(harness, FOREIGN_COORD, munis[1], role="coordinator")
    teacher_id = await _user(harness, TEACHER, munis[0])
    await _finish_assessment(harness, teacher_id)
    old_id = await _route(
        harness,
        teacher_id,
        [_step(1, "c1", status="done", evidence_text=f"Конспект {TRICKY_TITLE}"), _step(2, "c1")],
    )

    # 🔄 New route asks first, and keeping the route changes nothing
    asked = await harness.callback(TEACHER, ResultCb(action="route").pack())
    assert "1 из 2" in _texts(asked)
    assert ReplaceCb(confirm=True, route=old_id).pack() in [
        b.get("callback_data") for b in _buttons(asked)
    ]
    await harness.callback(TEACHER, ReplaceCb(confirm=False, route=old_id).pack())
    # a builder button pressed without the confirmation does not archive either
    await harness.callback(TEACHER, BuildCb(action="start", code="normal").pack())
    async with harness.sessionmaker() as session:
        old = await session.get(Route, old_id)
        assert old is not None and old.status == "active"

    await harness.callback(TEACHER, ReplaceCb(confirm=True, route=old_id).pack())
    await harness.callback(TEACHER, BuildCb(action="start", code="normal").pack())
    async with harness.sessionmaker() as session:
        routes = {r.id: r.status for r in await session.scalars(select(Route))}
    assert routes[old_id] == "archived" and sorted(routes.values()) == ["active", "archived"]

    overview = await harness.message(TEACHER, "/route")
    assert PastCb().pack() in [b.get("callback_data") for b in _buttons(overview)]
    listed = await harness.callback(TEACHER, PastCb().pack())
    assert PastCb(route=old_id).pack() in [b.get("callback_data") for b in _buttons(listed)]
    card = await harness.callback(TEACHER, PastCb(route=old_id).pack())
    assert f"Конспект {TRICKY_TITLE}" in _plain(card)

    # another user's archived route is not shown
    other_id = await _user(harness, 503, munis[0])
    other_route = await _route(harness, other_id, [_step(1, "c1")])
    await _route(harness, other_id, [_step(1, "c2")])  # archives the first one
    forged = await harness.callback(TEACHER, PastCb(route=other_route).pack())
    assert _alert(forged)

    # the methodist sees the earlier route too, read-only; a foreign one is refused
    view = await harness.message(COORD, f"/teacher {TEACHER}")
    past = TeacherCb(action="past", user_id=teacher_id).pack()
    assert past in [b.get("callback_data") for b in _buttons(view)]
    arch = TeacherCb(action="arch", user_id=teacher_id, step=old_id).pack()
    assert arch in [b.get("callback_data") for b in _buttons(await harness.callback(COORD, past))]
    assert f"Конспект {TRICKY_TITLE}" in _plain(await harness.callback(COORD, arch))
    assert _alert(await harness.callback(FOREIGN_COORD, arch))
    assert _alert(
        await harness.callback(
            COORD, TeacherCb(action="arch", user_id=teacher_id, step=other_route).pack()
        )
    )


# ------------------------------------------------------------------ item 24: typed schools


async def _typed_school(h: Harness, municipality_id: int, name: str, teacher: int) -> int:
    async with h.sessionmaker() as session:
        repo = Repo(session)
        school = await repo.reference.find_or_add_school(municipality_id, name)
        user = await repo.users.by_telegram_id(teacher)
        assert user is not None
        user.school_id = school.id
        await session.commit()
        return school.id


async def _school(h: Harness, school_id: int) -> School | None:
    async with h.sessionmaker() as session:
        return await session.get(School, school_id)


async def _actions(h: Harness) -> list[str]:
    async with h.sessionmaker() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_typed_schools_corrected_merged_rejected_and_forged_ids_refused(
    harness: Harness,
) -> None:
    munis = await _munis(harness)
    await _user(harness, COORD, munis[0], role="coordinator")
    await _user(harness, 510, munis[0])
    await _user(harness, 511, munis[0])
    await _user(harness, 512, munis[0])
    await _user(harness, 520, munis[1])
    own_a = await _typed_school(harness, munis[0], "Школа <Первая> & Ко", 510)
    own_b = await _typed_school(harness, munis[0], "Гимназия вторая", 511)
    own_c = await _typed_school(harness, munis[0], "Лицей третий", 512)
    foreign = await _typed_school(harness, munis[1], "Чужая школа", 520)
    async with harness.sessionmaker() as session:
        verified_own = (await Repo(session).reference.schools(munis[0]))[0].id
        verified_foreign = (await Repo(session).reference.schools(munis[1]))[0].id

    listing = await harness.message(COORD, "/schools")
    assert SchoolActCb(action="reject", school_id=own_a).pack() in [
        b.get("callback_data") for b in _buttons(listing)
    ]

    # forged callback data on another municipality's school: refused, nothing changes
    for action in ("rename", "merge", "reject", "reject_yes"):
        refused = await harness.callback(
            COORD, SchoolActCb(action=action, school_id=foreign).pack()
        )
        assert _alert(refused), action
    forged_into = SchoolActCb(action="into", school_id=foreign, target=verified_foreign)
    assert _alert(await harness.callback(COORD, forged_into.pack()))
    cross = SchoolActCb(action="into", school_id=own_b, target=verified_foreign)
    assert _alert(await harness.callback(COORD, cross.pack()))
    await harness.message(COORD, "Переименованная чужая школа")  # no rename prompt is open
    kept = await _school(harness, foreign)
    assert kept is not None and (kept.name, kept.verified) == ("Чужая школа", False)
    assert (await _user_school(harness, 520)) == foreign

    # correct (rename): the new name, verified
    await harness.callback(COORD, SchoolActCb(action="rename", school_id=own_a).pack())
    await harness.message(COORD, "МБОУ СОШ № 1 «Первая»")
    renamed = await _school(harness, own_a)
    assert renamed is not None and (renamed.name, renamed.verified) == (
        "МБОУ СОШ № 1 «Первая»",
        True,
    )

    # merge into an existing school: the teacher moves, the typed row goes away
    await harness.callback(COORD, SchoolActCb(action="merge", school_id=own_b).pack())
    merged = await harness.callback(
        COORD, SchoolActCb(action="into", school_id=own_b, target=verified_own).pack()
    )
    assert "1" in _texts(merged)
    assert await _school(harness, own_b) is None
    assert (await _user_school(harness, 511)) == verified_own

    # reject: the school is cleared and the teacher is asked politely to choose again
    await harness.callback(COORD, SchoolActCb(action="reject", school_id=own_c).pack())
    rejected = await harness.callback(
        COORD, SchoolActCb(action="reject_yes", school_id=own_c).pack()
    )
    assert await _school(harness, own_c) is None
    assert (await _user_school(harness, 512)) is None
    notice = [r for r in rejected if r.method == "sendMessage" and r.params.get("chat_id") == 512]
    assert notice and "Лицей третий" in _texts(notice)
    assert "pfe:school" in [b.get("callback_data") for b in _buttons(notice)]

    assert (await _actions(harness))[-3:] == ["school_renamed", "school_merged", "school_rejected"]


async def _user_school(h: Harness, telegram_id: int) -> int | None:
    async with h.sessionmaker() as session:
        user = await Repo(session).users.by_telegram_id(telegram_id)
        assert user is not None
        return user.school_id
