"""A teacher takes the self-assessment (with a pause and a bot restart in the middle), sees
deficits and the chart, builds a route, completes a step with evidence and exports it; a
coordinator of the same municipality sees it, comments and adds a step."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from bot.app import BotApp
from bot.emulator import BotAPIEmulator, EmuUser, SpecValidator
from db.models import RouteStep, User
from db.repo import Repo
from domain.roles import Role
from handlers.assessment import AnswerCb, AssessCb
from handlers.route import BuildCb, RouteCb
from tests.conftest import TEST_TOKEN, make_settings
from tests.e2e.conftest import Chat
from tests.e2e.flows import register


async def _app(emu: BotAPIEmulator, db: Path) -> BotApp:
    app = BotApp(make_settings(f"sqlite+aiosqlite:///{db}", telegram_api_base=emu.base_url))
    await app.setup()
    await app.start_polling()
    return app


def _chat(app: BotApp, emu: BotAPIEmulator, user: EmuUser) -> Chat:
    return Chat(emu, user, app.dp["update_counter"])


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


async def test_assessment_to_route_in_english(tmp_path: Path, spec: SpecValidator | None) -> None:
    db = tmp_path / "flow.db"
    teacher = EmuUser(id=8001, first_name="Anna", language_code="en")
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
        assert "44 statements" in chat.last.plain_text
        await chat.tap_data(AssessCb(action="start").pack())
        assert chat.last.plain_text.startswith("📝 1 / 44")
        attempt = AnswerCb.unpack(chat.last.all_inline_buttons[0]["callback_data"]).attempt
        for _ in range(10):
            await _answer_shown(chat, attempt)
        assert "📝 11 / 44" in chat.last.plain_text
        await chat.tap_data(AssessCb(action="pause", attempt=attempt).pack())
        assert "Paused" in chat.last.plain_text
        await app.stop()

        # the bot restarts; progress is in the database
        app = await _app(emu, db)
        chat = _chat(app, emu, teacher)
        await chat.send("/assess")
        assert "answered 10 of 44" in chat.last.plain_text
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
        assert "Deficits" in results and "Subject teaching methods — 0" in results
        assert results.index("Subject teaching methods") < results.index("Assessment")
        assert "How to grow" in results and "Strengths" in results
        await chat.tap("I am ready to mentor")
        async with app.sessionmaker() as session:
            row = await session.scalar(select(User).where(User.telegram_id == 8001))
            assert row is not None and row.mentor_volunteer

        # the route: deficits preselected, a pace builds it
        await chat.tap("Build my route")
        builder = json.dumps(chat.last.reply_markup, ensure_ascii=False)
        assert "✅ Subject teaching methods" in builder and "✅ Assessment" in builder
        await chat.tap_data(BuildCb(action="start", code="normal").pack())
        overview = chat.last.plain_text
        assert "0 of 12 steps" in overview and "Next:" in overview  # 2 competencies x 6 steps

        # open the next step, mark it done with evidence and a reflection
        await chat.tap("Open the next step")
        step_id = RouteCb.unpack(chat.last.button("Done")["callback_data"]).step
        await chat.tap("Done")
        await chat.send("https://example.org/my-lesson-plan")
        await chat.send("I now plan lessons from the outcomes.")
        card = chat.last.plain_text
        assert card.startswith("✅") and "example.org" in card and "from the outcomes" in card
        async with app.sessionmaker() as session:
            step = await session.get(RouteStep, step_id)
            assert step is not None and step.status == "done" and step.reflection

        # a forged status change of somebody else's step is refused
        stranger = EmuUser(id=8002, first_name="Ivan", language_code="en")
        other = _chat(app, emu, stranger)
        await register(other, emu, municipality_id=volgodonsk.id, school_id=school.id)
        forged = RouteCb(action="status", step=step_id, status="planned").pack()
        own_message = other.last.message_id
        await other.run(lambda: emu.forge_callback(stranger, own_message, forged))
        assert any("out of date" in p for p in other.popups())
        async with app.sessionmaker() as session:
            assert (await session.get(RouteStep, step_id)).status == "done"  # type: ignore[union-attr]

        # the route as a PDF
        await chat.send("/route")
        assert "1 of 12 steps" in chat.last.plain_text
        await chat.tap("Download as PDF")
        document = chat.last.document
        assert document is not None and document[1].startswith(b"%PDF")

        # a coordinator of the municipality sees the teacher, comments, adds a step
        coordinator = EmuUser(id=8003, first_name="Olga", language_code="en")
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
            await repo.users.set_role(row, Role.COORDINATOR)
            await session.commit()
        app.dp["user_cache"].invalidate(8003)
        await coord_chat.send("/teachers")
        listing = coord_chat.last.plain_text
        assert "8001" in listing and "📝" in listing and "🧭 1/12" in listing
        await coord_chat.send("/teacher 8001")
        route_view = coord_chat.last.plain_text
        assert "example.org" in route_view and "from the outcomes" in route_view
        await coord_chat.tap("Comment")
        await coord_chat.send("Well done, please share the plan at the methodical association.")
        assert any("commented on your route" in t for t in chat.texts())
        await coord_chat.send("/teacher 8001")
        await coord_chat.tap("Add a step")
        await coord_chat.send("Visit a colleague's lesson")
        await coord_chat.send("01.01.2020")  # in the past: asked again
        assert "passed" in coord_chat.last.plain_text
        await coord_chat.send("25.12.2099")
        assert any("added a step" in t for t in chat.texts())
        await chat.send("/route")
        assert "1 of 13 steps" in chat.last.plain_text

        await app.stop()
        emu.assert_no_violations()
