"""A teacher takes the self-assessment (with a pause and a bot restart in the middle), sees
deficits and the chart, builds a route, completes a step with evidence and exports it; a
coordinator of the same municipality sees it, comments and adds a step."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import BotApp
from db.models import RouteStep, User
from db.repo import Repo
from devtools.emulator import BotAPIEmulator, EmuUser, SpecValidator
from domain.roles import Role
from tests.conftest import TEST_TOKEN, make_settings
from tests.e2e.conftest import Chat
from tests.e2e.flows import register
from tests.staffing import make_staff
from ui.callbacks.assessment import AnswerCb, AssessCb
from ui.callbacks.route import BuildCb, RouteCb

TEXTS = {
    "en": {
        "count": "44 statements",
        "paused": "Paused",
        "answered": "answered 10 of 44",
        "deficits": "Deficits",
        "subject_zero": "Subject teaching methods — 0",
        "subject": "Subject teaching methods",
        "assessment": "Assessment, including formative",
        "grow": "How to grow",
        "strengths": "Strengths",
        "mentor": "I am ready to mentor",
        "build": "Build my route",
        "steps0": "0 of 12 steps",
        "steps1": "1 of 12 steps",
        "steps1_13": "1 of 13 steps",
        "next": "Next:",
        "open_next": "Open the next step",
        "done": "✅ Done",
        "pdf": "Download as PDF",
        "comment": "Comment",
        "commented": "commented on your route",
        "add_step": "Add a step",
        "passed": "passed",
        "added": "added a step",
        "stale": "out of date",
    },
    "ru": {
        "count": "44 утверждения",
        "paused": "Пауза",
        "answered": "Отвечено утверждений: 10 из 44",
        "deficits": "Дефициты",
        "subject_zero": "Предметно-методическая — 0",
        "subject": "Предметно-методическая",
        "assessment": "Оценочная (формирующее оценивание)",
        "grow": "Как развиваться",
        "strengths": "Сильные стороны",
        "mentor": "Готов(а) наставлять",
        "build": "Построить маршрут",
        "steps0": "шагов: 0 из 12",
        "steps1": "шагов: 1 из 12",
        "steps1_13": "шагов: 1 из 13",
        "next": "Следующий шаг:",
        "open_next": "Открыть следующий шаг",
        "done": "✅ Готово",
        "pdf": "Скачать PDF",
        "comment": "Комментарий",
        "commented": "оставил комментарий",
        "add_step": "Добавить шаг",
        "passed": "прошла",
        "added": "добавил шаг",
        "stale": "устарела",
    },
}


async def _app(emu: BotAPIEmulator, db_url: str) -> BotApp:
    app = BotApp(make_settings(db_url, telegram_api_base=emu.base_url))
    await app.setup()
    await app.start_polling()
    return app


def _chat(app: BotApp, emu: BotAPIEmulator, user: EmuUser) -> Chat:
    return Chat(emu, user, app.dp["update_counter"], app.sender)


def _answer_for(code: str) -> int:
    """Subject methods and assessment are weak, digital is a strength, the rest confident."""
    if code.startswith("sm"):
        return 0
    if code.startswith("as"):
        return 1
    if code.startswith("dg"):
        return 3
    return 2


async def _answer_shown(chat: Chat, attempt: int) -> str:
    """Answer the statement on screen; return its code."""
    buttons = [
        b["callback_data"]
        for b in chat.last.all_inline_buttons
        if b["callback_data"].startswith("aa:")
    ]
    assert len(buttons) == 4, chat.last.plain_text
    code = AnswerCb.unpack(buttons[0]).code
    await chat.tap_data(AnswerCb(attempt=attempt, code=code, value=_answer_for(code)).pack())
    return code


@pytest.mark.parametrize("lang", ["ru", "en"])
async def test_assessment_to_route(db_url: str, spec: SpecValidator | None, lang: str) -> None:
    t = TEXTS[lang]
    db = db_url
    teacher = EmuUser(id=8001, first_name="Anna", language_code=lang)
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:
        app = await _app(emu, db)
        async with app.sessionmaker() as session:
            repo = Repo(session)
            volgodonsk = (await repo.reference.municipalities())[0]
            school = (await repo.reference.schools(volgodonsk.id))[0]
            framework = await repo.frameworks.active()
        assert framework is not None
        chat = _chat(app, emu, teacher)
        await register(chat, emu, municipality_id=volgodonsk.id, school_id=school.id)

        # intro, then the first statements
        await chat.send("/assess")
        assert t["count"] in chat.last.plain_text
        await chat.tap_data(AssessCb(action="start").pack())
        assert chat.last.plain_text.startswith("📝 1 / 44")
        attempt = AnswerCb.unpack(chat.last.all_inline_buttons[0]["callback_data"]).attempt
        for _ in range(10):
            await _answer_shown(chat, attempt)
        assert "📝 11 / 44" in chat.last.plain_text
        await chat.tap_data(AssessCb(action="pause", attempt=attempt).pack())
        assert t["paused"] in chat.last.plain_text
        await app.stop()

        # the bot restarts; progress is in the database
        app = await _app(emu, db)
        chat = _chat(app, emu, teacher)
        await chat.send("/assess")
        assert t["answered"] in chat.last.plain_text
        await chat.tap_data(AssessCb(action="continue", attempt=attempt).pack())
        shown = chat.last.plain_text
        assert "📝 11 / 44" in shown
        # Back shows the previous statement with its answer marked, and it can be changed
        code_11 = AnswerCb.unpack(chat.last.all_inline_buttons[0]["callback_data"]).code
        await chat.tap_data(AssessCb(action="back", attempt=attempt, code=code_11).pack())
        assert "📝 10 / 44" in chat.last.plain_text and any(
            b["text"].startswith("✓ ") for b in chat.last.all_inline_buttons
        )
        await _answer_shown(chat, attempt)
        assert "📝 11 / 44" in chat.last.plain_text
        while chat.last.plain_text.startswith("📝"):
            await _answer_shown(chat, attempt)

        # results: a chart, deficits with advice, strengths, the offer to mentor
        photos = emu.calls_of("sendPhoto")
        assert photos and photos[-1].files
        results = chat.last.plain_text
        assert t["deficits"] in results and t["subject_zero"] in results
        assert results.index(t["subject"]) < results.index(t["assessment"])
        assert t["grow"] in results and t["strengths"] in results
        await chat.tap(t["mentor"])
        async with app.sessionmaker() as session:
            row = await session.scalar(select(User).where(User.telegram_id == 8001))
            assert row is not None and row.mentor_volunteer

        # the route: deficits preselected, a pace builds it
        await chat.tap(t["build"])
        builder = json.dumps(chat.last.reply_markup, ensure_ascii=False)
        assert "✅ " + t["subject"] in builder and "✅ " + t["assessment"] in builder
        await chat.tap_data(BuildCb(action="start", code="normal").pack())
        overview = chat.last.plain_text
        assert t["steps0"] in overview and t["next"] in overview  # 2 competencies x 6 steps

        # open the next step, mark it done with evidence and a reflection
        await chat.tap(t["open_next"])
        step_id = RouteCb.unpack(chat.last.button(t["done"])["callback_data"]).step
        await chat.tap(t["done"])
        await chat.send("https://example.org/my-lesson-plan")
        await chat.send("I now plan lessons from the outcomes.")
        card = chat.last.plain_text
        assert card.startswith("✅") and "example.org" in card and "from the outcomes" in card
        async with app.sessionmaker() as session:
            step = await session.get(RouteStep, step_id)
            assert step is not None and step.status == "done" and step.reflection

        # a forged status change of somebody else's step is refused
        stranger = EmuUser(id=8002, first_name="Ivan", language_code=lang)
        other = _chat(app, emu, stranger)
        await register(other, emu, municipality_id=volgodonsk.id, school_id=school.id)
        forged = RouteCb(action="status", step=step_id, status="planned").pack()
        own_message = other.last.message_id
        await other.run(lambda: emu.forge_callback(stranger, own_message, forged))
        assert any(t["stale"] in p for p in other.popups())
        async with app.sessionmaker() as session:
            assert (await session.get(RouteStep, step_id)).status == "done"  # type: ignore[union-attr]

        # the route as a PDF
        await chat.send("/route")
        assert t["steps1"] in chat.last.plain_text
        await chat.tap(t["pdf"])
        document = chat.last.document
        assert document is not None and document[1].startswith(b"%PDF")

        # a coordinator of the municipality sees the teacher, comments, adds a step
        coordinator = EmuUser(id=8003, first_name="Olga", language_code=lang)
        coord_chat = _chat(app, emu, coordinator)
        await register(
            coord_chat,
            emu,
            municipality_id=volgodonsk.id,
            school_id=school.id,
            position="methodist",
            age="35_plus",
            years="20",
        )
        async with app.sessionmaker() as session:
            repo = Repo(session)
            row = await repo.users.by_telegram_id(8003)
            assert row is not None
            await make_staff(repo, row, Role.COORDINATOR, row.municipality_id)
            await session.commit()
        app.dp["user_cache"].invalidate(8003)
        await coord_chat.send("/teachers")
        listing = coord_chat.last.plain_text
        assert "8001" in listing and "📝" in listing and "🧭 1/12" in listing
        await coord_chat.send("/teacher 8001")
        route_view = coord_chat.last.plain_text
        assert "example.org" in route_view and "from the outcomes" in route_view
        await coord_chat.tap(t["comment"])
        await coord_chat.send("Well done, please share the plan at the methodical association.")
        assert any(t["commented"] in x for x in chat.texts())
        await coord_chat.send("/teacher 8001")
        await coord_chat.tap(t["add_step"])
        await coord_chat.send("Visit a colleague's lesson")
        await coord_chat.send("01.01.2020")  # in the past: asked again
        assert t["passed"] in coord_chat.last.plain_text
        await coord_chat.send("25.12.2099")
        assert any(t["added"] in x for x in chat.texts())
        await chat.send("/route")
        assert t["steps1_13"] in chat.last.plain_text

        await app.stop()
        emu.assert_no_violations()


async def test_retake_after_the_interval_shows_before_and_after(
    db_url: str, spec: SpecValidator | None
) -> None:
    teacher = EmuUser(id=8101, first_name="Anna", language_code="en")
    async with BotAPIEmulator(token=TEST_TOKEN, spec=spec) as emu:
        app = await _app(emu, db_url)
        try:
            async with app.sessionmaker() as session:
                repo = Repo(session)
                muni = (await repo.reference.municipalities())[0]
                school = (await repo.reference.schools(muni.id))[0]
            chat = _chat(app, emu, teacher)
            await register(chat, emu, municipality_id=muni.id, school_id=school.id)

            async def take() -> None:
                await chat.send("/assess")
                await chat.tap_data(AssessCb(action="start").pack())
                attempt = AnswerCb.unpack(chat.last.all_inline_buttons[0]["callback_data"]).attempt
                while chat.last.plain_text.startswith("📝"):
                    await _answer_shown(chat, attempt)

            await take()
            assert len(emu.calls_of("sendPhoto")) == 1
            await chat.send("/assess")
            assert "A new one is possible from" in chat.last.plain_text  # too early
            async with app.sessionmaker() as session:
                repo = Repo(session)
                row = await repo.users.by_telegram_id(teacher.id)
                assert row is not None
                for attempt in await repo.assessments.finished(row.id):
                    assert attempt.finished_at is not None
                    attempt.finished_at -= timedelta(days=100)
                await session.commit()
            await take()
            captions = [c.params.get("caption") for c in emu.calls_of("sendPhoto")]
            assert len(captions) == 3 and "Before and after" in str(captions[-1])
            await chat.send("/results")
            assert "History of your self-assessments" in chat.last.plain_text
            assert chat.last.plain_text.count("deficit") == 2
        finally:
            await app.stop()
        emu.assert_no_violations()
