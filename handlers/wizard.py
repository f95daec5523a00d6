"""One small step engine for linear wizards, with ⬅️ Back and ✖️ Cancel built in.

A wizard is an ordered list of steps, one FSM state each. A step renders its question from
the answers so far (the FSM data), showing its own current answer if it has one; the engine
adds the navigation row: ⬅️ Back (not on the first step), ➡️ Keep (when the step already has
an answer: going on with it unchanged) and ✖️ Cancel. Going back asks the previous question
again and keeps every answer given, so nothing typed is lost. A step may be left out for
some users (`used`), and Back and the next step skip it.

The feature module parses and validates answers, stores them with `state.update_data` and
calls `advance`; the navigation buttons carry the step's name, so a button left on an older
message cannot move a wizard that has gone on since.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.formatting import show_long
from ui.callbacks.wizard import WizardNav
from ui.keyboards.common import button

C = TypeVar("C")
Target = Message | CallbackQuery
Rows = list[list[InlineKeyboardButton]]
#: a step's question: (text, its own buttons) from the answers so far and the context
Ask = Callable[[dict[str, Any], C], Awaitable[tuple[str, Rows]]]


def _always(_ctx: object) -> bool:
    return True


@dataclass(frozen=True)
class Step(Generic[C]):
    state: State
    ask: Ask[C]
    #: the data keys holding the step's answer; with all of them present ➡️ Keep is offered
    answer: tuple[str, ...] = ()
    #: whether the step is part of the wizard for this context
    used: Callable[[C], bool] = field(default=_always)

    @property
    def name(self) -> str:
        """The state's own name ("title" of "EventForm:title"): what the buttons carry."""
        return str(self.state.state).rsplit(":", 1)[-1]


class Wizard(Generic[C]):
    """`nav(action, step name)` makes the callback data of back / keep / cancel."""

    def __init__(
        self, steps: Sequence[Step[C]], nav: Callable[[WizardNav, str], CallbackData]
    ) -> None:
        self.steps = tuple(steps)
        self.nav = nav

    def _route(self, ctx: C) -> list[Step[C]]:
        return [s for s in self.steps if s.used(ctx)]

    def _step(self, state_name: str | None) -> Step[C] | None:
        return next((s for s in self.steps if s.state.state == state_name), None)

    @staticmethod
    def answered(step: Step[C], data: dict[str, Any]) -> bool:
        return bool(step.answer) and all(key in data for key in step.answer)

    def _nav_row(self, step: Step[C], data: dict[str, Any], ctx: C) -> list[InlineKeyboardButton]:
        row = []
        if self._route(ctx).index(step) > 0:
            row.append(button(_("⬅️ Back"), self.nav(WizardNav.BACK, step.name)))
        if self.answered(step, data):
            row.append(button(_("➡️ Keep"), self.nav(WizardNav.KEEP, step.name)))
        row.append(button(_("✖️ Cancel"), self.nav(WizardNav.CANCEL, step.name)))
        return row

    async def ask(
        self, target: Target, state: FSMContext, ctx: C, to: State, note: str = ""
    ) -> None:
        """Go to the step of state `to` and ask its question (`note` on top)."""
        step = self._step(to.state)
        assert step is not None, f"{to.state} is not a step of this wizard"
        await state.set_state(step.state)
        data = await state.get_data()
        text, rows = await step.ask(data, ctx)
        if note:
            text = f"{note}\n\n{text}"
        markup = InlineKeyboardMarkup(inline_keyboard=[*rows, self._nav_row(step, data, ctx)])
        # a summary with a long description may pass Telegram's limit: split on lines
        await show_long(target, text.split("\n"), markup)

    async def start(self, target: Target, state: FSMContext, ctx: C) -> None:
        await state.clear()
        await self.ask(target, state, ctx, self._route(ctx)[0].state)

    async def advance(self, target: Target, state: FSMContext, ctx: C) -> None:
        """On to the next step used in this context."""
        route = self._route(ctx)
        current = self._step(await state.get_state())
        assert current is not None and current in route, "advance() outside the wizard"
        position = route.index(current)
        assert position + 1 < len(route), "the last step has nowhere to go"
        await self.ask(target, state, ctx, route[position + 1].state)

    async def retry(self, message: Message, state: FSMContext, ctx: C, problem: str) -> None:
        """A bad answer: the polite re-ask, with the step's navigation."""
        step = self._step(await state.get_state())
        data = await state.get_data()
        markup = (
            InlineKeyboardMarkup(inline_keyboard=[self._nav_row(step, data, ctx)])
            if step is not None
            else None
        )
        await message.answer(problem, reply_markup=markup)

    async def _current(self, query: CallbackQuery, state: FSMContext, name: str) -> Step[C] | None:
        step = self._step(await state.get_state())
        if step is None or step.name != name:
            await query.answer(_("This button is out of date."), show_alert=True)
            return None
        return step

    async def back(self, query: CallbackQuery, state: FSMContext, ctx: C, name: str) -> None:
        """⬅️ Back: the previous question again, its answer kept and shown."""
        step = await self._current(query, state, name)
        if step is None:
            return
        route = self._route(ctx)
        position = route.index(step) if step in route else 0
        if position == 0:
            await query.answer(_("This button is out of date."), show_alert=True)
            return
        await self.ask(query, state, ctx, route[position - 1].state)

    async def keep(self, query: CallbackQuery, state: FSMContext, ctx: C, name: str) -> None:
        """➡️ Keep: go on with the answer the step already has."""
        step = await self._current(query, state, name)
        if step is None:
            return
        if not self.answered(step, await state.get_data()):
            await query.answer(_("This button is out of date."), show_alert=True)
            return
        await self.advance(query, state, ctx)


__all__ = ["Rows", "Step", "Target", "Wizard"]
