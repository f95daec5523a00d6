"""The update mix's benchmark code path on a few updates (no figure is checked: benchmarks are
never assertions), so it cannot rot: the mix, the echo floor and the reply floor all handle
every update, the statements counted are the screens' budgets, and the reply floor sends
exactly the replies the bot sent."""

from __future__ import annotations

import pytest

from bench.mix import TYPES, measure
from tests.test_statement_budget import BUDGET

pytestmark = pytest.mark.sqlite_only(reason="the mix benchmark runs on its own SQLite file")


async def test_the_mix_runs_against_both_floors() -> None:
    r = await measure(updates=len(TYPES) * 4, teachers=2)
    assert r["backend"] == "SQLite"
    assert r["mix_per_s"] > 0 and r["bare_per_s"] > 0 and r["replay_per_s"] > 0
    assert set(r["types"]) == set(TYPES)
    for kind, figures in r["types"].items():
        assert figures["statements_max"] == BUDGET[kind], kind
    assert r["replayed_calls"] == r["mix_calls"] > 0
