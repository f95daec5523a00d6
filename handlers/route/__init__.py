"""The individual educational route (ИОМ): build it from the deficits, walk its steps, export.

The use cases (building, replacing, step status, evidence, the archive) are `services.route`;
route building and progress are `domain.route`; step texts are copied from the framework's
templates into the database when the route is built.

Modules: `builder` (/route, the builder, the replace question), `overview` (progress, one
competency's steps), `steps` (a step's card and status), `evidence` (evidence and reflection),
`archive` (past routes), `export` (the PDF), `nudges` (✅ Done and 🔄 +1 week under a route
nudge), `common` (shared helpers); callback data is in
`ui.callbacks.route`.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command

from handlers.freetext import TypedAnswer
from handlers.route.archive import on_past, past_list_text, route_blocks
from handlers.route.builder import cmd_route, on_build, on_replace, on_route_from_results
from handlers.route.common import Evidence
from handlers.route.evidence import got_proof, got_reflection
from handlers.route.export import on_export
from handlers.route.nudges import on_nudge
from handlers.route.overview import on_competency, on_overview, overview_text
from handlers.route.steps import on_status, on_step
from ui.callbacks.assessment import ResultAction, ResultCb
from ui.callbacks.route import BuildCb, NudgeCb, PastCb, ReplaceCb, RouteAction, RouteCb
from ui.keyboards.menu import MENU_ROUTE

__all__ = [
    "make_router",
    "overview_text",
    "past_list_text",
    "route_blocks",
]


def make_router() -> Router:
    router = Router(name="route")
    needs = {"needs": "profile"}
    # typed answers first: a command or a menu button sent instead ends the prompt (TypedAnswer)
    router.message.register(got_proof, Evidence.proof, TypedAnswer())
    router.message.register(got_reflection, Evidence.reflection, TypedAnswer())
    router.message.register(cmd_route, Command("route"), flags=needs)
    router.message.register(cmd_route, F.text == MENU_ROUTE, flags=needs)
    router.callback_query.register(
        on_route_from_results, ResultCb.filter(F.action == ResultAction.ROUTE), flags=needs
    )
    router.callback_query.register(on_build, BuildCb.filter(), flags=needs)
    router.callback_query.register(
        on_overview, RouteCb.filter(F.action == RouteAction.OVERVIEW), flags=needs
    )
    router.callback_query.register(
        on_competency, RouteCb.filter(F.action == RouteAction.COMP), flags=needs
    )
    router.callback_query.register(
        on_step, RouteCb.filter(F.action == RouteAction.STEP), flags=needs
    )
    router.callback_query.register(
        on_status, RouteCb.filter(F.action == RouteAction.STATUS), flags=needs
    )
    router.callback_query.register(
        on_export, RouteCb.filter(F.action == RouteAction.EXPORT), flags={**needs, "cost": 4}
    )
    router.callback_query.register(on_replace, ReplaceCb.filter(), flags=needs)
    router.callback_query.register(on_past, PastCb.filter(), flags=needs)
    router.callback_query.register(on_nudge, NudgeCb.filter(), flags=needs)
    return router
