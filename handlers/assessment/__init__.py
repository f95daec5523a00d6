"""Self-assessment: intro, one statement per message, Back and Pause, results with a chart.

Answers are stored at once, so a paused assessment continues later, after a restart and on
any device. The use cases are `services.assessment`, scoring is `domain.assessment`;
this package only talks to Telegram.

Modules: `quiz` (the intro, statements, answers, Back, Pause, resuming), `results` (the
profile text, charts, history, the mentor offer); callback data is in `ui.callbacks.assessment`.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from handlers.assessment.quiz import (
    SECONDS_PER_STATEMENT,
    cmd_assess,
    on_answer,
    on_back,
    on_continue,
    on_pause,
    on_start,
)
from handlers.assessment.results import cmd_results, on_mentor, results_text, send_results
from ui.callbacks.assessment import AnswerCb, AssessAction, AssessCb, ResultAction, ResultCb
from ui.keyboards.menu import MENU_ASSESS

__all__ = [
    "SECONDS_PER_STATEMENT",
    "make_router",
    "results_text",
    "send_results",
]

router_name = "assessment"


def make_router() -> Router:
    router = Router(name=router_name)
    router.message.register(cmd_assess, Command("assess"), flags={"needs": "profile"})
    router.message.register(cmd_assess, F.text == MENU_ASSESS, flags={"needs": "profile"})
    router.message.register(cmd_results, Command("results"), flags={"needs": "profile", "cost": 3})
    router.callback_query.register(
        on_start,
        AssessCb.filter(F.action.in_({AssessAction.START, AssessAction.RESTART})),
        flags={"needs": "profile"},
    )
    router.callback_query.register(
        on_continue, AssessCb.filter(F.action == AssessAction.CONTINUE), flags={"needs": "profile"}
    )
    router.callback_query.register(
        on_back, AssessCb.filter(F.action == AssessAction.BACK), flags={"needs": "profile"}
    )
    router.callback_query.register(
        on_pause, AssessCb.filter(F.action == AssessAction.PAUSE), flags={"needs": "profile"}
    )
    router.callback_query.register(on_answer, AnswerCb.filter(), flags={"needs": "profile"})
    router.callback_query.register(
        on_mentor, ResultCb.filter(F.action == ResultAction.MENTOR), flags={"needs": "profile"}
    )
    return router
